"""Case-page drafts: what someone types into a form on a case page (a note, a task, an incident,
an edit of the survivor's details, a status change's reason...) is sealed on the server every few
seconds, so a session that times out, a tab closed by mistake or a crashed browser loses at most
the last few seconds; the form offers it back, whole, when it is opened again.

A draft belongs to one person, one case, one form and one page: the key the page gave the form
(`form_key`), so the same form typed in two tabs keeps two drafts and sending one deletes that
one only. A draft brought back keeps its key (the same form again: sent from two tabs showing it,
it is saved once). The payload is the form's fields as a JSON object of
strings (lists for multi-choice fields), sealed under the case's data key, so erasing the case
erases it too (the rows are deleted as well). Saving the form deletes its draft in the same
transaction as the change. A status change's draft names its move from the status the case had
("status-open-in_support"): it comes back for that move only, and goes when the case moves.
Only someone who may still see the case is shown it: the pages that offer it back load the case
through its need-to-know scope first.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.calls.models import Call
from app.cases.draft_fields import (
    DraftError,
    Restored,
    clean,
    holds_typing,
    mark_copy,
    sent_key,
)
from app.cases.models import STATUSES, Case, CaseDraft, FormSubmission, Incident, Perpetrator
from app.cases.scope import case_scope
from app.clock import utcnow
from app.extensions import db

MAX_DRAFTS_PER_USER = 50
# A draft kept this recently may be one a page still open is typing (autosaves come every few
# seconds while something changes): opened again without asking for it, it comes back as a copy.
LIVE_SECONDS = 60

# The forms that keep drafts, with what the list of unsent text calls them.
FORMS = {
    "note": _l("Note"),
    "task": _l("Task"),
    "incident": _l("New incident"),
    "perpetrator": _l("Person who used violence"),
    "risk": _l("Risk assessment"),
    "consent": _l("Consent"),
    "edit": _l("Edit the survivor's details"),
}
STATUS_PREFIX = "status-"
# A correction's draft names what it corrects: "incident-<id>", "perpetrator-<id>", or a call
# on the case, "call-<id>" (app/calls/correction_views.py; a call with no case keeps none).
PART_EDITS = {
    "incident": _l("Correct an incident"),
    "perpetrator": _l("Correct a person who used violence"),
    "call": _l("Correct a call"),
}

# The same, naming the part, on the list of unsent text (and on the Correct links).
PART_EDITS_NAMED = {
    "incident": _l("Correct the incident recorded %(time)s"),
    "perpetrator": _l("Correct the person recorded %(time)s"),
    "call": _l("Correct the call of %(time)s"),
}
# Each part's model and the time it is named by.
PART_MODELS = {
    "incident": (Incident, Incident.recorded_at),
    "perpetrator": (Perpetrator, Perpetrator.recorded_at),
    "call": (Call, Call.started_at),
}


class FormSaved(DraftError):
    """That page's form was sent holding this text already: a draft of it sent late would bring
    back saved text."""


class CaseMovedOn(DraftError):
    """The case is closed or erased, or (a status change) no longer where the move starts."""


def status_form(from_status: str, to: str) -> str:
    """The draft name of a move: "status-open-in_support"."""
    return f"{STATUS_PREFIX}{from_status}-{to}"


def status_move(form: str) -> tuple[str, str] | None:
    """(from, to) of a status change's draft name, or None for another form."""
    parts = form.split("-")
    if len(parts) == 3 and parts[0] + "-" == STATUS_PREFIX:
        if parts[1] in STATUSES and parts[2] in STATUSES:
            return parts[1], parts[2]
    return None


def part_form(kind: str, part_id: uuid.UUID) -> str:
    """The draft name of a correction of that part: "incident-<id>"."""
    return f"{kind}-{part_id}"


def part_edit(form: str) -> tuple[str, uuid.UUID] | None:
    """(kind, part id) of a correction's draft name, or None for another form."""
    kind, sep, rest = form.partition("-")
    if not sep or kind not in PART_EDITS:
        return None
    try:
        part_id = uuid.UUID(rest)
    except ValueError:
        return None
    return (kind, part_id) if str(part_id) == rest else None


