"""A copy kept apart after two reloads in quick succession (docs/intake.md, "Nothing lost")
names the intake it was kept from. Once that call is saved, saving the copy as well would log
the same call twice: refused, with everything typed kept and the saved call named, so what the
copy adds goes into that call's case instead."""

import re
import uuid

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
    copy = dict(
        data,
        intake_key=str(apart),
        kept_from=key,
        narrative="Chồng đánh, dọa giết",
        draft_revision=REVISION.search(opened).group(1),
        draft_page="D",
    )
    page = client.submit("/calls/new", copy, page=f"/calls/new?draft={apart}")
    text = page.get_data(as_text=True)
    assert page.status_code == 409
    assert "log that call twice" in text or "ghi cuộc gọi đó hai lần" in text
    assert "Chồng đánh, dọa giết" in text and f'href="/calls/{call.id}"' in text
    assert count(Call) == 1
    db.session.rollback()
    assert load_draft(user=user, intake_key=apart)["narrative"] == "Chồng đánh, dọa giết"


def test_a_kept_apart_copy_whose_intake_was_never_saved_saves_as_any_intake(client, login_as):
    """The intake it was kept from thrown away: the copy is then the call's only record."""
    user = login_as("operator")
    data, key, apart = kept_apart_copy(client, user)
    client.submit(f"/calls/drafts/{key}/discard", {}, page="/calls/drafts")
    opened = client.get(f"/calls/new?draft={apart}").get_data(as_text=True)
    assert 'id="kept-apart"' in opened and "/calls/" + key not in opened
    copy = dict(
        data,
        intake_key=str(apart),
        kept_from=key,
        narrative="Chồng đánh, dọa giết",
        draft_revision=REVISION.search(opened).group(1),
        draft_page="D",
    )
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
