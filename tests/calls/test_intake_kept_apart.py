"""A copy kept apart after two reloads in quick succession (docs/intake.md, "Nothing lost")
names the intake it was kept from, and is saved as a call of its own only once that intake is
neither unsaved nor saved: either way the same call would be logged twice. Refused with
everything typed kept and the other intake linked, so what the copy adds goes there."""

import re
import uuid
from html.parser import HTMLParser

from sqlalchemy import select

from app.calls.drafts import load_draft, open_drafts
from app.calls.models import Call
from app.extensions import db
from tests.calls.test_intake_draft_revisions import autosave, beacon
from tests.calls.test_intake_page import count, form

REVISION = re.compile(r'data-draft-revision="(\d+)"')


def kept_apart_copy(client, user, *, narrative="Chồng đánh, dọa giết"):
    """A form autosaved by pages A then C, and page B's last copy, behind C's, kept apart:
    (the form's fields, its key, the copy's key)."""
    data = form(
        client, reason="violence_report", survivor_name="Nguyễn Thị Lan", narrative="Chồng đánh"
    )
    key = data["intake_key"]
    autosave(client, key, {"narrative": "Chồng đánh"}, revision=0, page="A")
    autosave(client, key, {"narrative": "Chồng đánh vào đầu"}, revision=1, page="C")
    answer = beacon(client, key, {**data, "narrative": narrative}, revision=1, page="B")
    assert answer.status_code == 409
    db.session.rollback()
    (apart,) = [d.intake_key for d in open_drafts(user) if d.intake_key != uuid.UUID(key)]
    return data, key, apart


def copy_form(data: dict, key: str, apart: uuid.UUID, opened: str) -> dict:
    """The copy's form as its page, drawn from the copy (`opened`), sends it."""
    revision = REVISION.search(opened).group(1)
    return dict(
        data,
        intake_key=str(apart),
        kept_from=key,
        narrative="Chồng đánh, dọa giết",
        draft_revision=revision,
        draft_page="D",
    )


def test_a_kept_apart_copy_names_the_intake_it_was_kept_from(client, login_as):
    user = login_as("operator")
    _, key, apart = kept_apart_copy(client, user)
    fields = load_draft(user=user, intake_key=apart)
    assert fields["kept_from"] == key and fields["narrative"] == "Chồng đánh, dọa giết"
    page = client.get(f"/calls/new?draft={apart}").get_data(as_text=True)
    assert 'id="kept-apart"' in page
    assert f'name="kept_from" value="{key}"' in page  # sent with every autosave and the save
    # Its page's autosaves keep saying so (the marker of the row itself goes with the first).
    revision = int(REVISION.search(page).group(1))
    autosave(client, str(apart), {**fields, "narrative": "thêm"}, revision=revision, page="D")
    page = client.get(f"/calls/new?draft={apart}").get_data(as_text=True)
    assert 'id="kept-apart"' in page


def test_saving_a_kept_apart_copy_of_a_saved_call_is_refused_and_names_that_call(client, login_as):
    user = login_as("operator")
    data, key, apart = kept_apart_copy(client, user)
    saved = dict(data, draft_revision="2", draft_page="C", narrative="Chồng đánh vào đầu")
    assert client.submit("/calls/new", saved, page="/calls/new").status_code == 302
    db.session.rollback()
    call = db.session.execute(select(Call).where(Call.intake_key == uuid.UUID(key))).scalar_one()
    opened = client.get(f"/calls/new?draft={apart}").get_data(as_text=True)
    assert f'href="/calls/{call.id}"' in opened  # the saved call, to add what the copy adds
    copy = copy_form(data, key, apart, opened)
    page = client.submit("/calls/new", copy, page=f"/calls/new?draft={apart}")
    text = page.get_data(as_text=True)
    assert page.status_code == 409
    assert "log that call twice" in text or "bị ghi nhận hai lần" in text
    assert "Chồng đánh, dọa giết" in text and f'href="/calls/{call.id}"' in text
    assert "data-refused" in notice(text)  # focused by the page: said where the eye goes
    assert count(Call) == 1
    db.session.rollback()
    assert load_draft(user=user, intake_key=apart)["narrative"] == "Chồng đánh, dọa giết"


