"""A reload's race: the closing page's last copy of an intake reaches the server after the
reloaded page was drawn from the copy before it. Each copy is numbered, and a page's autosave
naming an older one than the server holds, written by another page, is answered with that
copy, never written over it (docs/intake.md, "Nothing lost")."""

import json
import re
import uuid

import pytest

from app.calls.drafts import load_draft, open_draft
from app.extensions import db
from tests.calls.test_intake_page import fresh_key

REVISION = re.compile(r'data-draft-revision="(\d+)"')


def autosave(client, key, fields, *, revision=None, page=None):
    body = {"intake_key": key, "fields": fields}
    if revision is not None:
        body["revision"] = revision
    if page is not None:
        body["page"] = page
    return client.post(
        "/calls/drafts",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": client.csrf_token("/calls/new")},
    )


def beacon(client, key, fields, *, revision, page):
    return client.post(
        "/calls/drafts",
        data={
            "csrf_token": client.csrf_token("/calls/new"),
            "intake_key": key,
            "revision": str(revision),
            "page": page,
            "fields": json.dumps(fields),
        },
    )


def shown_revision(client, key) -> int:
    page = client.get(f"/calls/new?draft={key}").get_data(as_text=True)
    return int(REVISION.search(page).group(1))


def test_each_copy_is_numbered_and_the_page_shows_the_number_of_the_text_it_holds(client, login_as):
    user = login_as("operator")
    key = fresh_key(client)
    assert autosave(client, key, {"narrative": "một"}, revision=0, page="A").json["revision"] == 1
    assert autosave(client, key, {"narrative": "hai"}, revision=1, page="A").json["revision"] == 2
    assert shown_revision(client, key) == 2
    db.session.rollback()
    assert open_draft(user=user, intake_key=uuid.UUID(key)) == ({"narrative": "hai"}, 2)
    # A fresh intake holds no draft yet.
    page = client.get("/calls/new").get_data(as_text=True)
    assert 'data-draft-revision="0"' in page


def test_a_closing_pages_copy_landing_after_the_reload_is_given_to_the_reloaded_page(
    client, login_as
):
    """Page A autosaves, is reloaded (page B drawn from revision 1), then A's beacon lands:
    B's next autosave, naming revision 1, is answered with A's copy, which stays."""
    user = login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "Chồng đánh"}, revision=0, page="A")
    seen_by_b = shown_revision(client, key)
    assert seen_by_b == 1
    assert (
        beacon(client, key, {"narrative": "Chồng đánh vào đầu"}, revision=1, page="A").status_code
        == 200
    )
    answer = autosave(
        client, key, {"narrative": "Chồng đánh, chị sợ"}, revision=seen_by_b, page="B"
    )
    assert answer.status_code == 409
    assert answer.json["error"] == "draft_newer"
    assert answer.json["revision"] == 2
    assert answer.json["fields"] == {"narrative": "Chồng đánh vào đầu"}
    assert "no-store" in answer.headers["Cache-Control"]  # sealed text, never cached
    db.session.rollback()
    assert load_draft(user=user, intake_key=uuid.UUID(key)) == {"narrative": "Chồng đánh vào đầu"}
    # B took it in: its next copy names revision 2 and is kept.
    merged = {"narrative": "Chồng đánh vào đầu, chị sợ"}
    assert autosave(client, key, merged, revision=2, page="B").json["revision"] == 3
    db.session.rollback()
    assert load_draft(user=user, intake_key=uuid.UUID(key)) == merged


def test_a_pages_own_later_copy_replaces_its_earlier_one_whatever_number_it_names(client, login_as):
    """An autosave whose answer never came (or is on its way as the page closes) leaves the
    page naming the revision before: its own next copy is newer still, and written."""
    user = login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "một"}, revision=0, page="A")
    autosave(client, key, {"narrative": "một hai"}, revision=1, page="A")
    assert beacon(client, key, {"narrative": "một hai ba"}, revision=1, page="A").status_code == 200
    db.session.rollback()
    assert load_draft(user=user, intake_key=uuid.UUID(key)) == {"narrative": "một hai ba"}


