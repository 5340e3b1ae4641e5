"""A page reloaded (F5, a tab brought back after a crash) gets its unsent text back as a copy under
a key of its own, as the page it was typed on may still be open: sending the copy sends that
page's text, so the draft it was copied from never comes back to be sent a second time."""

import json
import re
import uuid

from sqlalchemy import func, select

from app.cases.models import CaseNote
from app.extensions import db
from tests.cases.test_case_drafts import form_key, keep, left_a_while, stored
from tests.conftest import sign_in

TEXT = "Chị Hạnh gọi lại: anh ta đã dọn ra ở nhà mẹ đẻ"


def notes() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(CaseNote.id))).scalar_one()


def copy_of(html: str, field_id: str) -> str:
    return re.search(rf'id="{field_id}" name="copy_of" type="hidden" value="([^"]*)"', html)[1]


def reloaded(client, case, people):
    """The manager types TEXT into the case page's note form (kept as a draft), then reloads
    the page within the minute: (the page's address, the first page's key, the copy's key,
    the copy's mark naming the first page and what it held)."""
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    first = form_key(client.get(url).get_data(as_text=True), "note-form-key")
    keep(client, case, "note", {"kind": "note", "body": TEXT, "form_key": first}, first)
    page = client.get(url).get_data(as_text=True)
    second = form_key(page, "note-form-key")
    mark = copy_of(page, "note-copy-of")
    assert second != first and mark.split(":")[0] == first and TEXT in page
    return url, first, second, mark


def test_a_note_sent_from_a_reloaded_page_is_not_offered_again(client, case_of):
    case, people = case_of
    manager = people["manager"]
    url, first, second, mark = reloaded(client, case, people)
    sent = {"kind": "note", "body": TEXT, "form_key": second, "copy_of": mark}
    assert client.submit(f"/cases/{case.id}/notes", sent, page=url).status_code == 302
    assert notes() == 1
    assert stored(case, manager, "note") == []  # the draft it was copied from went too
    # The first page's own sending (its tab was open after all), or its autosave arriving
    # late, is the same text sent once more: nothing new.
    assert keep(client, case, "note", {"kind": "note", "body": TEXT}, first).status_code != 200
    again = {"kind": "note", "body": TEXT, "form_key": first}
    client.submit(f"/cases/{case.id}/notes", again, page=url)
    left_a_while()
    page = client.get(url).get_data(as_text=True)
    assert 'id="draft-restored-note"' not in page and notes() == 1


def test_a_copy_sent_after_its_page_sent_the_text_saves_nothing_twice(client, case_of):
    case, people = case_of
    url, first, second, mark = reloaded(client, case, people)
    sent = {"kind": "note", "body": TEXT, "form_key": first}
    assert client.submit(f"/cases/{case.id}/notes", sent, page=url).status_code == 302
    copy = {"kind": "note", "body": TEXT, "form_key": second, "copy_of": mark}
    assert client.submit(f"/cases/{case.id}/notes", copy, page=url).status_code == 302
    assert notes() == 1


def test_other_text_typed_on_the_first_page_since_is_kept(client, case_of):
    case, people = case_of
    manager = people["manager"]
    url, first, second, mark = reloaded(client, case, people)
    more = TEXT + ", và còn nữa"
    keep(client, case, "note", {"kind": "note", "body": more, "form_key": first}, first)
    copy = {"kind": "note", "body": TEXT, "form_key": second, "copy_of": mark}
    assert client.submit(f"/cases/{case.id}/notes", copy, page=url).status_code == 302
    assert [json.loads(d.payload)["body"] for d in stored(case, manager, "note")] == [more]
    assert notes() == 1


def test_an_edit_sent_from_a_reloaded_page_leaves_no_draft_to_conflict_with(client, case_of):
    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    url = f"/cases/{case.id}/edit"
    html = client.get(url).get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', html))
    first = fields["form_key"]
    typed = {k: v for k, v in fields.items() if k != "csrf_token"} | {"survivor_name": "Chị Lan"}
    keep(client, case, "edit", typed, first)
    html = client.get(url).get_data(as_text=True)
    second = re.search(r'name="form_key" type="hidden" value="([^"]+)"', html)[1]
    mark = re.search(r'name="copy_of" type="hidden" value="([^"]+)"', html)[1]
    assert second != first and mark.startswith(f"{first}:")
    sent = typed | {"form_key": second, "copy_of": mark}
    assert client.submit(url, sent, page=url).status_code == 302
    assert stored(case, manager, "edit") == []
    assert uuid.UUID(first)


def _conflict(client, case, people):
    """The manager's draft edit (Chị Hoa) sent after the supervisor saved Chị Lan: the screen."""
    from tests.cases.test_case_drafts import inputs

    url = f"/cases/{case.id}/edit"
    fields = inputs(client.get(url).get_data(as_text=True))
    fields.update(survivor_name="Chị Hoa")
    fields.pop("csrf_token", None)
    keep(client, case, "edit", fields, fields["form_key"], on=url)
    other = client.application.test_client()
    sign_in(other, people["supervisor"])
    theirs = inputs(other.get(url).get_data(as_text=True))
    theirs.update(survivor_name="Chị Lan")
    assert other.submit(url, theirs).status_code == 302
    left_a_while()
    answer = client.submit(url, inputs(client.get(url).get_data(as_text=True)))
    assert answer.status_code == 409
    return answer.get_data(as_text=True)


