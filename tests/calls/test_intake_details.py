"""What a call tells is kept as it was told: a child calling for themself puts the case on the
child-protection path, a child helpline category or a weapon given alone is kept, a child's
consent says who agreed, an emergency action's time is the one typed, a case number is found
however it is spaced, and a case is numbered by Vietnam's year."""

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.calls.intake import Intake, Survivor, save_intake
from app.calls.models import EmergencyAction, IntakeDraft
from app.cases.casework import ConsentData, IncidentData
from app.cases.models import Case, Consent, Incident, Perpetrator, Task
from app.clock import local_today
from app.extensions import db
from tests.calls.test_intake_page import form


def only(model):
    db.session.rollback()  # a fresh read: the server wrote since
    return db.session.execute(select(model)).scalar_one()


def kinds() -> set[str]:
    return {t.kind for t in db.session.execute(select(Task)).scalars()}


def test_a_child_calling_for_themself_puts_the_case_on_the_child_path(make_user):
    """No age given: the caller being a child is what is known, and the helpline category and
    the child's consent are recorded as a child's."""
    saved = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_type="child_self",
            danger=["danger_now"],
            survivor=Survivor(name="Bé Na"),
            incident=IncidentData(chi_category="physical"),
            consents=[
                ConsentData(
                    service="counselling", granted=True, child_assent="yes", guardian_consent="yes"
                )
            ],
        ),
        by=make_user("operator"),
    )
    assert saved.case.is_child and saved.case.survivor_age_band == "unknown"
    # Danger now told without the checklist: the risk is to be assessed within a day too.
    assert kinds() == {"notify_commune", "child_12h", "safety_review"}
    assert only(Incident).chi_category == "physical"
    assert only(Consent).given_by == "child_and_guardian"


def test_a_child_calling_on_a_case_already_open_does_not_make_it_a_child_s(make_user):
    """A child may call from a parent's phone about the parent's case: the caller type alone
    changes nothing of a case the call joins, and a category alone makes no incident there."""
    operator = make_user("operator")
    opened = save_intake(
        data=Intake(
            reason="violence_report", intake_key=uuid.uuid4(), survivor=Survivor(name="Chị Lan")
        ),
        by=operator,
    ).case
    joined = save_intake(
        data=Intake(
            reason="follow_up",
            intake_key=uuid.uuid4(),
            caller_type="child_self",
            case_id=opened.id,
            incident=IncidentData(chi_category="bullying"),
        ),
        by=operator,
    ).case
    assert joined.id == opened.id and not joined.is_child
    # The commune notification of the violence report, planned once when the case opened.
    assert kinds() == {"notify_commune"}
    assert db.session.execute(select(Incident)).first() is None


def test_an_age_of_16_or_more_outweighs_the_caller_type(make_user):
    saved = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_type="child_self",
            survivor=Survivor(age=17),
        ),
        by=make_user("operator"),
    )
    assert not saved.case.is_child and kinds() == {"notify_commune"}  # no child path


def test_a_child_involved_keeps_the_helpline_category_of_the_incident(make_user):
    save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            danger=["child_involved"],
            survivor=Survivor(name="Chị Hoa"),
            incident=IncidentData(acts=["a_beating"], chi_category="physical"),
        ),
        by=make_user("operator"),
    )
    assert only(Case).is_child
    assert only(Incident).chi_category == "physical"


def consent_of(make_user, **answers) -> str:
    save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            survivor=Survivor(age=12),
            consents=[ConsentData(service="health", granted=True, **answers)],
        ),
        by=make_user("operator"),
    )
    return only(Consent).given_by


def test_a_child_s_consent_says_a_guardian_agreed_only_when_one_did(make_user):
    assert consent_of(make_user, child_assent="yes", guardian_consent="no") == "survivor"


def test_a_guardian_s_yes_beside_the_child_s_is_both(make_user):
    assert consent_of(make_user, child_assent="yes", guardian_consent="yes") == (
        "child_and_guardian"
    )


