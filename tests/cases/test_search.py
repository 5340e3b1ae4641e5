"""Case search: each filter narrows, a case number opens its case, a phone number is found in any
spelling by POST only and audited without the number, and nothing outside the user's scope is
ever returned."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from vietnam_provinces import Province, Ward

from app.audit import AuditEntry
from app.calls.intake import Intake, Survivor, save_intake
from app.cases import services as cases
from app.cases.models import Task
from app.cases.search import normalise_case_number
from app.clock import utcnow
from app.extensions import db
from app.places.models import Place
from tests.conftest import sign_in

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
PHONE = "0977 123 456"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def ensure_places(*codes: str) -> None:
    """Official units by code in the place table (the session may have loaded them already)."""
    wanted = set(codes)
    for province in Province.iter_all():
        code = f"{int(province.code):02d}"
        if code in wanted and db.session.get(Place, code) is None:
            db.session.add(
                Place(code=code, name=province.name, kind="tinh", codename=province.codename)
            )
    for ward in Ward.iter_all():
        code = f"{int(ward.code):05d}"
        if code in wanted and db.session.get(Place, code) is None:
            parent = f"{int(ward.province_code):02d}"
            db.session.add(
                Place(
                    code=code,
                    name=ward.name,
                    kind="phuong",
                    province_code=parent,
                    codename=ward.codename,
                )
            )
    db.session.commit()


@pytest.fixture
def scene(make_org, make_user):
    """Hotline SA: operators op1 and op2, case managers cm1 and cm2, a supervisor; hotline SB
    with its own operator and supervisor. Cases:
    - adult: op1, survivor's phone 0977 123 456, Hà Nội / Ba Đình, high risk
    - child: op1, aged 10, Hồ Chí Minh City, assigned to cm1 (so in support)
    - by_call: op2, no survivor phone, the call came from +84 987 654 321
    - old: op1, opened 40 days ago
    - elsewhere: hotline SB, the same survivor phone as `adult` in another spelling
    """
    ensure_places("01", "79", "00004", "00070")
    org_a, org_b = make_org(code="SA"), make_org(code="SB")
    p = {
        name: make_user(role, organisation=org, language="en")
        for name, role, org in (
            ("op1", "operator", org_a),
            ("op2", "operator", org_a),
            ("cm1", "case_manager", org_a),
            ("cm2", "case_manager", org_a),
            ("sup", "supervisor", org_a),
            ("op_b", "operator", org_b),
            ("sup_b", "supervisor", org_b),
        )
    }

    def intake(by, **kw):
        return save_intake(data=Intake(reason="violence_report", **kw), by=by).case

    c = {
        "adult": intake(
            p["op1"],
            survivor=Survivor(
                name="Hoàng Thị Tìm", age=30, phone=PHONE, province_code="01", commune_code="00004"
            ),
            risk_answers=["threats_to_kill"],
        ),
        "child": intake(p["op1"], survivor=Survivor(age=10, province_code="79")),
        "by_call": intake(p["op2"], caller_phone="+84 987 654 321", survivor=Survivor(age=50)),
        "old": intake(p["op1"], survivor=Survivor(age=70)),
        "elsewhere": intake(p["op_b"], survivor=Survivor(age=31, phone="0977123456")),
    }
    cases.assign_case(case=c["child"], to=p["cm1"], by=p["sup"])
    c["old"].opened_at = utcnow() - timedelta(days=40)
    db.session.commit()
    return p, c


def results(html: str) -> str:
    """The results table of a search page ('' when there is none)."""
    match = re.search(r'<table id="search-results".*?</table>', html, flags=re.S)
    return match.group(0) if match else ""


def found(client, query: str) -> set[str]:
    """The case numbers a GET search lists."""
    response = client.get(f"/cases/search?{query}")
    assert response.status_code == 200, response.location
    return set(
        re.findall(r'class="case-number">([^<]+)<', results(response.get_data(as_text=True)))
    )


def numbers(c, *keys) -> set[str]:
    return {c[k].number for k in keys}


def day(delta_days: int) -> str:
    return (utcnow() + timedelta(days=delta_days)).astimezone(LOCAL).strftime("%d/%m/%Y")


def test_each_filter_narrows_the_results(client, scene):
    p, c = scene
    sign_in(client, p["sup"])
    everything = numbers(c, "adult", "child", "by_call", "old")
    assert found(client, "status=active") == everything
    assert found(client, "status=in_support") == numbers(c, "child")
    assert found(client, "status=open") == everything - numbers(c, "child")
    assert found(client, f"assignee={p['cm1'].id}") == numbers(c, "child")
    assert found(client, "assignee=none") == everything - numbers(c, "child")
    assert found(client, f"opened_from={day(-10)}") == everything - numbers(c, "old")
    assert found(client, f"opened_to={day(-30)}") == numbers(c, "old")
    assert found(client, f"opened_from={day(-41)}&opened_to={day(-39)}") == numbers(c, "old")
    assert found(client, "province=01") == numbers(c, "adult")
    assert found(client, "province=01&commune=00004") == numbers(c, "adult")
    assert found(client, "province=01&commune=00070") == set()
    assert found(client, "province=79") == numbers(c, "child")
    assert found(client, "risk=high") == numbers(c, "adult")
    assert found(client, "risk=low") == set()
    assert found(client, "child=yes") == numbers(c, "child")
    assert found(client, "child=no") == everything - numbers(c, "child")
    assert found(client, "status=active&child=no&risk=high&province=01") == numbers(c, "adult")


def test_open_tasks_narrow_to_overdue_work_or_to_cases_nobody_planned_for(client, scene):
    p, c = scene
    # Every task done but two: the child's commune notification, an hour late; the adult's
    # follow-up, due tomorrow. `by_call` and `old` have nothing planned.
    now = utcnow()
    for key in ("adult", "child", "by_call", "old"):
        for task in c[key].tasks:
            task.done_at = now
    late = next(t for t in c["child"].tasks if t.kind == "notify_commune")
    late.done_at, late.due_at = None, now - timedelta(hours=1)
    db.session.add(
        Task(
            case=c["adult"],
            organisation_id=c["adult"].organisation_id,
            kind="follow_up_call",
            due_at=now + timedelta(days=1),
        )
    )
    db.session.commit()
    sign_in(client, p["sup"])
    assert found(client, "tasks=overdue") == numbers(c, "child")
    assert found(client, "tasks=none") == numbers(c, "by_call", "old")
    assert found(client, "status=active&tasks=none&child=no") == numbers(c, "by_call", "old")
    # Within the person's scope, as every filter.
    browser = client.application.test_client()
    sign_in(browser, p["op2"])
    assert found(browser, "tasks=none") == numbers(c, "by_call")
    assert found(browser, "tasks=overdue") == set()


def test_no_one_finds_a_closed_case_left_with_a_disabled_case_manager(client, scene):
    """'Assigned to no one' in any status takes in the cases of accounts that cannot work them,
    also when those accounts hold no active case any more."""
    p, c = scene
    sign_in(client, p["sup"])
    c["child"].status = "closed"
    p["cm1"].active = False
    db.session.commit()
    assert c["child"].number in found(client, "assignee=none&status=closed")
    assert c["child"].number in found(client, "assignee=none")
    assert c["child"].number not in found(client, "assignee=none&status=active")


def test_results_show_codes_places_and_the_child_tag_never_names(client, scene):
    p, c = scene
    sign_in(client, p["sup"])
    html = client.get("/cases/search?status=active").get_data(as_text=True)
    table = results(html)
    child_row = next(r for r in re.findall(r"<tr\b.*?</tr>", table, re.S) if c["child"].number in r)
    assert "Child" in child_row and "Thành phố Hồ Chí Minh" in child_row
    adult_row = next(r for r in re.findall(r"<tr\b.*?</tr>", table, re.S) if c["adult"].number in r)
    assert "Child" not in adult_row and "Phường Ba Đình" in adult_row and "High" in adult_row
    assert "Hoàng Thị Tìm" not in html
    assert "977123456" not in html and "0977 123" not in html and "+84977" not in html


def test_the_province_choice_lists_its_communes(client, scene):
    p, _ = scene
    sign_in(client, p["sup"])
    html = client.get("/cases/search?province=01").get_data(as_text=True)
    commune_select = html.split('id="commune"')[1].split("</select>")[0]
    assert "Phường Ba Đình" in commune_select and "Phường Vũng Tàu" not in commune_select


def test_a_commune_of_the_province_chosen_before_is_not_searched_by(client, scene):
    """Without scripts the commune list is the previous province's until the page is sent: a
    commune left from Hà Nội as the province becomes Hồ Chí Minh City (or any province) is
    dropped, as the page shows no commune chosen, not searched by unseen."""
    p, c = scene
    sign_in(client, p["sup"])
    assert found(client, "province=79&commune=00004") == numbers(c, "child")
    assert numbers(c, "adult", "child") <= found(client, "commune=00004")  # any province's
    html = client.get("/cases/search?province=79&commune=00004").get_data(as_text=True)
    assert 'selected value="00004"' not in html and 'value="00004" selected' not in html


def test_a_case_number_opens_the_case(client, scene):
    p, c = scene
    number = c["adult"].number  # SA-2026-000001
    org, year, seq = number.split("-")
    sign_in(client, p["op1"])
    for typed in (
        number,
        number.lower(),
        f"  {org.lower()} {year} {seq}  ",
        f"{org}-{year}-{int(seq)}",
        f"{org}{year}{seq}",
    ):
        response = client.get("/cases/search", query_string={"number": typed})
        assert response.status_code == 302, typed
        assert response.location == f"/cases/{c['adult'].id}"


def test_the_form_is_sent_in_the_body_then_asked_for_by_its_address(client, scene):
    """The page's form is sent in the body: a phone number typed in the case-number box (no
    script to stop it) is refused there and never reaches an address; filters that pass are
    asked for again by the results' address, which pages and links use."""
    p, c = scene
    sign_in(client, p["sup"])
    wrong = client.submit(
        "/cases/search", {"number": "0912 345 678", "status": "open"}, page="/cases/search"
    )
    assert wrong.status_code == 200 and wrong.location is None
    html = wrong.get_data(as_text=True)
    assert 'id="number-error"' in html and "use the search by phone" in html
    assert 'value="0912 345 678"' in html  # kept in its box to correct
    sent = client.submit("/cases/search", {"status": "open", "number": ""}, page="/cases/search")
    assert sent.status_code == 303 and sent.location == "/cases/search?status=open#results"
    number = client.submit("/cases/search", {"number": c["adult"].number}, page="/cases/search")
    assert client.get(number.location).location == f"/cases/{c['adult'].id}"


