"""The duties a call sets going (app/calls/planning.py): the commune notified of every violence
report (done in the call when recorded there), a child involved in an adult's case on the
12-hour path, a serious danger told without the checklist assessed within a day, a
prohibition of contact asked with the survivor's consent and its decision checked 12 hours
on; and consent that says who answered."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.calls.intake import Intake, Survivor, save_intake
from app.cases import queries
from app.cases.edits import update_case
from app.cases.models import Case, Consent, RiskAssessment, Task
from app.clock import utcnow
from app.extensions import db
from tests.calls.test_intake_page import form
from tests.conftest import sign_in


def tasks(case_id=None) -> dict[str, Task]:
    db.session.rollback()  # a fresh read: the server wrote since
    stmt = select(Task)
    if case_id is not None:
        stmt = stmt.where(Task.case_id == case_id)
    return {t.kind: t for t in db.session.execute(stmt).scalars()}


def report(by, **fields):
    return save_intake(
        data=Intake(reason="violence_report", intake_key=uuid.uuid4(), **fields), by=by
    )


def test_the_commune_is_to_be_notified_of_an_adults_violence_report(make_user):
    """Law 13/2022: the hotline records, counsels and notifies the commune chair. Only a
    child's case asked for it."""
    saved = report(make_user("operator"), survivor=Survivor(name="Chị Hoa", age=34))
    notify = tasks()["notify_commune"]
    assert not saved.case.is_child and notify.done_at is None
    assert notify.due_at == saved.call.started_at  # at once


def test_a_notification_recorded_in_the_call_is_the_task_done(make_user):
    """The commune chair notified, recorded with its time: the task is done then, by the
    operator, not left overdue to prompt a second notification."""
    operator = make_user("operator")
    at = utcnow() - timedelta(minutes=5)
    report(operator, survivor=Survivor(age=9), emergency=[("commune_chair", at)])
    notify = tasks()["notify_commune"]
    assert (notify.done_at, notify.done_by_id, notify.ended_by) == (at, operator.id, None)


def test_a_notification_recorded_in_a_later_call_is_the_open_task_done(make_user):
    operator = make_user("operator")
    case = report(operator, survivor=Survivor(age=40)).case
    at = utcnow() - timedelta(minutes=1)
    save_intake(
        data=Intake(
            reason="follow_up",
            intake_key=uuid.uuid4(),
            case_id=case.id,
            emergency=[("commune_chair", at)],
        ),
        by=operator,
    )
    assert [(t.kind, t.done_at) for t in tasks().values()] == [("notify_commune", at)]


def test_a_child_involved_in_an_adults_case_is_on_the_12_hour_path(make_user, make_org):
    """The survivor is 30; her child was there, and the danger is now. The case stays an
    adult's (her age band, her consent), and the child's 12 hours run: in the supervisor's
    child deadlines, and not ended by a later edit of her age."""
    org = make_org(code="CI")
    operator, supervisor = (
        make_user("operator", organisation=org),
        make_user("supervisor", organisation=org),
    )
    saved = report(
        operator,
        survivor=Survivor(name="Chị Lan", age=30),
        danger=["child_involved", "danger_now"],
        risk_answers=["escalating"],
    )
    case = saved.case
    assert not case.is_child and case.survivor_age_band == "16_59"
    check = tasks()["child_12h"]
    assert check.due_at == saved.call.started_at + timedelta(hours=12)
    listed = queries.child_deadlines(supervisor)
    assert [row.case_number for row in listed.rows] == [case.number]
    case = db.session.get(Case, case.id)
    update_case(
        case=case, by=supervisor, expected_version=case.version, changes={"survivor_age": "31"}
    )
    assert tasks()["child_12h"].done_at is None  # still the child's 12 hours


