"""Browser protections on every response, CSRF on every form, and no state change on GET."""

import re

import pytest

from app.auth.sessions import DatabaseSessionInterface
from tests.conftest import ROLES

SIGNED_IN_PAGES = {
    "operator": ["/home/operator", "/auth/account", "/auth/password"],
    "case_manager": ["/home/case-manager"],
    "supervisor": ["/home/supervisor"],
    "admin": ["/admin/users", "/admin/organisations", "/admin/users/new"],
    "partner": ["/home/partner"],
}


def _assert_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "http:" not in csp and "https:" not in csp and "*" not in csp
    for directive in (
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
    ):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Request-ID"]


@pytest.mark.parametrize("role", ROLES)
def test_every_header_is_on_signed_in_pages(client, login_as, role):
    login_as(role)
    for page in SIGNED_IN_PAGES[role]:
        response = client.get(page)
        assert response.status_code == 200, page
        _assert_headers(response)
        assert response.headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_hsts_when_served_over_https(client):
    response = client.get("/auth/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_sign_in_page_and_errors_carry_the_headers(client):
    for url, code in (("/auth/login", 200), ("/no-such-page", 404)):
        response = client.get(url)
        assert response.status_code == code
        _assert_headers(response)


def test_pages_have_no_inline_script_or_style(client, login_as):
    login_as("admin")
    for page in ("/admin/users", "/admin/users/new", "/auth/account", "/auth/enrol"):
        html = client.get(page).get_data(as_text=True)
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert "onclick=" not in html and "javascript:" not in html


def test_no_external_assets(client, login_as):
    login_as("operator")
    html = client.get("/home/operator").get_data(as_text=True)
    for attribute in ('src="', 'href="', "url("):
        for prefix in ("http:", "https:", "//"):
            assert attribute + prefix not in html


def test_a_post_without_csrf_token_is_refused(client, login_as):
    login_as("operator")
    response = client.post("/calls/new", data={"reason": "silent"})
    assert response.status_code == 400
    assert "<h1>Biểu mẫu đã hết hạn</h1>" in response.get_data(as_text=True)


def test_a_sign_in_page_left_open_past_its_session_asks_for_the_password_again(client, make_user):
    """Its session ended (the token no longer matches): the sign-in page again with the email
    kept and a word on why, not an error page; nobody is signed in, the password not echoed."""
    user = make_user("operator")
    client.get("/auth/login")
    response = client.post(
        "/auth/login",
        data={"email": user.email, "password": "a calm river at dawn", "csrf_token": "stale"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f'value="{user.email}"' in page
    assert "Trang đăng nhập đã mở quá lâu" in page
    assert "a calm river at dawn" not in page
    assert client.get("/home/operator").status_code == 302  # not signed in
    language = client.post("/auth/language", data={"language": "en", "csrf_token": "stale"})
    assert language.status_code == 302 and language.location.endswith("/auth/login")
    assert '<html lang="en">' in client.get("/auth/login").get_data(as_text=True)  # kept


@pytest.mark.parametrize(
    "url",
    [
        "/auth/logout",
        "/auth/keepalive",
        "/auth/language",
        "/auth/account/sessions/end-others",
        "/auth/account/mfa/disable",
        "/admin/users/1/disable",
        "/admin/users/1/reset-password",
    ],
)
def test_state_changing_routes_refuse_get(client, login_as, url):
    login_as("admin")
    assert client.get(url).status_code == 405


def test_every_route_that_changes_state_is_post_only(app):
    """GET routes are reads: every route that accepts POST is listed as form or action."""
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and "GET" in rule.methods:
            # form pages: GET shows the form, POST submits it; both are guarded by CSRF
            assert rule.endpoint in {
                "auth.login",
                "auth.verify",
                "auth.enrol",
                "auth.recovery_codes",
                "auth.change_password",
                "admin.users",  # the account search: POST keeps the name searched out of URLs
                "admin.new_user",
                "admin.edit_user",
                "admin.edit_organisation",
                "calls.new",
                "calls.correct",  # GET the form, POST the correction
                "cases.change_status",
                "cases.erase",  # GET asks (reason, number typed again), POST erases
                "cases.edit",
                "cases.add_incident",
                "cases.add_perpetrator",
                "cases.correct_incident",
                "cases.correct_perpetrator",
                "cases.reassess",
                "cases.consent",
                "cases.search",  # POST: the form sent (no number in an address), then GET
                "telephony.new_line",
            }, rule


def test_cookies_are_hardened_in_production_config(make_app):
    prod = make_app("production")
    response = prod.test_client().get("/auth/login", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-diemtua_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain=" not in cookie


def test_the_session_cookie_is_deleted_with_its_flags_in_production(
    make_app, make_user, monkeypatch
):
    """A browser ignores the deletion of a __Host- cookie sent without Secure: a session
    revoked while a request was on its way (a sign-out in another tab) is deleted with the
    flags it was set with."""
    prod = make_app("production")
    client = prod.test_client()
    user = make_user("operator")
    page = client.get("/auth/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    signed_in = client.post(
        "/auth/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/auth/login"},
        data={"email": user.email, "password": "a calm river at dawn", "csrf_token": token},
    )
    assert signed_in.status_code == 302
    # Revoked while this request was on its way: its session's update finds no row.
    monkeypatch.setattr(DatabaseSessionInterface, "_update", lambda *args, **kwargs: False)
    response = client.get(signed_in.location, base_url="https://localhost")  # reads the flash
    (deleted,) = [c for c in response.headers.getlist("Set-Cookie") if "Max-Age=0" in c]
    assert deleted.startswith("__Host-diemtua_session=;")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in deleted


def test_refusals_made_before_the_app_s_hooks_carry_the_request_id(client, login_as):
    """A failed CSRF check and a body too large are refused by extensions' hooks: the request
    still has its id, in its header (and log line), to trace it against a proxy's logs."""
    login_as("operator")
    token = client.csrf_token("/calls/new")
    no_token = client.post("/calls/new", data={"narrative": "x"})
    body = (
        f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--b\r\nContent-Disposition: form-data; name="narrative"\r\n\r\n{"x" * 600_000}'
        "\r\n--b--\r\n"
    )
    too_large = client.post(
        "/calls/new", data=body.encode(), content_type="multipart/form-data; boundary=b"
    )
    autosave = client.post("/calls/drafts", json={"fields": {"narrative": "x"}})
    assert [no_token.status_code, too_large.status_code, autosave.status_code] == [400, 413, 400]
    for response in (no_token, too_large, autosave):
        assert re.fullmatch(r"[0-9a-f]{12,}", response.headers["X-Request-ID"]), response


def test_a_crash_shows_a_calm_page_without_a_stack_trace(make_app):
    crashing = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @crashing.get("/_boom")
    def boom():
        raise RuntimeError("secret internal detail")

    response = crashing.test_client().get("/_boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>Đã xảy ra lỗi</h1>" in page
    assert "secret internal detail" not in page and "Traceback" not in page


def test_flooding_the_sign_in_form_gets_the_429_page(make_app):
    flooded = make_app(LOGIN_REQUEST_LIMIT="3 per minute")
    client = flooded.test_client()
    codes = [
        client.submit("/auth/login", {"email": "a@example.org", "password": "p" * 12}).status_code
        for _ in range(4)
    ]
    assert codes[-1] == 429
    assert "Quá nhiều yêu cầu" in client.submit(
        "/auth/login", {"email": "a@example.org", "password": "p" * 12}
    ).get_data(as_text=True)


def test_a_body_too_large_gets_its_own_page_in_vietnamese(client, login_as):
    login_as("operator")
    token = client.csrf_token("/calls/new")
    parts = [("csrf_token", token), ("narrative", "x" * 600_000)]  # as a closing page's beacon
    body = "".join(
        f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in parts
    )
    response = client.post(
        "/calls/new",
        data=(body + "--b--\r\n").encode(),
        content_type="multipart/form-data; boundary=b",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and '<html lang="vi">' in page
    assert "Request Entity Too Large" not in page


def test_the_enter_guard_s_route_does_nothing_for_anyone(client):
    """A form's Enter guard (with scripts off) posts the form there: 204, so the browser stays
    on the page, everything typed in it; no token asked (a refusal would take the page away),
    no sign-in either (a session ended meanwhile neither), no cookie written."""
    response = client.post("/enter-pressed", data={"narrative": "Chồng đánh chị"})
    assert response.status_code == 204 and response.get_data() == b""
    assert "Set-Cookie" not in response.headers
