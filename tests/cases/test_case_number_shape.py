"""What passes as a case number in the boxes searched by GET (the case search, the audit log's
case box): never a phone number, since the value goes into the address. Codes may be digits only
(app/admin/forms.py), and so is every phone number: an all-digit code passes only as the user's
own, and one unbroken block of digits is never cut into code, year and sequence."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit import AuditEntry
from app.calls.intake import Intake, Survivor, save_intake
from app.cases.search_form import case_number, normalise_case_number
from app.extensions import db
from tests.conftest import sign_in

# Landlines with area codes 0203-0209 typed without spaces, and numbers grouped 3-4-3 or 3-4-4
# whose middle group looks like a year: each once read as a case number.
PHONES = ["02033123456", "02093123456", "098 2019 888", "024 2012 3456"]


@pytest.mark.parametrize("typed", PHONES)
def test_a_phone_number_is_no_case_number(typed):
    assert case_number(typed, "HN") == ""


def test_an_unbroken_block_of_digits_is_cut_only_as_its_own_organisations_number():
    assert normalise_case_number("02033123456") == "02033123456"
    assert normalise_case_number("1112026000001") == "1112026000001"
    assert normalise_case_number("1112026000001", "111") == "111-2026-000001"
    assert normalise_case_number("02033123456", "111") == "02033123456"
    assert normalise_case_number("hn2026000123") == "HN-2026-000123"
    assert normalise_case_number("T12026000001") == "T1-2026-000001"


def test_a_case_number_passes_in_any_spelling_and_an_all_digit_code_only_as_ones_own():
    for typed, own, stored in (
        ("hn 2026 1", "", "HN-2026-000001"),
        ("HN2026000001", "", "HN-2026-000001"),
        ("t1-2026-1234567", "", "T1-2026-1234567"),
        ("sb 2026 7", "HN", "SB-2026-000007"),  # another hotline's: searched, and audited
        ("111 2026 12", "111", "111-2026-000012"),  # the user's own all-digit code
        ("111-2026-000012", "HN", ""),  # someone else's all-digit code
        ("098 2019 888", "111", ""),
        # In two pieces: the code, then year and sequence; or code and year, then the sequence.
        ("SA 2026000001", "", "SA-2026-000001"),
        ("sa2026 000001", "", "SA-2026-000001"),
        ("SA-2026000001", "", "SA-2026-000001"),
        ("hn2026 12", "", "HN-2026-000012"),
        ("111 2026000012", "111", "111-2026-000012"),
        ("1112026 12", "111", "111-2026-000012"),
        ("hn-2026-0000123", "", "HN-2026-000123"),  # a leading zero too many
        # Phone numbers in two pieces stay phone numbers.
        ("098 2019888123", "", ""),
        ("0982019 888", "", ""),
        ("0912 3456789", "111", ""),
        ("111 2026000012", "HN", ""),
    ):
        assert case_number(typed, own) == stored, typed


@pytest.fixture
def hotlines(make_org, make_user):
    """Hotline HN and a hotline whose code is digits only, each with an operator and a
    supervisor (English pages), and a case of the all-digit hotline."""
    people = {}
    for code in ("HN", "111"):
        org = make_org(code=code)
        for role in ("operator", "supervisor"):
            people[f"{role}_{code}"] = make_user(role, organisation=org, language="en")
    case = save_intake(
        data=Intake(reason="violence_report", survivor=Survivor(age=12)),
        by=people["operator_111"],
    ).case
    return people, case


@pytest.mark.parametrize("typed", PHONES)
def test_the_case_search_refuses_a_phone_number_and_searches_nothing(client, hotlines, typed):
    people, _case = hotlines
    sign_in(client, people["operator_HN"])
    response = client.get("/cases/search", query_string={"number": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Check the fields marked below." in page
    assert 'id="search-results"' not in page and "To find a case by phone number" in page
    searched = select(AuditEntry).where(AuditEntry.action.in_(("search", "denied")))
    assert db.session.execute(searched).first() is None


def test_an_all_digit_code_opens_its_own_case_and_is_refused_elsewhere(client, hotlines):
    people, case = hotlines
    org, year, seq = case.number.split("-")
    sign_in(client, people["operator_111"])
    page = client.get("/cases/search").get_data(as_text=True)
    assert 'data-own-code="111"' in page  # for app.js, which checks the same before sending
    response = client.get("/cases/search", query_string={"number": f"{org} {year} {int(seq)}"})
    assert response.status_code == 302 and response.location == f"/cases/{case.id}"
    other = client.application.test_client()
    sign_in(other, people["operator_HN"])
    refused = other.get("/cases/search", query_string={"number": case.number})
    assert refused.status_code == 200
    assert "Check the fields marked below." in refused.get_data(as_text=True)


@pytest.mark.parametrize("typed", PHONES)
def test_the_audit_log_carries_a_phone_number_in_no_link(client, hotlines, typed):
    people, _case = hotlines
    sign_in(client, people["supervisor_HN"])
    page = client.get("/audit/", query_string={"case": typed}).get_data(as_text=True)
    assert 'id="f-case-error"' in page and 'value=""' in page.split('id="f-case"')[1][:40]
    assert not re.search(r"[?&;]case=[^&\"]", page)  # no link, the export's included
    for spelling in (typed, typed.replace(" ", ""), normalise_case_number(typed)):
        assert spelling not in page
    export = client.get("/audit/export.csv", query_string={"case": typed})
    assert export.status_code == 302 and "case=" not in export.location


def test_an_all_digit_codes_number_typed_as_one_block_links_a_call_and_confirms_an_erasure(
    client, hotlines
):
    """Its own staff type their numbers so: the intake links the call, the erasure page takes
    the number typed again."""
    from app.calls.models import Call

    people, case = hotlines
    block = case.number.replace("-", "")
    saved = save_intake(
        data=Intake(reason="follow_up", case_number=block), by=people["operator_111"]
    )
    assert saved.case_id == case.id
    sign_in(client, people["supervisor_111"])
    url = f"/cases/{case.id}/erase"
    answer = client.submit(url, {"reason": "recorded_in_error", "confirm": block}, page=url)
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(case), case.id).erased_at is not None
    assert db.session.get(Call, saved.call_id).case_id == case.id