def parts_recorded(rows: list[CaseDraft]) -> dict[str, datetime]:
    """When the part each correction's draft corrects was recorded, by draft name, for the list
    of unsent text to say which one (one statement a kind of part; a part not on the draft's
    case is left out, and its draft keeps the plain label)."""
    wanted: dict[str, dict[uuid.UUID, uuid.UUID]] = {}
    for draft in rows:
        if (edit := part_edit(draft.form)) is not None:
            wanted.setdefault(edit[0], {})[edit[1]] = draft.case_id
    found: dict[str, datetime] = {}
    for kind, parts in wanted.items():
        model, named_by = PART_MODELS[kind]
        stmt = select(model.id, model.case_id, named_by).where(model.id.in_(parts))
        for part_id, case_id, at in db.session.execute(stmt):
            if parts[part_id] == case_id:
                found[f"{kind}-{part_id}"] = at
    return found


def known(form: str) -> bool:
    """Whether `form` names a form that keeps drafts."""
    return form in FORMS or status_move(form) is not None or part_edit(form) is not None


def label(form: str) -> str:
    """What the form is called on the list of unsent text."""
    if status_move(form):
        return str(_l("Status change"))
    if (edit := part_edit(form)) is not None:
        return str(PART_EDITS[edit[0]])
    return str(FORMS.get(form, form))


def keep(
    *, case: Case, user: User, form: str, page: uuid.UUID, fields: dict | None
) -> CaseDraft | None:
    """Create or replace the draft of this page's form; fields that hold nothing typed (or
    None) delete it. Committed. Raises CaseMovedOn when the case no longer takes it, FormSaved
    when the page's form was saved already."""
    if not known(form):
        raise DraftError("no such form")
    if fields is not None:
        fields = clean(fields)
    for attempt in (1, 2):
        try:
            _refuse_if_moved_on(case, user, form)  # on PostgreSQL the case's row locked from here
            draft = _keep(case, user, form, page, fields)
            _refuse_if_moved_on(case, user, form)  # on SQLite: the write lock now held
            if _submitted(page, case, fields):  # that text sent meanwhile (a draft sent late)
                raise FormSaved("form saved already")
            db.session.commit()
            return draft
        except (IntegrityError, StaleDataError):
            # Written or deleted at the same instant (the same page's beacon and its timer, the
            # form saved): once more, everything checked again, as things now are.
            db.session.rollback()
            if attempt == 2:
                raise
        except DraftError:
            db.session.rollback()
            raise
    return None  # not reached


def _keep(
    case: Case, user: User, form: str, page: uuid.UUID, fields: dict | None
) -> CaseDraft | None:
    if _submitted(page, case, fields):
        raise FormSaved("form saved already")
    draft = _find(case, user, form, page)
    if fields is None or not holds_typing(_start(form, case), fields):
        if draft is not None:
            db.session.delete(draft)
            db.session.flush()
        return None
    fresh = draft is None
    if draft is None:
        draft = CaseDraft(user_id=user.id, case_id=case.id, form=form, page=page)
        draft.case = case
        db.session.add(draft)
    draft.payload = json.dumps(fields, ensure_ascii=False)
    draft.updated_at = utcnow()
    db.session.flush()
    if fresh:
        _trim(user)
    return draft


def _refuse_if_moved_on(case: Case, user: User, form: str) -> None:
    """Checked before the draft is written, the case's row locked on PostgreSQL, and again
    after, SQLite's write lock held: an erasure, a move or a hand-over committed meanwhile is
    seen, and one that comes after finds the draft and deletes it."""
    from app.cases.services import TRANSITIONS  # services builds on drafts

    mine = case_scope(user)(select(Case.status, Case.erased_at).where(Case.id == case.id))
    now = db.session.execute(mine.with_for_update(of=Case)).one_or_none()
    if now is None:
        raise CaseMovedOn("no longer this person's to see")
    if now.erased_at is not None:
        raise CaseMovedOn("erased")
    move = status_move(form)
    if move is not None:
        start, to = move
        if now.status != start or user.role not in TRANSITIONS.get(start, {}).get(to, ()):
            raise CaseMovedOn("moved on")
    elif now.status in ("closed", "erased"):
        raise CaseMovedOn("closed")


