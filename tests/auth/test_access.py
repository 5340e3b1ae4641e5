"""The reusable access helpers: the role guard and the refusal of an object out of reach, each
answering as it should and writing the attempt to the audit log of the right organisation."""

import uuid

import pytest
from flask_login import login_user
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from app.audit import AuditEntry
from app.auth.access import refuse_object, roles_required
from app.calls.intake import Intake, Survivor, save_intake
from app.extensions import db


def denials() -> list[AuditEntry]:
    return list(
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "denied").order_by(AuditEntry.id)
        ).scalars()
    )


def test_role_guard_answers_403_and_audits_the_case_in_the_address(app, make_user, make_org):
    home = make_org()
    operator = make_user("operator", organisation=home)
    case = save_intake(
        data=Intake(reason="violence_report", survivor=Survivor(age=30)), by=operator
    ).case
    partner = make_user("partner")

    @roles_required("supervisor", "admin")
    def supervisors_only(case_id):
        return "seen"

    with app.test_request_context(f"/cases/{case.id}"):
        login_user(partner)
        with pytest.raises(Forbidden):
            supervisors_only(case_id=case.id)
        login_user(operator)
        assert roles_required("operator")(lambda: "seen")() == "seen"
    [entry] = denials()
    assert entry.user_id == partner.id
    assert (entry.object_type, entry.object_id, entry.case_id) == ("case", str(case.id), case.id)
    assert entry.organisation_id == home.id  # the log of the hotline whose case it is
    assert entry.detail.startswith("role: ")


def test_refused_object_is_404_audited_under_its_owner(app, make_user, make_org):
    home, other = make_org(), make_org()
    operator = make_user("operator", organisation=home)
    stranger = make_user("supervisor", organisation=other)
    case = save_intake(
        data=Intake(reason="violence_report", survivor=Survivor(age=30)), by=operator
    ).case
    missing = uuid.uuid4()
    with app.test_request_context("/"):
        login_user(stranger)
        with pytest.raises(NotFound):
            refuse_object("case", case.id)
        with pytest.raises(NotFound):
            refuse_object("case", missing)
    first, second = denials()
    assert (first.user_id, first.case_id, first.organisation_id) == (stranger.id, case.id, home.id)
    # Nothing there: the attempt stays in the log of the person's own hotline.
    assert (second.object_id, second.case_id, second.organisation_id) == (
        str(missing),
        None,
        other.id,
    )


def test_a_refusal_names_the_page_asked_for(client, make_user, make_org):
    """A case manager the case was taken from: a look at it and an autosave on it are told
    apart in the log (the page asked for), nothing of the case shown."""
    from tests.conftest import sign_in

    home = make_org()
    operator = make_user("operator", organisation=home)
    manager = make_user("case_manager", organisation=home)
    case = save_intake(
        data=Intake(reason="violence_report", survivor=Survivor(age=30)), by=operator
    ).case
    sign_in(client, manager)
    assert client.get(f"/cases/{case.id}").status_code == 404
    token = client.csrf_token("/auth/account")
    kept = client.post(
        f"/cases/{case.id}/drafts/note",
        json={"page": str(uuid.uuid4()), "fields": {"body": "x"}},
        headers={"X-CSRFToken": token},
    )
    assert kept.status_code == 404
    db.session.rollback()
    assert [(e.case_id, e.detail) for e in denials()] == [
        (case.id, "page: cases.show"),
        (case.id, "page: cases.keep_draft"),
    ]
