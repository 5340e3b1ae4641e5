"""The case page: need-to-know by role, one 'view' entry per look, denied looks recorded."""

import re
from datetime import timedelta

import pytest

from app.audit import AuditEntry
from app.calls import services as calls
from app.cases import services as cases
from app.cases.models import Case
from app.extensions import db
from tests.conftest import sign_in

NAME = "Phạm Thị Trang Xem"


@pytest.fixture
def scene(make_user, make_org):
    """A hotline with an operator who opened a case, its case manager, a supervisor, and others."""
    hotline = make_org(name="Tổng đài Thử", code="TD")
    people = {
        "opener": make_user("operator", organisation=hotline),
        "other_operator": make_user("operator", organisation=hotline),
        "manager": make_user("case_manager", organisation=hotline),
        "other_manager": make_user("case_manager", organisation=hotline),
        "supervisor": make_user("supervisor", organisation=hotline),
        "outside_supervisor": make_user("supervisor"),
        "admin": make_user("admin", organisation=hotline),
        "partner": make_user("partner"),
    }
    call = calls.log_call(by=people["opener"], caller_phone="0911222333", narrative="lời kể")
    case = cases.open_case(by=people["opener"], call=call, survivor_name=NAME)
    case.assigned_to_id = people["manager"].id
    db.session.commit()
    return people, case


@pytest.mark.parametrize(
    "who, status",
    [
        ("opener", 200),
        ("manager", 200),
        ("supervisor", 200),
        ("other_operator", 404),
        ("other_manager", 404),
        ("outside_supervisor", 404),
        ("admin", 403),
        ("partner", 403),
    ],
)
def test_who_may_see_a_case(client, scene, who, status):
    people, case = scene
    sign_in(client, people[who])
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert (NAME in page) == (status == 200)
    if status == 404:
        denied = (
            db.session.query(AuditEntry).filter_by(action="denied", user_id=people[who].id).one()
        )
        assert denied.object_id == str(case.id)


def test_a_view_writes_exactly_one_entry_naming_what_was_shown(client, scene):
    people, case = scene
    sign_in(client, people["supervisor"])
    before = db.session.query(AuditEntry).count()
    assert client.get(f"/cases/{case.id}").status_code == 200
    entries = db.session.query(AuditEntry).filter(AuditEntry.id > before).all()
    assert [e.action for e in entries] == ["view"]
    assert entries[0].case_id == case.id and entries[0].user_id == people["supervisor"].id
    assert f"call:{case.calls[0].id}" in entries[0].detail
    assert NAME not in (entries[0].detail or "")


