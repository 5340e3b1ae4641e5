"""The parts of a case the batch writer (app/cases/bulk.py) adds as plain rows: incident,
perpetrator, risk assessment, consents, counselling note, tasks, events and an imported status,
each built as the casework functions (app/cases/casework.py, services.py) build the model
objects the unit of work saves. Kept in step with them by tests/cases/test_import_bulk.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.auth.labels import CASE_STATUS_LABELS
from app.auth.models import User
from app.calls.intake import Intake
from app.calls.planning import CaseTasks, tasks_for_call
from app.cases import risk
from app.cases.casework import SAFETY_REVIEW_AFTER, consent_as_recorded
from app.cases.models import (
    CaseEvent,
    CaseNote,
    Consent,
    Incident,
    Perpetrator,
    RiskAssessment,
    Task,
)
from app.cases.register.rows import ImportedIntake
from app.cases.services import CaseError
from app.classifications import ACTS, forms_of
from app.clock import LOCAL, local_midnight, utcnow
from app.crypto.datakeys import RowKey


class CaseParts:
    """Batch's rows of a case's parts (Batch supplies _add, _audit and its state)."""

    by: User
    tasks: dict[uuid.UUID, list[dict]]  # per case
    reasons: dict[str, str]  # an imported status's event reason, per status

    _add: Callable[..., dict]  # Batch._add(model, key, **values): a new row of model
    _audit: Callable[..., None]  # Batch._audit(action, **fields): an audit entry to chain

    def _case_parts(self, case: dict, key: RowKey, call: dict, data: Intake) -> None:
        """intake_orm.record_case_parts, with the casework build_* functions it calls."""
        by, case_id = self.by, case["id"]
        parts = [f"call:{call['id']}"]
        if data.tells_of_a_child(new_case=True) and case["survivor_age_band"] == "unknown":
            case["is_child"] = True
        if data.incident is not None and data.incident.tells(child=case["is_child"]):
            d = data.incident
            acts = [a for a in d.acts if a in ACTS]
            incident = self._add(
                Incident,
                key,
                case_id=case_id,
                recorded_by_id=by.id,
                occurred_on=d.occurred_on,
                place_type=d.place_type,
                acts=" ".join(acts),
                forms=" ".join(forms_of(acts)),
                gbv_type=d.gbv_type,
                gbv_context=d.gbv_context,
                chi_category=d.chi_category if case["is_child"] else None,
                description=d.description,
            )
            parts.append(f"incident:{incident['id']}")
        if data.perpetrator is not None:
            d = data.perpetrator
            perpetrator = self._add(
                Perpetrator,
                key,
                case_id=case_id,
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
            parts.append(f"perpetrator:{perpetrator['id']}")
        level, clock = None, data.clock_start(call["started_at"])
        if data.risk_answers is not None:
            level = self._assessment(case, key, data, parts, clock=clock)
        for consent in data.consents:
            fields = consent_as_recorded(consent, child=case["is_child"])
            row = self._add(Consent, key, case_id=case_id, recorded_by_id=by.id, **fields)
            parts.append(f"consent:{row['id']}")
        if data.counselling:
            note = self._add(
                CaseNote,
                key,
                case_id=case_id,
                author_id=by.id,
                kind="counselling",
                body=data.counselling,
            )
            case["updated_at"] = utcnow()
            parts.append(f"note:{note['id']}")
        if data.follow_up_at is not None:  # the intake's call-back (an import plans none)
            self._task(case, "follow_up_call", data.follow_up_at, by_hand=True)
        self._plan_tasks(case, data, level, now=clock)
        if level in ("high", "severe") and "high_risk" not in data.flags:
            call["flags"] = " ".join([*data.flags, "high_risk"])
        self._audit(
            "create",
            object_type="case",
            object_id=case_id,
            case_id=case_id,
            organisation_id=case["organisation_id"],
            detail=" ".join(parts),
        )

    def _assessment(
        self, case: dict, key: RowKey, data: Intake, parts: list[str], *, clock: datetime
    ) -> str:
        """casework.build_assessment (clock: when the re-assessment's time runs from)."""
        answers, reason = data.risk_answers, data.risk_reason
        result = risk.score(answers)
        level = risk.final_level(result.level, data.risk_raised_to)
        if level != result.level and not (reason or "").strip():
            raise CaseError(_l("Say why you rate the risk higher than the checklist does."))
        assessment = self._add(
            RiskAssessment,
            key,
            case_id=case["id"],
            assessed_by_id=self.by.id,
            answers=" ".join(a for a in answers if a in risk.QUESTIONS),
            points=result.points,
            computed_level=result.level,
            level=level,
            reason=reason if level != result.level else None,
        )
        old = case["risk_level"]
        case["risk_level"] = level
        if old != level:
            self._event(case, key, "risk", old, level)
        if level in SAFETY_REVIEW_AFTER:
            self._task(case, "safety_review", clock + SAFETY_REVIEW_AFTER[level])
        parts.append(f"risk:{assessment['id']}")
        return level

    def _plan_tasks(self, case: dict, data: Intake, level: str | None, *, now) -> None:
        """intake_orm.plan_tasks, for a new case (now: as the intake; an import: from now)."""
        held = CaseTasks.of((t["kind"], t["done_at"]) for t in self.tasks[case["id"]])
        planned = tasks_for_call(
            danger=data.danger,
            emergency=data.emergency,
            assessed=data.risk_answers is not None,
            level=level,
            child=case["is_child"],
            new_case=True,
            held=held,
            now=now,
        )
        for plan in planned:
            task = self._task(case, plan.kind, plan.due)
            if plan.done_at is not None:
                task["done_at"], task["done_by_id"] = plan.done_at, self.by.id

    def _task(self, case: dict, kind: str, due: datetime, *, by_hand: bool = False) -> dict:
        """services.open_task."""
        task = self._add(
            Task,
            case_id=case["id"],
            organisation_id=case["organisation_id"],
            kind=kind,
            due_at=due,
            created_by_id=self.by.id,
            assigned_to_id=case["assigned_to_id"],
            done_at=None,
            done_by_id=None,
            ended_by=None,
            by_hand=by_hand,
        )
        self.tasks[case["id"]].append(task)
        return task

    def _event(self, case: dict, key: RowKey, kind: str, old, new, reason=None) -> None:
        """services.record_event."""
        self._add(
            CaseEvent,
            key,
            case_id=case["id"],
            by_id=self.by.id,
            kind=kind,
            from_value=old,
            to_value=new,
            reason=reason,
        )
        case["updated_at"] = utcnow()

    def _set_status(self, case: dict, key: RowKey, data: ImportedIntake) -> None:
        """import_run._set_status."""
        old, now = case["status"], utcnow()
        case["status"] = data.status
        if data.status == "closed":
            closed_on = data.closed_on or case["opened_at"].astimezone(LOCAL).date()
            # Closed that day, never before the call that opened it (a day has no time).
            case["closed_at"] = max(local_midnight(closed_on), case["opened_at"])
            for task in self.tasks[case["id"]]:  # services.end_tasks
                if task["done_at"] is None:
                    task["done_at"], task["ended_by"] = now, "closed"
        reason = self.reasons.get(data.status)
        if reason is None:  # translated once a batch, not once a row
            reason = self.reasons[data.status] = _status_reason(data.status)
        self._event(case, key, "status", old, data.status, reason)
        self._audit(
            "status",
            object_type="case",
            object_id=case["id"],
            case_id=case["id"],
            organisation_id=case["organisation_id"],
            detail=f"{old}>{data.status} import",
        )


def _status_reason(status: str) -> str:
    return str(
        _l(
            "Imported from the old register, where the case was: %(status)s.",
            status=CASE_STATUS_LABELS[status],
        )
    )
