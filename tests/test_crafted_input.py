"""Addresses and forms made by hand, not by a page: a NUL character (PostgreSQL refuses any in a
text value) or an id no integer column holds (SQLite and PostgreSQL refuse it) never reaches
the database as it is, so the answer is the page, not a server error."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit import AuditEntry
from app.extensions import db
from app.form_fields import as_page, as_row_id
from tests.conftest import PASSWORD

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        "/cases/search?status=%00",
        "/cases/search?province=%00&commune=%00",
        "/cases/search?risk=high%00",
        f"/audit/?user={HUGE}",
        "/audit/?case=%00&action=%00",
        f"/audit/?page={HUGE}",
    ],
)
def test_a_supervisors_crafted_address_gets_the_page(client, login_as, url):
    login_as("supervisor")
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize(
    "url", [f"/admin/users?org={HUGE}", f"/admin/users?page={HUGE}", "/admin/users?role=%00"]
)
def test_an_admins_crafted_address_gets_the_page(client, login_as, url):
    login_as("admin")
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_a_nul_in_the_sign_in_form_is_dropped_not_a_server_error(client, make_user):
    user = make_user("operator")
    token = client.csrf_token()
    response = client.post(
        "/auth/login",
        data={"csrf_token": token, "email": user.email + "\x00", "password": PASSWORD},
    )
    assert response.status_code == 302  # the address as a browser would send it: signed in


def test_values_are_read_without_nul_and_everything_else_kept(app):
    with app.test_request_context("/?q=a%00b&%00k=v", method="POST", data={"note": "x\x00y z"}):
        from flask import request

        assert request.args["q"] == "ab" and request.args["k"] == "v"
        assert request.form["note"] == "xy z"


def test_ids_and_pages_from_an_address_are_read_within_bounds():
    assert as_row_id("42") == 42
    assert as_row_id(HUGE) is None and as_row_id("²") is None and as_row_id("-1") is None
    assert as_row_id(None) is None and as_row_id("") is None
    assert as_page("3") == 3 and as_page("0") == 1 and as_page(HUGE) == 100_000
    assert as_page("0000000123") == 123 and as_page("1000000") == 100_000
    with pytest.raises(ValueError):
        as_page("²")


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/users/{HUGE}",
        f"/admin/users/{HUGE}/edit",
        f"/admin/users/{HUGE}/temporary-password",
        "/admin/users/3000000000",  # past PostgreSQL's integer
        f"/admin/organisations/{HUGE}/edit",
        f"/admin/lines/{HUGE}/token",
    ],
)
def test_an_id_in_an_address_past_any_row_is_404_not_a_server_error(client, login_as, url):
    login_as("admin")
    assert client.get(url).status_code == 404


def test_a_page_refused_to_a_role_by_an_id_past_any_row_is_refused_and_audited(client, login_as):
    user = login_as("operator")
    assert client.get(f"/admin/lines/{HUGE}/token").status_code == 404
    assert client.get("/admin/lines/123/token").status_code == 403
    db.session.rollback()
    denied = db.session.execute(
        select(AuditEntry.detail).where(
            AuditEntry.action == "denied", AuditEntry.user_id == user.id
        )
    ).scalars()
    assert list(denied) == ["role: telephony.line_token"]  # the one with an id of a row