def test_a_late_beacon_from_the_closed_page_does_not_replace_the_reloaded_pages_copy(
    client, login_as
):
    user = login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "cũ"}, revision=0, page="A")
    autosave(client, key, {"narrative": "cũ, rồi mới"}, revision=1, page="B")
    assert beacon(client, key, {"narrative": "cũ thêm"}, revision=1, page="A").status_code == 409
    db.session.rollback()
    assert load_draft(user=user, intake_key=uuid.UUID(key)) == {"narrative": "cũ, rồi mới"}


def test_a_page_that_says_no_revision_writes_as_before(client, login_as):
    """A page loaded before revisions existed (and the phone system's pre-filled intake)."""
    user = login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "một"}, revision=0, page="A")
    assert autosave(client, key, {"narrative": "khác"}).status_code == 200
    assert (
        autosave(client, key, {"narrative": "khác nữa"}, revision="x", page="C").status_code == 200
    )
    db.session.rollback()
    assert load_draft(user=user, intake_key=uuid.UUID(key)) == {"narrative": "khác nữa"}


def test_a_revision_taken_meanwhile_is_not_taken_twice(client, login_as):
    """Two writes that read the same revision: the second's claim finds it taken."""
    from sqlalchemy.orm.exc import StaleDataError

    from app.calls import drafts as intake_drafts
    from app.calls.models import IntakeDraft

    login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "gốc"}, revision=0, page="A")
    db.session.rollback()
    draft = db.session.execute(
        intake_drafts.select(IntakeDraft).where(IntakeDraft.intake_key == uuid.UUID(key))
    ).scalar_one()
    assert draft.revision == 1
    db.session.execute(  # the other write, unseen by the row read above
        intake_drafts.update(IntakeDraft)
        .where(IntakeDraft.id == draft.id)
        .values(revision=2)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(StaleDataError):
        intake_drafts._claim_next(draft)
    db.session.rollback()


def test_two_copies_landing_at_once_neither_replaces_the_other_unseen(
    client, login_as, monkeypatch
):
    """Both read revision 1; the other page's copy is written first, so ours finds its
    revision taken, reads the draft again and is answered with the other's copy."""
    from sqlalchemy.orm.exc import StaleDataError

    from app.calls import drafts as intake_drafts
    from app.calls.models import IntakeDraft

    user = login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "gốc"}, revision=0, page="A")
    real, landed = intake_drafts._claim_next, []

    def other_page_first(draft):
        if landed:
            return real(draft)
        landed.append(True)
        draft.payload = json.dumps({"narrative": "gốc của A"})
        draft.page = "A"
        real(draft)  # revision 2, by page A
        db.session.commit()  # another request's, committed between our read and our write
        raise StaleDataError("taken meanwhile")  # what our own claim of revision 2 then meets

    monkeypatch.setattr(intake_drafts, "_claim_next", other_page_first)
    answer = autosave(client, key, {"narrative": "gốc của B"}, revision=1, page="B")
    monkeypatch.undo()
    assert answer.status_code == 409 and answer.json["revision"] == 2
    assert answer.json["fields"] == {"narrative": "gốc của A"}
    db.session.rollback()
    assert open_draft(user=user, intake_key=uuid.UUID(key)) == ({"narrative": "gốc của A"}, 2)
    assert db.session.execute(intake_drafts.select(IntakeDraft.page)).scalar_one() == "A"


def test_a_page_drawn_from_a_draft_asks_whether_a_newer_copy_landed(client, login_as):
    login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "một"}, revision=0, page="A")
    assert client.get(f"/calls/drafts/{key}?revision=1").status_code == 204
    autosave(client, key, {"narrative": "một hai"}, revision=1, page="A")
    answer = client.get(f"/calls/drafts/{key}?revision=1")
    assert answer.status_code == 200
    assert answer.json == {"revision": 2, "page": "A", "fields": {"narrative": "một hai"}}
    assert "no-store" in answer.headers["Cache-Control"]
    assert client.get(f"/calls/drafts/{uuid.uuid4()}?revision=0").status_code == 404