def test_a_guardian_s_yes_against_the_child_s_no_is_the_guardian_only(make_user):
    assert consent_of(make_user, child_assent="no", guardian_consent="yes") == "guardian"


def test_a_category_or_a_weapon_told_alone_is_kept(client, login_as):
    """A caller who will not say who it was, and a concern that is not an act of the law
    (bullying at school): what was chosen is a record, not dropped for want of the rest."""
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        caller_type="child_self",
        chi_category="bullying",
        perpetrator_weapon="yes",
        perpetrator_alcohol="yes",
    )
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    incident, perpetrator = only(Incident), only(Perpetrator)
    assert (incident.chi_category, incident.acts) == ("bullying", "")
    assert (perpetrator.relationship_code, perpetrator.weapon_access) == ("unknown", "yes")
    assert perpetrator.alcohol_or_drugs == "yes"
    page = client.get(f"/cases/{only(Case).id}").get_data(as_text=True)
    assert "CHI: " in page


def test_nothing_told_of_the_incident_or_the_person_makes_no_record_of_them(client, login_as):
    login_as("operator")
    data = form(client, reason="violence_report", survivor_name="Chị Hoa")
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    db.session.rollback()
    assert db.session.execute(select(Incident)).first() is None
    assert db.session.execute(select(Perpetrator)).first() is None


def test_an_emergency_action_s_time_is_the_one_typed_or_refused(client, login_as):
    """hh:mm is that time on the call's day; what is not a time, or a time to come, is refused
    with everything kept, never replaced by the time of saving."""
    login_as("operator")
    data = form(
        client,
        reason="silent",
        started_at="22/11/2026 09:30",
        emergency=["police_113", "ambulance_115"],
        emergency_time_police_113="9h40",
        emergency_time_ambulance_115="1430",
    )
    refused = client.submit("/calls/new", data, page="/calls/new")
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert "hh:mm hoặc dd/mm/yyyy hh:mm" in html
    assert 'value="1430"' in html and 'value="9h40"' in html
    db.session.rollback()
    assert db.session.execute(select(EmergencyAction)).first() is None

    data.update(emergency_time_ambulance_115="31/12/2099 10:00")
    later = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "không thể ở tương lai" in later

    data.update(emergency_time_ambulance_115="20/11/2026 10:05")  # the day typed wrong
    earlier = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "không thể trước khi cuộc gọi bắt đầu" in earlier
    assert 'value="20/11/2026 10:05"' in earlier
    db.session.rollback()
    assert db.session.execute(select(EmergencyAction)).first() is None

    data.update(emergency_time_ambulance_115="10:05")
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    db.session.rollback()
    times = dict(db.session.execute(select(EmergencyAction.action, EmergencyAction.taken_at)).all())
    assert times == {  # 09:40 and 10:05 in Hanoi on the call's day
        "police_113": datetime(2026, 11, 22, 2, 40, tzinfo=UTC),
        "ambulance_115": datetime(2026, 11, 22, 3, 5, tzinfo=UTC),
    }


def test_a_time_of_day_after_midnight_is_the_next_day_s(client, login_as):
    """A call from 23:55, an action at 00:10: the action is 15 minutes later, not a day
    before the call."""
    login_as("operator")
    data = form(
        client,
        reason="silent",
        started_at="21/11/2026 23:55",
        emergency=["police_113"],
        emergency_time_police_113="00:10",
    )
    assert client.submit("/calls/new", data, page="/calls/new").status_code == 302
    assert only(EmergencyAction).taken_at == datetime(2026, 11, 21, 17, 10, tzinfo=UTC)


