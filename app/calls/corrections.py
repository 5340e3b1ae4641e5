"""Correcting a call after it was saved: the caller's number or name mistyped, what the caller
said completed once the headset is off, the channel, who called, a short reason chosen wrongly
(a prank logged as silent), what was done, the flags on the number.

What stays as recorded, and why: the call's times (the deadlines of law, the 12-hour checks and
the commune's notification, run from them), its danger answers and emergency actions (they
set those duties going; danger told later is a new call on the case), and whether it is a
violence report (which opened or joined a case): the reason changes within its kind only, a
short call's reason to another short one, a case call's to another case call's. Nor does a
call on a case change to or from "a child calling for themself", which put a case of no known
age on the child-protection path: the case's age says it (its details are edited on the case).

A correction changes the call in place and says so: the audit log names the fields corrected
(never their values); a call on a case also shows it on the case's timeline. Two people
correcting one call at once never overwrite each other silently, as with the parts of a case
(app/cases/corrections.py, whose per-field marks the form carries in `seen`): a field a
colleague corrected since keeps theirs unless this person changed it too; a field both changed,
differently, refuses the whole with the call as it now is shown above what was typed. The call's
row, and its case's, are held while they are read and written (`lock`), so neither another
correction nor the case's closure lands between the two; a call on a case writes the case's
row too, so its version moves. A sending is recorded with the change (its sent key, as a
case-page form's), so the same form sent again changes nothing (`SentBefore`), even where a
colleague has put a field back since as the first sending found it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import audit
from app import classifications as c
from app.auth.models import User
from app.calls.models import Call
from app.cases.corrections import marks, merge, plain
from app.cases.models import Case, FormSubmission
from app.cases.services import CaseError, record_event
from app.clock import utcnow
from app.crypto import blind
from app.extensions import db

EVENT = "correct"  # the case's timeline: as a part's correction, from_value "call"
OWNER = "call"  # the blind index's owner type of a call's number

CALL_REASONS = tuple(r for r in c.REASONS if r not in c.SHORT_REASONS)


@dataclass
class CallData:
    """What a correction may change of a call, by the form's field names."""

    channel: str
    caller_type: str
    reason: str
    caller_phone: str | None
    caller_name: str | None
    narrative: str | None
    outcomes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


NAMES = [f.name for f in fields(CallData)]


CHILD_BY_AGE = _l(
    "Whether the case is a child's is said by the survivor's age: correct the age or age group "
    "on the case (Edit details). A call on a case is not changed to or from “A child calling "
    "for themself”."
)


class CallChanged(CaseError):
    """The call was corrected by someone else after the form's page was drawn, in fields this
    person changed too (`both`); `mine`: the fields this person changed."""

    def __init__(self, call: Call, by: User | None, at, *, both, mine, unknown: bool):
        super().__init__(_l("Not saved yet: someone corrected this after your form opened."))
        self.call, self.by, self.at = call, by, at
        self.both, self.mine, self.unknown = both, mine, unknown


class SentBefore(Exception):
    """This very form was saved before (a double click, a retry after an answer lost, the back
    button): nothing is written again."""


def reasons_for(call: Call) -> tuple[str, ...]:
    """The reasons the call may be given: a short call's, another short one; a call on a case,
    another of a case's; a case's reason on a call without a case (not reached by the intake),
    its own only."""
    if call.reason in c.SHORT_REASONS:
        return c.SHORT_REASONS
    return CALL_REASONS if call.case_id is not None else (call.reason,)


def read_only(call: Call) -> bool:
    """Whether the call's case is closed or erased: its record, calls included, is read-only."""
    return call.case is not None and (call.case.is_closed or call.case.erased_at is not None)


def permitted(call: Call, user: User) -> bool:
    """Whether this person may correct the call, once they may see it (call_views.load_call):
    an operator the calls they took; a case manager those of the cases given to them, a
    supervisor their organisation's (what they may see)."""
    return user.role != "operator" or call.taken_by_id == user.id


def may_correct(call: Call, user: User) -> bool:
    """Whether the call's page offers its correction to this person."""
    return permitted(call, user) and not read_only(call)


def data_of(call: Call) -> CallData:
    """The call's values as its correction form's data (the sealed ones opened)."""
    return CallData(
        channel=call.channel,
        caller_type=call.caller_type,
        reason=call.reason,
        caller_phone=call.caller_phone,
        caller_name=call.caller_name,
        narrative=call.narrative,
        outcomes=c.codes(call.outcomes),
        flags=c.codes(call.flags),
    )


def form_values(call: Call) -> dict:
    """The call's values to fill its correction form with (blanks as empty text)."""
    values = vars(data_of(call))
    return {name: ("" if value is None else value) for name, value in values.items()}


def as_opened(call: Call):
    """The correction form as its page opens, for a draft to be compared with (the case-page
    drafts' `_start`): the call's values as stored, so a draft holding them holds nothing
    typed."""
    from app.calls.forms import CallCorrectionForm  # the forms build on the case packages

    return CallCorrectionForm(formdata=None, data=form_values(call), meta={"csrf": False})


def fingerprint(call: Call) -> str:
    """The marks of the call's values as its page showed them (`seen`): nothing of the values."""
    return ".".join(marks(plain(data_of(call))).values())


