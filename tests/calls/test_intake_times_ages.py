"""Times and ages as the intake reads them: an age beside a date of birth agrees with it (the
date decides the child path), an emergency action's time of day is moved to the next day only
for a call that ran past midnight, a call-back follows its call, a date pasted with spaces."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.calls.models import Call, EmergencyAction
from app.cases.models import Case, Task
from app.clock import LOCAL
from app.extensions import db
from tests.calls.test_intake_page import count, form


def vn(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")


def test_an_age_that_the_date_of_birth_contradicts_is_refused_with_both_kept(client, login_as):
    """Born 01/01/2016 (10 on the call's day) and "30" typed: one is a slip, and the age won
    silently, a 10-year-old's case saved as an adult's, with no 12-hour check."""
    login_as("operator")
    data = form(
        client,
        started_at="05/12/2026 10:00",
        reason="violence_report",
        survivor_name="Bé Lan",
        survivor_birth_date="01/01/2016",
        survivor_age="30",
        danger=["injured"],
    )
    refused = client.submit("/calls/new", data, page="/calls/new")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and count(Call) == 0
    assert "Tuổi (30) không khớp với ngày sinh (10 tuổi vào ngày cuộc gọi)" in html
    assert 'value="01/01/2016"' in html and 'value="30"' in html
    # Counted by the year (2026 less 2016) it is one more, and taken; the date decides.
    data["survivor_age"] = "11"
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    case = db.session.execute(select(Case)).scalar_one()
    assert case.is_child and case.survivor_age == "11"
    assert "child_12h" in {t.kind for t in db.session.execute(select(Task)).scalars()}


def test_a_girl_of_15_told_to_be_16_by_the_year_is_a_child(client, login_as):
    """Born 20/12/2010, the call on 05/12/2026: 15, though 2026 less 2010 says 16. The age
    typed ("16") won: the child-protection path was missed."""
    login_as("operator")
    data = form(
        client,
        started_at="05/12/2026 10:00",
        reason="violence_report",
        survivor_name="Em Hoa",
        survivor_birth_date="20/12/2010",
        survivor_age="16",
    )
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    case = db.session.execute(select(Case)).scalar_one()
    assert case.is_child and case.survivor_age_band == "under_16"


def test_a_call_back_before_the_call_is_refused(client, login_as):
    """A day typed wrong made a follow-up task overdue before the call it follows."""
    login_as("operator")
    data = form(
        client,
        started_at="06/12/2026 10:00",
        reason="violence_report",
        survivor_name="Chị Mai",
        follow_up_at="05/12/2026 09:00",
    )
    refused = client.submit("/calls/new", data, page="/calls/new")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and count(Call) == 0
    assert "Thời điểm gọi lại không thể trước khi cuộc gọi bắt đầu" in html
    assert 'value="05/12/2026 09:00"' in html
    data["follow_up_at"] = "06/12/2026 15:00"
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302


def test_dates_pasted_with_spaces_around_them_are_read(client, login_as):
    """The call's times were read with spaces around them; the date of birth and the
    incident's date were refused as not dates."""
    login_as("operator")
    data = form(
        client,
        started_at=" 05/12/2026 10:00 ",
        reason="violence_report",
        survivor_name="Chị Mai",
        survivor_birth_date="01/01/2000 ",
        incident_date=" 04/12/2026",
    )
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    case = db.session.execute(select(Case)).scalar_one()
    assert case.survivor_birth_date == "2000-01-01"


def test_a_time_of_day_just_before_a_call_going_on_is_said_to_be_before_it(client, login_as):
    """Read as tomorrow's, it was refused as "later than now": the wrong mistake named."""
    login_as("operator")
    now = datetime.now(UTC).astimezone(LOCAL).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=10)
    data = form(
        client,
        started_at=start.strftime("%d/%m/%Y %H:%M"),
        reason="violence_report",
        survivor_name="Chị Mai",
        emergency=["police_113"],
        emergency_time_police_113=(start - timedelta(minutes=5)).strftime("%H:%M"),
    )
    html = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert count(Call) == 0
    assert "không thể trước khi cuộc gọi bắt đầu" in html
    assert "không thể ở tương lai" not in html


def test_a_time_of_day_just_before_a_past_call_is_not_moved_a_day_on(client, login_as):
    """A call of two days ago, 10:00 to 10:30, a prohibition of contact typed 09:58: it was
    saved as the next day's 09:58, its 12-hour clock a day late, without a word."""
    login_as("operator")
    day = (datetime.now(UTC).astimezone(LOCAL) - timedelta(days=2)).strftime("%d/%m/%Y")
    data = form(
        client,
        started_at=f"{day} 10:00",
        ended_at=f"{day} 10:30",
        reason="violence_report",
        survivor_name="Chị Mai",
        emergency=["no_contact_request"],
        emergency_time_no_contact_request="09:58",
        consent_services=["police"],
    )
    html = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert count(Call) == 0
    assert "không thể trước khi cuộc gọi bắt đầu" in html and 'value="09:58"' in html


def test_an_action_just_after_a_call_past_midnight_is_the_next_day_s(client, login_as):
    """A call from 23:00 to 23:30; the police called at 00:15, after it: the next day."""
    login_as("operator")
    data = form(
        client,
        started_at="05/12/2026 23:00",
        ended_at="05/12/2026 23:30",
        reason="silent",
        emergency=["police_113"],
        emergency_time_police_113="00:15",
    )
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    action = db.session.execute(select(EmergencyAction)).scalar_one()
    assert vn(action.taken_at) == "06/12/2026 00:15"
