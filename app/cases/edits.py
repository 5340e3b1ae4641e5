"""Editing the survivor's details of a case with optimistic locking: a save made from an older
version raises EditConflict with the values as they now are, for the conflict screen
(edit_views.py, merge.py); a save sets what follows from the change (age group and child path,
the phone's blind index), puts it on the timeline and audits it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.cases import draft_copies, drafts, merge, services
from app.cases.ages import day_told, survivor_age
from app.cases.models import CHILD_TASKS, Case, FormSubmission
from app.cases.scope import case_scope
from app.classifications import age_band
from app.clock import utcnow
from app.crypto import blind
from app.extensions import db


@dataclass
class EditConflict(Exception):
    """Someone saved the case after this editor loaded it: both versions go to the user."""

    theirs: dict = field(default_factory=dict)
    version: int = 0


def snapshot(case: Case) -> dict:
    """The editable values of a case as they are now (opened), for a conflict screen."""
    return {name: getattr(case, name) for name in services.EDITABLE}


def form_values(stored: dict) -> dict:
    """Editable values as stored, put as the edit form shows them."""
    values = dict(stored)
    if values.get("survivor_birth_date"):
        values["survivor_birth_date"] = date.fromisoformat(values["survivor_birth_date"]).strftime(
            "%d/%m/%Y"
        )
    values["survivor_age"] = int(values["survivor_age"]) if values.get("survivor_age") else None
    values["services_wanted"] = (values.get("services_wanted") or "").split()
    return values


# Tries of an edit met by other writes that moved no detail (notes, tasks, calls) at the same
# instant, as many as a part's write gets (app/cases/views.py PART_WRITE_ATTEMPTS).
EDIT_ATTEMPTS = 6


def update_case(
    *,
    case: Case,
    by: User,
    expected_version: int,
    changes: dict,
    page: uuid.UUID | None = None,
    sent: uuid.UUID | None = None,
    copies: list | None = None,
    base: dict[str, str] | None = None,
    attempt: int = 1,
) -> list[str]:
    """Save edits made from `expected_version`; raise EditConflict when the case's details moved
    on since (`base`: the fingerprints of the values the editor started from, merge.read_base;
    a version moved by a note, a task or a call alone is no conflict: nothing to compare).

    Returns the names of the fields that changed (empty when nothing did). The draft of the
    editor's page (`page`, its form key) goes with the save, and `sent` (drafts.sent_key of the
    form posted) is recorded, so a draft of that text arriving late is refused; so is it as
    sent from the pages a copy was made of (`copies`: draft_copies.copy_sent).
    """
    services.refuse_if_closed(case)
    if case.version != expected_version and not merge.untouched_since(
        case.id, base, snapshot(case)
    ):
        raise EditConflict(theirs=snapshot(case), version=case.version)
    changed = [n for n in services.EDITABLE if n in changes and _changed(n, changes[n], case)]
    if not changed:
        _sent(case, by, page, sent, copies)
        try:
            db.session.commit()
        except IntegrityError:
            # The same form sent twice at the same instant (a double click): the other sending
            # recorded it first, and neither changes anything.
            db.session.rollback()
        return []
    try:
        _apply_edit(case, by, changes, changed)
        _sent(case, by, page, sent, copies)
        db.session.commit()
    except StaleDataError:
        # Written by someone else between our check and our write. A note, a task or a call
        # (no detail moved since the editor's start): the edit is made again on the case as
        # it now is, as a part's write is. Details saved by the other: the conflict screen,
        # with their version (reloaded after the rollback), as for a save from an older one.
        db.session.rollback()
        # The other write closed or erased it: nothing to compare with.
        services.refuse_if_closed(case)
        # Made again only while the case is still this person's to see (the other write may
        # have handed it on: the conflict screen's path then refuses it, audited).
        if (
            attempt < EDIT_ATTEMPTS
            and _still_theirs(case, by)
            and merge.untouched_since(case.id, base, snapshot(case))
        ):
            return update_case(
                case=case, by=by, expected_version=case.version, changes=changes, page=page,
                sent=sent, copies=copies, base=base, attempt=attempt + 1,
            )  # fmt: skip
        raise EditConflict(theirs=snapshot(case), version=case.version) from None
    return changed


def _still_theirs(case: Case, by: User) -> bool:
    """Whether the case is still within the person's need-to-know scope, as it now is."""
    mine = case_scope(by)(select(Case.id).where(Case.id == case.id))
    return db.session.execute(mine).first() is not None


