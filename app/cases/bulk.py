"""The register import's batch writer: the records `save_intake` and `importer.save_row` write
for a row, built with the same model constructors and sealed the same way, but inserted with one
multi-row statement per table for a whole batch instead of through the ORM's unit of work.

Per batch: the case numbers are taken in one block (one UPDATE of the counter, which locks its
row until the batch commits; taken once the batch is built, so the lock is short), the audit
entries are chained in memory under one lock of the chain head (`audit.record_many`), and the
blind-index digests (computed by `app.crypto.blind`) are inserted together.
tests/cases/test_import_bulk.py imports one register through both paths and compares every
table, field by field, after opening the sealed values: keep the two in step.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, delete, insert, inspect
from sqlalchemy.orm import RelationshipDirection
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.auth.labels import CASE_STATUS_LABELS
from app.auth.models import User
from app.calls.intake import SERIOUS_DANGER, Intake, Survivor
from app.calls.models import Call, EmergencyAction, IntakeDraft
from app.cases import risk
from app.cases.casework import CHILD_SERIOUS_WINDOW, SAFETY_REVIEW_AFTER
from app.cases.models import (
    Case,
    CaseEvent,
    CaseNote,
    Consent,
    Incident,
    Perpetrator,
    RiskAssessment,
    Task,
)
from app.cases.register.rows import LOCAL, ImportedIntake, local_midnight
from app.cases.services import CaseError, reserve_case_numbers, survivor_age
from app.classifications import ACTS, age_band, forms_of
from app.clock import utcnow
from app.crypto import blind
from app.crypto.blind import BlindIndex
from app.crypto.datakeys import SealedField, keyring
from app.extensions import db

# Parents before children, so foreign keys hold at every insert (PostgreSQL checks each one).
ORDER = (
    Case,
    Call,
    EmergencyAction,
    Incident,
    Perpetrator,
    RiskAssessment,
    Consent,
    CaseNote,
    CaseEvent,
    Task,
    BlindIndex,
)


def can_write(intake: Intake) -> bool:
    """Whether the batch writer takes this intake: a new call, and a new case or none (adding a
    call to an existing case, which the import never does, is left to save_intake)."""
    return intake.case_id is None and not intake.case_number and intake.started_at is not None


def write_batch(intakes: list[ImportedIntake], *, by: User) -> list[str]:
    """Write the rows in the caller's transaction; per row "created" or "closed", as save_row
    says. The caller has checked that no row's intake key is stored yet (a key stored
    meanwhile makes the insert fail, and the caller saves the rows one by one)."""
    batch = _Batch(by)
    outcomes = [batch.add(intake) for intake in intakes]
    # Numbered last, so that the counter's row is locked only while the batch is inserted.
    _number(batch.opened, by)
    batch.write([i.intake_key for i in intakes if i.intake_key is not None])
    return outcomes


def _number(opened: list[tuple[Case, int]], by: User) -> None:
    """Number the new cases in row order from one block per year (start_case numbers a case by
    the year, in UTC, it is opened in)."""
    for year in dict.fromkeys(year for _, year in opened):
        cases = [case for case, opened_in in opened if opened_in == year]
        for case, number in zip(
            cases, reserve_case_numbers(by.organisation, year, len(cases)), strict=True
        ):
            case.number = number


class _Batch:
    """The objects of a batch, per model, and its audit entries, in the order save_intake
    would record them."""

    def __init__(self, by: User):
        self.by = by
        self.objects: dict[type, list] = defaultdict(list)
        self.entries: list[dict] = []
        self.opened: list[tuple[Case, int]] = []  # new cases, and the year they are opened in
        self.index_id = keyring().active_index_id

    def write(self, intake_keys: list[uuid.UUID]) -> None:
        for model in ORDER:
            objects = self.objects.get(model)
            if objects:
                db.session.execute(insert(model.__table__), [_row(o) for o in objects])
        audit.record_many(self.entries)
        if intake_keys:  # an intake form's draft is deleted when it is saved (none, for a file)
            db.session.execute(
                delete(IntakeDraft).where(
                    IntakeDraft.user_id == self.by.id, IntakeDraft.intake_key.in_(intake_keys)
                )
            )

    def _audit(self, action: str, **fields) -> None:
        self.entries.append({"action": action, "user": self.by, **fields})  # timed when chained

    def _index(self, owner_type: str, owner_id: uuid.UUID, value: str) -> None:
        """What blind.set_index(new_owner=True) adds for one phone number."""
        digest = blind.digest_for("phone", value, index_id=self.index_id)  # the key named below
        if digest is not None:
            self.objects[BlindIndex].append(
                BlindIndex(
                    field="phone",
                    index_key_id=self.index_id,
                    digest=digest,
                    owner_type=owner_type,
                    owner_id=owner_id,
                )
            )

    # save_intake's _write, then importer.save_row
    def add(self, data: ImportedIntake) -> str:
        by = self.by
        opens_case = data.open_case or data.reason == "violence_report"
        case = self._start_case(data) if opens_case else None
        call = _new(
            Call,
            "case",
            case,
            case_id=case.id if case else None,
            organisation_id=by.organisation_id,
            taken_by_id=by.id,
            channel=data.channel,
            caller_type=data.caller_type,
            reason=data.reason,
            ended_at=data.ended_at,
            danger=" ".join(data.danger),
            outcomes=" ".join(data.outcomes),
            flags=" ".join(data.flags),
            intake_key=data.intake_key,
            line_id=data.line_id,
            caller_phone=data.caller_phone,
            caller_name=data.caller_name,
            narrative=data.narrative,
        )
        call.started_at = data.started_at
        self.objects[Call].append(call)
        if data.caller_phone:
            self._index("call", call.id, data.caller_phone)
        for action, at in data.emergency:
            self.objects[EmergencyAction].append(
                _new(
                    EmergencyAction,
                    "call",
                    call,
                    call_id=call.id,
                    case_id=case.id if case else None,
                    action=action,
                    taken_at=at,
                    by_id=by.id,
                )
            )
        self._audit(
            "create", object_type="call", object_id=call.id, case_id=case.id if case else None
        )
        if case is None:
            return "created"
        self._case_parts(case, call, data)
        case.opened_at = call.started_at  # save_row: opened when the register says
        if data.status != "open":
            self._set_status(case, data)
        return "closed" if data.status == "closed" else "created"

    def _start_case(self, data: Intake) -> Case:
        """services.start_case; the number is given from the batch's block (_number)."""
        now = utcnow()
        s = data.survivor or Survivor()
        birth, age = s.birth_date, s.age
        years = survivor_age(age, birth)
        band = age_band(years) if years is not None else s.age_band
        case = Case(
            organisation_id=self.by.organisation_id,
            opened_by_id=self.by.id,
            opened_at=now,
            updated_at=now,
            survivor_age_band=band,
            is_child=band == "under_16",
            services_wanted=" ".join(data.services_wanted or []),
            survivor_birth_date=birth.isoformat() if birth else None,
            survivor_age=str(age) if age is not None else None,
            survivor_name=s.name,
            survivor_sex=s.sex,
            disability=s.disability,
            ethnicity=s.ethnicity,
            survivor_phone=s.phone,
            survivor_address=s.address,
            province_code=s.province_code,
            commune_code=s.commune_code,
            safe_contact=s.safe_contact,
            summary=data.summary,
        )
        # Written once: version 1. (Row by row, the unit of work inserts the case and then
        # updates it one to three times as it flushes, depending on where the row falls in its
        # batch; the version counts those UPDATEs and nothing else.)
        case.version = 1
        case.__dict__["_tasks"] = []
        self.objects[Case].append(case)
        self.opened.append((case, now.year))
        if case.survivor_phone:
            self._index("case", case.id, case.survivor_phone)
        return case

    def _case_parts(self, case: Case, call: Call, data: Intake) -> None:
        """intake._record_case_parts, with the casework build_* functions it calls."""
        by = self.by
        parts = [f"call:{call.id}"]
        if data.incident is not None:
            d = data.incident
            acts = [a for a in d.acts if a in ACTS]
            incident = _new(
                Incident,
                "case",
                case,
                case_id=case.id,
                recorded_by_id=by.id,
                occurred_on=d.occurred_on,
                place_type=d.place_type,
                acts=" ".join(acts),
                forms=" ".join(forms_of(acts)),
                gbv_type=d.gbv_type,
                gbv_context=d.gbv_context,
                chi_category=d.chi_category if case.is_child else None,
                description=d.description,
            )
            self.objects[Incident].append(incident)
            parts.append(f"incident:{incident.id}")
        if data.perpetrator is not None:
            d = data.perpetrator
            perpetrator = _new(
                Perpetrator,
                "case",
                case,
                case_id=case.id,
                recorded_by_id=by.id,
                relationship_code=d.relationship,
                sex=d.sex,
                age_band=d.age_band,
                alcohol_or_drugs=d.alcohol_or_drugs,
                weapon_access=d.weapon_access,
                earlier_violence=d.earlier_violence,
                name=d.name,
                notes=d.notes,
            )
            self.objects[Perpetrator].append(perpetrator)
            parts.append(f"perpetrator:{perpetrator.id}")
        level = None
        if data.risk_answers is not None:
            level = self._assessment(case, data, parts)
        for consent in data.consents:
            if case.is_child and consent.given_by == "survivor":
                consent.given_by = "child_and_guardian"
            row = _new(
                Consent, "case", case, case_id=case.id, recorded_by_id=by.id, **consent.__dict__
            )
            self.objects[Consent].append(row)
            parts.append(f"consent:{row.id}")
        if data.counselling:
            note = _new(
                CaseNote,
                "case",
                case,
                case_id=case.id,
                author_id=by.id,
                kind="counselling",
                body=data.counselling,
            )
            self.objects[CaseNote].append(note)
            case.updated_at = utcnow()
            parts.append(f"note:{note.id}")
        if data.follow_up_at is not None:
            self._task(case, "follow_up_call", data.follow_up_at)
        if "child_involved" in data.danger and case.survivor_age_band == "unknown":
            case.is_child = True
        if case.is_child:  # casework.plan_child_path
            serious = risk.at_least_high(level) or any(d in SERIOUS_DANGER for d in data.danger)
            now = utcnow()
            kinds = {t.kind for t in case.__dict__["_tasks"] if t.done_at is None}
            if "notify_commune" not in kinds:
                self._task(case, "notify_commune", now)
            if serious and "child_12h" not in kinds:
                self._task(case, "child_12h", now + CHILD_SERIOUS_WINDOW)
        if level in ("high", "severe") and "high_risk" not in data.flags:
            call.flags = " ".join([*data.flags, "high_risk"])
        self._audit(
            "create",
            object_type="case",
            object_id=case.id,
            case_id=case.id,
            organisation_id=case.organisation_id,
            detail=" ".join(parts),
        )

    def _assessment(self, case: Case, data: Intake, parts: list[str]) -> str:
        """casework.build_assessment."""
        answers, reason = data.risk_answers, data.risk_reason
        result = risk.score(answers)
        level = risk.final_level(result.level, data.risk_raised_to)
        if level != result.level and not (reason or "").strip():
            raise CaseError(_l("Say why you rate the risk higher than the checklist does."))
        assessment = _new(
            RiskAssessment,
            "case",
            case,
            case_id=case.id,
            assessed_by_id=self.by.id,
            answers=" ".join(a for a in answers if a in risk.QUESTIONS),
            points=result.points,
            computed_level=result.level,
            level=level,
            reason=reason if level != result.level else None,
        )
        self.objects[RiskAssessment].append(assessment)
        old = case.risk_level
        case.risk_level = level
        if old != level:
            self._event(case, "risk", old, level)
        if level in SAFETY_REVIEW_AFTER:
            self._task(case, "safety_review", utcnow() + SAFETY_REVIEW_AFTER[level])
        parts.append(f"risk:{assessment.id}")
        return level

    def _task(self, case: Case, kind: str, due: datetime) -> Task:
        """services.open_task."""
        task = _new(
            Task,
            "case",
            case,
            case_id=case.id,
            organisation_id=case.organisation_id,
            kind=kind,
            due_at=due,
            created_by_id=self.by.id,
            assigned_to_id=case.assigned_to_id,
            note=None,
        )
        self.objects[Task].append(task)
        case.__dict__["_tasks"].append(task)
        return task

    def _event(self, case: Case, kind: str, old, new, reason=None) -> None:
        """services.record_event."""
        self.objects[CaseEvent].append(
            _new(
                CaseEvent,
                "case",
                case,
                case_id=case.id,
                by_id=self.by.id,
                kind=kind,
                from_value=old,
                to_value=new,
                reason=reason,
            )
        )
        case.updated_at = utcnow()

    def _set_status(self, case: Case, data: ImportedIntake) -> None:
        """importer._set_status."""
        old, now = case.status or "open", utcnow()
        case.status = data.status
        if data.status == "closed":
            closed_on = data.closed_on or case.opened_at.astimezone(LOCAL).date()
            case.closed_at = local_midnight(closed_on)
            for task in case.__dict__["_tasks"]:
                if task.done_at is None:
                    task.done_at, task.done_by_id = now, self.by.id
        self._event(case, "status", old, data.status, _status_reason(data.status))
        self._audit(
            "status",
            object_type="case",
            object_id=case.id,
            case_id=case.id,
            organisation_id=case.organisation_id,
            detail=f"{old}>{data.status} import",
        )


