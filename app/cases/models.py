"""A case: statistical codes in clear, everything about the person sealed under the case's key.

In clear, on purpose (statistics, routing and queues need them, and none names anyone): the
readable case number, organisation, status, dates, survivor's sex and age band, the child flag,
the latest risk level, province and commune codes, assignment, services wanted. Sealed: names,
phone numbers, addresses, date of birth and age, disability, ethnicity, safe-contact
instructions, narratives, notes and every free-text reason. Incidents, perpetrators, risk
assessments, notes, events and tasks are sealed under their case's data key, so erasing the case
erases them too.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.calls.models import Call
from app.clock import UTCDateTime, utcnow
from app.crypto import blind
from app.crypto.datakeys import KeyHolder, SealedBytes, SealedField, SealedModel
from app.extensions import db

STATUSES = ("open", "in_support", "pending_closure", "closed", "reopened", "erased")
ACTIVE_STATUSES = ("open", "in_support", "pending_closure", "reopened")


class Case(KeyHolder, SealedModel, db.Model):
    """One survivor's case; its data key seals the case and everything recorded under it."""

    __tablename__ = "case_record"
    __table_args__ = (
        # Lists and searches of an organisation by status and date (its first column also serves
        # every filter on the organisation alone).
        Index("ix_case_org_status_opened", "organisation_id", "status", "opened_at"),
        # Whose cases: a case manager's cases and the organisation's unassigned ones
        # (assigned_to_id IS NULL), walked in order of opening and counted from the index alone
        # (the status is checked in the index too).
        Index("ix_case_assigned_queue", "assigned_to_id", "organisation_id", "opened_at", "status"),
        # An operator's cases of the last days, newest first.
        Index("ix_case_opened_by_at", "opened_by_id", "opened_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every change; an edit made from an older version is a conflict, never a
    # silent overwrite (SQLAlchemy also refuses a stale UPDATE through version_id_col).
    version: Mapped[int] = mapped_column(default=1)
    survivor_sex: Mapped[str] = mapped_column(String(8), default="unknown")
    survivor_age_band: Mapped[str] = mapped_column(String(8), default="unknown")
    is_child: Mapped[bool] = mapped_column(default=False, index=True)
    risk_level: Mapped[str | None] = mapped_column(String(8), index=True)
    province_code: Mapped[str | None] = mapped_column(String(8), index=True)
    commune_code: Mapped[str | None] = mapped_column(String(8), index=True)
    services_wanted: Mapped[str] = mapped_column(String(120), default="")
    survivor_name_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    survivor_phone_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    survivor_address_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    survivor_birth_date_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    survivor_age_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    disability_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    ethnicity_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    safe_contact_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    summary_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    survivor_name = SealedField()
    survivor_phone = SealedField()
    survivor_address = SealedField()
    survivor_birth_date = SealedField()
    survivor_age = SealedField()
    disability = SealedField()
    ethnicity = SealedField()
    safe_contact = SealedField()
    summary = SealedField()

    __mapper_args__ = {"version_id_col": version}

    calls: Mapped[list[Call]] = relationship(back_populates="case", order_by=Call.started_at)
    incidents: Mapped[list[Incident]] = relationship(
        back_populates="case", order_by="Incident.recorded_at"
    )
    perpetrators: Mapped[list[Perpetrator]] = relationship(
        back_populates="case", order_by="Perpetrator.recorded_at"
    )
    assessments: Mapped[list[RiskAssessment]] = relationship(
        back_populates="case", order_by="RiskAssessment.assessed_at"
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="case", order_by="Consent.recorded_at"
    )
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", order_by="CaseNote.written_at"
    )
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.at")
    tasks: Mapped[list[Task]] = relationship(back_populates="case", order_by="Task.due_at")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    opened_by = relationship("User", foreign_keys=[opened_by_id])

    def sealing_key(self) -> KeyHolder:
        """The case holds its own data key."""
        return self

    @property
    def is_closed(self) -> bool:
        """Closed and erased cases are read-only."""
        return self.status in ("closed", "erased")


class CaseCounter(db.Model):
    """The last case number given per organisation and year; locked while a number is taken."""

    __tablename__ = "case_counter"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class CasePart(SealedModel):
    """Something recorded under a case: its values are sealed with the case's data key."""

    def sealing_key(self) -> KeyHolder:
        """The case's key seals every part of it."""
        return self.case


class Incident(CasePart, db.Model):
    """One violent episode: when, where, which acts (with their statistical forms), how typed."""

    __tablename__ = "incident"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_record.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    occurred_on: Mapped[date | None] = mapped_column(Date)
    place_type: Mapped[str] = mapped_column(String(16), default="unknown")
    acts: Mapped[str] = mapped_column(String(400), default="")
    forms: Mapped[str] = mapped_column(String(60), default="")
    gbv_type: Mapped[str | None] = mapped_column(String(24))
    gbv_context: Mapped[str | None] = mapped_column(String(24))
    chi_category: Mapped[str | None] = mapped_column(String(16))
    description_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    description = SealedField()

    case: Mapped[Case] = relationship(back_populates="incidents")


class Perpetrator(CasePart, db.Model):
    """Someone who used violence in the case, described by codes; the name is sealed."""

    __tablename__ = "perpetrator"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_record.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    relationship_code: Mapped[str] = mapped_column("relationship", String(20), default="unknown")
    sex: Mapped[str] = mapped_column(String(8), default="unknown")
    age_band: Mapped[str] = mapped_column(String(8), default="unknown")
    alcohol_or_drugs: Mapped[str] = mapped_column(String(8), default="unknown")
    weapon_access: Mapped[str] = mapped_column(String(8), default="unknown")
    earlier_violence: Mapped[str] = mapped_column(String(8), default="unknown")
    name_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    notes_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    name = SealedField()
    notes = SealedField()

    case: Mapped[Case] = relationship(back_populates="perpetrators")


class RiskAssessment(CasePart, db.Model):
    """One pass through the risk checklist (app.cases.risk): answers, points and level."""

    __tablename__ = "risk_assessment"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_record.id"), index=True)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assessed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    answers: Mapped[str] = mapped_column(String(300), default="")
    points: Mapped[int] = mapped_column(default=0)
    computed_level: Mapped[str] = mapped_column(String(8))
    level: Mapped[str] = mapped_column(String(8))
    reason_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    reason = SealedField()

    case: Mapped[Case] = relationship(back_populates="assessments")


class Consent(CasePart, db.Model):
    """Consent for one service type, to one recipient (or any provider of it), to share data."""

    __tablename__ = "consent"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_record.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    service: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    granted: Mapped[bool] = mapped_column(default=False)
    share_data: Mapped[bool] = mapped_column(default=False)
    given_by: Mapped[str] = mapped_column(String(20), default="survivor")
    child_assent: Mapped[str | None] = mapped_column(String(8))
    guardian_consent: Mapped[str | None] = mapped_column(String(8))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="consents")
    recipient = relationship("Organisation")