def test_a_case_number_outside_ones_scope_finds_nothing(client, scene):
    p, c = scene
    sign_in(client, p["op2"])
    response = client.get("/cases/search", query_string={"number": c["adult"].number})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert c["adult"].number not in results(html) and "No case you may see matches." in html


def test_case_numbers_are_normalised():
    assert normalise_case_number(" hn - 2026 - 123 ") == "HN-2026-000123"
    assert normalise_case_number("T12026000001") == "T1-2026-000001"
    assert normalise_case_number("HN-2026-000123") == "HN-2026-000123"


def test_scopes_hold_in_every_search(client, scene):
    p, c = scene
    sign_in(client, p["op1"])
    assert found(client, "status=active") == numbers(c, "adult", "child", "old")
    browser = client.application.test_client()
    sign_in(browser, p["cm1"])
    assert found(browser, "status=active") == numbers(c, "child")
    assert found(browser, "assignee=none") == set()
    other = client.application.test_client()
    sign_in(other, p["sup_b"])
    assert found(other, "status=active") == numbers(c, "elsewhere")
    assert found(other, "child=no&risk=high") == set()


def search_audit() -> list[tuple]:
    """The raw audit rows of searches, every column."""
    return list(db.session.execute(text("SELECT * FROM audit_entry WHERE action = 'search'")))