def test_only_the_drafts_author_is_told_of_a_newer_copy(client, app, login_as, make_user):
    """Another operator (same hotline) asking with the key learns nothing: 404, as for none."""
    user = login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "riêng"}, revision=0, page="A")
    other = app.test_client()
    from tests.conftest import sign_in

    sign_in(other, make_user("operator", organisation=user.organisation))
    assert other.get(f"/calls/drafts/{key}?revision=0").status_code == 404
    # Someone else's draft and no draft at all are answered alike.
    assert (
        other.get(f"/calls/drafts/{key}?revision=0").get_data()
        == other.get(f"/calls/drafts/{uuid.uuid4()}?revision=0").get_data()
    )
    anonymous = app.test_client()
    assert anonymous.get(f"/calls/drafts/{key}?revision=0").status_code == 401


def test_another_persons_saved_form_is_refused_as_none_and_audited(
    client, app, login_as, make_user, make_org
):
    """Whether someone else saved a call with a key is not told: 404, audited, as for none."""
    from sqlalchemy import select

    from app.audit import AuditEntry
    from tests.calls.test_intake_page import form
    from tests.conftest import sign_in

    user = login_as("operator")
    data = form(client, reason="silent", outcomes="no_action")
    autosave(client, data["intake_key"], {"narrative": ""}, revision=0, page="A")
    client.submit("/calls/new", data, page="/calls/new")
    other = app.test_client()
    colleague = make_user("operator", organisation=make_org(code="SG"))  # another hotline's
    # The refusals go to the log of the hotline whose record was asked about.
    sign_in(other, colleague)
    assert other.get(f"/calls/drafts/{data['intake_key']}?revision=0").status_code == 404
    other_key = fresh_key(client)
    autosave(client, other_key, {"narrative": "riêng"}, revision=0, page="A")
    assert other.get(f"/calls/drafts/{other_key}?revision=0").status_code == 404
    db.session.rollback()
    denied = db.session.execute(
        select(AuditEntry)
        .where(AuditEntry.action == "denied", AuditEntry.user_id == colleague.id)
        .order_by(AuditEntry.id)
    ).scalars()
    assert [(d.object_type, d.organisation_id) for d in denied] == [
        ("call", user.organisation_id),
        ("intake_draft", user.organisation_id),
    ]


def test_a_save_of_a_page_behind_another_pages_copy_is_refused_and_the_page_kept(client, login_as):
    """Saving the reloaded page before it took the newer copy in would drop that copy (the
    save deletes the draft): refused, said, everything posted kept, the page still naming
    the revision it showed so it takes the copy in."""
    from app.calls.models import Call
    from tests.calls.test_intake_page import count, form

    user = login_as("operator")
    data = form(
        client, reason="violence_report", survivor_name="Nguyễn Thị Lan", narrative="Chồng đánh"
    )
    key = data["intake_key"]
    autosave(client, key, {"narrative": "Chồng đánh"}, revision=0, page="A")
    autosave(client, key, {"narrative": "Chồng đánh vào đầu"}, revision=1, page="A")  # beacon
    data.update(draft_revision="1", draft_page="B")
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Chưa lưu" in page or "Not saved yet" in page
    assert 'name="draft_revision" value="1"' in page
    assert "Nguyễn Thị Lan" in page
    assert count(Call) == 0
    db.session.rollback()
    assert load_draft(user=user, intake_key=uuid.UUID(key)) == {"narrative": "Chồng đánh vào đầu"}
    # Once the page took it in (its autosave named revision 2), the save goes through.
    autosave(client, key, {"narrative": "Chồng đánh vào đầu"}, revision=2, page="B")
    data.update(draft_revision="3", narrative="Chồng đánh vào đầu")
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    assert count(Call) == 1


