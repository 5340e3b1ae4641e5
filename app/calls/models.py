"""A call: codes in clear for statistics, the caller's number, name and the narrative sealed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import UTCDateTime, utcnow
from app.crypto import blind
from app.crypto.datakeys import KeyHolder, SealedBytes, SealedField, SealedModel
from app.extensions import db


class Call(KeyHolder, SealedModel, db.Model):
    """One contact with the hotline; sealed under its case's data key, or its own."""

    __tablename__ = "call"
    # An operator's calls of the last days, newest first, from one index (their home page).
    __table_args__ = (
        Index("ix_call_taken_by_at", "taken_by_id", "started_at"),
        # Only calls saved from a copy kept apart have a line, and a line gives one call: the
        # index holds those calls alone, and refuses a second of a line saved at the same time.
        Index(
            "ix_call_intake_group",
            "intake_group",
            unique=True,
            sqlite_where=text("intake_group IS NOT NULL"),
            postgresql_where=text("intake_group IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    caller_type: Mapped[str] = mapped_column(String(24), default="survivor")
    reason: Mapped[str] = mapped_column(String(24), default="violence_report")
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    # Space-separated codes (app.classifications): what was asked first, what was done, flags.
    danger: Mapped[str] = mapped_column(String(120), default="")
    outcomes: Mapped[str] = mapped_column(String(160), default="")
    flags: Mapped[str] = mapped_column(String(120), default="")
    # The intake form's one-time key: a second submit of the same form finds this call.
    intake_key: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    # A call saved from a copy kept apart (app/calls/kept_copies.py): the intake form its line
    # of copies began with. No two calls are saved from one line. None for any other call.
    intake_group: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # What the form held when it was saved, as a keyed digest (drafts.sent_key, nothing of the
    # text): the same form sent again holding more (typed after a save whose answer was lost)
    # is told from a double click, and what it adds is kept, not dropped. None: saved before
    # this was recorded, or imported.
    sent_key: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("phone_line.id"))
    caller_phone_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    caller_name_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    narrative_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    caller_phone = SealedField()
    caller_name = SealedField()
    narrative = SealedField()

    case = relationship("Case", back_populates="calls")
    taken_by = relationship("User", foreign_keys=[taken_by_id])
    emergency_actions: Mapped[list[EmergencyAction]] = relationship(
        back_populates="call", order_by="EmergencyAction.taken_at"
    )

    def sealing_key(self) -> KeyHolder:
        """The case once the call belongs to one, else the call itself."""
        return self.case if self.case is not None else self


blind.register("call", Call, "caller_phone", "phone")


class EmergencyAction(db.Model):
    """An emergency step taken in a call (113, 115, 111, the commune chair...), with its time."""

    __tablename__ = "emergency_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("call.id"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    call: Mapped[Call] = relationship(back_populates="emergency_actions")


class IntakeDraft(KeyHolder, SealedModel, db.Model):
    """What an operator has typed into an intake so far, sealed under its own key, so a session
    that expires or a browser that crashes mid-call loses nothing."""

    __tablename__ = "intake_draft"
    __table_args__ = (UniqueConstraint("user_id", "intake_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    intake_key: Mapped[uuid.UUID] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    # Counts the draft's writes: a page says which it shows, so the copy a closing page sent
    # that reached the server after the reloaded page was drawn is taken in, not overwritten.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The page (a random key each page load makes) whose copy this is: its own later copies
    # replace it whatever revision they name (an autosave on its way as the page closes).
    page: Mapped[str | None] = mapped_column(String(40))
    # That page's own count of its copies: one overtaken on the way by its next is not kept.
    page_seq: Mapped[int | None] = mapped_column(Integer)
    # A copy kept apart: the intake it was kept from (as its sealed fields say). The list of
    # unsaved intakes marks it by this, whatever its page has written since.
    kept_from: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    payload = SealedField()

    def sealing_key(self) -> KeyHolder:
        """A draft holds its own data key."""
        return self