def test_a_child_s_consent_that_says_two_things_is_refused_with_everything_kept(client, login_as):
    login_as("operator")
    data = form(
        client,
        reason="violence_report",
        survivor_age="12",
        consent_services=["counselling"],
        child_assent="no",
        guardian_consent="unknown",
        counselling="Đã nói chuyện với em",
    )
    refused = client.submit("/calls/new", data, page="/calls/new")
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert "Trẻ không đồng ý và không có cha mẹ hay người giám hộ nào đồng ý" in html
    assert "Đã nói chuyện với em" in html
    data.update(child_assent="yes", guardian_consent="no", consent_given_by="child_and_guardian")
    both = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Trẻ hoặc cha mẹ/người giám hộ không đồng ý" in both
    data.update(consent_given_by="guardian")  # the parent or guardian who said no
    only_them = client.submit("/calls/new", data, page="/calls/new").get_data(as_text=True)
    assert "Cha mẹ/người giám hộ không đồng ý: hãy chọn người đã đồng ý." in only_them
    db.session.rollback()
    assert db.session.execute(select(Case)).first() is None


def test_a_child_s_consent_rule_counts_her_age_on_the_call_s_day(client, login_as):
    """A call written up the day after, about a girl who turned 16 in between: the case is a
    child's (her age on the call's day), so the child's consent rule holds on the form too."""
    login_as("operator")
    today = local_today()
    born = date(today.year - 16, today.month, min(today.day, 28))
    if born.day != today.day:  # 29 to 31: a birthday that is today in every month
        born = date(today.year - 16, today.month, 1)
        today = date(today.year, today.month, 1)
    started = datetime.combine(today - timedelta(days=1), time(20, 0))
    data = form(
        client,
        reason="violence_report",
        started_at=started.strftime("%d/%m/%Y %H:%M"),
        ended_at=started.replace(minute=30).strftime("%d/%m/%Y %H:%M"),
        survivor_birth_date=born.strftime("%d/%m/%Y"),
        consent_services=["counselling"],
        child_assent="no",
        guardian_consent="unknown",
    )
    refused = client.submit("/calls/new", data, page="/calls/new")
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert "Trẻ không đồng ý và không có cha mẹ hay người giám hộ nào đồng ý" in html
    db.session.rollback()
    assert db.session.execute(select(Case)).first() is None


def test_a_case_number_read_out_with_spaces_finds_the_case(make_user, make_org):
    org = make_org(code="HN")
    operator = make_user("operator", organisation=org)
    first = save_intake(
        data=Intake(
            reason="violence_report", intake_key=uuid.uuid4(), survivor=Survivor(name="Lan")
        ),
        by=operator,
    )
    _org, year, seq = first.case.number.split("-")
    saved = save_intake(
        data=Intake(
            reason="follow_up",
            intake_key=uuid.uuid4(),
            case_number=f"hn {year} {int(seq)}",
        ),
        by=operator,
    )
    assert saved.case.id == first.case.id


def test_a_case_opened_on_new_year_s_morning_in_vietnam_has_that_year(make_user, monkeypatch):
    """00:30 on 1 January in Hanoi is still 31 December in UTC."""
    from app.cases import bulk, services

    for module in (bulk, services):  # the intake's writer, and start_case
        monkeypatch.setattr(module, "utcnow", lambda: datetime(2026, 12, 31, 17, 30, tzinfo=UTC))
    saved = save_intake(
        data=Intake(
            reason="violence_report", intake_key=uuid.uuid4(), survivor=Survivor(name="Lan")
        ),
        by=make_user("operator"),
    )
    assert saved.case.number.split("-")[1] == "2027"


def test_at_most_so_many_unsaved_intakes_are_kept_the_oldest_going_first(make_user, monkeypatch):
    from app.calls import drafts

    assert drafts.MAX_DRAFTS_PER_USER == 50  # as docs/intake.md says
    monkeypatch.setattr(drafts, "MAX_DRAFTS_PER_USER", 3)
    operator = make_user("operator")
    keys = [uuid.uuid4() for _ in range(4)]
    for key in keys:
        drafts.save_draft(user=operator, intake_key=key, fields={"caller_name": "Chị Lan"})
    assert [d.intake_key for d in drafts.open_drafts(operator)] == keys[:0:-1]