def test_a_page_without_its_script_is_never_refused_for_a_newer_copy(client, login_as):
    """No script, no page key: nothing on the page could take a copy in, so its save is
    not held back (the page is what the person sees)."""
    from app.calls.models import Call
    from tests.calls.test_intake_page import count, form

    login_as("operator")
    data = form(client, reason="silent", outcomes="no_action")
    key = data["intake_key"]
    autosave(client, key, {"narrative": "a"}, revision=0, page="A")
    autosave(client, key, {"narrative": "ab"}, revision=1, page="A")
    data.update(draft_revision="1", draft_page="")
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    assert count(Call) == 1


def test_a_form_saved_already_and_sent_again_goes_to_its_call_not_refused(client, login_as):
    """A draft another page left after the save (an autosave racing it) does not hold back
    the answer to a resubmit: the call saved before."""
    from app.calls.models import Call
    from tests.calls.test_intake_page import count, form

    user = login_as("operator")
    data = form(client, reason="silent", outcomes="no_action")
    key = data["intake_key"]
    autosave(client, key, {"narrative": "a"}, revision=0, page="B")
    data.update(draft_revision="1", draft_page="B")
    first = client.submit("/calls/new", data, page="/calls/new")
    assert first.status_code == 302
    from app.calls.models import IntakeDraft

    db.session.add(  # another page's late copy, written after the save
        IntakeDraft(user_id=user.id, intake_key=uuid.UUID(key), revision=2, page="A", payload="{}")
    )
    db.session.commit()
    again = client.submit("/calls/new", data, page="/calls/new")
    assert again.status_code == 302 and "again=1" in again.location
    assert count(Call) == 1


def test_odd_numbers_from_a_page_are_taken_as_unsaid_not_a_failure(client, login_as):
    from tests.calls.test_intake_page import form

    login_as("operator")
    data = form(client, reason="silent", outcomes="no_action", draft_revision="²", draft_page="B")
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    key = fresh_key(client)
    answer = autosave(client, key, {"narrative": "a"}, revision=2**31, page="A")
    assert answer.status_code == 200
    body = {"intake_key": key, "revision": 1, "page": "A", "seq": 2**40, "fields": {"a": "b"}}
    answer = client.post(
        "/calls/drafts",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": client.csrf_token("/calls/new")},
    )
    assert answer.status_code == 200


def test_a_save_of_the_pages_own_latest_copy_goes_through(client, login_as):
    from app.calls.models import Call
    from tests.calls.test_intake_page import count, form

    login_as("operator")
    data = form(client, reason="silent", outcomes="no_action")
    key = data["intake_key"]
    autosave(client, key, {"narrative": "a"}, revision=0, page="B")
    autosave(client, key, {"narrative": "ab"}, revision=1, page="B")  # its answer lost
    data.update(draft_revision="1", draft_page="B")
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    assert count(Call) == 1


def test_a_page_sent_back_with_errors_names_the_revision_it_showed(client, login_as):
    from tests.calls.test_intake_page import form

    login_as("operator")
    data = form(client, reason="violence_report", started_at="")
    key = data["intake_key"]
    autosave(client, key, {"narrative": "a"}, revision=0, page="A")
    autosave(client, key, {"narrative": "ab"}, revision=1, page="A")
    data.update(draft_revision="1", draft_page="B")
    page = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert 'id="form-errors"' in page
    assert 'name="draft_revision" value="1"' in page  # not 2: the page shows its own text
    assert 'data-draft-revision="1"' in page