def test_a_phone_number_in_another_spelling_finds_the_case(client, scene):
    p, c = scene
    sign_in(client, p["sup"])
    spellings = ("+84977123456", "0977.123.456", "84 977 123 456")
    for spelling in spellings:
        response = client.submit("/cases/search/phone", {"phone": spelling}, page="/cases/search")
        assert response.status_code == 200  # shown at once: no redirect carries the number
        html = response.get_data(as_text=True)
        listed = set(re.findall(r'class="case-number">([^<]+)<', results(html)))
        assert listed == numbers(c, "adult"), spelling
        assert c["elsewhere"].number not in html  # the same number at another hotline
        for url in re.findall(r'(?:href|action)="([^"]*)"', html):
            url = UUID.sub("<id>", url)  # a record id may hold "977" by chance
            assert "977" not in url and "123456" not in url, url
    entries = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "search").order_by(AuditEntry.id)
    ).scalars()
    # Each search, and the case it listed (who looked at this case finds the search too).
    adult = c["adult"].id
    assert [(e.detail, e.case_id, e.user_id) for e in entries] == [
        ("phone matched=1", None, p["sup"].id),
        ("phone", adult, p["sup"].id),
    ] * 3
    rows = search_audit()
    assert len(rows) == 2 * len(spellings)
    for row in rows:
        for column in row:
            assert "977123456" not in str(column) and "977 123" not in str(column)
            assert "977.123" not in str(column)