def test_a_kept_apart_copy_whose_intake_was_never_saved_saves_as_any_intake(client, login_as):
    """The intake it was kept from thrown away: the copy is then the call's only record."""
    user = login_as("operator")
    data, key, apart = kept_apart_copy(client, user)
    client.submit(f"/calls/drafts/{key}/discard", {}, page="/calls/drafts")
    opened = client.get(f"/calls/new?draft={apart}").get_data(as_text=True)
    assert 'id="kept-apart"' in opened and "href=" not in notice(opened)  # nothing to open
    copy = copy_form(data, key, apart, opened)
    assert client.submit("/calls/new", copy, page=f"/calls/new?draft={apart}").status_code == 302
    db.session.rollback()
    assert count(Call) == 1
    saved = db.session.execute(select(Call)).scalar_one()
    assert saved.intake_key == apart and saved.narrative == "Chồng đánh, dọa giết"


def test_a_made_up_kept_from_is_no_reason_to_refuse_nor_tells_of_another_persons_call(
    client, login_as, make_user
):
    """Another person's saved call named as the one a copy was kept from: not theirs to be
    told of, so the form saves as any other."""
    other = make_user("operator")
    login_as("operator")
    theirs = uuid.uuid4()
    from app.calls.intake import Intake, save_intake

    save_intake(data=Intake(reason="silent", intake_key=theirs), by=other)
    data = form(client, reason="violence_report", survivor_name="Trần Văn Bình")
    data["kept_from"] = str(theirs)
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    db.session.rollback()
    assert count(Call) == 2


def test_a_kept_apart_copy_is_not_saved_while_its_intake_is_unsaved(client, login_as):
    """Saving the copy first, then the intake it came from, would log the call twice too."""
    user = login_as("operator")
    data, key, apart = kept_apart_copy(client, user)
    opened = client.get(f"/calls/new?draft={apart}").get_data(as_text=True)
    assert f'href="/calls/new?draft={key}"' in notice(opened)
    copy = copy_form(data, key, apart, opened)
    page = client.submit("/calls/new", copy, page=f"/calls/new?draft={apart}")
    assert page.status_code == 409 and count(Call) == 0
    assert "still among your unsaved intakes" in page.get_data(as_text=True) or (
        "vẫn nằm trong các phiếu tiếp nhận chưa lưu" in page.get_data(as_text=True)
    )


def test_a_copy_kept_apart_from_a_copy_names_that_copy(client, login_as):
    """Its own line: the copy it came from saved, it is refused like any copy."""
    user = login_as("operator")
    data, key, apart = kept_apart_copy(client, user)
    client.submit(f"/calls/drafts/{key}/discard", {}, page="/calls/drafts")
    # The copy's own pages race as the first ones did: a copy of the copy is kept apart.
    fields = load_draft(user=user, intake_key=apart)
    autosave(client, str(apart), {**fields, "narrative": "E"}, revision=1, page="E")
    answer = beacon(client, str(apart), {**fields, "narrative": "F thêm"}, revision=1, page="F")
    assert answer.status_code == 409
    db.session.rollback()
    (second,) = [d.intake_key for d in open_drafts(user) if d.intake_key != apart]
    assert load_draft(user=user, intake_key=second)["kept_from"] == str(apart)
    saved = dict(data, intake_key=str(apart), kept_from=key, narrative="E")
    saved.update(draft_revision="2", draft_page="E")
    assert client.submit("/calls/new", saved, page="/calls/new").status_code == 302
    copy = dict(data, intake_key=str(second), kept_from=str(apart), narrative="F thêm")
    copy.update(draft_revision="1", draft_page="G")
    assert client.submit("/calls/new", copy, page="/calls/new").status_code == 409
    db.session.rollback()
    assert count(Call) == 1