def _status_reason(status: str) -> str:
    return str(
        _l(
            "Imported from the old register, where the case was: %(status)s.",
            status=CASE_STATUS_LABELS[status],
        )
    )


def _new(model: type, link: str, parent, **values):
    """`model(**values)` linked to its parent (the case, or the call) the way the unit of work
    would link it, but without the backref event that adds it to the parent's collection
    (nothing here reads those); sealed values are set last, as SealedModel.__init__ does, once
    the parent whose key seals them is known."""
    sealed = {k: values.pop(k) for k in list(values) if isinstance(getattr(model, k), SealedField)}
    obj = model(**values)
    set_committed_value(obj, link, parent)
    for name, value in sealed.items():
        setattr(obj, name, value)
    return obj


_MISSING = object()


@cache
def _columns(model: type) -> tuple[list, list]:
    """(column key, attribute name, column) for every column an insert gives (an integer id
    the database numbers is left out), and (foreign key, relationship, referenced attribute)
    for the many-to-one relationships the constructors set."""
    mapper = inspect(model)
    columns = []
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if column.primary_key and isinstance(column.type, Integer):
            continue
        columns.append((column.key, attr.key, column))
    links = []
    for rel in mapper.relationships:
        if rel.direction is RelationshipDirection.MANYTOONE:
            for local, remote in rel.local_remote_pairs:
                fk = mapper.get_property_by_column(local).key
                target = rel.mapper.get_property_by_column(remote).key
                links.append((local.key, fk, rel.key, target))
    return columns, links


def _row(obj) -> dict:
    """The values the unit of work would insert for a new object: what was set, foreign keys
    from the objects it was linked to, and the column defaults for the rest."""
    columns, links = _columns(type(obj))
    state = obj.__dict__
    values = {}
    for key, fk, rel, target in links:
        parent = state.get(rel)
        if parent is not None and state.get(fk) is None:
            values[key] = parent.__dict__[target]
    for key, attr, column in columns:
        if key in values:
            continue
        value = state.get(attr, _MISSING)
        if value is _MISSING:
            default = column.default
            if default is None:
                value = None
            elif default.is_callable:
                value = default.arg(None)
            else:
                value = default.arg
        values[key] = value
    return values
