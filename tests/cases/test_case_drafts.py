"""Case-page drafts: what is typed into a form on a case page is sealed on the server as it is
typed, brought back whole when the form is opened again, deleted when the form is saved or
discarded, and never shown to anyone else, nor kept past the case's erasure or its move."""

import json
import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from app.cases import draft_fields, drafts, services
from app.cases.models import Case, CaseDraft, CaseNote, FormSubmission, Incident
from app.clock import utcnow
from app.extensions import db
from tests.conftest import CSRF_META, STATUS_VERSION, audit_actions, duties_done, sign_in
from tests.crypto.test_raw_database import _raw_bytes

NOTE = "Chị Hạnh kể đêm qua anh ta lại đánh, em bé trốn sang nhà hàng xóm"


def keep(client, case, form: str, fields, page=None, *, on: str | None = None):
    """The page's autosave: its form's key and fields as JSON, the token in the header (taken
    from a page that brings back no draft)."""
    token = client.csrf_token(on or "/auth/account")
    return client.post(
        f"/cases/{case.id}/drafts/{form}",
        json={"page": str(page or uuid.uuid4()), "fields": fields},
        headers={"X-CSRFToken": token},
    )


def stored(case, user, form: str) -> list[CaseDraft]:
    db.session.rollback()  # a fresh read: the server wrote since
    stmt = select(CaseDraft).where(
        CaseDraft.case_id == case.id, CaseDraft.user_id == user.id, CaseDraft.form == form
    )
    return list(db.session.execute(stmt).scalars())


def count_drafts() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(CaseDraft.id))).scalar_one()


def form_key(html: str, field_id: str) -> str:
    return re.search(rf'id="{field_id}" name="form_key" type="hidden" value="([^"]+)"', html)[1]


def inputs(html: str) -> dict:
    return dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', html))


def left_a_while() -> None:
    """Every draft last kept longer ago than a page still typing it would have kept it."""
    db.session.rollback()
    for draft in db.session.execute(select(CaseDraft)).scalars():
        draft.updated_at -= timedelta(seconds=drafts.LIVE_SECONDS + 1)
    db.session.commit()