def test_an_adult_of_unknown_age_with_a_child_involved_keeps_the_12_hours_once_her_age_is_known(
    make_user,
):
    """With no age, "a child is involved" makes the case a child's (the survivor may be the
    child: protect first). Her age entered later takes the flag off, not the child's clock."""
    supervisor = make_user("supervisor")
    case = report(make_user("operator"), danger=["child_involved", "injured"]).case
    assert case.is_child and "child_12h" in tasks()
    case = db.session.get(Case, case.id)
    update_case(
        case=case, by=supervisor, expected_version=case.version, changes={"survivor_age": "35"}
    )
    db.session.rollback()
    assert not db.session.get(Case, case.id).is_child
    assert tasks()["child_12h"].ended_by is None


def test_a_serious_danger_told_without_the_checklist_asks_for_an_assessment_within_a_day(
    make_user,
):
    operator = make_user("operator")
    saved = report(operator, survivor=Survivor(age=28), danger=["weapon_or_threat"])
    review = tasks(saved.case_id)["safety_review"]
    assert review.due_at == saved.call.started_at + timedelta(hours=24)
    assert saved.case.risk_level is None  # not assessed: no level is made up
    # With the checklist filled in, its level plans what follows (a high one: in 72 hours).
    assessed = report(
        operator,
        survivor=Survivor(age=28),
        danger=["weapon_or_threat"],
        risk_answers=["weapon_used"],
    )
    assert assessed.case.risk_level == "high"
    review = tasks(assessed.case_id)["safety_review"]
    assert review.due_at - assessed.call.started_at > timedelta(hours=71)


def test_the_danger_questions_and_the_checklist_agree(client, login_as):
    """A weapon or a threat to kill told first, then a checklist without either red flag: the
    level came out low. Pregnant told first is the checklist's question too."""
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        danger=["weapon_or_threat", "pregnant"],
        risk_answers=["substance"],
    )
    refused = client.submit("/calls/new", data, page="/calls/new")
    assert refused.status_code == 200
    assert "đánh dấu đúng mục đó trong bảng kiểm" in refused.get_data(as_text=True)
    data["risk_answers"] = ["substance", "threats_to_kill"]
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    db.session.rollback()
    assessment = db.session.execute(select(RiskAssessment)).scalar_one()
    assert sorted(assessment.answers.split()) == ["pregnant", "substance", "threats_to_kill"]
    assert assessment.level == "high"


def test_a_prohibition_of_contact_needs_the_survivors_consent_and_its_decision_is_checked(
    client, login_as
):
    """Law 13/2022: asked by an agency, it needs the victim's consent; the commune chair
    decides within 12 hours of the request."""
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        survivor_name="Chị Mai",
        emergency=["no_contact_request"],
        emergency_time_no_contact_request="22/11/2026 09:40",
    )
    missing = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "cần sự đồng ý của người bị bạo lực" in missing and "Chị Mai" in missing
    data["consent_refused"] = ["police"]
    refused = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "không thể đề nghị cấm tiếp xúc" in refused
    data.pop("consent_refused")
    data["consent_services"] = ["police"]
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    decision = tasks()["no_contact_12h"]
    assert decision.due_at == datetime(2026, 11, 22, 14, 40, tzinfo=UTC)  # 09:40 + 12 h, in UTC
    assert db.session.execute(select(Consent.service)).scalars().all() == ["police"]


@pytest.mark.parametrize("where", ["intake", "case page"])
def test_consent_no_one_could_give_agrees_to_nothing(client, login_as, make_user, where):
    """ "Could not be asked" with services agreed and details shareable was stored as a
    consent given; only an emergency referral with its reason may go without consent."""
    operator = login_as("operator")
    answers = {
        "consent_given_by": "not_asked",
        "consent_services": ["health", "police"],
        "consent_share": "yes",
    }
    browser = client
    if where == "intake":
        url, data = "/calls/new", form(client, reason="violence_report", **answers)
    else:
        case = report(operator, survivor=Survivor(age=30)).case
        manager = make_user("case_manager", organisation=operator.organisation)
        db.session.get(Case, case.id).assigned_to_id = manager.id
        db.session.commit()
        browser = client.application.test_client()
        sign_in(browser, manager)
        url, data = f"/cases/{case.id}/consent", answers
    answer = browser.submit(url, data, page=url)
    assert answer.status_code in (200, 422)
    assert "Không hỏi được ai" in answer.get_data(as_text=True)
    db.session.rollback()
    assert db.session.execute(select(Consent)).first() is None


