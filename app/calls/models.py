"""A call: codes in clear for statistics, the caller's number, name and the narrative sealed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import UTCDateTime, utcnow
from app.crypto import blind
from app.crypto.datakeys import KeyHolder, SealedBytes, SealedField, SealedModel
from app.extensions import db

CHANNELS = ("phone", "zalo", "facebook", "sms", "walk_in", "letter")
CALLER_TYPES = ("survivor", "relative", "neighbour", "teacher", "authority", "child_self", "other")
REASONS = (
    "violence_report",
    "counselling",
    "information",
    "silent",
    "prank",
    "wrong_number",
    "follow_up",
)


class Call(KeyHolder, SealedModel, db.Model):
    """One contact with the hotline; sealed under its case's data key, or its own."""

    __tablename__ = "call"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    caller_type: Mapped[str] = mapped_column(String(24), default="survivor")
    reason: Mapped[str] = mapped_column(String(24), default="violence_report")
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    caller_phone_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    caller_name_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    narrative_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    caller_phone = SealedField()
    caller_name = SealedField()
    narrative = SealedField()

    case = relationship("Case", back_populates="calls")

    def sealing_key(self) -> KeyHolder:
        """The case once the call belongs to one, else the call itself."""
        return self.case if self.case is not None else self


blind.register("call", Call, "caller_phone", "phone")