def test_an_erased_case_shows_only_its_codes(client, scene):
    people, case = scene
    cases.erase_case(
        case=db.session.get(Case, case.id), by=people["supervisor"], reason="survivor_request"
    )
    sign_in(client, people["supervisor"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert case.number in page and NAME not in page and "lời kể" not in page


def test_case_numbers_are_readable_and_sequential(make_user, make_org):
    org = make_org(code="HN")
    operator = make_user("operator", organisation=org)
    numbers = [cases.open_case(by=operator).number for _ in range(3)]
    year = db.session.query(Case).first().opened_at.year
    assert numbers == [f"HN-{year}-00000{n}" for n in (1, 2, 3)]


def test_the_safe_contact_card_shows_the_flags_of_the_cases_calls(client, scene):
    """Before calling back from the case page: the perpetrator may answer, the risk is high."""
    people, case = scene
    case.calls[0].flags = "perpetrator_calling"
    case.risk_level = "high"
    case.safe_contact = "Chỉ gọi sau 20h"
    db.session.commit()
    sign_in(client, people["manager"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    card = page[page.index('class="card safe-contact"') :]
    card = card[: card.index("</section>")]
    assert "Người gây bạo lực có thể gọi" in card
    assert "flag-high_risk" in card and "Chỉ gọi sau 20h" in card


def test_the_call_page_shows_its_cases_safe_contact_with_the_number(app, scene):
    people, case = scene
    case.safe_contact = "Chỉ nhắn Zalo"
    db.session.commit()
    call = case.calls[0]
    for who in ("opener", "supervisor"):
        browser = app.test_client()
        sign_in(browser, people[who])
        before = db.session.query(AuditEntry).count()
        page = browser.get(f"/calls/{call.id}").get_data(as_text=True)
        assert "Chỉ nhắn Zalo" in page and "0911222333" in page
        entry = db.session.query(AuditEntry).filter(AuditEntry.id > before).one()
        assert (entry.action, entry.case_id) == ("view", case.id)
        assert entry.detail == "with the case's safe contact"


@pytest.mark.parametrize("linked", [True, False])
def test_calls_taken_at_a_former_organisation_are_not_shown(client, scene, make_org, linked):
    """An operator moved to another hotline no longer opens the calls they took at the old one
    (with or without a case); the attempt is refused, 404, and audited under the old hotline."""
    people, case = scene
    call = case.calls[0] if linked else calls.log_call(by=people["opener"], narrative="không ca")
    db.session.commit()
    sign_in(client, people["opener"])
    assert client.get(f"/calls/{call.id}").status_code == 200
    people["opener"].organisation_id = make_org(code="MV").id
    db.session.commit()
    response = client.get(f"/calls/{call.id}")
    assert response.status_code == 404 and "lời kể" not in response.get_data(as_text=True)
    denied = db.session.query(AuditEntry).filter_by(action="denied").one()
    assert (denied.object_id, denied.organisation_id) == (str(call.id), call.organisation_id)


@pytest.mark.parametrize("who", ["other_operator", "outside_supervisor"])
def test_a_new_call_on_a_case_out_of_reach_is_refused_and_audited(client, scene, who):
    """/calls/new?case=<id> from a stale or altered link: 404, and the attempt is in the log
    under the case's organisation; the case's own people still get the linked intake."""
    people, case = scene
    sign_in(client, people[who])
    response = client.get(f"/calls/new?case={case.id}")
    assert response.status_code == 404 and case.number not in response.get_data(as_text=True)
    denied = db.session.query(AuditEntry).filter_by(action="denied").one()
    assert (denied.user_id, denied.case_id) == (people[who].id, case.id)
    assert denied.organisation_id == case.organisation_id
    opener = client.application.test_client()
    sign_in(opener, people["opener"])
    assert case.number in opener.get(f"/calls/new?case={case.id}").get_data(as_text=True)


def test_a_view_of_a_long_case_keeps_the_counts_and_names_the_newest_calls(client, scene):
    """Counts come first and the ids stop before the cut, saying how many were not named."""
    people, case = scene
    for minutes in range(1, 7):
        later = case.calls[0].started_at + timedelta(minutes=minutes)
        calls.log_call(by=people["opener"], started_at=later).case_id = case.id
    db.session.commit()
    sign_in(client, people["supervisor"])
    before = db.session.query(AuditEntry).count()
    assert client.get(f"/cases/{case.id}").status_code == 200
    [entry] = db.session.query(AuditEntry).filter(AuditEntry.id > before).all()
    assert entry.detail.startswith("call=7 ") and entry.detail.endswith(" calls_unnamed=3")
    newest = max(db.session.get(Case, case.id).calls, key=lambda c: c.started_at)
    assert f"call:{newest.id}" in entry.detail and entry.detail.count("call:") == 4


def test_typed_text_is_kept_out_of_the_browsers_form_history(client, scene):
    """A shared hotline computer: the browser must not keep (and offer the next person) what
    was typed about a case, in any field of the case page or the status page."""
    people, case = scene
    sign_in(client, people["manager"])
    pages = [f"/cases/{case.id}", f"/cases/{case.id}/status?to=in_support"]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        fields = re.findall(r"<(?:input|textarea)\b[^>]*>", html)
        typed = [f for f in fields if not re.search(r'type="(hidden|submit|checkbox|radio)"', f)]
        assert typed, url
        for tag in typed:
            assert 'autocomplete="off"' in tag, (url, tag)


def test_a_new_call_on_a_closed_case_says_so_before_anything_is_typed(client, scene):
    """From a stale link (the case closed since the page was drawn): the intake said "this call
    will be added to case …", and only the save refused it."""
    people, case = scene
    case.status = "closed"
    db.session.commit()
    sign_in(client, people["opener"])
    page = client.get(f"/calls/new?case={case.id}").get_data(as_text=True)
    assert "Ca đó đã đóng. Hãy mở ca mới" in page
    assert "Cuộc gọi này sẽ được thêm vào ca" not in page