def _sent(case: Case, by: User, page: uuid.UUID | None, sent: uuid.UUID | None, copies) -> None:
    """The edit page's form is sent: its draft goes, and what was sent is recorded, so a draft
    of it arriving late is refused (drafts.keep). Not committed."""
    if page is not None:
        drafts.drop(case=case, user=by, form="edit", page=page)
    if sent is not None and db.session.get(FormSubmission, sent) is None:
        db.session.add(FormSubmission(key=sent, user_id=by.id, case_id=case.id))
    draft_copies.sent_from_sources(case=case, user=by, form="edit", copies=copies or [])


def _changed(name: str, value, case: Case) -> bool:
    """Whether the form's value changes the case's. The services wanted are a set: a call
    joining the case appends its own, so the stored order is not the form's, and an edit
    that changes nothing must not move the version (a colleague's open page would meet a
    conflict screen over nothing)."""
    if name == "services_wanted":
        return merge.differs(name, value, getattr(case, name))
    return (value or None) != (getattr(case, name) or None)


def _apply_edit(case: Case, by: User, changes: dict, changed: list[str]) -> None:
    """The changed fields set, with what follows from them (age band and child path, the
    phone's blind index), an event and the audit entry; not committed."""
    for name in changed:
        # Emptied: NULL, or "" for a column that holds no NULL (the services wanted).
        column = Case.__table__.c.get(name)  # None for a sealed value (stored as name_sealed)
        empty = "" if column is not None and not column.nullable else None
        setattr(case, name, changes[name] or empty)
    if "survivor_age" in changed or "survivor_birth_date" in changed:
        age = int(case.survivor_age) if case.survivor_age else None
        birth = date.fromisoformat(case.survivor_birth_date) if case.survivor_birth_date else None
        years = survivor_age(age, birth, day_told(case))  # on the day it was told, as at intake
        if years is None:
            # Both cleared: the age group is no longer known. A case on the child-protection
            # path stays on it (removing what was known does not show the survivor is 16 or
            # over); a corrected age of 16 or more takes it off.
            case.survivor_age_band = "unknown"
        else:
            from app.calls.planning import serious  # calls builds on cases
            from app.cases.casework import a_child_at_risk, danger_told

            was_child = case.is_child
            case.survivor_age_band = age_band(years)
            case.is_child = years < 16
            told = danger_told(case)
            if was_child and not case.is_child and not a_child_at_risk(told):
                # Not a child's case after all: its child-path tasks no longer apply (ended,
                # not done: no one did them), unless a call told of a child involved in the
                # violence, whose 12 hours run whatever the survivor's age.
                services.end_tasks(case, "not_child", at=utcnow(), kinds=CHILD_TASKS)
            if case.is_child and not was_child:
                # Now known to be a child: the child-protection path, as at intake, where a
                # high risk or a serious danger told in any of its calls makes it urgent.
                from app.cases.casework import plan_child_path

                plan_child_path(case, by=by, serious=serious(told, case.risk_level))
    if "survivor_phone" in changed:
        blind.remove_index(owner_type=services.OWNER, owner_id=case.id)
        if case.survivor_phone:
            blind.set_index(
                owner_type=services.OWNER,
                owner_id=case.id,
                field="phone",
                values=[case.survivor_phone],
            )
    services.record_event(case, by=by, kind="edit", new=" ".join(changed))
    services.audit_case("update", case, by, detail=" ".join(changed))