def test_dropping_mine_on_the_conflict_screen_drops_my_draft_too(client, case_of):
    from tests.cases.test_case_drafts import inputs

    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    screen = _conflict(client, case, people)
    action = f"/cases/{case.id}/drafts/edit/discard"
    assert f'formaction="{action}"' in screen
    answer = client.submit(action, {**inputs(screen), "back": "case"}, page=f"/cases/{case.id}")
    assert answer.status_code == 302 and answer.location == f"/cases/{case.id}"
    assert stored(case, manager, "edit") == []
    html = client.get(f"/cases/{case.id}/edit").get_data(as_text=True)
    assert 'value="Chị Lan"' in html and "Chị Hoa" not in html


def test_starting_again_from_theirs_opens_their_values(client, case_of):
    from tests.cases.test_case_drafts import inputs

    case, people = case_of
    sign_in(client, people["manager"])
    screen = _conflict(client, case, people)
    action = f"/cases/{case.id}/drafts/edit/discard"
    assert f'formaction="{action}" formnovalidate name="back" value="form"' in screen
    answer = client.submit(action, {**inputs(screen), "back": "form"}, page=f"/cases/{case.id}")
    assert answer.location == f"/cases/{case.id}/edit"
    html = client.get(answer.location).get_data(as_text=True)
    assert 'value="Chị Lan"' in html and "Chị Hoa" not in html


def test_a_copy_typed_on_before_it_is_sent_still_takes_the_first_pages_leftover(client, case_of):
    """F5, a sentence more, send: the first page's draft still holds what was copied (the
    reload left it), so it goes; nothing is offered back to be sent a second time."""
    case, people = case_of
    url, first, second, mark = reloaded(client, case, people)
    sent = {"kind": "note", "body": TEXT + " Thêm một câu.", "form_key": second, "copy_of": mark}
    assert client.submit(f"/cases/{case.id}/notes", sent, page=url).status_code == 302
    assert stored(case, people["manager"], "note") == [] and notes() == 1


def test_a_page_reloaded_twice_leaves_neither_earlier_draft(client, case_of):
    case, people = case_of
    url, first, second, mark = reloaded(client, case, people)
    keep(
        client,
        case,
        "note",
        {"kind": "note", "body": TEXT, "form_key": second, "copy_of": mark},
        second,
    )
    page = client.get(url).get_data(as_text=True)  # reloaded again: a copy of the copy
    third, mark3 = form_key(page, "note-form-key"), copy_of(page, "note-copy-of")
    assert [m.split(":")[0] for m in mark3.split()] == [second, first]
    sent = {"kind": "note", "body": TEXT, "form_key": third, "copy_of": mark3}
    assert client.submit(f"/cases/{case.id}/notes", sent, page=url).status_code == 302
    assert stored(case, people["manager"], "note") == [] and notes() == 1


def test_dropping_mine_on_the_conflict_screen_keeps_another_tabs_newer_text(client, case_of):
    """Tab B is a copy of tab A's edit; A types on; B meets the conflict screen and drops its
    values: A's draft, which holds more than was copied, stays."""
    from tests.cases.test_case_drafts import inputs

    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    url = f"/cases/{case.id}/edit"
    fields = inputs(client.get(url).get_data(as_text=True))
    fields.pop("csrf_token", None)
    first = fields["form_key"]
    keep(client, case, "edit", fields | {"survivor_name": "Chị Hoa"}, first, on=url)
    copy = inputs(client.get(url).get_data(as_text=True))  # tab B: a copy of A
    assert copy["form_key"] != first and copy["copy_of"].startswith(first)
    newer = fields | {"survivor_name": "Chị Hoa", "survivor_address": "Ngõ 5"}
    keep(client, case, "edit", newer, first, on=url)  # A types on
    other = client.application.test_client()
    sign_in(other, people["supervisor"])
    theirs = inputs(other.get(url).get_data(as_text=True)) | {"survivor_name": "Chị Lan"}
    assert other.submit(url, theirs).status_code == 302
    screen = client.submit(url, copy)
    assert screen.status_code == 409
    action = f"/cases/{case.id}/drafts/edit/discard"
    on_screen = inputs(screen.get_data(as_text=True))
    client.submit(action, {**on_screen, "back": "case"}, page=f"/cases/{case.id}")
    left = stored(case, manager, "edit")
    assert [d.page for d in left] == [uuid.UUID(first)]
    assert json.loads(left[0].payload)["survivor_address"] == "Ngõ 5"


def test_discarding_on_a_reloaded_page_throws_away_what_was_typed_on_its_copy(client, case_of):
    """The notice's "Discard what I typed", on a page reloaded within the minute, names the
    draft brought back and the page's own copy, whose autosave holds what was typed since:
    neither comes back at the next opening."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    first = form_key(client.get(url).get_data(as_text=True), "note-form-key")
    keep(client, case, "note", {"kind": "note", "body": TEXT, "form_key": first}, first)
    page = client.get(url).get_data(as_text=True)  # reloaded: a copy under a key of its own
    second, mark = form_key(page, "note-form-key"), copy_of(page, "note-copy-of")
    typed = "Chị Hạnh nói anh ta có dao trong nhà"
    sent = {"kind": "note", "body": typed, "form_key": second, "copy_of": mark}
    assert keep(client, case, "note", sent, second).status_code == 200
    notice = page[page.index('id="draft-restored-note"') :]
    button = notice[: notice.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', button))
    assert fields["page"] == first and fields["form_key"] == second
    answer = client.submit(f"{url}/drafts/note/discard", fields, page=url)
    assert answer.status_code == 302
    assert stored(case, people["manager"], "note") == []
    again = client.get(url).get_data(as_text=True)
    assert typed not in again and TEXT not in again