def test_a_phone_number_finds_cases_through_their_calls(client, scene):
    p, c = scene
    sign_in(client, p["sup"])
    html = client.submit("/cases/search/phone", {"phone": "0987654321"}, page="/cases/search")
    assert set(
        re.findall(r'class="case-number">([^<]+)<', results(html.get_data(as_text=True)))
    ) == numbers(c, "by_call")


def test_a_phone_search_outside_ones_scope_finds_nothing_and_is_audited(client, scene):
    p, c = scene
    sign_in(client, p["op2"])
    html = client.submit("/cases/search/phone", {"phone": PHONE}, page="/cases/search")
    assert c["adult"].number not in html.get_data(as_text=True)
    assert "No case you may see matches." in html.get_data(as_text=True)
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "search")).scalar_one()
    assert entry.detail == "phone matched=0" and entry.user_id == p["op2"].id


def test_a_phone_number_in_the_address_is_ignored(client, scene):
    p, c = scene
    sign_in(client, p["sup"])
    html = client.get("/cases/search?phone=0977123456").get_data(as_text=True)
    assert results(html) == "" and search_audit() == []


def test_a_phone_search_needs_a_number_and_a_token(client, scene):
    p, _ = scene
    sign_in(client, p["sup"])
    html = client.submit("/cases/search/phone", {"phone": ""}, page="/cases/search")
    assert "Enter a phone number." in html.get_data(as_text=True) and search_audit() == []
    assert client.post("/cases/search/phone", data={"phone": PHONE}).status_code == 400
    assert client.get("/cases/search/phone").status_code == 405
    assert search_audit() == []


def test_a_wrong_date_is_explained(client, scene):
    p, _ = scene
    sign_in(client, p["sup"])
    html = client.get("/cases/search?opened_from=31/02/2026").get_data(as_text=True)
    assert "Enter a date as dd/mm/yyyy" in html and results(html) == ""
    assert "Check the fields marked below." in html
    html = client.get("/cases/search?opened_from=12/03/2206").get_data(as_text=True)
    assert "Write a year between 1900 and 2100." in html and results(html) == ""
    assert "Enter a date as dd/mm/yyyy" not in html  # it was written as asked
    html = client.get("/cases/search?number=" + "9" * 41).get_data(as_text=True)
    assert "Check the fields marked below." in html and "Check the dates" not in html
    html = client.get(f"/cases/search?opened_from={day(0)}&opened_to={day(-5)}").get_data(
        as_text=True
    )
    assert "The end of the period is before its start." in html and results(html) == ""