def test_a_closing_pages_copy_behind_another_pages_is_kept_apart_not_lost(client, login_as):
    """Two reloads in quick succession: the middle page's last copy names a revision another
    page has moved on from; nobody is left to take it in, so it becomes an unsaved intake of
    its own."""
    from app.calls.drafts import open_drafts

    user = login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "một"}, revision=0, page="A")
    autosave(client, key, {"narrative": "một hai"}, revision=1, page="C")
    answer = beacon(
        client, key, {"intake_key": key, "narrative": "một, của B"}, revision=1, page="B"
    )
    assert answer.status_code == 409
    db.session.rollback()
    kept = {d.intake_key: load_draft(user=user, intake_key=d.intake_key) for d in open_drafts(user)}
    assert kept.pop(uuid.UUID(key)) == {"narrative": "một hai"}
    assert list(kept.values()) == [{"narrative": "một, của B", "kept_from": key, "kept_group": key}]
    # Listed and opened with a word on what it is (the intake it came from without one).
    listed = client.get("/calls/drafts").get_data(as_text=True)
    assert listed.count("Bản sao được giữ riêng") == 1
    apart = next(iter(kept))
    assert 'id="kept-apart"' in client.get(f"/calls/new?draft={apart}").get_data(as_text=True)
    assert 'id="kept-apart"' not in client.get(f"/calls/new?draft={key}").get_data(as_text=True)
    # A copy with nothing the draft lacks is not kept apart again and again.
    beacon(client, key, {"intake_key": key, "narrative": "một hai"}, revision=1, page="B")
    db.session.rollback()
    assert len(open_drafts(user)) == 2


def test_a_pages_copy_overtaken_on_the_way_by_its_next_is_not_kept(client, login_as):
    """The autosave sent just before the page closed lands after the page's beacon."""
    user = login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "một"}, revision=0, page="A")
    body = {"intake_key": key, "revision": 1, "page": "A"}
    newer = dict(body, seq=3, fields={"narrative": "một hai ba"})
    older = dict(body, seq=2, fields={"narrative": "một hai"})
    for sent in (newer, older):
        client.post(
            "/calls/drafts",
            data=json.dumps(sent),
            content_type="application/json",
            headers={"X-CSRFToken": client.csrf_token("/calls/new")},
        )
    db.session.rollback()
    assert load_draft(user=user, intake_key=uuid.UUID(key)) == {"narrative": "một hai ba"}


def test_asking_after_the_call_was_saved_says_so(client, login_as):
    from tests.calls.test_intake_page import form

    login_as("operator")
    data = form(client, reason="silent", outcomes="no_action")
    key = data["intake_key"]
    autosave(client, key, {"narrative": ""}, revision=0, page="A")
    client.submit("/calls/new", data, page="/calls/new")
    answer = client.get(f"/calls/drafts/{key}?revision=1")
    assert answer.status_code == 409 and answer.json["error"] == "already_saved"


def test_another_persons_draft_asked_by_its_address_is_refused_and_audited(
    client, app, login_as, make_user
):
    """`/calls/new?draft=<key>` of someone else's unsaved intake: 404, audited, as the draft's
    own address is; and a sign-in on a shared computer is never sent there from the page the
    last person's ended session left."""
    from sqlalchemy import select

    from app.audit import AuditEntry
    from tests.conftest import sign_in

    user = login_as("operator")
    key = fresh_key(client)
    autosave(client, key, {"narrative": "riêng tư"}, revision=0, page="A")
    colleague = make_user("operator", organisation=user.organisation)
    other = app.test_client()
    sign_in(other, colleague)
    answer = other.get(f"/calls/new?draft={key}")
    assert answer.status_code == 404 and "riêng tư" not in answer.get_data(as_text=True)
    db.session.rollback()
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.user_id == colleague.id)
    ).scalar_one()
    assert (denied.object_type, denied.object_id) == ("intake_draft", str(key))
    shared = app.test_client()
    shared.get(f"/auth/login?next=/calls/new?draft={key}")
    assert sign_in(shared, colleague).location != f"/calls/new?draft={key}"
    mine = app.test_client()
    mine.get(f"/auth/login?next=/calls/new?draft={key}")
    assert sign_in(mine, user).location == f"/calls/new?draft={key}"