def last_correction(call: Call, names=None) -> audit.AuditEntry | None:
    """The newest correction of the call in the audit log (who made it, when); with `names`,
    the newest that corrected one of those fields (among the last few)."""
    stmt = (
        select(audit.AuditEntry)
        .where(
            audit.AuditEntry.object_type == "call",
            audit.AuditEntry.object_id == str(call.id),
            audit.AuditEntry.action == "update",
            audit.AuditEntry.detail.startswith("corrected ", autoescape=True),
        )
        .order_by(audit.AuditEntry.id.desc())
        .limit(1 if names is None else 20)
    )
    for entry in db.session.execute(stmt).scalars():
        if names is None or set(names) & set(entry.detail.split()[1:]):
            return entry
    return None


def lock(call: Call) -> Call:
    """The call's row, and its case's, as stored now, held until the transaction ends, so the
    values compared below are the ones overwritten and the case cannot close meanwhile: on
    PostgreSQL both rows locked (FOR UPDATE, the case first, as a closure takes it); on SQLite
    a write (the call's row set to itself) begins the transaction, and SQLite lets one writer
    at a time, so another correction or a closure waits until this one is committed."""
    if db.session.connection().dialect.name == "sqlite":
        table = Call.__table__
        db.session.execute(update(table).where(table.c.id == call.id).values(id=table.c.id))
    if call.case_id is not None:
        db.session.execute(
            select(Case)
            .where(Case.id == call.case_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
    stmt = (
        select(Call)
        .where(Call.id == call.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.execute(stmt).scalar_one()


def correct(
    *,
    call: Call,
    by: User,
    data: CallData,
    seen: str | None,
    sent: uuid.UUID | None = None,
    copied: Sequence[uuid.UUID] = (),
    with_write: Callable[[], None] | None = None,
) -> list[str]:
    """Correct the call with the data typed; gives the names of the fields changed (none:
    nothing written). `seen`: the marks of the call as the page showed it; `sent`: the sending's
    key (drafts.sent_key), recorded with the change; taken already, or one of `copied` (the
    keys of the text as sent from the pages a draft brought back was copied from): SentBefore,
    nothing written. `with_write`: run once the correction is accepted, in its transaction (the
    form's drafts deleted). The case closed (or the call no longer this person's to correct)
    since the page was drawn: CaseError, the form to be shown again with everything typed.
    Commits."""
    call = lock(call)
    # Read with the call held: a sending of the same form at the same instant has committed
    # its key by now, or waits until this one has.
    keys = [k for k in (sent, *copied) if k is not None]
    if any(db.session.get(FormSubmission, k) is not None for k in keys):
        db.session.rollback()
        raise SentBefore
    if read_only(call):
        raise CaseError(_l("This call can no longer be corrected: its case is closed."))
    if not permitted(call, by):  # the page refuses it first (403, audited)
        raise CaseError(
            _l("Only the operator who took a call, its case's manager or a supervisor corrects it.")
        )
    data = replace(data, outcomes=list(data.outcomes), flags=list(data.flags))
    data.outcomes = [o for o in data.outcomes if o in c.CALL_OUTCOMES]
    data.flags = [f for f in data.flags if f in c.CALLER_FLAGS]
    if data.reason not in reasons_for(call):
        raise CaseError(
            _l("Choose a reason of the same kind: a call that opened a case stays one.")
        )
    stored = data_of(call)
    clash = merge(stored, data, seen)
    if clash is not None:
        entry = last_correction(call, clash.both)
        who = db.session.get(User, entry.user_id) if entry and entry.user_id else None
        at = entry.at if entry else None
        raise CallChanged(call, who, at, both=clash.both, mine=clash.mine, unknown=clash.unknown)
    now, typed = plain(stored), plain(data)
    changed = [n for n in NAMES if now[n] != typed[n]]
    if (
        call.case_id is not None
        and "caller_type" in changed
        and "child_self" in (stored.caller_type, data.caller_type)
    ):
        # A child calling for themself put a case of no known age on the child-protection path
        # (intake_data.tells_of_a_child): the case's age says it from now on.
        raise CaseError(CHILD_BY_AGE)
    if with_write is not None:
        with_write()
    if sent is not None:
        db.session.add(FormSubmission(key=sent, user_id=by.id, case_id=call.case_id))
    if not changed:
        _commit()
        return []
    for name in changed:
        value = getattr(data, name)
        if isinstance(value, list):
            setattr(call, name, " ".join(value))
        else:
            setattr(call, name, (value or "").strip() or None)
    if "caller_phone" in changed:
        phone = call.caller_phone
        blind.set_index(
            owner_type=OWNER, owner_id=call.id, field="phone", values=[phone] if phone else []
        )
    named = " ".join(changed)
    if call.case is not None:
        call.case.updated_at = utcnow()  # the case's version moves: one of two at once fails
        record_event(call.case, by=by, kind=EVENT, old="call", new=f"{call.id} {named}")
    audit.record(
        "update",
        user=by,
        object_type="call",
        object_id=call.id,
        case_id=call.case_id,
        organisation_id=call.organisation_id,
        detail=f"corrected {named}",
    )
    _commit()
    return changed


def _commit() -> None:
    """Commit the correction with its sending's key; the key taken meanwhile (not reached with
    the call's row held, kept for safety): the same form saved by the other sending."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SentBefore from None