def test_late_copies_of_saved_forms_do_not_push_unsaved_intakes_out(make_user, monkeypatch):
    """An autosave that landed as its form was saved leaves a row no one is offered back: it
    goes when a new intake is started, and is not counted against the cap."""
    from app.calls import drafts

    monkeypatch.setattr(drafts, "MAX_DRAFTS_PER_USER", 3)
    operator = make_user("operator")
    unsaved = [uuid.uuid4() for _ in range(2)]
    for key in unsaved:
        drafts.save_draft(user=operator, intake_key=key, fields={"caller_name": "Chị Lan"})
    for _ in range(2):  # two forms saved, each with a late copy written just before its save
        late = uuid.uuid4()
        drafts.save_draft(user=operator, intake_key=late, fields={"caller_name": "Chị Mai"})
        save_intake(data=Intake(reason="information", intake_key=late), by=operator)
        db.session.add(IntakeDraft(user_id=operator.id, intake_key=late, revision=2))
        db.session.commit()
    newest = uuid.uuid4()
    drafts.save_draft(user=operator, intake_key=newest, fields={"caller_name": "Chị Hoa"})
    assert [d.intake_key for d in drafts.open_drafts(operator)] == [newest, *unsaved[::-1]]
    left = db.session.execute(
        select(IntakeDraft.intake_key).where(IntakeDraft.user_id == operator.id)
    )
    assert set(left.scalars()) == {newest, *unsaved}  # the late copies went


def test_the_panel_shows_a_case_whose_survivor_s_number_is_calling_and_the_call_may_join_it(
    client, login_as, make_user, make_org
):
    """A relative reported the case, giving the survivor's own number; when she calls herself,
    the panel shows that case with its safe-contact instructions, and the call may join it,
    though no earlier call came from the number."""
    org = make_org(code="HN")
    operator = login_as("operator", organisation=org)
    reported = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_type="relative",
            caller_phone="0987 000 111",
            survivor=Survivor(
                name="Chị Lan", phone="0912 345 678", safe_contact="Chỉ gọi sau 20 giờ"
            ),
        ),
        by=make_user("operator", organisation=org),
    ).case
    other_org = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            survivor=Survivor(name="Chị Hà", phone="0912345678"),
        ),
        by=make_user("operator", organisation=make_org(code="HP")),
    ).case
    panel = client.submit("/calls/lookup", {"phone": "+84 912 345 678"}, page="/calls/new")
    html = panel.get_data(as_text=True)
    assert 'data-panel-calls="0"' in html
    assert reported.number in html and "Chỉ gọi sau 20 giờ" in html
    assert "Số của người bị bạo lực trong ca này" in html
    assert other_org.number not in html
    joined = save_intake(
        data=Intake(
            reason="follow_up",
            intake_key=uuid.uuid4(),
            caller_phone="0912345678",
            case_number=reported.number,
        ),
        by=operator,
    )
    assert joined.case.id == reported.id


def test_a_call_s_page_shows_every_flag_of_its_case_beside_the_safe_contact(
    client, login_as, make_org, make_user
):
    """Calling back from a later call's page: "the perpetrator may call", ticked on the first
    call, and the case's high risk are there with the instructions."""
    org = make_org(code="HN")
    operator = login_as("operator", organisation=org)
    first = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_phone="0912345678",
            flags=["perpetrator_calling"],
            risk_answers=["strangulation", "threats_to_kill", "weapon_used"],
            survivor=Survivor(name="Chị Lan", safe_contact="Chỉ nhắn tin"),
        ),
        by=operator,
    ).case
    later = save_intake(
        data=Intake(
            reason="follow_up",
            intake_key=uuid.uuid4(),
            caller_phone="0912345678",
            case_id=first.id,
        ),
        by=operator,
    ).call
    html = client.get(f"/calls/{later.id}").get_data(as_text=True)
    safe = html[html.index('id="safe-h"') : html.index("</section>", html.index('id="safe-h"'))]
    assert "Chỉ nhắn tin" in safe
    assert "flag-perpetrator_calling" in safe and "flag-high_risk" in safe