def _start(form: str, case: Case):
    """The form a draft is of, as it opens: an empty form's defaults, or the survivor's details
    as stored for an edit (what it holds as opened is no typing)."""
    from app.cases import edits, forms  # forms build on the calls package, which builds on cases

    if form == "edit":
        stored = edits.form_values(edits.snapshot(case))
        return forms.CaseEditForm(formdata=None, data=stored, meta={"csrf": False})
    if status_move(form):
        return forms.StatusForm(formdata=None, meta={"csrf": False})
    if (edit := part_edit(form)) is not None:
        from app.cases import corrections  # builds on the case services, which build on drafts

        part = corrections.find_part(case, *edit)
        if part is None:
            raise DraftError("no such form")
        if edit[0] == "call":
            from app.calls import corrections as call_corrections

            return call_corrections.as_opened(part)
        return corrections.as_opened(case, part)
    form_class = {
        "note": forms.NoteForm,
        "task": forms.TaskForm,
        "incident": forms.IncidentForm.for_case(case),
        "perpetrator": forms.PerpetratorForm,
        "risk": forms.RiskForm,
        "consent": forms.ConsentForm.for_case(case),
    }.get(form)
    if form_class is None:
        raise DraftError("no such form")
    return form_class(formdata=None, meta={"csrf": False})


def _submitted(page: uuid.UUID, case: Case, fields: dict | None) -> bool:
    """Whether the page's form was sent holding just these fields (other text typed under the
    same key, in a second tab showing the same draft, is still unsent and kept)."""
    if fields is None:
        return False
    stmt = select(FormSubmission.key).where(
        FormSubmission.key == sent_key(page, fields), FormSubmission.case_id == case.id
    )
    return db.session.execute(stmt).first() is not None


def newer_than_shown(
    *, case: Case, user: User, form: str, page: uuid.UUID, shown_at: datetime | None
) -> bool:
    """Whether the person's draft of this form under this page's key is newer than what a page
    shows of it: written after `shown_at` (the page brought it back as it was then), or there
    at all (`shown_at` None: the page shows another draft, or none)."""
    draft = _find(case, user, form, page)
    return draft is not None and (shown_at is None or draft.updated_at > shown_at)


def _find(case: Case, user: User, form: str, page: uuid.UUID) -> CaseDraft | None:
    stmt = select(CaseDraft).where(
        CaseDraft.user_id == user.id,
        CaseDraft.case_id == case.id,
        CaseDraft.form == form,
        CaseDraft.page == page,
    )
    return db.session.execute(stmt).scalar_one_or_none()


def restore(*, case: Case, user: User, form: str, page: uuid.UUID | None = None) -> Restored | None:
    """The person's unsent text of this form on the case (the page's draft asked for, else the
    newest), to fill the form with, or None. The form comes back with the draft's own key (the
    same page's form again: sent from two tabs showing it, it is saved once), but for a draft
    not asked for that was kept moments ago: a page still open may be typing it, so this one
    gets a copy under a key of its own, and neither's sending takes the other's text."""
    stmt = select(CaseDraft).where(
        CaseDraft.user_id == user.id, CaseDraft.case_id == case.id, CaseDraft.form == form
    )
    drafts = list(db.session.execute(stmt.order_by(CaseDraft.updated_at.desc())).scalars())
    chosen = next((d for d in drafts if d.page == page), drafts[0] if drafts else None)
    if chosen is None or chosen.payload is None:
        return None
    fields = json.loads(chosen.payload)
    if not isinstance(fields, dict):
        return None
    live = chosen.page != page and (utcnow() - chosen.updated_at).total_seconds() < LIVE_SECONDS
    if live:
        mark_copy(fields, chosen.page)
    fields["form_key"] = str(uuid.uuid4() if live else chosen.page)
    restored = Restored(chosen, fields, others=len(drafts) - 1)
    restored.live = live
    return restored