def test_results_come_fifty_to_a_page(client, make_org, make_user):
    org = make_org(code="PG")
    operator = make_user("operator", organisation=org, language="en")
    opened = [cases.open_case(by=operator) for _ in range(53)]
    sign_in(client, operator)
    first = found(client, "status=open")
    second = found(client, "status=open&page=2")
    assert len(first) == 50 and len(second) == 3 and not first & second
    assert first | second == {case.number for case in opened}
    html = client.get("/cases/search?status=open").get_data(as_text=True)
    assert "Page 1 of 2" in html and "page=2" in html and "status=open" in html
    # The page links carry the search's own fields only: other names in the address (some
    # that url_for itself takes) are neither copied nor a reason to fail.
    odd = client.get("/cases/search?status=open&endpoint=x&_external=1&_anchor=y&z=1")
    html = odd.get_data(as_text=True)
    assert odd.status_code == 200 and "Page 1 of 2" in html
    assert 'href="/cases/search?status=open&amp;page=2#results"' in html


@pytest.mark.parametrize("typed", ["²", "99999999999999999999", "-1"])
def test_an_assignee_that_is_no_account_id_matches_nothing(client, make_org, make_user, typed):
    operator = make_user("operator", organisation=make_org(), language="en")
    cases.open_case(by=operator)
    sign_in(client, operator)
    response = client.get("/cases/search", query_string={"assignee": typed, "status": "open"})
    assert response.status_code == 200
    assert 'class="case-number"' not in results(response.get_data(as_text=True))


@pytest.mark.parametrize("role", ["admin", "partner"])
def test_admins_and_partners_cannot_search(client, login_as, role):
    login_as(role)
    assert client.get("/cases/search?status=open").status_code == 403


@pytest.mark.parametrize("typed", ["0977 123 456", "Nguyễn Thị Mai", "84977123456", "HN-26-1"])
def test_what_is_not_a_case_number_is_refused_with_a_pointer_to_the_phone_search(
    client, scene, typed
):
    """Without scripts the box's text reaches the server: it is not searched for, and the page
    says where a phone number goes (app.js stops it before it is sent)."""
    p, _ = scene
    sign_in(client, p["sup"])
    response = client.get("/cases/search", query_string={"number": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="search-results"' not in page
    assert "To find a case by phone number" in page and 'data-case-number="' in page


@pytest.mark.parametrize(
    "typed", ["hn 2026 1", "HN2026000001", "hn-2026-000001", "HN-2026-1234567"]
)
def test_a_case_number_in_any_spelling_passes_the_check(typed):
    from app.cases.search_form import case_number

    assert case_number(typed) == normalise_case_number(typed)


def test_a_case_number_outside_ones_scope_is_written_to_the_audit_log(client, scene):
    p, c = scene
    sign_in(client, p["op2"])  # took no call on `adult`
    html = client.get(f"/cases/search?number={c['adult'].number}").get_data(as_text=True)
    assert "No case you may see matches." in html
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.user_id == p["op2"].id)
    ).scalar_one()
    assert denied.case_id == c["adult"].id and denied.detail == "search by case number"
    assert denied.organisation_id == c["adult"].organisation_id
    # A number no case has, or one in scope left out by another filter, is no denial.
    client.get("/cases/search?number=SA-2026-999999")
    client.get(f"/cases/search?number={c['by_call'].number}&risk=severe")
    count = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "denied")
    assert db.session.execute(count).scalar_one() == 1


def test_two_numbers_in_the_phone_search_are_refused_not_searched(client, scene):
    p, _c = scene
    sign_in(client, p["sup"])
    response = client.submit(
        "/cases/search/phone", {"phone": "0977 123 456, 0987 654 321"}, page="/cases/search"
    )
    html = response.get_data(as_text=True)
    assert "Write one number here" in html
    assert (
        db.session.execute(select(AuditEntry).where(AuditEntry.action == "search")).first() is None
    )
