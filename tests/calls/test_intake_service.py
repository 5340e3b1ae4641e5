"""save_intake: one transaction per call, the case and its parts, child path, idempotence."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.calls.intake import (
    Intake,
    IntakeError,
    IntakeKeyTaken,
    LinkRefused,
    Survivor,
    save_intake,
)
from app.calls.models import Call, EmergencyAction
from app.cases import ages
from app.cases.casework import ConsentData, IncidentData, PerpetratorData
from app.cases.models import Case, CaseCounter, Consent, Incident, Perpetrator, RiskAssessment, Task
from app.clock import utcnow
from app.extensions import db


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def violence_report(**overrides) -> Intake:
    data = Intake(
        reason="violence_report",
        intake_key=uuid.uuid4(),
        caller_phone="0912 345 678",
        narrative="Chồng đánh tôi tối qua",
        danger=["injured"],
        emergency=[("police_113", datetime(2026, 11, 22, 7, 5, tzinfo=UTC))],
        survivor=Survivor(name="Nguyễn Thị Lan", sex="female", age=34, phone="0912345678"),
        incident=IncidentData(acts=["a_beating", "b_insults", "m_property"], place_type="home"),
        perpetrator=PerpetratorData(relationship="intimate_partner", sex="male", age_band="26_40"),
        risk_answers=["escalating", "substance"],
        consents=[ConsentData(service="health", granted=True, share_data=True)],
        services_wanted=["health", "legal"],
        counselling="Đã tư vấn kế hoạch an toàn",
    )
    for name, value in overrides.items():
        setattr(data, name, value)
    return data


def test_a_violence_report_creates_the_call_the_case_and_its_parts(make_user, make_org):
    operator = make_user("operator", organisation=make_org(code="HN"))
    saved = save_intake(data=violence_report(), by=operator)
    assert saved.created
    case = saved.case
    year = datetime.now(UTC).year
    assert case.number == f"HN-{year}-000001"
    assert saved.call.case_id == case.id
    assert case.survivor_age_band == "16_59" and not case.is_child
    assert case.risk_level == "low"
    assert case.services_wanted == "health legal"
    incident = db.session.execute(select(Incident)).scalar_one()
    assert incident.forms == "physical psychological economic"
    perpetrator = db.session.execute(select(Perpetrator)).scalar_one()
    assert perpetrator.relationship_code == "intimate_partner"
    assert db.session.execute(select(Consent)).scalar_one().share_data
    action = db.session.execute(select(EmergencyAction)).scalar_one()
    assert action.action == "police_113" and action.case_id == case.id
    assert action.taken_at == datetime(2026, 11, 22, 7, 5, tzinfo=UTC)
    assert [n.body for n in case.notes] == ["Đã tư vấn kế hoạch an toàn"]
    entries = (
        db.session.execute(
            select(AuditEntry)
            .where(AuditEntry.object_type.in_(("call", "case")))
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert [(e.action, e.object_type) for e in entries] == [("create", "call"), ("create", "case")]
    assert f"incident:{incident.id}" in entries[1].detail


def test_a_silent_call_creates_no_case(make_user):
    operator = make_user("operator")
    saved = save_intake(
        data=Intake(reason="silent", intake_key=uuid.uuid4(), outcomes=["no_action"]), by=operator
    )
    assert saved.case is None and count(Case) == 0
    assert saved.call.reason == "silent" and saved.call.outcomes == "no_action"


def test_the_same_form_saved_twice_gives_one_record(make_user):
    operator = make_user("operator")
    data = violence_report()
    first = save_intake(data=data, by=operator)
    again = save_intake(data=violence_report(intake_key=data.intake_key), by=operator)
    assert not again.created and again.call.id == first.call.id
    assert (count(Call), count(Case), count(Incident)) == (1, 1, 1)


def test_a_form_another_account_saved_is_refused_whole(make_user):
    """The same form key under another account: nothing saved, no case number spent, and
    nothing of the first call handed back."""
    first_operator = make_user("operator")
    data = violence_report()
    save_intake(data=data, by=first_operator)
    second = make_user("operator", organisation=first_operator.organisation)
    entries = count(AuditEntry)
    with pytest.raises(IntakeKeyTaken):
        save_intake(data=violence_report(intake_key=data.intake_key), by=second)
    assert (count(Call), count(Case), count(AuditEntry)) == (1, 1, entries + 1)
    last = db.session.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    assert (last.action, last.user_id, last.detail) == (
        "denied",
        second.id,
        "form another account saved",
    )
    assert db.session.execute(select(CaseCounter.last)).scalar_one() == 1  # no number spent
    assert save_intake(data=violence_report(), by=second).created  # a new key saves


def test_a_child_at_serious_risk_gets_the_12_hour_task(make_user):
    operator = make_user("operator")
    data = violence_report(
        survivor=Survivor(name="Bé Na", birth_date=date.today() - timedelta(days=365 * 9)),
        danger=["danger_now"],
    )
    case = save_intake(data=data, by=operator).case
    assert case.is_child and case.survivor_age_band == "under_16"
    tasks = {t.kind: t for t in db.session.execute(select(Task)).scalars()}
    assert set(tasks) == {"notify_commune", "child_12h"}
    window = tasks["child_12h"].due_at - case.opened_at
    assert timedelta(hours=11, minutes=59) < window <= timedelta(hours=12, minutes=1)


def test_a_child_without_serious_risk_gets_only_the_commune_task(make_user):
    case = save_intake(
        data=violence_report(survivor=Survivor(age=12), danger=[], risk_answers=[]),
        by=make_user("operator"),
    ).case
    assert case.is_child
    assert [t.kind for t in db.session.execute(select(Task)).scalars()] == ["notify_commune"]


def test_a_high_risk_rating_plans_a_safety_review_and_flags_the_call(make_user):
    saved = save_intake(
        data=violence_report(risk_answers=["strangulation", "escalating"]),
        by=make_user("operator"),
    )
    assert saved.case.risk_level == "high"
    assert "high_risk" in saved.call.flags.split()
    review = db.session.execute(select(Task).where(Task.kind != "notify_commune")).scalar_one()
    assert review.kind == "safety_review"
    assessment = db.session.execute(select(RiskAssessment)).scalar_one()
    assert (assessment.points, assessment.computed_level) == (2, "high")


def test_raising_the_level_needs_a_reason(make_user):
    from app.cases.services import CaseError

    operator = make_user("operator")
    with pytest.raises(CaseError):
        save_intake(data=violence_report(risk_raised_to="severe"), by=operator)
    db.session.rollback()
    assert count(Case) == 0
    case = save_intake(
        data=violence_report(risk_raised_to="severe", risk_reason="Đã dọa giết qua điện thoại"),
        by=operator,
    ).case
    assert case.risk_level == "severe"


def test_a_follow_up_call_joins_an_existing_case_by_its_number(make_user, make_org):
    org = make_org(code="HN")
    first = save_intake(data=violence_report(), by=make_user("operator", organisation=org))
    colleague = make_user("operator", organisation=org)
    saved = save_intake(
        data=Intake(
            reason="follow_up",
            intake_key=uuid.uuid4(),
            caller_phone="+84 912 345 678",  # the case's caller, spelled another way
            case_number=" " + first.case.number.lower(),
            incident=IncidentData(acts=["e_isolation"]),
        ),
        by=colleague,
    )
    assert saved.case.id == first.case.id and count(Case) == 1
    assert len(saved.case.incidents) == 2
    last = db.session.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    assert (last.action, last.object_type) == ("update", "case")


def test_a_case_number_alone_does_not_let_an_operator_join_a_colleagues_case(make_user, make_org):
    """Joining would open the case to them, and numbers run in sequence: without the case's
    caller on the line (or the case already theirs to see), the link is refused and audited."""
    org = make_org(code="HN")
    first = save_intake(data=violence_report(), by=make_user("operator", organisation=org))
    colleague = make_user("operator", organisation=org)
    entries = count(AuditEntry)
    for phone in (None, "0987 654 321"):
        with pytest.raises(LinkRefused):
            save_intake(
                data=Intake(
                    reason="follow_up",
                    intake_key=uuid.uuid4(),
                    caller_phone=phone,
                    case_number=first.case_number,
                ),
                by=colleague,
            )
    assert (count(Call), count(Case)) == (1, 1)  # nothing of either save stays
    denied = db.session.execute(select(AuditEntry).where(AuditEntry.id > entries)).scalars().all()
    assert [(e.action, e.case_id, e.user_id) for e in denied] == [
        ("denied", first.case_id, colleague.id)
    ] * 2
    # The one who opened it, and a supervisor, may still add calls by number alone.
    number = first.case_number
    opener = db.session.get(Call, first.call_id).taken_by
    supervisor = make_user("supervisor", organisation=org)
    for who in (opener, supervisor):
        joined = save_intake(data=Intake(reason="follow_up", case_number=number), by=who)
        assert joined.case_id == first.case_id


def test_a_saved_follow_up_sent_again_by_the_next_account_is_the_shared_computer_case(
    make_user, make_org
):
    """A follow-up one operator saved (no number: a withheld one) and left open, sent again by
    a colleague who may not join that case: the form's key answers first (IntakeKeyTaken, so
    the page is cleared), not the link rule."""
    org = make_org(code="HN")
    opener = make_user("operator", organisation=org)
    case = save_intake(data=violence_report(), by=opener)
    follow_up = Intake(reason="follow_up", intake_key=uuid.uuid4(), case_number=case.case_number)
    save_intake(data=follow_up, by=opener)
    colleague = make_user("operator", organisation=org)
    entries = count(AuditEntry)
    with pytest.raises(IntakeKeyTaken):
        save_intake(data=follow_up, by=colleague)
    assert count(AuditEntry) == entries + 1 and count(Call) == 2  # the refusal, audited
    again = save_intake(data=follow_up, by=opener)  # and its author gets the first save back
    assert not again.created


def test_an_unknown_case_number_is_refused_and_audited(make_user):
    operator = make_user("operator")
    with pytest.raises(LinkRefused):
        save_intake(data=Intake(reason="follow_up", case_number="HN-2026-999999"), by=operator)
    last = db.session.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    assert (last.action, last.object_type, last.object_id) == ("denied", "case", None)


def test_a_call_cannot_join_another_organisations_case(make_user):
    first = save_intake(data=violence_report(), by=make_user("operator"))
    outsider = make_user("operator")
    with pytest.raises(IntakeError):
        save_intake(data=Intake(reason="follow_up", case_number=first.case.number), by=outsider)


def test_sealed_values_are_not_in_clear_in_the_rows(make_user):
    saved = save_intake(data=violence_report(), by=make_user("operator"))
    raw = db.session.execute(
        select(Case.survivor_name_sealed, Case.survivor_phone_sealed).where(
            Case.id == saved.case.id
        )
    ).one()
    for blob in raw:
        assert "Nguyễn".encode() not in blob and b"0912345678" not in blob


def test_an_age_from_the_date_of_birth_counts_on_vietnams_date(make_user, monkeypatch):
    """At 03:00 in Hanoi on her 16th birthday it is still the day before in UTC: she is 16, not
    a child, whichever path computes it (the intake, the batch writer)."""
    import app.clock

    at = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)  # 05/03/2026 03:00 in Vietnam
    monkeypatch.setattr(app.clock, "utcnow", lambda: at)
    born = date(2010, 3, 5)
    assert ages.survivor_age(None, born) == 16
    assert not ages.is_child_age(None, born)
    assert ages.is_child_age(None, date(2010, 3, 6))
    operator = make_user("operator")
    for birth, child in ((born, False), (date(2010, 3, 6), True)):
        saved = save_intake(
            data=violence_report(
                survivor=Survivor(name="Lan", sex="female", birth_date=birth), danger=[]
            ),
            by=operator,
        )
        assert saved.case.is_child is child


def test_a_checklist_s_re_assessment_runs_from_the_call_s_start(make_user):
    """A call written up six hours after it started: the re-assessment a severe checklist plans
    is due 24 hours after the call began, as a serious danger told without a checklist is (the
    call's clocks do not move later with the save), whichever writer saves it."""
    operator = make_user("operator")
    start = utcnow() - timedelta(hours=6)
    for unit_of_work in (False, True):
        saved = save_intake(
            data=violence_report(
                started_at=start,
                danger=["weapon_or_threat"],
                risk_answers=["threats_to_kill", "strangulation"],
            ),
            by=operator,
            unit_of_work=unit_of_work,
        )
        assert saved.case.risk_level == "severe"
        due = [t.due_at for t in saved.case.tasks if t.kind == "safety_review"]
        assert len(due) == 1 and abs(due[0] - (start + timedelta(hours=24))) < timedelta(seconds=5)
