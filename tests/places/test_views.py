"""The commune list endpoint: case roles only, JSON in alphabet order, kept a day by the browser."""

import pytest
from flask import render_template_string

from app.places.queries import communes_of

URL = "/places/provinces/01/communes"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")


@pytest.mark.parametrize("role", ["admin", "partner"])
def test_roles_outside_case_work_are_refused(client, login_as, role):
    login_as(role)
    response = client.get(URL)
    assert response.status_code == 403
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("role", ["operator", "case_manager", "supervisor"])
def test_case_roles_get_the_communes_of_the_province(client, login_as, role):
    login_as(role)
    response = client.get(URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    rows = response.get_json()
    assert len(rows) == 126
    assert rows == [{"code": p.code, "name": p.name} for p in communes_of("01")]
    assert {"code": "00004", "name": "Phường Ba Đình"} in rows
    assert response.headers["Cache-Control"] == "private, max-age=86400"
    assert "Pragma" not in response.headers
    assert response.headers["Content-Security-Policy"]  # the other protections stay


@pytest.mark.parametrize("code", ["99", "00004", "1", "x"])
def test_an_unknown_province_is_404(client, login_as, code):
    login_as("operator")
    assert client.get(f"/places/provinces/{code}/communes").status_code == 404


def test_pages_stay_uncached(client, login_as):
    login_as("operator")
    response = client.get("/home/operator")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_templates_show_names_for_stored_codes(test_side_app):
    with test_side_app.test_request_context():
        shown = render_template_string(
            "{{ place_name('01') }}|{{ place_name('00070') }}|{{ place_name('12345') }}|"
            "{{ place_name(None) }}"
        )
    assert shown == "Thành phố Hà Nội|Phường Hoàn Kiếm|12345|"
