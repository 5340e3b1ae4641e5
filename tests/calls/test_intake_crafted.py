"""The intake's own endpoints against requests no page sends, and against a page sent again
after its first save: never a server error, every refusal audited, a saved call never said to
be unsaved (from a review)."""

import json
import uuid

from sqlalchemy import select

from app.audit import AuditEntry
from app.calls.drafts import open_draft, save_draft
from app.calls.intake import Intake, save_intake
from app.calls.models import IntakeDraft
from app.extensions import db
from tests.calls.test_intake_page import fresh_key


def post_json(client, text: str):
    return client.post(
        "/calls/drafts",
        data=text,
        content_type="application/json",
        headers={"X-CSRFToken": client.csrf_token("/calls/new")},
    )


def audit_of(action: str, object_type: str) -> list[AuditEntry]:
    db.session.rollback()
    stmt = select(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.object_type == object_type
    )
    return list(db.session.execute(stmt).scalars())


def test_an_autosave_body_no_page_sends_is_refused_not_a_server_error(client, login_as):
    user = login_as("operator")
    key = fresh_key(client)
    assert post_json(client, "[1, 2]").status_code == 400
    assert post_json(client, '"abc"').status_code == 400
    nested = "[" * 100_000 + "]" * 100_000
    deep = f'{{"intake_key": "{key}", "fields": {{"a": {nested}}}}}'
    assert post_json(client, deep).status_code == 400
    beacon = client.post(
        "/calls/drafts",
        data={
            "csrf_token": client.csrf_token("/calls/new"),
            "intake_key": key,
            "fields": "[" * 100_000 + "]" * 100_000,
        },
    )
    assert beacon.status_code == 400
    # JSON's Infinity and a number past any integer: a revision not said, the copy kept.
    body = f'{{"intake_key": "{key}", "revision": Infinity, "seq": 1e400, "fields": {{}}}}'
    assert post_json(client, body).status_code == 200
    # A NUL (PostgreSQL refuses one in any text) is dropped, from the page key and the fields.
    fields = {"narrative": "một\u0000hai", "case_number": "HN-2026\u00001"}
    sent = json.dumps({"intake_key": key, "page": "ab\u0000cd", "fields": fields})
    assert post_json(client, sent).status_code == 200
    db.session.rollback()
    kept, _ = open_draft(user=user, intake_key=uuid.UUID(key))
    assert kept["narrative"] == "mộthai" and kept["case_number"] == "HN-20261"
    page = db.session.execute(select(IntakeDraft.page)).scalar_one()
    assert page == "abcd"


def test_someone_elses_unsaved_intake_is_not_discarded_by_its_address(client, login_as, make_user):
    owner = make_user("operator")
    key = uuid.uuid4()
    save_draft(user=owner, intake_key=key, fields={"narrative": "của người khác"})
    db.session.commit()
    login_as("operator", organisation=owner.organisation)
    token = client.csrf_token("/calls/drafts")
    answer = client.post(f"/calls/drafts/{key}/discard", data={"csrf_token": token})
    assert answer.status_code == 404
    assert [e.object_id for e in audit_of("denied", "intake_draft")] == [str(key)]
    assert open_draft(user=owner, intake_key=key) is not None


def test_another_accounts_saved_intake_asked_for_by_its_address_is_refused(
    client, login_as, make_user
):
    owner = make_user("operator")
    key = uuid.uuid4()
    call = save_intake(data=Intake(reason="silent", intake_key=key), by=owner).call
    login_as("operator", organisation=owner.organisation)
    assert client.get(f"/calls/new?draft={key}").status_code == 404
    assert [e.object_id for e in audit_of("denied", "call")] == [str(call.id)]


def test_the_panel_showing_calls_without_a_case_is_audited(client, login_as):
    user = login_as("operator")
    save_intake(data=Intake(reason="silent", caller_phone="0912 777 888"), by=user)
    token = client.csrf_token("/calls/new")
    shown = client.post("/calls/lookup", data={"phone": "0912777888", "csrf_token": token})
    assert 'data-panel-calls="1"' in shown.get_data(as_text=True)
    [entry] = audit_of("search", "call")
    assert entry.detail == "repeat-caller panel calls=1" and "0912" not in entry.detail
