"""What an intake says (`Intake`, `Survivor`), what a save gives back (`Saved`), and why one is
refused: the vocabulary of app/calls/intake.py, which the form, the importer and the tests use."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from app.calls.models import Call
from app.cases.casework import ConsentData, IncidentData, PerpetratorData
from app.cases.models import Case
from app.clock import utcnow
from app.extensions import db


class IntakeError(Exception):
    """An intake rule refused the save; the message is shown to the operator."""


class IntakeKeyTaken(IntakeError):
    """The form's key belongs to a call another account saved: the page was one that account
    left open (a shared computer), submitted after someone else signed in. Nothing is saved."""


class CopyLineTaken(IntakeError):
    """Another copy kept apart from the same intake was saved as a call at the same moment
    (app/calls/kept_copies.py): this one would log that call twice. Nothing is saved."""


class LinkRefused(IntakeError):
    """The case the call was to join is not one this user may add a call to (or there is no
    such case). Nothing is saved; the refusal is audited once the save is rolled back."""

    def __init__(self, message, case: Case | None):
        super().__init__(message)
        self.case_id = case.id if case is not None else None
        self.organisation_id = case.organisation_id if case is not None else None


@dataclass
class Survivor:
    """Who the case is about, as told in the call."""

    name: str | None = None
    sex: str = "unknown"
    birth_date: date | None = None
    age: int | None = None
    age_band: str = "unknown"
    disability: str | None = None
    ethnicity: str | None = None
    phone: str | None = None
    address: str | None = None
    province_code: str | None = None
    commune_code: str | None = None
    safe_contact: str | None = None


@dataclass
class Intake:
    """Everything one intake form (or one imported row) says about a call."""

    def case_details(self) -> bool:
        """Whether the intake tells anything only a case keeps (the survivor, what happened,
        who did it, the risk, consent, services, counselling, a call-back)."""
        told = (
            self.services_wanted, self.incident, self.perpetrator, self.risk_answers,
            self.consents, self.counselling, self.follow_up_at,
        )  # fmt: skip
        return self.survivor_details() or any(told)

    def survivor_details(self) -> bool:
        """Whether the intake tells anything of the survivor only a new case takes (their
        details, safe contact and the case summary)."""
        s = self.survivor or Survivor()
        told = (
            s.name, s.birth_date, s.age is not None, s.phone, s.address, s.province_code,
            s.safe_contact, s.disability not in (None, "unknown"), s.ethnicity,
            s.sex != "unknown", s.age_band != "unknown", self.summary,
        )  # fmt: skip
        return any(told)

    def drops_survivor_details(self) -> bool:
        """Whether saving would drop what it tells of the survivor: the call joins a case,
        which keeps its own details (changed on the case page), yet survivor details were
        typed (before the case was chosen, say)."""
        joins = self.case_id is not None or self.case_number
        return bool(joins) and self.survivor_details()

    def drops_case_details(self) -> bool:
        """Whether saving would drop what it tells about a case: it neither opens a case (a
        violence report) nor joins one (a case number or id), yet tells case details."""
        joins = self.case_id is not None or self.case_number
        return not joins and self.reason != "violence_report" and self.case_details()

    def tells_of_a_child(self, *, new_case: bool) -> bool:
        """Whether the call says the case is a child's when no age says otherwise: "a child is
        involved" (protect first), or, for a case it opens, a child calling for themself (a
        child calling on a case already open may be calling from a parent's phone about the
        parent's case)."""
        return "child_involved" in self.danger or (new_case and self.caller_type == "child_self")

    def clock_start(self, started_at: datetime) -> datetime:
        """When the child-protection clock starts for this call: its start (a long call, or one
        written up afterwards, does not move the 12 hours later), never a time still to come.
        An imported register row overrides this: its old call is work from the import on."""
        return min(started_at, utcnow())

    reason: str
    intake_key: uuid.UUID | None = None
    # Saved from a copy kept apart: the intake its line of copies began with (kept_copies.py).
    intake_group: uuid.UUID | None = None
    # The form as sent, as a keyed digest (intake_post.sent_digest), stored on the call.
    sent_key: uuid.UUID | None = None
    channel: str = "phone"
    caller_type: str = "survivor"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    caller_phone: str | None = None
    caller_name: str | None = None
    narrative: str | None = None
    outcomes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    danger: list[str] = field(default_factory=list)
    emergency: list[tuple[str, datetime]] = field(default_factory=list)
    line_id: int | None = None
    # The case: an existing one to add this call to, or a new one for a violence report.
    case_id: uuid.UUID | None = None
    case_number: str | None = None
    open_case: bool = False
    survivor: Survivor | None = None
    summary: str | None = None
    services_wanted: list[str] = field(default_factory=list)
    incident: IncidentData | None = None
    perpetrator: PerpetratorData | None = None
    risk_answers: list[str] | None = None
    risk_raised_to: str | None = None
    risk_reason: str | None = None
    consents: list[ConsentData] = field(default_factory=list)
    counselling: str | None = None
    follow_up_at: datetime | None = None


@dataclass
class Saved:
    """What a save produced; `created` is False when the same form had been saved before.
    The call and case are loaded when asked for (the form's save needs only the ids)."""

    call_id: uuid.UUID
    case_id: uuid.UUID | None
    created: bool
    case_number: str | None = None
    started_at: datetime | None = None

    @property
    def call(self) -> Call:
        return db.session.get(Call, self.call_id)

    @property
    def case(self) -> Case | None:
        return db.session.get(Case, self.case_id) if self.case_id is not None else None

    @classmethod
    def of(cls, call: Call, case: Case | None, *, created: bool) -> Saved:
        return cls(
            call_id=call.id,
            case_id=case.id if case is not None else None,
            created=created,
            case_number=case.number if case is not None else None,
            started_at=call.started_at,
        )