def test_a_child_involved_told_in_an_earlier_call_makes_a_later_danger_the_childs_12_hours(
    make_user,
):
    """Call 1 told a child involved, no serious danger; call 2 (danger now) or a high
    reassessment on the case page looked at their own answers only: no 12-hour check."""
    from app.cases.casework import reassess_risk

    operator = make_user("operator")
    first = report(operator, survivor=Survivor(age=30), danger=["child_involved"]).case_id
    second = report(operator, survivor=Survivor(age=31), danger=["child_involved"]).case_id
    assert "child_12h" not in tasks(first) and "child_12h" not in tasks(second)
    save_intake(
        data=Intake(
            reason="follow_up", intake_key=uuid.uuid4(), case_id=first, danger=["danger_now"]
        ),
        by=operator,
    )
    assert tasks(first)["child_12h"].done_at is None
    reassess_risk(case=db.session.get(Case, second), by=operator, answers=["weapon_used"])
    assert tasks(second)["child_12h"].done_at is None


def test_a_prohibition_of_contact_on_a_call_joining_a_case_rests_on_the_cases_consent(
    client, login_as
):
    """The survivor refused police and protection orders in the first call: a follow-up call
    recording a request was saved, its decision task opened."""
    from app.cases.casework import ConsentData

    operator = login_as("operator")
    refused = report(operator, consents=[ConsentData(service="police", granted=False)]).case
    never = report(operator).case
    agreed = report(operator, consents=[ConsentData(service="police", granted=True)]).case
    for case, expected in (
        (refused, "không thể đề nghị cấm tiếp xúc"),
        (never, "cần sự đồng ý của người bị bạo lực"),
        (agreed, None),
    ):
        data = form(
            client,
            reason="follow_up",
            case_number=case.number,
            emergency=["no_contact_request"],
            emergency_time_no_contact_request="22/11/2026 09:40",
        )
        answer = client.submit("/calls/new", data, page="/calls/new")
        if expected is None:
            assert answer.status_code == 302
            assert "no_contact_12h" in tasks(case.id)
        else:
            assert answer.status_code == 200 and expected in answer.get_data(as_text=True)
            assert "no_contact_12h" not in tasks(case.id)


def test_a_prohibition_of_contact_is_asked_on_a_case(client, login_as):
    login_as("operator")
    data = form(
        client,
        reason="counselling",
        emergency=["no_contact_request"],
        emergency_time_no_contact_request="22/11/2026 09:40",
    )
    answer = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Chỉ có thể đề nghị cấm tiếp xúc trong ca của người bị bạo lực" in answer


def test_a_parent_or_guardian_refusing_a_referral_is_recorded(client, login_as):
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        survivor_age="10",
        consent_refused=["counselling"],
        consent_given_by="guardian",
        guardian_consent="no",
    )
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    db.session.rollback()
    consent = db.session.execute(select(Consent)).scalar_one()
    assert (consent.service, consent.granted, consent.given_by) == (
        "counselling",
        False,
        "guardian",
    )


def test_a_level_raised_to_what_pregnancy_told_first_makes_needs_no_reason(client, login_as):
    """The page and the save count "pregnant" from the danger questions; the form's check did
    not, and asked a reason for raising to the level the page showed."""
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        danger=["pregnant"],
        risk_answers=["escalating", "substance"],
        risk_raised_to="medium",
    )
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    db.session.rollback()
    assert db.session.execute(select(RiskAssessment.level)).scalar_one() == "medium"
