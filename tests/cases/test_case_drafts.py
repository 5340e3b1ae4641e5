"""Case-page drafts: what is typed into a form on a case page is sealed on the server as it is
typed, brought back whole when the form is opened again, deleted when the form is saved or
discarded, and never shown to anyone else, nor kept past the case's erasure."""

import json
import re
import uuid

from sqlalchemy import func, select

from app.cases import drafts
from app.cases.models import Case, CaseDraft, CaseNote, Incident
from app.extensions import db
from tests.conftest import sign_in
from tests.crypto.test_raw_database import _raw_bytes

NOTE = "Chị Hạnh kể đêm qua anh ta lại đánh, em bé trốn sang nhà hàng xóm"


def keep(client, case, form: str, fields, page: str | None = None):
    """The page's autosave: the form's fields as JSON, token in the header."""
    token = client.csrf_token(page or f"/cases/{case.id}")
    return client.post(
        f"/cases/{case.id}/drafts/{form}", json={"fields": fields}, headers={"X-CSRFToken": token}
    )


def stored(case, user, form: str):
    db.session.expire_all()
    return drafts.find(case=case, user=user, form=form)


def form_key(html: str, field_id: str) -> str:
    return re.search(rf'id="{field_id}" name="form_key" type="hidden" value="([^"]+)"', html)[1]


def test_a_note_typed_is_sealed_brought_back_whole_and_gone_once_sent(client, case_of, tmp_path):
    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    answer = keep(client, case, "note", {"kind": "counselling", "body": NOTE})
    assert answer.status_code == 200
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", answer.json["saved_at"])
    assert stored(case, manager, "note") is not None

    # The session ends; signed in again, the case page offers the note back as it was typed.
    client.post("/auth/logout", data={"csrf_token": client.csrf_token(f"/cases/{case.id}")})
    sign_in(client, manager)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="draft-restored-note"' in page
    assert NOTE in page
    assert '<option selected value="counselling">' in page
    assert f'data-draft-url="/cases/{case.id}/drafts/note" data-typed="yes" data-draft-restored' in page

    # Sent: the note is written and the draft is gone, in the same step.
    answer = client.submit(
        f"/cases/{case.id}/notes",
        {"kind": "counselling", "body": NOTE, "form_key": form_key(page, "note-form-key")},
        page=f"/cases/{case.id}",
    )
    assert answer.status_code == 302
    assert stored(case, manager, "note") is None
    assert db.session.execute(select(func.count(CaseNote.id))).scalar_one() == 1
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="draft-restored-note"' not in page


def test_a_draft_is_sealed_in_the_database(client, case_of, tmp_path):
    case, people = case_of
    sign_in(client, people["manager"])
    assert keep(client, case, "note", {"kind": "note", "body": NOTE}).status_code == 200
    assert NOTE.encode() not in _raw_bytes(tmp_path)


