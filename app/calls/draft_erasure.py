"""Unsaved intakes and an erased case: a draft is sealed under its own key, so it would outlive
the case it names. Erasure deletes the drafts of calls on the case (`drop_drafts_on`), and an
autosave from a page left open on it drops its link again (`forget_erased_case`)."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import or_, select

from app import audit
from app.auth.models import User
from app.calls.models import IntakeDraft
from app.extensions import db
from app.form_fields import as_uuid


def forget_erased_case(fields: dict, *, user: User, lock: bool = False) -> bool:
    """Drop the intake's link to its case when that case, of the user's organisation, has been
    erased, and say so.

    Erasure deletes the drafts naming the case (`drop_drafts_on`), but a page left open on it
    would put the link back with its next autosave. What was typed is the new call's and is
    kept; only the link goes, so the call is saved on its own if the operator goes on. Another
    hotline's case is never looked at: the answer would tell whether it exists (the intake's
    save refuses such a link anyway). An operator may add a call to any case of the hotline
    (a repeat caller's case, often a colleague's), so is told of its erasure on the phone; each
    telling is a read of the case, written to the audit log (not committed here), so numbers
    tried one after another to learn which cases were erased show there. `lock`: the cases
    named are read locked (on PostgreSQL), as an erasure takes its case before the drafts: one
    erasing it now is waited for and then seen, or finds the draft written."""
    from app.cases.models import Case  # cases builds on calls
    from app.cases.search_form import normalise_case_number, own_code

    case_id, typed = fields.get("case_id"), fields.get("case_number")
    named = []
    linked = as_uuid(case_id.strip() if isinstance(case_id, str) else None)
    if linked is not None:
        named.append(Case.id == linked)
    own = own_code(user)
    number = normalise_case_number(typed, own) if isinstance(typed, str) and typed.strip() else None
    if number:
        named.append(Case.number == number)
    if not named:
        return False
    # The cases named, erased or not: locked (`lock`), a case being erased is waited for and
    # then seen erased (a lock asked of erased rows only would pass over it).
    named_cases = select(Case.id, Case.number, Case.erased_at).where(
        Case.organisation_id == user.organisation_id, or_(*named)
    )
    found = db.session.execute(named_cases.with_for_update(of=Case) if lock else named_cases)
    gone = [row for row in found if row.erased_at is not None]
    if not gone:
        return False
    for row in gone:
        audit.record(
            "view",
            user=user,
            object_type="case",
            object_id=row.id,
            case_id=row.id,
            organisation_id=user.organisation_id,
            detail="erased case named in an intake",
        )
        if fields.get("case_id") == str(row.id):
            fields["case_id"] = ""
        if number == row.number:
            fields["case_number"] = ""
    return True


def drop_drafts_on(
    case_id: uuid.UUID,
    number: str,
    intake_keys: set[str] = frozenset(),
    *,
    organisation_id: int,
) -> int:
    """Delete every unsaved intake of a new call on this case, whoever of its hotline
    (`organisation_id`) started it (erasure: a draft is sealed under its own key, so it would
    outlive the case's). Another hotline's drafts are not opened: none of them can hold the
    case's own content, and one naming the case's number (a caller reading it out) is that
    hotline's own call, which a link to another hotline's case could never join (the save
    refuses it); deleting it would lose the call and tell of the erasure. The case is named only
    inside the sealed payload, so each draft is opened; there are few (MAX_DRAFTS_PER_USER a
    person, deleted when saved). A draft names it by id (opened from the case page) or by number
    (the repeat-caller panel's "add to this case", or typed); a copy kept apart from one of
    its calls (`intake_keys`: the forms they were saved from, and the lines of copies those
    began), or from such a copy, by its kept_from or its line (kept_group). Not committed."""
    from app.cases.numbers import code_of, normalise_case_number  # cases builds on calls

    wanted, parents, gone = str(case_id), {}, set()
    mine = select(IntakeDraft).join(User, User.id == IntakeDraft.user_id)
    for draft in db.session.execute(mine.where(User.organisation_id == organisation_id)).scalars():
        try:
            fields = json.loads(draft.payload or "{}")
        except ValueError:
            continue
        if not isinstance(fields, dict):
            continue
        typed = fields.get("case_number")
        named = (
            normalise_case_number(typed, code_of(number)) == number
            if isinstance(typed, str)
            else False
        )
        if fields.get("case_id") == wanted or named or str(draft.intake_key) in intake_keys:
            gone.add(draft)  # a draft of one of its calls, too: brought back by a page left open
        else:
            parents[draft] = {str(k) for k in map(as_uuid, _lines(fields)) if k is not None}
    dropped_keys = set(intake_keys) | {str(d.intake_key) for d in gone}
    while True:  # a copy of a copy: followed up its line of copies
        more = {d for d, up in parents.items() if up & dropped_keys and d not in gone}
        if not more:
            break
        gone |= more
        dropped_keys |= {str(d.intake_key) for d in more}
    for draft in gone:
        db.session.delete(draft)
    return len(gone)


def _lines(fields: dict) -> tuple:
    """What a copy kept apart names: the intake it was kept from and its line's first."""
    return fields.get("kept_from"), fields.get("kept_group")