def test_erasing_a_case_drops_the_copies_kept_apart_from_its_calls(client, login_as, make_user):
    """A copy holds what was said about the survivor, sealed under its own key: it goes with
    the case, and so does a copy of that copy."""
    from app.cases.models import Case
    from app.cases.services import erase_case

    user = login_as("operator")
    data, key, apart = kept_apart_copy(client, user)
    fields = load_draft(user=user, intake_key=apart)
    autosave(client, str(apart), {**fields, "narrative": "E"}, revision=1, page="E")
    beacon(client, str(apart), {**fields, "narrative": "F thêm"}, revision=1, page="F")
    saved = dict(data, draft_revision="2", draft_page="C", narrative="Chồng đánh vào đầu")
    assert client.submit("/calls/new", saved, page="/calls/new").status_code == 302
    other = make_user("operator")
    from app.calls.drafts import save_draft

    save_draft(user=other, intake_key=uuid.uuid4(), fields={"narrative": "cuộc gọi khác"})
    db.session.rollback()
    assert len(open_drafts(user)) == 2
    case = db.session.execute(select(Case)).scalar_one()
    erase_case(
        case=case,
        by=make_user("supervisor", organisation=user.organisation),
        reason="recorded_in_error",
    )
    db.session.commit()
    assert open_drafts(user) == [] and len(open_drafts(other)) == 1