def test_a_form_put_back_as_it_was_opened_deletes_its_draft(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    keep(client, case, "task", {"kind": "follow_up_call", "due_at": "", "note": "gọi lại"})
    assert stored(case, people["manager"], "task") is not None
    # Nothing typed left (the page's own marks only): no draft. (A form put back as it was
    # opened, a list's first choice included, is sent as null by the page.)
    keep(client, case, "task", {"due_at": " ", "note": "", "form_key": "x", "version": "3"})
    assert stored(case, people["manager"], "task") is None
    keep(client, case, "task", {"note": "gọi lại"})
    assert keep(client, case, "task", None).json == {"saved_at": ""}
    assert stored(case, people["manager"], "task") is None


def test_a_draft_arriving_after_its_form_was_saved_is_refused(client, case_of):
    """The autosave racing the button: a late draft must not bring back text that is saved."""
    case, people = case_of
    sign_in(client, people["manager"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    key = form_key(page, "note-form-key")
    sent = {"kind": "note", "body": NOTE, "form_key": key}
    saved = client.submit(f"/cases/{case.id}/notes", sent, page=f"/cases/{case.id}")
    assert saved.status_code == 302
    answer = keep(client, case, "note", sent)
    assert answer.status_code == 409 and answer.json["error"] == "already_saved"
    assert stored(case, people["manager"], "note") is None


def test_an_incident_typed_comes_back_and_goes_with_the_save(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/new"
    acts = ["a_beating", "b_insults"]
    fields = {"incident_date": "02/12/2026", "place_type": "home", "acts": acts}
    assert keep(client, case, "incident", fields, page=url).status_code == 200
    html = client.get(url).get_data(as_text=True)
    assert 'id="draft-restored-incident"' in html
    assert 'value="02/12/2026"' in html
    assert re.search(r'checked[^>]*value="a_beating"|value="a_beating"[^>]*checked', html)
    key = form_key(html, "form_key")
    answer = client.submit(url, {**fields, "form_key": key})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert stored(case, people["manager"], "incident") is None
    assert db.session.execute(select(func.count(Incident.id))).scalar_one() == 1


def test_an_edit_typed_from_an_older_version_meets_the_conflict_screen(client, case_of, make_user):
    """The draft keeps the version it was typed on: a colleague's save made meanwhile is not
    overwritten when the draft is sent, the conflict screen shows both."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/edit"
    html = client.get(url).get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', html))
    fields.update(survivor_name="Chị Hoa")
    fields.pop("csrf_token", None)
    assert keep(client, case, "edit", fields, page=url).status_code == 200

    other = client.application.test_client()
    sign_in(other, people["supervisor"])
    page = other.get(url).get_data(as_text=True)
    theirs = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    theirs.update(survivor_name="Chị Lan")
    assert other.submit(url, theirs).status_code == 302

    html = client.get(url).get_data(as_text=True)
    assert 'id="draft-restored-edit"' in html and 'value="Chị Hoa"' in html
    sent = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', html))
    answer = client.submit(url, sent)
    assert answer.status_code == 409  # the conflict screen, nothing overwritten
    body = answer.get_data(as_text=True)
    assert "Chị Lan" in body and "Chị Hoa" in body
    assert stored(case, people["manager"], "edit") is not None  # kept until the edit is saved
    db.session.expire_all()
    assert db.session.get(Case, case.id).survivor_name == "Chị Lan"


def test_a_reason_typed_for_a_status_change_comes_back_for_that_move_only(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/status?to=pending_closure"
    reason = "Chị đã về ở với mẹ, an toàn"
    fields = {"to": "pending_closure", "version": str(case.version), "reason": reason}
    assert keep(client, case, "status-pending_closure", fields, page=url).status_code == 200
    html = client.get(url).get_data(as_text=True)
    assert reason in html and 'id="draft-restored-status-pending_closure"' in html
    assert reason not in client.get(f"/cases/{case.id}/status?to=in_support").get_data(as_text=True)
    answer = client.submit(url, fields, page=url)
    assert answer.status_code == 302
    assert stored(case, people["manager"], "status-pending_closure") is None


def test_discarding_throws_the_draft_away(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    keep(client, case, "note", {"kind": "note", "body": NOTE})
    answer = client.submit(f"/cases/{case.id}/drafts/note/discard", page=f"/cases/{case.id}")
    assert answer.status_code == 302 and answer.location.endswith(f"/cases/{case.id}#add-note")
    assert stored(case, people["manager"], "note") is None
    assert NOTE not in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_signing_in_offers_the_unsent_text_of_cases_the_person_may_still_see(
    client, case_of, make_user
):
    case, people = case_of
    manager = people["manager"]
    sign_in(client, manager)
    keep(client, case, "note", {"kind": "note", "body": NOTE})
    keep(client, case, "risk", {"risk_answers": ["threats_to_kill"]})
    client.post("/auth/logout", data={"csrf_token": client.csrf_token(f"/cases/{case.id}")})

    answer = sign_in(client, manager)
    assert answer.status_code == 302 and answer.location.endswith("/cases/drafts")
    listing = client.get("/cases/drafts").get_data(as_text=True)
    assert case.number in listing
    assert "Ghi chú" in listing and "Đánh giá nguy cơ" in listing
    assert NOTE not in listing  # the list names the form, not what was typed
    assert f'href="/cases/{case.id}/risk"' in listing

    # Handed to another case manager: this one may no longer see it, nor what they typed on it.
    case.assigned_to_id = make_user("case_manager", organisation=manager.organisation).id
    db.session.commit()
    client.post("/auth/logout", data={"csrf_token": client.csrf_token("/cases/drafts")})
    answer = sign_in(client, manager)
    assert not answer.location.endswith("/cases/drafts")
    assert case.number not in client.get("/cases/drafts").get_data(as_text=True)
    assert keep(client, case, "note", {"body": "x"}, page="/cases/drafts").status_code == 404


def test_an_intake_left_unsaved_is_offered_first_with_the_case_text_named(client, case_of):
    from app.calls.drafts import save_draft

    case, people = case_of
    operator = people["operator"]  # who opened the case
    sign_in(client, operator)
    keep(client, case, "note", {"kind": "note", "body": NOTE})
    save_draft(user=operator, intake_key=uuid.uuid4(), fields={"narrative": "…"})
    client.post("/auth/logout", data={"csrf_token": client.csrf_token(f"/cases/{case.id}")})
    answer = sign_in(client, operator)
    assert answer.location.endswith("/calls/drafts")
    html = client.get("/calls/drafts").get_data(as_text=True)
    assert "Bạn còn 1 đoạn chưa gửi trên trang hồ sơ." in html and 'href="/cases/drafts"' in html


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
    db.session.expire_all()
    assert db.session.execute(select(func.count(CaseDraft.id))).scalar_one() == 0


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


def test_a_signed_out_page_is_told_so_and_nothing_is_kept(client, case_of):
    case, people = case_of
    token = client.csrf_token("/auth/login")
    answer = client.post(
        f"/cases/{case.id}/drafts/note",
        json={"fields": {"body": NOTE}},
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 401 and answer.json["error"] == "signed_out"
    assert db.session.execute(select(func.count(CaseDraft.id))).scalar_one() == 0


def test_a_draft_a_closing_page_sends_is_kept(client, case_of):
    """navigator.sendBeacon: a form post, the token in it, the fields as JSON text."""
    case, people = case_of
    sign_in(client, people["manager"])
    answer = client.submit(
        f"/cases/{case.id}/drafts/note",
        {"fields": json.dumps({"kind": "note", "body": NOTE})},
        page=f"/cases/{case.id}",
    )
    assert answer.status_code == 200
    assert stored(case, people["manager"], "note") is not None


def test_no_such_form_and_malformed_fields_are_refused(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    assert keep(client, case, "password", {"a": "b"}).status_code == 404
    assert keep(client, case, "status-nowhere", {"a": "b"}).status_code == 404
    assert keep(client, case, "note", {"body": {"nested": 1}}).status_code == 413
    assert keep(client, case, "note", "text").status_code == 400
    assert keep(client, case, "note", {"body": "x" * (drafts.MAX_PAYLOAD + 1)}).status_code == 413
    assert db.session.execute(select(func.count(CaseDraft.id))).scalar_one() == 0


def test_a_person_keeps_at_most_so_many_drafts_the_oldest_going_first(case_of, monkeypatch):
    case, people = case_of
    monkeypatch.setattr(drafts, "MAX_DRAFTS_PER_USER", 3)
    for form in ("note", "task", "incident", "risk"):
        drafts.keep(case=case, user=people["manager"], form=form, fields={"x": form})
    kept = {d.form for d in db.session.execute(select(CaseDraft)).scalars()}
    assert kept == {"task", "incident", "risk"}


def test_an_account_moved_to_another_organisation_loses_its_case_drafts(case_of, make_org):
    from app.admin.rules import drop_drafts_of

    case, people = case_of
    drafts.keep(case=case, user=people["manager"], form="note", fields={"body": NOTE})
    drop_drafts_of(people["manager"])
    db.session.commit()
    assert db.session.execute(select(func.count(CaseDraft.id))).scalar_one() == 0
