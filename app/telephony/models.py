"""Phone lines with their API tokens (kept hashed), and the screen pops they send."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import UTCDateTime, utcnow
from app.crypto.datakeys import KeyHolder, SealedBytes, SealedField, SealedModel
from app.extensions import db


class PhoneLine(db.Model):
    """A hotline number or trunk that may announce incoming calls with its own API token."""

    __tablename__ = "phone_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # SHA-256 of the token: tokens are long random strings, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation = relationship("Organisation")


class ScreenPop(KeyHolder, SealedModel, db.Model):
    """An incoming call announced by a line: the number sealed, claimable once by one operator."""

    __tablename__ = "screen_pop"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("phone_line.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The intake draft the claim made: the link opened again by its operator opens that one.
    intake_key: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    caller_phone_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    caller_phone = SealedField()

    line = relationship("PhoneLine")

    def sealing_key(self) -> KeyHolder:
        """A screen pop holds its own data key, destroyed once the intake takes the number."""
        return self