class _Notice(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth or dict(attrs).get("id") == "kept-apart":
            self.depth += 1
            self.parts.append(f"<{tag} " + " ".join(f'{k}="{v}"' if v else k for k, v in attrs))

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1


def notice(page: str) -> str:
    """The #kept-apart notice's tags and their attributes (empty when there is none)."""
    found = _Notice()
    found.feed(page)
    return " ".join(found.parts)


def test_a_copy_kept_before_copies_named_their_intake_still_says_what_it_is(client, login_as):
    from app.calls.drafts import KEPT_APART, save_draft

    user = login_as("operator")
    old = uuid.uuid4()
    save_draft(user=user, intake_key=old, fields={"narrative": "cũ"}, page=KEPT_APART)
    page = client.get(f"/calls/new?draft={old}").get_data(as_text=True)
    assert 'id="kept-apart"' in page and 'name="kept_from"' not in page
    assert "href=" not in notice(page)


def two_copies(client, user):
    """Two copies kept apart from one intake (pages B and B2 closing behind C), that intake
    then discarded: (the form's fields, its key, the two copies' keys, oldest first)."""
    data, key, first = kept_apart_copy(client, user)
    answer = beacon(client, key, {**data, "narrative": "Con bị đánh"}, revision=1, page="B2")
    assert answer.status_code == 409
    db.session.rollback()
    (second,) = [
        d.intake_key for d in open_drafts(user) if d.intake_key not in (uuid.UUID(key), first)
    ]
    client.submit(f"/calls/drafts/{key}/discard", {}, page="/calls/drafts")
    return data, key, first, second


def test_two_copies_of_one_intake_are_not_both_saved(client, login_as):
    """Each is the call's only record while the other is unsaved; once one is saved, the other
    would log the call twice: refused, everything kept, that call linked."""
    user = login_as("operator")
    data, key, first, second = two_copies(client, user)
    assert load_draft(user=user, intake_key=second)["kept_group"] == key
    opened = client.get(f"/calls/new?draft={first}").get_data(as_text=True)
    assert f'name="kept_group" value="{key}"' in opened  # sent with its autosaves and save
    copy = dict(copy_form(data, key, first, opened), kept_group=key)
    assert client.submit("/calls/new", copy, page=f"/calls/new?draft={first}").status_code == 302
    db.session.rollback()
    call = db.session.execute(select(Call)).scalar_one()
    assert call.intake_key == first and call.intake_group == uuid.UUID(key)
    opened = client.get(f"/calls/new?draft={second}").get_data(as_text=True)
    assert f'href="/calls/{call.id}"' in notice(opened)
    other = dict(copy_form(data, key, second, opened), kept_group=key, narrative="Con bị đánh")
    page = client.submit("/calls/new", other, page=f"/calls/new?draft={second}")
    text = page.get_data(as_text=True)
    assert page.status_code == 409 and count(Call) == 1
    assert "another copy of the same intake" in text or "một bản sao khác của cùng phiếu" in text
    assert "Con bị đánh" in text and f'href="/calls/{call.id}"' in notice(text)
    db.session.rollback()
    assert load_draft(user=user, intake_key=second)["narrative"] == "Con bị đánh"


def test_a_saved_copy_sent_again_goes_to_its_call(client, login_as):
    """A double click on a copy's save: its own call is not 'another copy's'."""
    user = login_as("operator")
    data, key, first, _second = two_copies(client, user)
    opened = client.get(f"/calls/new?draft={first}").get_data(as_text=True)
    copy = dict(copy_form(data, key, first, opened), kept_group=key)
    one = client.submit("/calls/new", copy, page=f"/calls/new?draft={first}")
    two = client.submit("/calls/new", copy, page="/calls/new")
    assert one.status_code == two.status_code == 302
    assert two.headers["Location"] == one.headers["Location"] + "&again=1"  # that same call
    assert count(Call) == 1


def test_a_copy_of_a_copy_belongs_to_the_same_line(client, login_as):
    """The line is named by the intake it began with: a copy of a copy is refused once any
    call of that line is saved, not only its own parent's."""
    user = login_as("operator")
    data, key, first, second = two_copies(client, user)
    fields = load_draft(user=user, intake_key=second)
    autosave(client, str(second), {**fields, "narrative": "E"}, revision=1, page="E")
    beacon(client, str(second), {**fields, "narrative": "F thêm"}, revision=1, page="F")
    db.session.rollback()
    (third,) = [d.intake_key for d in open_drafts(user) if d.intake_key not in (first, second)]
    grandchild = load_draft(user=user, intake_key=third)
    assert grandchild["kept_from"] == str(second) and grandchild["kept_group"] == key
    opened = client.get(f"/calls/new?draft={first}").get_data(as_text=True)
    copy = dict(copy_form(data, key, first, opened), kept_group=key)
    assert client.submit("/calls/new", copy, page=f"/calls/new?draft={first}").status_code == 302
    client.submit(f"/calls/drafts/{second}/discard", {}, page="/calls/drafts")
    late = dict(data, intake_key=str(third), kept_from=str(second), kept_group=key)
    late.update(narrative="F thêm", draft_revision="1", draft_page="G")
    assert client.submit("/calls/new", late, page="/calls/new").status_code == 409
    assert count(Call) == 1


def test_the_unsaved_list_still_marks_a_copy_once_its_page_has_autosaved(client, login_as):
    user = login_as("operator")
    _, key, apart = kept_apart_copy(client, user)
    hint = ("A copy kept apart", "Bản sao được giữ riêng")
    listed = client.get("/calls/drafts").get_data(as_text=True)
    assert any(h in listed for h in hint)
    fields = load_draft(user=user, intake_key=apart)
    autosave(client, str(apart), {**fields, "narrative": "thêm"}, revision=1, page="D")
    listed = client.get("/calls/drafts").get_data(as_text=True)
    assert any(h in listed for h in hint)
    # Only the copy is marked: the intake it was kept from is listed plainly.
    assert listed.count(hint[0]) + listed.count(hint[1]) == 1


def test_erasing_a_case_drops_the_other_copies_of_its_calls_intake(client, login_as, make_user):
    """A copy saved on the case, another copy of the same intake unsaved: both hold what was
    said in that call, so the unsaved one goes with the case."""
    from app.cases.models import Case
    from app.cases.services import erase_case

    user = login_as("operator")
    data, key, first, second = two_copies(client, user)
    opened = client.get(f"/calls/new?draft={first}").get_data(as_text=True)
    copy = dict(copy_form(data, key, first, opened), kept_group=key)
    assert client.submit("/calls/new", copy, page=f"/calls/new?draft={first}").status_code == 302
    db.session.rollback()
    assert [d.intake_key for d in open_drafts(user)] == [second]
    case = db.session.execute(select(Case)).scalar_one()
    erase_case(
        case=case,
        by=make_user("supervisor", organisation=user.organisation),
        reason="recorded_in_error",
    )
    db.session.commit()
    assert open_drafts(user) == []


def test_the_intake_a_saved_copy_came_from_is_not_saved_as_well(client, login_as):
    """Discarded from the list while a page of it stayed open, then the copy saved: that
    page's autosave does not bring the intake back, and its save is refused, that call linked."""
    user = login_as("operator")
    data, key, apart = kept_apart_copy(client, user)
    client.submit(f"/calls/drafts/{key}/discard", {}, page="/calls/drafts")
    opened = client.get(f"/calls/new?draft={apart}").get_data(as_text=True)
    copy = copy_form(data, key, apart, opened)
    assert client.submit("/calls/new", copy, page=f"/calls/new?draft={apart}").status_code == 302
    db.session.rollback()
    call = db.session.execute(select(Call)).scalar_one()
    answer = autosave(client, key, {"narrative": "Chồng đánh vào đầu"}, revision=2, page="C")
    assert answer.status_code == 409 and answer.get_json()["error"] == "already_saved"
    db.session.rollback()
    assert load_draft(user=user, intake_key=uuid.UUID(key)) is None
    page_c = dict(data, draft_revision="2", draft_page="C", narrative="Chồng đánh vào đầu")
    page = client.submit("/calls/new", page_c, page="/calls/new")
    text = page.get_data(as_text=True)
    assert page.status_code == 409 and count(Call) == 1
    assert "saving this intake too would log" in text or "nếu lưu cả phiếu này" in text
    assert f'href="/calls/{call.id}"' in notice(text) and "data-refused" in notice(text)
    assert "Chồng đánh vào đầu" in text  # everything typed kept


def test_two_copies_of_a_line_saved_at_the_same_moment_give_one_call(app, make_user):
    """The rule's check and the write are two steps: the line's unique index settles a race,
    and the second save is refused in words, nothing of it stored."""
    from app.calls.intake import CopyLineTaken, Intake, save_intake

    user = make_user("operator")
    line = uuid.uuid4()
    save_intake(data=Intake(reason="silent", intake_key=uuid.uuid4(), intake_group=line), by=user)
    try:
        save_intake(
            data=Intake(reason="silent", intake_key=uuid.uuid4(), intake_group=line), by=user
        )
    except CopyLineTaken as refused:
        assert "log that call twice" in str(refused) or "hai lần" in str(refused)
    else:
        raise AssertionError("a second call of one line was saved")
    assert count(Call) == 1


def test_erasure_drops_a_draft_of_one_of_the_cases_calls(app, make_user):
    """A draft under a saved call's own form key (an autosave racing the save): it holds what
    was said in that call."""
    from app.calls.draft_erasure import drop_drafts_on
    from app.calls.drafts import save_draft

    user = make_user("operator")
    key = uuid.uuid4()
    save_draft(user=user, intake_key=key, fields={"narrative": "Chồng đánh"})
    dropped = drop_drafts_on(
        uuid.uuid4(), "HN-2026-000009", {str(key)}, organisation_id=user.organisation_id
    )
    db.session.commit()
    assert dropped == 1 and open_drafts(user) == []
