"""Every call a person took, page by page (/calls/mine), each call's page a click away: codes and
times only, the person's own calls only."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from app.calls.intake import Intake, Survivor, save_intake
from app.clock import utcnow
from tests.conftest import sign_in

NUMBER = "0912 345 678"


def rows(html: str) -> list[str]:
    match = re.search(r'<table id="my-calls".*?</table>', html, flags=re.S)
    assert match, "no call list"
    return re.findall(r"<tr\b.*?</tr>", match.group(0).split("<tbody>")[1], flags=re.S)


@pytest.fixture
def calls(make_org, make_user):
    """An operator's 55 calls, one every ten minutes until an hour ago (the newest a violence
    report opening a case), and a colleague's call."""
    org = make_org(code="MC")
    op = make_user("operator", organisation=org, language="en")
    colleague = make_user("operator", organisation=org, language="en")
    start = utcnow() - timedelta(hours=1)
    taken = []
    for i in range(54):
        data = Intake(
            reason="silent",
            started_at=start - timedelta(minutes=10 * (54 - i)),
            caller_phone=NUMBER,
        )
        taken.append(save_intake(data=data, by=op).call)
    report = Intake(
        reason="violence_report",
        started_at=start,
        caller_phone=NUMBER,
        survivor=Survivor(name="Người Gọi Nhiều", age=33),
    )
    newest = save_intake(data=report, by=op)
    taken.append(newest.call)
    theirs = save_intake(data=Intake(reason="information", started_at=start), by=colleague).call
    return {"op": op, "colleague": colleague}, taken, newest.case, theirs


def test_every_call_is_listed_page_by_page_newest_first(client, calls):
    people, taken, case, theirs = calls
    sign_in(client, people["op"])
    first = client.get("/calls/mine").get_data(as_text=True)
    assert len(rows(first)) == 50 and "Page 1 of 2" in first
    assert f'href="/calls/{taken[-1].id}"' in rows(first)[0]  # the newest first
    assert case.number in rows(first)[0] and "Violence report" in rows(first)[0]
    second = client.get("/calls/mine?page=2").get_data(as_text=True)
    assert len(rows(second)) == 5 and f'href="/calls/{taken[0].id}"' in rows(second)[-1]
    listed = set(re.findall(r'href="/calls/([0-9a-f-]{36})"', first + second))
    assert listed == {str(call.id) for call in taken}  # each once, none left out
    assert str(theirs.id) not in first + second
    for html in (first, second):  # nothing sealed: no number, no name
        assert "912345678" not in html and NUMBER not in html and "Người Gọi Nhiều" not in html
    # A page past the end shows the last one.
    assert "Page 2 of 2" in client.get("/calls/mine?page=40").get_data(as_text=True)


def test_the_home_page_links_each_call_and_the_whole_list(client, calls):
    people, taken, case, theirs = calls
    sign_in(client, people["op"])
    html = client.get("/home/operator").get_data(as_text=True)
    assert f'href="/calls/{taken[-1].id}"' in html
    assert 'href="/calls/mine"' in html


def test_a_short_list_has_no_pages(client, calls):
    people, taken, case, theirs = calls
    sign_in(client, people["colleague"])
    html = client.get("/calls/mine").get_data(as_text=True)
    assert len(rows(html)) == 1 and str(theirs.id) in html and "Page 1 of" not in html


@pytest.mark.parametrize("role", ["case_manager", "admin", "partner"])
def test_only_those_who_take_calls_have_the_list(client, make_user, role):
    sign_in(client, make_user(role))
    assert client.get("/calls/mine").status_code == 403


def test_years_of_calls_are_counted_only_so_far(client, calls, monkeypatch):
    """Past the cap the count says "more than", the pages go on by Next, and no exact count of
    every call is made."""
    from app.calls import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 20)
    people, taken, case, theirs = calls
    sign_in(client, people["op"])
    first = client.get("/calls/mine").get_data(as_text=True)
    assert "more than 20" in first and "Page 1<" in first and "Page 1 of" not in first
    assert len(rows(first)) == 50 and 'href="/calls/mine?page=2"' in first
    second = client.get("/calls/mine?page=2").get_data(as_text=True)
    assert len(rows(second)) == 5 and "?page=3" not in second  # the last page says so
    beyond = client.get("/calls/mine?page=9")  # a stale link: the list's start
    assert beyond.status_code == 302 and beyond.location.endswith("/calls/mine")


def test_an_operator_made_case_manager_no_longer_reads_the_calls_they_took(
    client, make_org, make_user
):
    """A case manager sees the cases assigned to them, and their calls: the calls the person
    took as an operator, of cases not theirs now, are refused (404, audited)."""
    from sqlalchemy import select

    from app.admin import services as admin_services
    from app.audit import AuditEntry
    from app.extensions import db

    org = make_org(code="RC")
    op = make_user("operator", organisation=org, language="en")
    admin = make_user("admin", organisation=org)
    saved = save_intake(
        data=Intake(
            reason="violence_report",
            caller_phone=NUMBER,
            narrative="Lời kể bí mật",
            survivor=Survivor(name="Người Đổi Vai", age=30),
        ),
        by=op,
    )
    sign_in(client, op)
    assert client.get(f"/calls/{saved.call.id}").status_code == 200
    admin_services.update_user(
        by=admin,
        user=op,
        email=op.email,
        full_name=op.full_name,
        role="case_manager",
        organisation=op.organisation,
        language="en",
    )
    sign_in(client, op)
    answer = client.get(f"/calls/{saved.call.id}")
    assert answer.status_code == 404 and "Lời kể bí mật" not in answer.get_data(as_text=True)
    denied = select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.user_id == op.id)
    assert db.session.execute(denied).scalar_one().object_id == str(saved.call.id)


def test_the_call_page_of_a_child_s_case_tags_it(client, make_user, make_org):
    """The call's page names its case with the "Child" tag, as every list does: the number to
    call back and the safe-contact instructions are read there."""
    operator = make_user("operator", organisation=make_org(code="HN"))
    saved = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_phone="0912345678",
            survivor=Survivor(age=12),
        ),
        by=operator,
    )
    sign_in(client, operator)
    page = client.get(f"/calls/{saved.call_id}").get_data(as_text=True)
    assert f'class="case-number">{saved.case_number}</a> <span class="tag child-tag">' in page


def test_the_desk_s_last_seven_days_are_days_in_vietnam(make_org, make_user):
    """The desk's "My calls in the last 7 days" counts whole days in Vietnam from the start of
    the first, as its "cases opened" list beside it does: a call at 00:10 that first morning is
    in, one at 23:50 the evening before is not, whatever the hour the desk is drawn."""
    from datetime import datetime

    from app.calls.queries import recent_calls
    from app.clock import LOCAL

    op = make_user("operator", organisation=make_org(code="SD"))
    now = datetime(2026, 12, 7, 2, 0, tzinfo=LOCAL)  # 02:00 on the 7th in Vietnam
    first = datetime(2026, 11, 30, 0, 10, tzinfo=LOCAL)
    before = datetime(2026, 11, 29, 23, 50, tzinfo=LOCAL)
    for at in (first, before):
        save_intake(data=Intake(reason="silent", started_at=at, caller_phone=NUMBER), by=op)
    listed, total = recent_calls(op, now=now)
    assert total == 1 and [row.started_at for row in listed] == [first]