def fill(form_cls, *, case: Case, user: User, name: str, page=None, **kwargs):
    """A form opened (not sent): filled from the person's draft of it when there is one (the
    page's asked for, `page`, else the newest). Gives the form and the draft offered back
    (None when there was none)."""
    restored = None if case.erased_at else restore(case=case, user=user, form=name, page=page)
    if restored is None:
        return form_cls(**kwargs), None
    return form_cls(**{**kwargs, "formdata": restored.formdata()}), restored


def page_asked(value: str | None) -> uuid.UUID | None:
    """The draft a link asks for (`?draft=`), if it is a key at all."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def drop(*, case: Case, user: User, form: str, page: uuid.UUID | None) -> None:
    """Delete the draft of this page's form (it is being saved). Not committed: it goes with
    the change, or stays if the change is refused. Nothing is written before the change itself
    is (no flush here: on SQLite that would take the write lock early)."""
    if page is None:
        return
    with db.session.no_autoflush:
        draft = _find(case, user, form, page)
    if draft is not None:
        db.session.delete(draft)


def drop_moved_on(
    case: Case, *, sent_by: User | None = None, sent_page=None, sent_reason: str = ""
) -> None:
    """Everyone's status-change drafts that no longer start where the case is (it has moved):
    those of the move just sent (`sent_by`'s under the form's key `sent_page`, or holding the
    reason sent: a copy brought back on a reload) are deleted; a reason typed in another,
    never sent, becomes a note draft of its writer's, offered back in the case page's note box
    (to add as a note or clear; to copy, on a closed case), never dropped: under its own key,
    or a new one when a note is kept under that key already. Not committed."""
    sent_reason = (sent_reason or "").strip()
    taken: set[tuple[int, uuid.UUID]] = set()  # note keys given in this loop (not yet flushed)
    ours = select(CaseDraft).where(
        CaseDraft.case_id == case.id, CaseDraft.form.startswith(STATUS_PREFIX, autoescape=True)
    )
    for draft in list(db.session.execute(ours).scalars()):
        move = status_move(draft.form)
        if move is not None and move[0] == case.status:
            continue
        reason = _text_of(draft, "reason")
        sent = (
            sent_by is not None
            and draft.user_id == sent_by.id
            and (draft.page == sent_page or reason == sent_reason)
        )
        if not reason or sent:
            db.session.delete(draft)
            continue
        if (draft.user_id, draft.page) in taken or _find_note(draft.user_id, case, draft.page):
            draft.page = uuid.uuid4()  # that key's note holds other text: this one beside it
        taken.add((draft.user_id, draft.page))
        draft.form = "note"
        draft.payload = json.dumps({"kind": "note", "body": reason}, ensure_ascii=False)
        draft.updated_at = utcnow()


def _text_of(draft: CaseDraft, name: str) -> str:
    """The text a draft holds in one field (a status change's reason, a note's body), trimmed;
    "" for none."""
    try:
        fields = json.loads(draft.payload or "{}")
    except ValueError:
        return ""
    text = fields.get(name) if isinstance(fields, dict) else None
    return text.strip() if isinstance(text, str) else ""


def _find_note(user_id: int, case: Case, page: uuid.UUID) -> CaseDraft | None:
    stmt = select(CaseDraft).where(
        CaseDraft.user_id == user_id,
        CaseDraft.case_id == case.id,
        CaseDraft.form == "note",
        CaseDraft.page == page,
    )
    with db.session.no_autoflush:
        return db.session.execute(stmt).scalar_one_or_none()


def keep_reason_as_note(*, case: Case, user: User, page: uuid.UUID, reason: str) -> uuid.UUID:
    """A status change's reason sent but not applied (the move made first by a colleague, or
    closed off by another, or refused): kept as the person's note draft under the page's key,
    which the case page's note box offers back, so closing that page loses nothing; their
    status drafts under that key go (that move is not theirs to make now). A note kept under
    that key already is never written over: holding the reason (typed on since it was kept)
    it stays as it is, else the reason goes beside it under a new key. Gives the key the
    reason is under. Committed."""
    db.session.execute(
        delete(CaseDraft).where(
            CaseDraft.user_id == user.id,
            CaseDraft.case_id == case.id,
            CaseDraft.page == page,
            CaseDraft.form.startswith(STATUS_PREFIX, autoescape=True),
        )
    )
    kept = _find_note(user.id, case, page)
    if kept is not None and reason in _text_of(kept, "body"):
        db.session.commit()
        return page
    if kept is not None:
        page = uuid.uuid4()
    draft = CaseDraft(user_id=user.id, case_id=case.id, form="note", page=page)
    draft.case = case
    db.session.add(draft)
    draft.payload = json.dumps({"kind": "note", "body": reason}, ensure_ascii=False)
    draft.updated_at = utcnow()
    db.session.flush()
    _trim(user)
    db.session.commit()
    return page


def drop_all_on(case_id: uuid.UUID, *, user_id: int | None = None) -> None:
    """Delete the drafts on the case: everyone's (erasure), or one person's (the case handed
    to someone else). Not committed."""
    stmt = delete(CaseDraft).where(CaseDraft.case_id == case_id)
    if user_id is not None:
        stmt = stmt.where(CaseDraft.user_id == user_id)
    db.session.execute(stmt)


def discard(*, case: Case, user: User, form: str, page: uuid.UUID | None) -> None:
    """Throw away the person's draft of this page's form (all their drafts of the form on the
    case when no page is named). Committed."""
    stmt = delete(CaseDraft).where(
        CaseDraft.user_id == user.id, CaseDraft.case_id == case.id, CaseDraft.form == form
    )
    if page is not None:
        stmt = stmt.where(CaseDraft.page == page)
    db.session.execute(stmt)
    db.session.commit()


def drop_all_of(user: User) -> int:
    """Delete the person's drafts on every case (their account moved or its role changed).
    Not committed."""
    result = db.session.execute(delete(CaseDraft).where(CaseDraft.user_id == user.id))
    return result.rowcount or 0


def open_drafts(user: User) -> list[CaseDraft]:
    """The person's unsent case-page text on the cases they may still see, newest first (a case
    reassigned away or erased is not offered, nor a status change the case has moved past;
    nothing is opened to list them)."""
    stmt = case_scope(user)(
        select(CaseDraft)
        .join(Case, Case.id == CaseDraft.case_id)
        .where(CaseDraft.user_id == user.id, Case.erased_at.is_(None))
        .order_by(CaseDraft.updated_at.desc())
        .options(contains_eager(CaseDraft.case))
    )
    return [d for d in db.session.execute(stmt).scalars() if _current(d.form, d.case.status)]


def count_open(user: User) -> int:
    """How many drafts open_drafts lists, counted without loading them (nothing sealed read)."""
    stmt = case_scope(user)(
        select(CaseDraft.form, Case.status)
        .join(Case, Case.id == CaseDraft.case_id)
        .where(CaseDraft.user_id == user.id, Case.erased_at.is_(None))
    )
    rows = db.session.execute(stmt).all()
    return sum(1 for form, status in rows if _current(form, status))


def _current(form: str, status: str) -> bool:
    """Not a status change the case (now in `status`) has moved past."""
    move = status_move(form)
    return move is None or move[0] == status


def _trim(user: User) -> None:
    """Keep at most MAX_DRAFTS_PER_USER drafts, the one being written included: the oldest go
    first."""
    total = db.session.execute(
        select(func.count()).select_from(CaseDraft).where(CaseDraft.user_id == user.id)
    ).scalar_one()
    if total <= MAX_DRAFTS_PER_USER:
        return
    stmt = (
        select(CaseDraft)
        .where(CaseDraft.user_id == user.id)
        .order_by(CaseDraft.updated_at.desc())
        .offset(MAX_DRAFTS_PER_USER)
    )
    for old in db.session.execute(stmt).scalars():
        db.session.delete(old)