class CaseNote(CasePart, db.Model):
    """A note, counselling session or contact attempt written on a case."""

    __tablename__ = "case_note"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_record.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16), default="note")
    body_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    body = SealedField()

    case: Mapped[Case] = relationship(back_populates="notes")
    author = relationship("User")


class CaseEvent(CasePart, db.Model):
    """A change of status, assignment or details on the case's timeline; any reason is sealed."""

    __tablename__ = "case_event"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_record.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(16))
    from_value: Mapped[str | None] = mapped_column(String(40))
    # A status or the assignee's id; an edit's changed details, by name (migration 0016).
    to_value: Mapped[str | None] = mapped_column(String(200))
    reason_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    reason = SealedField()

    case: Mapped[Case] = relationship(back_populates="events")
    by = relationship("User")


# The tasks of a child survivor's path that an age of 16 or more ends (the commune is notified
# of every violence report: that task stays).
CHILD_TASKS = ("child_12h",)
# The 12-hour checks a deadline of law hangs on, watched by supervisors: done only by whoever
# they are given to (an operator ticking one on a case not yet assigned would take it off the
# supervisor's list, done by no one). See casework.may_complete and queries.due_tasks.
WATCHED_CHECKS = ("child_12h", "no_contact_12h")
# The condition of ix_task_watched_open, as queries must spell it for the index to be used.
WATCHED_CHECK_OPEN = "kind IN ('child_12h', 'no_contact_12h') AND done_at IS NULL"


class Task(CasePart, db.Model):
    """Something due on a case by a time: the 12-hour child check, a follow-up call..."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_open_due", "organisation_id", "done_at", "due_at"),
        # A person's open tasks in due order (their "tasks due" list walks it and stops at 50).
        Index("ix_task_assignee_open_due", "assigned_to_id", "done_at", "due_at"),
        # The open tasks a person planned (a supervisor's list holds the unassigned ones).
        Index("ix_task_creator_open_due", "created_by_id", "done_at", "due_at"),
        # The open 12-hour checks of law, soonest first: few rows (the installation's, all
        # organisations together), so a partial index that costs other tasks nothing.
        Index(
            "ix_task_watched_open",
            "due_at",
            sqlite_where=text(WATCHED_CHECK_OPEN),
            postgresql_where=text(WATCHED_CHECK_OPEN),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_record.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # What ended it when no one did it: the case "closed" or "erased", or the survivor found
    # to be 16 or over ("not_child", a child-path task). None: open, or done by done_by_id.
    ended_by: Mapped[str | None] = mapped_column(String(16))
    note_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    # What was done, written by whoever marked it done (a duty of law needs one): kept apart
    # from the note written when it was planned.
    done_note_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    # Planned by a person (the case page's task form, the intake's call-back), not set going by
    # a call's answers or the register import: a supervisor's own list holds those they plan
    # on a case no one manages yet (queries.due_tasks).
    by_hand: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    note = SealedField()
    done_note = SealedField()

    case: Mapped[Case] = relationship(back_populates="tasks")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])

    @property
    def overdue(self) -> bool:
        """Not done and past its due time."""
        return self.done_at is None and self.due_at < utcnow()


blind.register("case", Case, "survivor_phone", "phone")


class CaseDraft(CasePart, db.Model):
    """What someone has typed into a form on a case page and not yet sent (a note, a task, an
    incident, an edit...), sealed under the case's key every few seconds, so a session that
    times out, a closed tab or a crash loses nothing; the form offers it back when opened again.
    One per person, case, form (`form` names it: "note", "edit", "status-open-in_support"...)
    and page (`page`: the key the page gave the form, so two tabs keep two drafts)."""

    __tablename__ = "case_draft"
    __table_args__ = (UniqueConstraint("user_id", "case_id", "form", "page"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_record.id"), index=True)
    form: Mapped[str] = mapped_column(String(48))
    page: Mapped[uuid.UUID] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)

    payload = SealedField()

    case: Mapped[Case] = relationship()


class FormSubmission(db.Model):
    """A case-page form (or a call's correction) saved once: its key (drafts.sent_key: the
    page's random key and the text sent) is written in the transaction of the change it made,
    so the same form sent again (a double click, a retry after a timeout, the back button)
    finds its key taken and changes nothing. `case_id` is empty for a call with no case."""

    __tablename__ = "form_submission"

    key: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
