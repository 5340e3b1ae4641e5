"""The tasks a call plans on its case, by law and by what it tells (docs/intake.md):

- the commune People's Committee is notified of every violence report at once (Law 13/2022:
  the hotline records, counsels and notifies the commune chair; Decree 56/2017 for a child),
  once per case, and the task is done already when the call records the notification;
- a child at serious risk (the survivor under 16, or a child involved in the violence) needs
  action within 12 hours of the call's start (Decree 56/2017);
- a serious danger told without the risk checklist asks for the risk to be assessed within a
  day (a checklist filled in plans its own re-assessment: casework.build_assessment);
- a prohibition of contact requested is decided by the commune chair within 12 hours of the
  request (Law 13/2022): the decision is checked then.

Pure: the intake (an ORM case) and the batch writer (rows as dicts) both apply what it gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from app.cases import risk
from app.cases.casework import CHILD_SERIOUS_WINDOW, a_child_at_risk

SERIOUS_DANGER = ("danger_now", "injured", "weapon_or_threat")
NO_CONTACT_DECISION = timedelta(hours=12)  # Law 13/2022: the commune chair decides within 12 h
ASSESS_WITHIN = timedelta(hours=24)  # a serious danger told, no checklist filled
# A prohibition of contact asked by the hotline needs the survivor's consent (Law 13/2022).
NO_CONTACT_REFUSED = _l(
    "The survivor refuses “Police and protection orders”: a prohibition of contact cannot be "
    "requested for them."
)
NO_CONTACT_UNASKED = _l(
    "A prohibition of contact requested by the hotline needs the survivor's consent: tick "
    "“Police and protection orders” under consent."
)


@dataclass(frozen=True)
class Planned:
    """A task to open: its kind and due time, and when it was done already (in this call)."""

    kind: str
    due: datetime
    done_at: datetime | None = None


@dataclass(frozen=True)
class CaseTasks:
    """What the case holds already: the kinds of its open tasks, and of all its tasks."""

    open: frozenset[str]
    ever: frozenset[str]

    @classmethod
    def of(cls, tasks) -> CaseTasks:
        """From (kind, done_at) pairs: ORM tasks or the batch writer's rows."""
        pairs = list(tasks)
        return cls(
            open=frozenset(kind for kind, done_at in pairs if done_at is None),
            ever=frozenset(kind for kind, _done_at in pairs),
        )


def serious(danger: list[str], level: str | None) -> bool:
    """A high or severe level, or danger now, an injury, a weapon or a threat to kill told."""
    return risk.at_least_high(level) or any(d in SERIOUS_DANGER for d in danger)


def tasks_for_call(
    *,
    danger: list[str],
    emergency: list[tuple[str, datetime]],
    assessed: bool,
    level: str | None,
    child: bool,
    new_case: bool,
    held: CaseTasks,
    now: datetime,
    told_before: frozenset[str] = frozenset(),
) -> list[Planned]:
    """The tasks this call opens on its case. `child`: the survivor is a child; `now`: when the
    call's clock starts (its start, never later than now); `assessed`: the checklist filled;
    `told_before`: what the case's earlier calls told in the danger questions (a child
    involved then, a serious danger now: the child's 12 hours)."""
    actions = dict(emergency)
    child_path = child or a_child_at_risk([*danger, *told_before])
    planned = []
    if "notify_commune" not in held.ever and (new_case or child_path):
        planned.append(Planned("notify_commune", now, done_at=actions.get("commune_chair")))
    if child_path and serious(danger, level) and "child_12h" not in held.open:
        planned.append(Planned("child_12h", now + CHILD_SERIOUS_WINDOW))
    if not assessed and serious(danger, None) and "safety_review" not in held.open:
        planned.append(Planned("safety_review", now + ASSESS_WITHIN))
    if "no_contact_request" in actions and "no_contact_12h" not in held.open:
        asked = actions["no_contact_request"]
        planned.append(Planned("no_contact_12h", asked + NO_CONTACT_DECISION))
    return planned


def police_consent(consents) -> bool | None:
    """The survivor's latest answer on police and protection orders among a case's consents
    (withdrawn ones left out); None when never asked."""
    answers = [c for c in consents if c.service == "police" and c.withdrawn_at is None]
    return max(answers, key=lambda c: c.recorded_at).granted if answers else None
