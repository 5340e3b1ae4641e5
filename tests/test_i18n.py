"""Vietnamese first: complete catalogs, the user's language, dates dd/mm/yyyy in Vietnam's time."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir

from app.auth.models import User
from app.clock import UTCDateTime
from app.extensions import db
from app.i18n import TRANSLATIONS, missing_messages, read_catalog

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.fixture(scope="module")
def source_messages() -> Catalog:
    """Every translatable string in the code and templates, extracted now."""
    catalog = Catalog()
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename, lineno)], context=context)
    assert len(catalog) > 100
    return catalog


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_catalog_has_every_string(source_messages, locale):
    catalog = read_catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", locale)
    missing = missing_messages(source_messages, catalog)
    assert not missing, f"{len(missing)} string(s) missing from {locale}: {missing[:10]}"


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_translations_keep_their_placeholders(locale):
    catalog = read_catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", locale)
    plurals = 0
    for message in catalog:
        if message.id and isinstance(message.id, str):
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
                PLACEHOLDER.findall(message.string)
            ), message.id
        elif message.id:  # a plural: each form keeps the placeholders of its source form
            plurals += 1
            forms = message.string
            sources = message.id if len(forms) == len(message.id) else [message.id[-1]] * len(forms)
            for source, form in zip(sources, forms, strict=True):
                assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(form)), (
                    message.id
                )
    assert plurals > 10  # the plurals were looked at, not skipped


def test_vietnamese_catalog_is_really_vietnamese():
    catalog = read_catalog(TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po", "vi")
    same = [m.id for m in catalog if m.id and m.string == m.id and re.search("[a-z]{4}", m.id)]
    assert len(same) < 5, same


def test_the_interface_defaults_to_vietnamese(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page and "Mật khẩu" in page


def test_a_visitor_can_switch_the_sign_in_page_to_english(client):
    client.submit("/auth/language", {"language": "en", "next": "/auth/login"})
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Password" in page


def test_the_account_language_is_used_after_sign_in(client, login_as):
    user = login_as("operator", language="en")
    assert "Emergency numbers" in client.get("/home/operator").get_data(as_text=True)
    client.submit(
        "/auth/language", {"language": "vi", "next": "/auth/account"}, page="/auth/account"
    )
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "vi"
    assert "Số điện thoại khẩn cấp" in client.get("/home/operator").get_data(as_text=True)


def test_dates_show_as_dd_mm_yyyy_in_vietnam_time(app):
    late_evening_utc = datetime(2026, 1, 31, 20, 30, tzinfo=UTC)
    with app.test_request_context():
        render = app.jinja_env.from_string("{{ when|dt }} / {{ when|d }}")
        assert render.render(when=late_evening_utc) == "01/02/2026 03:30 / 01/02/2026"


def test_times_are_stored_in_utc_and_naive_times_are_refused():
    column = UTCDateTime()
    with pytest.raises(ValueError):
        column.process_bind_param(datetime(2026, 1, 1, 12, 0), None)  # noqa: DTZ001
    stored = column.process_bind_param(datetime(2026, 1, 1, 19, 0, tzinfo=UTC), None)
    assert stored == datetime(2026, 1, 1, 19, 0)  # noqa: DTZ001
    assert column.process_result_value(stored, None).tzinfo is UTC


def test_error_pages_exist_in_both_languages(client, login_as):
    assert "Không tìm thấy trang" in client.get("/missing").get_data(as_text=True)
    login_as("operator", language="en")
    assert "Page not found" in client.get("/missing").get_data(as_text=True)
    assert "Not allowed" in client.get("/admin/users").get_data(as_text=True)


def test_language_chosen_on_the_sign_in_page_is_kept_on_the_account(client, make_user):
    from tests.conftest import sign_in

    user = make_user("operator", language="vi")
    client.submit("/auth/language", {"language": "en", "next": "/auth/login"})
    sign_in(client, user)
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "en"
    assert "Emergency numbers" in client.get("/home/operator").get_data(as_text=True)


def test_an_audit_action_is_not_worded_as_a_column_heading(app):
    """ "Created" is also a date column's heading ("Ngày tạo"): the audit action has its own
    words, so a creation in the audit log does not read "date created"."""
    from flask_babel import force_locale

    from app.auth.labels import EVENT_LABELS

    with app.test_request_context(), force_locale("vi"):
        assert str(EVENT_LABELS["create"]) == "Đã tạo bản ghi"


def test_the_pages_around_a_session_are_in_the_account_s_language(client, make_user, app):
    """The one-time code's pages come after the password, when the account is known, and
    "You have signed out" after its session: both in the account's language, while a
    language shown so is never stored on the next account signing in on this browser."""
    from tests.conftest import PASSWORD, sign_in

    english = make_user("supervisor", language="en")
    client.submit("/auth/login", {"email": english.email, "password": PASSWORD})
    assert '<html lang="en">' in client.get("/auth/verify").get_data(as_text=True)
    setting_up = app.test_client()
    newcomer = make_user("supervisor", language="en", mfa_on=False)
    answer = setting_up.submit(
        "/auth/login", {"email": newcomer.email, "password": PASSWORD}, follow_redirects=True
    )
    assert answer.request.path == "/auth/enrol"
    assert '<html lang="en">' in answer.get_data(as_text=True)
    leaving = app.test_client()
    operator = make_user("operator", language="en")
    sign_in(leaving, operator)
    out = leaving.submit("/auth/logout", {}, page="/home/operator", follow_redirects=True)
    page = out.get_data(as_text=True)
    assert '<html lang="en">' in page and "You have signed out." in page
    next_one = make_user("operator", language="vi")
    sign_in(leaving, next_one)
    db.session.expire_all()
    assert db.session.get(User, next_one.id).language == "vi"


def test_a_reopened_case_s_status_is_not_worded_as_the_reopen_button(app):
    from flask_babel import force_locale

    from app.auth.labels import CASE_STATUS_LABELS

    with app.test_request_context(), force_locale("vi"):
        assert str(CASE_STATUS_LABELS["reopened"]) == "Đã mở lại"
