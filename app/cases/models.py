"""A case: statistical codes in clear, everything about the person sealed under the case's key.

In clear, on purpose (statistics and routing need them, and none names anyone): the readable
case number, organisation, status, dates, survivor's sex and age band, province and commune
codes, assignment. Sealed: names, phone numbers, addresses, safe-contact instructions, narrative.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.calls.models import Call
from app.clock import UTCDateTime, utcnow
from app.crypto import blind
from app.crypto.datakeys import KeyHolder, SealedBytes, SealedField, SealedModel
from app.extensions import db

STATUSES = ("open", "in_support", "pending_closure", "closed", "reopened", "erased")
SEXES = ("female", "male", "other", "unknown")
AGE_BANDS = ("under_16", "16_59", "60_plus", "unknown")


class Case(KeyHolder, SealedModel, db.Model):
    """One survivor's case; its data key seals the case and every call linked to it."""

    __tablename__ = "case_record"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    survivor_sex: Mapped[str] = mapped_column(String(8), default="unknown")
    survivor_age_band: Mapped[str] = mapped_column(String(8), default="unknown")
    province_code: Mapped[str | None] = mapped_column(String(8))
    commune_code: Mapped[str | None] = mapped_column(String(8))
    survivor_name_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    survivor_phone_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    survivor_address_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    safe_contact_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    summary_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    survivor_name = SealedField()
    survivor_phone = SealedField()
    survivor_address = SealedField()
    safe_contact = SealedField()
    summary = SealedField()

    calls: Mapped[list[Call]] = relationship(back_populates="case", order_by=Call.started_at)

    def sealing_key(self) -> KeyHolder:
        """The case holds its own data key."""
        return self


class CaseCounter(db.Model):
    """The last case number given per organisation and year; locked while a number is taken."""

    __tablename__ = "case_counter"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


blind.register("case", Case, "survivor_phone", "phone")