class _FormFields(HTMLParser):
    """What a browser's FormData holds for the page's form marked data-draft-url: each text
    box and hidden field, each select's chosen option (its first when none is), each ticked
    box, each text area."""

    def __init__(self):
        super().__init__()
        self.inside, self.fields = False, []
        self.select, self.chosen, self.area = None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = "data-draft-url" in a
        if not self.inside or not a.get("name"):
            if tag == "option" and self.select is not None:
                value = a.get("value", "")
                if self.chosen is None or "selected" in a:
                    self.chosen = (value, "selected" in a or self.chosen is None)
            return
        if tag == "input" and a.get("type") not in ("checkbox", "radio", "submit"):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.chosen = a["name"], None
        elif tag == "textarea":
            self.area = [a["name"], ""]

    def handle_data(self, data):
        if self.area is not None:
            self.area[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            self.fields.append((self.select, self.chosen[0] if self.chosen else ""))
            self.select = None
        elif tag == "textarea" and self.area is not None:
            # A browser drops the one line break that opens a text area's content.
            text = self.area[1]
            text = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
            self.fields.append((self.area[0], text))
            self.area = None


def browser_fields(html: str) -> dict:
    """The page's draft form's fields as app.js sends them (several values: a list)."""
    parser = _FormFields()
    parser.feed(html)
    out: dict = {}
    for name, value in parser.fields:
        if name == "csrf_token":
            continue
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = value
    return out


def sign_out(client, page: str) -> None:
    client.post("/auth/logout", data={"csrf_token": client.csrf_token(page)})


def test_a_note_typed_is_sealed_brought_back_whole_and_gone_once_sent(client, case_of):
    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    typed_on = uuid.uuid4()
    answer = keep(client, case, "note", {"kind": "counselling", "body": NOTE}, typed_on)
    assert answer.status_code == 200
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", answer.json["saved_at"])
    assert len(stored(case, manager, "note")) == 1

    # The session ends; signed in again, the case page offers the note back as it was typed.
    sign_out(client, f"/cases/{case.id}")
    left_a_while()
    sign_in(client, manager)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="draft-restored-note"' in page
    assert NOTE in page
    assert '<option selected value="counselling">' in page
    attrs = f'data-draft-url="/cases/{case.id}/drafts/note" data-typed="yes" data-draft-restored'
    assert attrs in page
    # The same form again: it comes back with the key of the page it was typed on.
    key = form_key(page, "note-form-key")
    assert key == str(typed_on)

    # Sent: the note is written and the draft is gone, in the same step.
    answer = client.submit(
        f"/cases/{case.id}/notes",
        {"kind": "counselling", "body": NOTE, "form_key": key},
        page=f"/cases/{case.id}",
    )
    assert answer.status_code == 302
    assert stored(case, manager, "note") == []
    assert db.session.execute(select(func.count(CaseNote.id))).scalar_one() == 1
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="draft-restored-note"' not in page


def test_a_draft_is_sealed_in_the_database(client, case_of, tmp_path):
    case, people = case_of
    sign_in(client, people["manager"])
    assert keep(client, case, "note", {"kind": "note", "body": NOTE}).status_code == 200
    (draft,) = stored(case, people["manager"], "note")  # kept, and opened with the case's key
    assert json.loads(draft.payload)["body"] == NOTE and draft.payload_sealed
    assert NOTE.encode() not in _raw_bytes(tmp_path)


def test_a_form_with_nothing_typed_keeps_no_draft(client, case_of):
    """What an empty form starts with (a note's kind, a task's kind) is not typing: a page
    sending only that, or emptied again, holds no draft."""
    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    key = uuid.uuid4()
    keep(client, case, "task", {"kind": "follow_up_call", "due_at": "", "note": "gọi lại"}, key)
    assert len(stored(case, manager, "task")) == 1
    emptied = {"kind": "follow_up_call", "due_at": " ", "note": "", "form_key": str(key)}
    assert keep(client, case, "task", emptied, key).json == {"saved_at": ""}
    assert stored(case, manager, "task") == []
    assert keep(client, case, "note", {"kind": "note", "body": ""}).json == {"saved_at": ""}
    assert keep(client, case, "note", {"kind": "counselling", "body": ""}).json["saved_at"]
    assert keep(client, case, "task", None, key).json == {"saved_at": ""}


def test_a_form_refused_marks_only_itself_as_holding_typing(client, case_of):
    """A task sent back with an error: the note form beside it, untouched, is not marked as
    holding typing (its page would otherwise keep a draft of nothing)."""
    case, people = case_of
    sign_in(client, people["manager"])
    answer = client.submit(
        f"/cases/{case.id}/tasks",
        {"kind": "other", "due_at": "32/13/2026"},
        page=f"/cases/{case.id}",
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert f'data-draft-url="/cases/{case.id}/drafts/task" data-typed="yes"' in html
    assert f'data-draft-url="/cases/{case.id}/drafts/note">' in html


def test_a_draft_arriving_after_its_form_was_saved_is_refused(client, case_of):
    """The autosave racing the button: a late draft must not bring back text that is saved."""
    case, people = case_of
    sign_in(client, people["manager"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    key = form_key(page, "note-form-key")
    sent = {"kind": "note", "body": NOTE, "form_key": key}
    saved = client.submit(f"/cases/{case.id}/notes", sent, page=f"/cases/{case.id}")
    assert saved.status_code == 302
    answer = keep(client, case, "note", sent, key)
    assert answer.status_code == 409 and answer.json["error"] == "already_saved"
    assert stored(case, people["manager"], "note") == []


def test_other_text_sent_under_a_key_already_used_is_saved_too(client, case_of):
    """Two tabs showing the same draft brought back (one key), typed on in each: the second
    tab's text is kept as a draft after the first tab's note is saved, and saved when sent,
    not answered "already saved"; the same text sent again from either is saved once. A page
    gone back to after sending, its text changed and sent again, is the same."""
    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    shared = uuid.uuid4()
    first = {"kind": "note", "body": NOTE, "form_key": str(shared)}
    second = {
        "kind": "note",
        "body": NOTE + ", sáng nay chị đã đến trạm y tế",
        "form_key": str(shared),
    }
    url, page = f"/cases/{case.id}/notes", f"/cases/{case.id}"
    assert client.submit(url, first, page=page).status_code == 302

    # The second tab's autosave: its text is not what was sent, so it is kept.
    answer = keep(client, case, "note", second, shared)
    assert answer.status_code == 200 and answer.json["saved_at"]
    assert [json.loads(d.payload)["body"] for d in stored(case, manager, "note")] == [
        second["body"]
    ]
    # The first tab's text arriving late is refused, as before.
    assert keep(client, case, "note", first, shared).json["error"] == "already_saved"

    sent = client.submit(url, second, page=page)
    assert sent.status_code == 302
    shown = client.get(page).get_data(as_text=True)
    assert "Biểu mẫu này đã được lưu trước đó" not in shown
    assert stored(case, manager, "note") == []
    for again in (first, second):  # a double click or a retry of either: nothing more
        assert client.submit(url, again, page=page).status_code == 302
        assert "Biểu mẫu này đã được lưu trước đó" in client.get(page).get_data(as_text=True)
    db.session.rollback()
    bodies = db.session.execute(select(CaseNote).where(CaseNote.case_id == case.id)).scalars()
    assert sorted(note.body for note in bodies) == sorted([first["body"], second["body"]])
    # The record of a sending names neither the page's key nor its text.
    mine = select(FormSubmission.key).where(FormSubmission.case_id == case.id)
    keys = db.session.execute(mine).scalars().all()
    assert len(keys) == 2 and shared not in keys


def test_two_tabs_keep_two_drafts_and_sending_one_leaves_the_other(client, case_of):
    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    first, second = uuid.uuid4(), uuid.uuid4()
    keep(
        client,
        case,
        "note",
        {"kind": "note", "body": "trong tab một", "form_key": str(first)},
        first,
    )
    keep(
        client,
        case,
        "note",
        {"kind": "note", "body": "trong tab hai", "form_key": str(second)},
        second,
    )
    assert len(stored(case, manager, "note")) == 2
    sent = {"kind": "note", "body": "trong tab một", "form_key": str(first)}
    assert client.submit(f"/cases/{case.id}/notes", sent, page="/cases/drafts").status_code == 302
    left = stored(case, manager, "note")
    assert [json.loads(d.payload)["body"] for d in left] == ["trong tab hai"]


def test_opening_a_form_typed_in_two_tabs_says_so(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    for body in ("một", "hai"):
        keep(client, case, "note", {"kind": "note", "body": body})
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Bạn còn gõ biểu mẫu này ở 1 thẻ khác" in html
    assert html.count('href="/cases/drafts"') >= 1
    listing = client.get("/cases/drafts").get_data(as_text=True)
    assert listing.count(f'href="/cases/{case.id}?draft=') == 2


def test_an_incident_typed_comes_back_and_goes_with_the_save(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/new"
    acts = ["a_beating", "b_insults"]
    fields = {"incident_date": "02/12/2026", "place_type": "home", "acts": acts}
    assert keep(client, case, "incident", fields, on=url).status_code == 200
    left_a_while()
    html = client.get(url).get_data(as_text=True)
    assert 'id="draft-restored-incident"' in html
    assert 'value="02/12/2026"' in html
    assert re.search(r'checked[^>]*value="a_beating"|value="a_beating"[^>]*checked', html)
    answer = client.submit(url, {**fields, "form_key": form_key(html, "form_key")})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert stored(case, people["manager"], "incident") == []
    assert db.session.execute(select(func.count(Incident.id))).scalar_one() == 1


def test_an_edit_typed_from_an_older_version_meets_the_conflict_screen(client, case_of):
    """The draft keeps the version it was typed on: a colleague's save made meanwhile is not
    overwritten when the draft is sent, the conflict screen shows both; the draft stays until
    the edit is saved."""
    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    url = f"/cases/{case.id}/edit"
    fields = inputs(client.get(url).get_data(as_text=True))
    fields.update(survivor_name="Chị Hoa")
    fields.pop("csrf_token", None)
    assert keep(client, case, "edit", fields, fields["form_key"], on=url).status_code == 200

    other = client.application.test_client()
    sign_in(other, people["supervisor"])
    theirs = inputs(other.get(url).get_data(as_text=True))
    theirs.update(survivor_name="Chị Lan")
    assert other.submit(url, theirs).status_code == 302

    left_a_while()
    html = client.get(url).get_data(as_text=True)
    assert 'id="draft-restored-edit"' in html and 'value="Chị Hoa"' in html
    answer = client.submit(url, inputs(html))
    assert answer.status_code == 409  # the conflict screen, nothing overwritten
    screen = answer.get_data(as_text=True)
    assert "Chị Lan" in screen and "Chị Hoa" in screen
    assert len(stored(case, manager, "edit")) == 1
    db.session.expire_all()
    assert db.session.get(Case, case.id).survivor_name == "Chị Lan"
    # Saved from the conflict screen (its own form key carried through): the draft goes.
    saved = client.submit(url, {**inputs(screen), "pick-survivor_name": "mine"})
    assert saved.status_code == 302
    assert stored(case, manager, "edit") == []


def test_a_reason_typed_for_a_status_change_comes_back_for_that_move_only(client, case_of):
    case, people = case_of
    duties_done(case, people["manager"])  # the closure waits on them
    manager = people["manager"]
    case.status = "in_support"
    db.session.commit()
    sign_in(client, manager)
    url = f"/cases/{case.id}/status?to=pending_closure"
    reason = "Chị đã về ở với mẹ, an toàn"
    fields = {"to": "pending_closure", "version": str(case.version), "reason": reason}
    move = "status-in_support-pending_closure"
    assert keep(client, case, move, fields, on=url).status_code == 200
    html = client.get(url).get_data(as_text=True)
    assert reason in html and f'id="draft-restored-{move}"' in html
    # Another move from here does not bring it; the move made deletes it.
    assert reason not in client.get(f"/cases/{case.id}/status?to=closed").get_data(as_text=True)
    answer = client.submit(url, {**fields, "form_key": form_key(html, "form_key")}, page=url)
    assert answer.status_code == 302
    assert stored(case, manager, move) == []
    assert stored(case, manager, "note") == []  # sent: not kept as a note either


def test_a_status_draft_goes_when_the_case_moves_and_is_not_taken_after(client, case_of):
    """A reason typed for a move from where the case no longer is would come back into another
    move's page: it goes when the case moves (anyone's), and is refused after. The text is not
    lost: it comes back in its writer's note box, to add as a note or clear."""
    case, people = case_of
    duties_done(case, people["manager"])  # the closure waits on them
    case.status = "in_support"
    db.session.commit()
    manager = people["manager"]
    sign_in(client, manager)
    move = "status-in_support-pending_closure"
    keep(client, case, move, {"to": "pending_closure", "reason": "lý do cũ"})
    other = client.application.test_client()
    sign_in(other, people["supervisor"])
    url = f"/cases/{case.id}/status?to=pending_closure"
    html = other.get(url).get_data(as_text=True)
    assert (
        other.submit(url, {**inputs(html), "reason": "của giám sát"}, page=url).status_code == 302
    )
    assert stored(case, manager, move) == []
    assert [json.loads(d.payload) for d in stored(case, manager, "note")] == [
        {"kind": "note", "body": "lý do cũ"}
    ]
    assert stored(case, people["supervisor"], "note") == []
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert re.search(r"<textarea[^>]*>\s*lý do cũ</textarea>", shown)
    assert 'id="draft-restored-note"' in shown
    answer = keep(client, case, move, {"to": "pending_closure", "reason": "lý do cũ"})
    assert answer.status_code == 409 and answer.json["error"] == "closed"
    assert keep(client, case, "status-open-in_support", {"reason": "x"}).status_code == 409


def test_a_reopening_reason_is_kept_on_a_closed_case(client, case_of):
    case, people = case_of
    case.status = "closed"
    db.session.commit()
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/status?to=reopened"
    answer = keep(
        client, case, "status-closed-reopened", {"to": "reopened", "reason": "gọi lại"}, on=url
    )
    assert answer.status_code == 200
    assert "gọi lại" in client.get(url).get_data(as_text=True)


def test_discarding_throws_the_page_s_draft_away(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    keep(client, case, "note", {"kind": "note", "body": NOTE})
    # The notice's button names the draft itself, also on a copy of one kept moments ago.
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    notice = html[html.index('id="draft-restored-note"') :]
    key = re.search(r'name="page" value="([^"]+)"', notice)[1]
    answer = client.submit(
        f"/cases/{case.id}/drafts/note/discard", {"page": key}, page=f"/cases/{case.id}"
    )
    assert answer.status_code == 302 and answer.location.endswith(f"/cases/{case.id}#add-note")
    assert stored(case, people["manager"], "note") == []
    assert NOTE not in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_signing_in_offers_the_unsent_text_of_cases_the_person_may_still_see(
    client, case_of, make_user
):
    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    keep(client, case, "note", {"kind": "note", "body": NOTE})
    keep(client, case, "risk", {"risk_answers": ["threats_to_kill"]})
    sign_out(client, f"/cases/{case.id}")

    answer = sign_in(client, manager)
    assert answer.status_code == 302 and answer.location.endswith("/cases/drafts")
    listing = client.get("/cases/drafts").get_data(as_text=True)
    assert case.number in listing
    assert "Ghi chú" in listing and "Đánh giá nguy cơ" in listing
    assert NOTE not in listing  # the list names the form, not what was typed
    assert f'href="/cases/{case.id}/risk?draft=' in listing


def test_a_case_handed_to_another_manager_takes_the_old_one_s_drafts_with_it(
    client, case_of, make_user
):
    case, people = case_of
    manager, supervisor = people["manager"], people["supervisor"]
    sign_in(client, manager)
    keep(client, case, "note", {"kind": "note", "body": NOTE})
    boss = client.application.test_client()
    sign_in(boss, supervisor)
    keep(boss, case, "note", {"kind": "note", "body": "của giám sát"})
    newcomer = make_user("case_manager", organisation=manager.organisation)
    answer = boss.submit(
        f"/cases/{case.id}/assign", {"assignee": str(newcomer.id)}, page=f"/cases/{case.id}"
    )
    assert answer.status_code == 302
    assert stored(case, manager, "note") == []
    assert len(stored(case, supervisor, "note")) == 1  # who still sees the case keeps theirs
    sign_out(client, f"/cases/{case.id}")
    answer = sign_in(client, manager)
    assert not answer.location.endswith("/cases/drafts")
    assert keep(client, case, "note", {"body": "x"}, on="/cases/drafts").status_code == 404


def test_an_intake_left_unsaved_is_offered_first_with_the_case_text_named(client, case_of):
    from app.calls.drafts import save_draft

    case, people = case_of
    operator = people["operator"]  # who opened the case
    sign_in(client, operator)
    keep(client, case, "note", {"kind": "note", "body": NOTE})
    save_draft(user=operator, intake_key=uuid.uuid4(), fields={"narrative": "…"})
    sign_out(client, f"/cases/{case.id}")
    answer = sign_in(client, operator)
    assert answer.location.endswith("/calls/drafts")
    html = client.get("/calls/drafts").get_data(as_text=True)
    assert "Bạn còn 1 đoạn chưa gửi trên trang ca." in html and 'href="/cases/drafts"' in html


def test_erasing_the_case_erases_everyone_s_drafts_on_it(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    keep(client, case, "note", {"kind": "note", "body": NOTE})
    supervisor = client.application.test_client()
    sign_in(supervisor, people["supervisor"])
    keep(supervisor, case, "note", {"kind": "note", "body": "của giám sát"})
    url = f"/cases/{case.id}/erase"
    answer = supervisor.submit(url, {"reason": "survivor_request", "confirm": case.number})
    assert answer.status_code == 302
    assert count_drafts() == 0
    answer = keep(client, case, "note", {"kind": "note", "body": NOTE})
    assert answer.status_code == 409 and count_drafts() == 0


def test_a_closed_case_takes_no_draft_and_shows_a_note_left_unsent_to_copy(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    keep(client, case, "note", {"kind": "note", "body": NOTE})
    case.status = "closed"
    db.session.commit()
    answer = keep(client, case, "note", {"kind": "note", "body": NOTE + " thêm"})
    assert answer.status_code == 409 and answer.json["error"] == "closed"
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Ghi chú của bạn chưa được thêm" in page and NOTE in page
    assert f'action="/cases/{case.id}/drafts/note/discard"' in page
    listing = client.get("/cases/drafts").get_data(as_text=True)
    assert f'href="/cases/{case.id}?draft=' in listing  # shown there to copy


def test_a_task_left_unsent_on_a_case_closed_since_is_shown_to_copy(client, case_of):
    """As a note is: its kind, due time and note on the closed case's page, to copy (from the
    list of unsent text too), with its button to throw it away."""
    case, people = case_of
    sign_in(client, people["manager"])
    typed = "Gọi lại cho chị Hạnh lúc 9 giờ, chỉ qua Zalo"
    task = {"kind": "follow_up_call", "due_at": "05/12/2026 10:00", "note": typed}
    assert keep(client, case, "task", task).status_code == 200
    case.status = "closed"
    db.session.commit()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert (
        "Việc cần làm của bạn chưa được thêm" in page
        and typed in page
        and "05/12/2026 10:00" in page
    )
    assert f'action="/cases/{case.id}/drafts/task/discard"' in page
    listing = client.get("/cases/drafts").get_data(as_text=True)
    assert f'href="/cases/{case.id}?draft=' in listing  # shown there to copy


def test_a_signed_out_page_is_told_so_and_nothing_is_kept(client, case_of):
    case, people = case_of
    token = client.csrf_token("/auth/login")
    answer = client.post(
        f"/cases/{case.id}/drafts/note",
        json={"page": str(uuid.uuid4()), "fields": {"body": NOTE}},
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 401 and answer.json["error"] == "signed_out"
    assert count_drafts() == 0


def test_a_draft_a_closing_page_sends_is_kept(client, case_of):
    """navigator.sendBeacon: a form post, the token in it, the fields as JSON text."""
    case, people = case_of
    sign_in(client, people["manager"])
    answer = client.submit(
        f"/cases/{case.id}/drafts/note",
        {"page": str(uuid.uuid4()), "fields": json.dumps({"kind": "note", "body": NOTE})},
        page=f"/cases/{case.id}",
    )
    assert answer.status_code == 200
    assert len(stored(case, people["manager"], "note")) == 1


def test_no_such_form_and_malformed_fields_are_refused(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    assert keep(client, case, "password", {"a": "b"}).status_code == 404
    assert keep(client, case, "status-nowhere-closed", {"a": "b"}).status_code == 404
    assert keep(client, case, "note", {"body": {"nested": 1}}).status_code == 413
    assert keep(client, case, "note", "text").status_code == 400
    too_long = "x" * (draft_fields.MAX_PAYLOAD + 1)
    assert keep(client, case, "note", {"body": too_long}).status_code == 413
    token = client.csrf_token(f"/cases/{case.id}")
    no_page = client.post(
        f"/cases/{case.id}/drafts/note",
        json={"fields": {"body": "x"}},
        headers={"X-CSRFToken": token},
    )
    assert no_page.status_code == 400
    deep = "[" * 100_000 + "]" * 100_000  # past what Python reads: refused, not a server error
    nested = client.post(
        f"/cases/{case.id}/drafts/note",
        data=f'{{"page": "{uuid.uuid4()}", "fields": {{"body": {deep}}}}}',
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert nested.status_code == 400
    beacon = client.submit(  # the closing page's form post, its fields as JSON text
        f"/cases/{case.id}/drafts/note", {"page": str(uuid.uuid4()), "fields": deep}
    )
    assert beacon.status_code == 400
    assert count_drafts() == 0


def test_a_person_keeps_at_most_so_many_drafts_the_oldest_going_first(case_of, monkeypatch):
    case, people = case_of
    monkeypatch.setattr(drafts, "MAX_DRAFTS_PER_USER", 3)
    for form in ("note", "task", "incident", "risk"):
        fields = {"note": "x", "body": "x", "incident_description": "x", "risk_reason": "x"}
        drafts.keep(case=case, user=people["manager"], form=form, page=uuid.uuid4(), fields=fields)
    kept = {d.form for d in db.session.execute(select(CaseDraft)).scalars()}
    assert kept == {"task", "incident", "risk"}


def test_an_account_given_another_role_loses_its_case_drafts(case_of, make_user):
    from app.admin.services import update_user

    case, people = case_of
    supervisor = people["supervisor"]
    drafts.keep(case=case, user=supervisor, form="note", page=uuid.uuid4(), fields={"body": NOTE})
    update_user(
        by=make_user("admin", organisation=supervisor.organisation),
        user=supervisor,
        email=supervisor.email,
        full_name=supervisor.full_name,
        role="case_manager",
        organisation=supervisor.organisation,
        language=supervisor.language,
    )
    db.session.commit()
    assert count_drafts() == 0


def test_a_draft_typed_moments_ago_comes_back_as_a_copy_unless_asked_for(client, case_of):
    """Opening the case page in a second tab while the first is typing a note: the second gets
    a copy under its own key (neither tab's sending takes the other's text); the list's link,
    or a draft left for a while, brings back the draft itself."""
    case, people = case_of
    sign_in(client, people["manager"])
    typing = uuid.uuid4()
    keep(client, case, "note", {"kind": "note", "body": NOTE}, typing)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert NOTE in html and form_key(html, "note-form-key") != str(typing)
    asked = client.get(f"/cases/{case.id}?draft={typing}").get_data(as_text=True)
    assert form_key(asked, "note-form-key") == str(typing)
    (draft,) = stored(case, people["manager"], "note")
    draft.updated_at -= timedelta(seconds=drafts.LIVE_SECONDS + 1)
    db.session.commit()
    left = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert form_key(left, "note-form-key") == str(typing)


def test_an_edit_s_draft_sent_after_the_edit_was_saved_is_refused(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/edit"
    fields = inputs(client.get(url).get_data(as_text=True))
    fields.update(survivor_name="Chị Hoa")
    assert client.submit(url, fields).status_code == 302
    answer = keep(client, case, "edit", fields, fields["form_key"])
    assert answer.status_code == 409 and answer.json["error"] == "already_saved"
    assert count_drafts() == 0


def test_an_erasure_committed_while_a_draft_is_written_is_seen_after_the_write(
    case_of, monkeypatch
):
    """The check before the write passed, then the case was erased before the write landed
    (on SQLite nothing stops that; on PostgreSQL the first check's row lock does): the check
    after the write sees it, and nothing stays."""
    case, people = case_of
    checked = drafts._refuse_if_moved_on
    calls = []

    def passed_then_erased(*args):
        calls.append(1)
        if len(calls) > 1:
            return checked(*args)
        with db.engine.begin() as conn:  # another request's erasure, committed on its own
            conn.execute(
                Case.__table__.update()
                .where(Case.__table__.c.id == case.id)
                .values(erased_at=utcnow(), status="erased")
            )
        return None

    monkeypatch.setattr(drafts, "_refuse_if_moved_on", passed_then_erased)
    with pytest.raises(drafts.CaseMovedOn):
        drafts.keep(
            case=case, user=people["manager"], form="note", page=uuid.uuid4(), fields={"body": NOTE}
        )
    assert count_drafts() == 0


def test_a_case_handed_on_takes_no_draft_from_the_one_it_left(case_of, make_user):
    """Their page loaded the case before the hand-over; its draft arrives after: refused."""
    case, people = case_of
    case.assigned_to_id = make_user("case_manager", organisation=people["manager"].organisation).id
    db.session.commit()
    with pytest.raises(drafts.CaseMovedOn):
        drafts.keep(
            case=case, user=people["manager"], form="note", page=uuid.uuid4(), fields={"body": NOTE}
        )
    assert count_drafts() == 0


def test_a_move_made_meanwhile_sends_its_link_to_the_case_not_to_a_refusal(client, case_of):
    """The list of unsent text, or a link on the page, named a move a colleague has closed off
    since: the case is shown as it is, with a word on it, and nothing is audited as refused."""
    case, people = case_of
    case.status = "in_support"
    db.session.commit()
    sign_in(client, people["manager"])
    move = "status-in_support-pending_closure"
    keep(client, case, move, {"to": "pending_closure", "reason": "lý do"})
    case.status = "pending_closure"
    db.session.commit()
    answer = client.get(f"/cases/{case.id}/status?to=pending_closure")
    assert answer.status_code == 302 and answer.location.endswith(f"/cases/{case.id}")
    page = client.get(answer.location).get_data(as_text=True)
    assert "Không thể thực hiện thay đổi này nữa: ca nay ở trạng thái" in page
    assert "denied" not in audit_actions(people["manager"])


def test_an_edit_put_back_to_the_case_s_values_is_no_draft_but_a_field_cleared_is(client, case_of):
    case, people = case_of
    manager = people["manager"]
    case.services_wanted = "legal counselling"
    case.survivor_sex = "female"
    db.session.commit()
    sign_in(client, manager)
    url = f"/cases/{case.id}/edit"
    opened = browser_fields(client.get(url).get_data(as_text=True))
    assert opened["survivor_sex"] == "female" and opened["safe_contact"] == "Chỉ nhắn Zalo"
    assert sorted(opened["services_wanted"]) == ["counselling", "legal"]
    key = opened["form_key"]
    assert keep(client, case, "edit", {**opened, "survivor_name": "Chị Hoa"}, key).json["saved_at"]
    assert keep(client, case, "edit", opened, key).json == {"saved_at": ""}  # as stored again
    assert stored(case, manager, "edit") == []
    for changed in (
        {**opened, "safe_contact": ""},  # a field cleared
        {**opened, "survivor_sex": "male"},  # another choice
        {k: v for k, v in opened.items() if k != "services_wanted"},  # every box unticked
    ):
        assert keep(client, case, "edit", changed, key).json["saved_at"], changed
        assert keep(client, case, "edit", opened, key).json == {"saved_at": ""}


def test_the_unsent_text_list_tags_a_child_s_case(client, case_of):
    case, people = case_of
    case.is_child, case.survivor_age_band = True, "under_16"
    db.session.commit()
    sign_in(client, people["manager"])
    assert keep(client, case, "note", {"kind": "note", "body": "Em kể tiếp"}).status_code == 200
    listed = client.get("/cases/drafts").get_data(as_text=True)
    assert f'class="case-number">{case.number}</a> <span class="tag child-tag">' in listed


def test_a_reloaded_page_asks_whether_the_closing_page_s_copy_is_newer_than_it_shows(
    client, case_of, make_user
):
    """Yes for the named page's draft when the page shows none, or shows it as it was before
    it was written again; no once the page shows it as it is. A crafted time is a 404; someone
    who may not see the case is refused, audited."""
    from app.audit import AuditEntry

    def asked(html: str) -> str:
        found = re.search(r'data-newer-url="([^"]+/note/newer[^"]*)"', html)[1]
        return found.replace("&amp;", "&")

    case, people = case_of
    sign_in(client, people["manager"])
    blank = asked(client.get(f"/cases/{case.id}").get_data(as_text=True))
    assert blank.startswith(f"/cases/{case.id}/drafts/note/newer")
    closing = uuid.uuid4()
    assert client.get(f"{blank}&page={closing}").json == {"newer": False}  # none yet
    assert keep(client, case, "note", {"kind": "note", "body": NOTE}, closing).status_code == 200
    # The copy landed after a page drawn without it: newer.
    assert client.get(f"{blank}&page={closing}").json == {"newer": True}
    # A page drawn with it: not newer, until it is written again.
    showing = asked(client.get(f"/cases/{case.id}").get_data(as_text=True))
    assert f"shown={closing}" in showing
    assert client.get(f"{showing}&page={closing}").json == {"newer": False}
    assert (
        keep(client, case, "note", {"kind": "note", "body": NOTE + "!"}, closing).status_code == 200
    )
    assert client.get(f"{showing}&page={closing}").json == {"newer": True}
    base = f"/cases/{case.id}/drafts/note/newer?shown={closing}&page={closing}"
    for crafted in ("&at=x", "&at=2026-12-01T10:00:00", ""):  # no offset, none at all
        assert client.get(base + crafted).status_code == 404, crafted
    assert client.get(f"{blank}&page=x").status_code == 404
    outsider = client.application.test_client()
    sign_in(outsider, make_user("case_manager", organisation=people["manager"].organisation))
    assert outsider.get(f"{blank}&page={closing}").status_code == 404
    db.session.rollback()
    denied = db.session.execute(select(AuditEntry).where(AuditEntry.action == "denied")).scalars()
    assert [e.case_id for e in denied] == [case.id]


def keep_at(client, case, form, fields, page):
    """The page's autosave under the page key given."""
    return client.post(
        f"/cases/{case.id}/drafts/{form}",
        json={"page": str(page), "fields": fields},
        headers={"X-CSRFToken": client.csrf_token("/auth/account")},
    )


def notes_of(case, user) -> list[str]:
    """The texts of the person's note drafts on the case."""
    db.session.rollback()
    return [json.loads(d.payload)["body"] for d in stored(case, user, "note")]


def test_two_status_reasons_under_one_key_are_both_kept_and_the_move_made(app, client, case_of):
    """Two reasons for two moves from 'open' under one page key (the autosave takes any key):
    both became note drafts under that key, the unique constraint failed, and every move and
    assignment of the case was a server error until they went."""
    case, people = case_of
    manager, boss = people["manager"], people["supervisor"]
    sign_in(client, manager)
    page = uuid.uuid4()
    assert (
        keep_at(
            client,
            case,
            "status-open-in_support",
            {"to": "in_support", "reason": "lý do một"},
            page,
        ).status_code
        == 200
    )
    assert (
        keep_at(
            client,
            case,
            "status-open-pending_closure",
            {"to": "pending_closure", "reason": "lý do hai"},
            page,
        ).status_code
        == 200
    )
    boss_client = app.test_client()
    sign_in(boss_client, boss)
    url = f"/cases/{case.id}/status"
    html = boss_client.get(f"{url}?to=in_support").get_data(as_text=True)
    form = {
        "to": "in_support",
        "csrf_token": CSRF_META.search(html).group(1),
        "version": STATUS_VERSION.search(html).group(1),
        "form_key": re.search(r'name="form_key" type="hidden" value="([^"]+)"', html).group(1),
    }
    answer = boss_client.post(url, data=form)
    db.session.rollback()
    assert answer.status_code == 302 and db.session.get(Case, case.id).status == "in_support"
    assert sorted(notes_of(case, manager)) == ["lý do hai", "lý do một"]


def test_a_reason_sent_late_never_writes_over_the_note_typed_from_it(app, client, case_of):
    """The manager's reason for 'ask to close' becomes her note draft when a colleague asks
    first (drop_moved_on); she opens the case page later, the note box brings it back under
    the same key and she adds to it (autosaved). Her status tab, still open, is then sent:
    the old reason was written over the note draft, and what she added was lost."""
    case, people = case_of
    duties_done(case, people["manager"])  # the closure waits on them
    manager = people["manager"]
    services.change_status(case=case, to="in_support", by=manager)
    sign_in(client, manager)
    url = f"/cases/{case.id}"
    html = client.get(f"{url}/status?to=pending_closure").get_data(as_text=True)
    key = re.search(r'name="form_key" type="hidden" value="([^"]+)"', html).group(1)
    sent = {
        "to": "pending_closure",
        "csrf_token": CSRF_META.search(html).group(1),
        "version": STATUS_VERSION.search(html).group(1),
        "form_key": key,
        "reason": "Chị ấy đã chuyển đi",
    }
    assert (
        keep_at(
            client,
            case,
            "status-in_support-pending_closure",
            {"to": "pending_closure", "reason": sent["reason"]},
            key,
        ).status_code
        == 200
    )
    db.session.rollback()
    services.change_status(
        case=db.session.get(Case, case.id), to="pending_closure", by=people["supervisor"]
    )
    assert notes_of(case, manager) == ["Chị ấy đã chuyển đi"]
    # A while later (past LIVE_SECONDS), the case page's note box offers it under its own key.
    for d in db.session.execute(select(CaseDraft)).scalars():
        d.updated_at -= timedelta(seconds=drafts.LIVE_SECONDS + 5)
    db.session.commit()
    shown = client.get(url).get_data(as_text=True)
    note_key = re.search(
        r'id="note-form-key" name="form_key" type="hidden" value="([^"]+)"', shown
    ).group(1)
    assert note_key == key
    longer = "Chị ấy đã chuyển đi, ở với mẹ tại Hải Phòng, số mới gọi sau 20h"
    assert keep_at(client, case, "note", {"kind": "note", "body": longer}, key).status_code == 200
    assert notes_of(case, manager) == [longer]
    # The old status tab's Confirm.
    answer = client.post(f"{url}/status", data=sent)
    assert answer.status_code == 409
    assert notes_of(case, manager) == [longer], "the note typed was overwritten"


def test_a_reason_typed_again_after_a_return_is_kept_beside_the_first(app, client, case_of):
    """A status reason whose page key already holds the note kept from an earlier move was
    deleted when the case moved again: it is kept beside it, under a key of its own."""
    case, people = case_of
    duties_done(case, people["manager"])  # the closure waits on them
    manager = people["manager"]
    services.change_status(case=case, to="in_support", by=manager)
    sign_in(client, manager)
    key = uuid.uuid4()
    form = "status-in_support-pending_closure"
    assert (
        keep_at(client, case, form, {"to": "pending_closure", "reason": "bản đầu"}, key).status_code
        == 200
    )
    db.session.rollback()
    c = db.session.get(Case, case.id)
    services.change_status(case=c, to="pending_closure", by=people["supervisor"])
    services.change_status(case=c, to="in_support", by=people["supervisor2"], reason="chưa xong")
    # The same page, still open, keeps autosaving its (longer) reason: taken again.
    second = "bản đầu, thêm: chị ấy đã có chỗ ở an toàn và không muốn gọi lại"
    assert (
        keep_at(client, case, form, {"to": "pending_closure", "reason": second}, key).status_code
        == 200
    )
    db.session.rollback()
    services.change_status(
        case=db.session.get(Case, case.id), to="pending_closure", by=people["supervisor"]
    )
    kept = notes_of(case, manager)
    assert any(second in k for k in kept), kept
