"""Correcting an incident or a person who used violence: the form filled with what was recorded,
the part changed in place (its statistical forms following its acts), the timeline and the audit
log saying who corrected what, two people correcting at once never overwriting each other
silently, a form sent twice saved once, typing kept as a draft, and nobody correcting what they
may not see."""

import re
import uuid
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.audit import AuditEntry
from app.cases import casework, corrections, services
from app.cases.casework import IncidentData, PerpetratorData
from app.cases.models import CaseDraft, CaseEvent, Incident, Perpetrator
from app.extensions import db
from tests.cases.test_case_drafts import browser_fields, keep
from tests.conftest import duties_done, sign_in
from tests.crypto.test_raw_database import _raw_bytes

STORY = "Anh ta tát chị ở chợ sửa ghim"


def _incident(case, people):
    data = IncidentData(occurred_on=date(2026, 3, 2), place_type="home", acts=["a_beating"],
                        description="Bị đánh ở nhà")  # fmt: skip
    return casework.add_incident(case=case, by=people["operator"], data=data)


def _opened(client, url) -> dict:
    page = client.get(url)
    assert page.status_code == 200
    return browser_fields(page.get_data(as_text=True))


def _opened_by_two(app, client, people, url):
    """The correction page opened by the case manager (`client`) and by a supervisor in a
    browser of their own: that browser, each one's form as drawn, and the manager's token."""
    other = app.test_client()
    sign_in(client, people["manager"])
    sign_in(other, people["supervisor"])
    mine, theirs = _opened(client, url), _opened(other, url)
    return other, mine, theirs, client.csrf_token(url)


def test_an_incident_is_corrected_and_the_timeline_says_what(client, case_of, tmp_path):
    case, people = case_of
    incident = _incident(case, people)
    sign_in(client, people["manager"])
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    assert f'href="{url}"' in shown
    fields = _opened(client, url)
    assert fields["incident_date"] == "02/03/2026" and fields["place_type"] == "home"
    assert fields["acts"] == "a_beating" and fields["incident_description"] == "Bị đánh ở nhà"
    assert fields["seen"] and "Bị đánh" not in fields["seen"]
    sent = fields | {"incident_date": "01/03/2026", "acts": ["b_insults"],
                     "incident_description": STORY}  # fmt: skip
    answer = client.submit(url, sent, page=url)
    assert answer.status_code == 302 and answer.location.endswith(f"/cases/{case.id}")
    db.session.expire_all()
    fixed = db.session.get(Incident, incident.id)
    assert (fixed.occurred_on, fixed.acts, fixed.forms) == (
        date(2026, 3, 1),
        "b_insults",
        "psychological",
    )
    assert fixed.place_type == "home" and fixed.description == STORY
    event = db.session.execute(select(CaseEvent).where(CaseEvent.kind == "correct")).scalar_one()
    assert event.from_value == "incident"
    assert event.to_value == f"{incident.id} occurred_on acts description"
    assert event.by_id == people["manager"].id
    audit = db.session.execute(
        select(AuditEntry.detail).where(AuditEntry.detail.like("incident:%corrected%"))
    ).scalar_one()
    assert audit == f"incident:{incident.id} corrected occurred_on acts description"
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Đã sửa vụ việc: Thời gian xảy ra, Hành vi bạo lực (Luật 13/2022, Điều 3)" in page
    assert STORY in page and "Đã lưu phần sửa." in page
    assert STORY.encode() not in _raw_bytes(tmp_path)


def test_a_person_is_corrected_with_only_what_changed_named(client, case_of):
    case, people = case_of
    person = casework.add_perpetrator(
        case=case, by=people["operator"], data=PerpetratorData(relationship="intimate_partner")
    )
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/perpetrators/{person.id}/edit"
    fields = _opened(client, url)
    assert (
        fields["perpetrator_relationship"] == "intimate_partner"
        and fields["perpetrator_name"] == ""
    )
    sent = fields | {"perpetrator_relationship": "parent_caregiver", "perpetrator_weapon": "yes"}
    assert client.submit(url, sent, page=url).status_code == 302
    db.session.expire_all()
    fixed = db.session.get(Perpetrator, person.id)
    assert (fixed.relationship_code, fixed.weapon_access) == ("parent_caregiver", "yes")
    event = db.session.execute(select(CaseEvent).where(CaseEvent.kind == "correct")).scalar_one()
    assert event.to_value == f"{person.id} relationship weapon_access"
    # Sent unchanged: nothing written, and said so.
    fields = _opened(client, url)
    answer = client.submit(url, fields, page=url)
    assert "Không có gì khác" in client.get(answer.location).get_data(as_text=True)
    events = select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "correct")
    assert db.session.execute(events).scalar_one() == 1


def test_two_people_correcting_at_once_see_each_others_change_first(app, client, case_of):
    """The second sending meets the first's correction: not saved, theirs shown above the form,
    everything typed kept; sent again, it is saved over it knowingly."""
    case, people = case_of
    incident = _incident(case, people)
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    other, mine, theirs, token = _opened_by_two(app, client, people, url)
    theirs |= {"incident_description": "Bản sửa của giám sát"}
    assert other.submit(url, theirs, page=url).status_code == 302
    mine |= {"incident_description": "Bản sửa của cán bộ"}
    answer = client.post(url, data=mine | {"csrf_token": token})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409 and 'id="part-changed"' in html
    assert "Bản sửa của giám sát" in html  # theirs, as the part now is
    again = browser_fields(html)
    assert again["incident_description"] == "Bản sửa của cán bộ"  # mine, kept
    assert again["seen"] != mine["seen"]
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).description == "Bản sửa của giám sát"
    assert client.post(url, data=again | {"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).description == "Bản sửa của cán bộ"


def test_a_correction_sent_twice_is_saved_once(client, case_of):
    case, people = case_of
    incident = _incident(case, people)
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    fields = _opened(client, url) | {"place_type": "workplace"}
    token = client.csrf_token(url)
    first = client.post(url, data=fields | {"csrf_token": token})
    second = client.post(url, data=fields | {"csrf_token": token})
    assert first.status_code == second.status_code == 302
    said = client.get(second.location).get_data(as_text=True)
    assert "Biểu mẫu này đã được lưu" in said and 'id="part-changed"' not in said
    events = select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "correct")
    assert db.session.execute(events).scalar_one() == 1


def test_a_correction_typed_is_kept_as_a_draft_and_brought_back(client, case_of):
    case, people = case_of
    incident = _incident(case, people)
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    fields = _opened(client, url)
    name = f"incident-{incident.id}"
    typed = fields | {"incident_description": "Đang sửa dở"}
    typed.pop("csrf_token", None)
    assert keep(client, case, name, typed, uuid.UUID(fields["form_key"]), on=url).status_code == 200
    stored = db.session.execute(select(CaseDraft).where(CaseDraft.form == name)).scalar_one()
    assert b"\xc4\x90ang s\xe1\xbb\xada d\xe1\xbb\x9f" not in bytes(stored.payload_sealed)
    listed = client.get("/cases/drafts").get_data(as_text=True)
    # The list says which incident: the one recorded when (local time).
    local = incident.recorded_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert f"Sửa vụ việc ghi lúc {local:%d/%m/%Y %H:%M}" in listed
    back = re.search(r'href="([^"]*incidents/[^"]*/edit[^"]*)"', listed)[1].replace("&amp;", "&")
    again = browser_fields(client.get(back).get_data(as_text=True))
    assert again["incident_description"] == "Đang sửa dở"
    # Opened as stored, nothing typed: no draft kept.
    assert keep(client, case, name, fields, on=url).status_code == 200
    drafts = select(func.count()).select_from(CaseDraft).where(CaseDraft.form == name)
    assert db.session.execute(drafts).scalar_one() == 1


def test_nobody_corrects_what_they_may_not_see(app, client, case_of, make_user, make_org):
    case, people = case_of
    incident = _incident(case, people)
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    # Another case's incident named under this case: not there, audited.
    other_case = services.open_case(by=people["operator"], survivor_name="Người khác")
    elsewhere = _incident(other_case, people)
    sign_in(client, people["manager"])
    wrong = client.get(f"/cases/{case.id}/incidents/{elsewhere.id}/edit")
    assert wrong.status_code == 404
    denied = db.session.execute(
        select(AuditEntry.detail, AuditEntry.case_id).where(AuditEntry.action == "denied")
    ).all()
    # Filed under the case named, and under the case whose part it is.
    assert sorted(denied, key=str) == sorted(
        [(f"incident:{elsewhere.id}", case.id), (f"named under case {case.number}", other_case.id)],
        key=str,
    )
    # Another organisation's part: the refusal is in that organisation's log too, and the
    # autosave of a correction naming it is refused and audited alike, answered as for a part
    # that does not exist (nothing told).
    hotline = make_org(code="DN")
    theirs = services.open_case(by=make_user("operator", organisation=hotline), survivor_name="X")
    foreign = casework.add_incident(
        case=theirs, by=make_user("supervisor", organisation=hotline), data=IncidentData()
    )
    assert client.get(f"/cases/{case.id}/incidents/{foreign.id}/edit").status_code == 404
    owners_log = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "denied", AuditEntry.organisation_id == hotline.id)
    )
    assert db.session.execute(owners_log).scalar_one() == 1
    probe = keep(client, case, f"incident-{foreign.id}", {"incident_description": "x"})
    nothing = keep(client, case, f"incident-{uuid.uuid4()}", {"incident_description": "x"})
    assert probe.status_code == nothing.status_code == 413
    assert probe.get_json() == nothing.get_json()
    assert db.session.execute(owners_log).scalar_one() == 2
    named_here = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "denied", AuditEntry.case_id == case.id)
    )
    assert db.session.execute(named_here).scalar_one() == 4  # the page twice, the autosave twice
    assert client.get(f"/cases/{case.id}/perpetrators/{incident.id}/edit").status_code == 404
    outsider = app.test_client()
    sign_in(outsider, make_user("supervisor", organisation=make_org(code="SG")))
    assert outsider.get(url).status_code == 404
    # A closed case takes no correction: back to the case, saying why.
    duties_done(case, people["manager"])
    services.change_status(case=case, to="pending_closure", by=people["manager"])
    services.change_status(case=case, to="closed", by=people["supervisor"])
    closed = client.get(url)
    assert closed.status_code == 302 and closed.location.endswith(f"/cases/{case.id}")
    assert f'href="{url}"' not in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_the_fingerprint_says_nothing_and_follows_the_values(case_of):
    case, people = case_of
    incident = _incident(case, people)
    before = corrections.fingerprint(incident)
    assert re.fullmatch(r"[0-9a-f]{8}(\.[0-9a-f]{8}){6}", before)
    incident.description = "Bị đánh ở nhà  "  # the same text, as a browser may send it
    assert corrections.fingerprint(incident) == before
    incident.description = "Khác"
    assert corrections.fingerprint(incident) != before


def test_a_colleagues_correction_of_another_field_is_kept_beside_mine(app, client, case_of):
    """Corrected each in a different field from pages opened together: both kept, nothing asked,
    each named on the timeline for their own field."""
    case, people = case_of
    incident = _incident(case, people)
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    other, mine, theirs, token = _opened_by_two(app, client, people, url)
    theirs |= {"incident_date": "01/03/2026"}
    assert other.submit(url, theirs, page=url).status_code == 302
    mine |= {"incident_description": "Bản sửa của cán bộ"}
    assert client.post(url, data=mine | {"csrf_token": token}).status_code == 302
    db.session.expire_all()
    fixed = db.session.get(Incident, incident.id)
    assert (fixed.occurred_on, fixed.description) == (date(2026, 3, 1), "Bản sửa của cán bộ")
    events = db.session.execute(
        select(CaseEvent.to_value, CaseEvent.by_id)
        .where(CaseEvent.kind == "correct")
        .order_by(CaseEvent.at)
    ).all()
    assert events == [
        (f"{incident.id} occurred_on", people["supervisor"].id),
        (f"{incident.id} description", people["manager"].id),
    ]


def test_after_a_conflict_the_fields_left_alone_take_the_colleagues_values(app, client, case_of):
    """Both changed the description, the colleague the date as well: the page marks the
    description and fills the date as the colleague left it, so sending again keeps their date."""
    case, people = case_of
    incident = _incident(case, people)
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    other, mine, theirs, token = _opened_by_two(app, client, people, url)
    theirs |= {"incident_date": "01/03/2026", "incident_description": "Của giám sát"}
    assert other.submit(url, theirs, page=url).status_code == 302
    mine |= {"place_type": "workplace", "incident_description": "Của cán bộ"}
    answer = client.post(url, data=mine | {"csrf_token": token})
    assert answer.status_code == 409
    again = browser_fields(answer.text)
    assert again["incident_date"] == "01/03/2026"  # theirs: this person left it alone
    assert (again["place_type"], again["incident_description"]) == ("workplace", "Của cán bộ")
    marked = re.findall(r'class="field-error"[^>]*>([^<]*)<', answer.text)
    assert len(marked) == 1 and "Một đồng nghiệp cũng đã sửa mục này" in marked[0]
    assert client.post(url, data=again | {"csrf_token": token}).status_code == 302
    db.session.expire_all()
    fixed = db.session.get(Incident, incident.id)
    assert fixed.occurred_on == date(2026, 3, 1) and fixed.place_type == "workplace"
    assert fixed.description == "Của cán bộ"


def test_a_child_helpline_category_stays_when_the_case_is_no_longer_a_childs(client, case_of):
    """The age corrected to 16 or over, the incident's form asks no category: sent as opened,
    nothing changes, and the category the child's case gave it stays."""
    case, people = case_of
    case.is_child = True
    db.session.commit()
    incident = casework.add_incident(
        case=case,
        by=people["operator"],
        data=IncidentData(acts=["a_beating"], chi_category="physical"),
    )
    assert incident.chi_category == "physical"
    case.is_child = False
    db.session.commit()
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    fields = _opened(client, url)
    assert "chi_category" not in fields
    answer = client.submit(url, fields, page=url)
    assert "Không có gì khác" in client.get(answer.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).chi_category == "physical"


def test_every_field_of_a_person_corrected_is_named_whole(client, case_of):
    case, people = case_of
    person = casework.add_perpetrator(case=case, by=people["operator"], data=PerpetratorData())
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/perpetrators/{person.id}/edit"
    fields = _opened(client, url) | {
        "perpetrator_relationship": "parent_caregiver", "perpetrator_sex": "male",
        "perpetrator_age_band": "26_40", "perpetrator_alcohol": "yes",
        "perpetrator_weapon": "yes", "perpetrator_earlier": "yes",
        "perpetrator_name": "Ông B", "perpetrator_notes": "Hay say rượu",
    }  # fmt: skip
    assert client.submit(url, fields, page=url).status_code == 302
    named = "relationship sex age_band alcohol_or_drugs weapon_access earlier_violence name notes"
    audit = db.session.execute(
        select(AuditEntry.detail).where(AuditEntry.detail.like("perpetrator:%corrected%"))
    ).scalar_one()
    assert audit == f"perpetrator:{person.id} corrected {named}"
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Đã sửa thông tin người gây bạo lực: Quan hệ" in page


def test_a_try_met_by_another_write_is_made_again_with_the_data_as_typed(
    app, client, case_of, monkeypatch
):
    """A first try took a colleague's description into this person's data (they left it
    alone), then met a third write that put it back: the try made again must not write the
    colleague's stale description as this person's change."""
    from sqlalchemy.orm.exc import StaleDataError

    case, people = case_of
    incident = _incident(case, people)
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    other, mine, theirs, token = _opened_by_two(app, client, people, url)
    assert other.submit(url, theirs | {"incident_description": "x1"}, page=url).status_code == 302
    real, tries = corrections.record_event, []

    def met_by_a_third(case_, **kw):
        tries.append(1)
        if len(tries) == 1:  # a third person puts the description back, committed first
            db.session.rollback()
            db.session.get(Incident, incident.id).description = "Bị đánh ở nhà"
            db.session.commit()
            raise StaleDataError("overtaken")
        return real(case_, **kw)

    monkeypatch.setattr(corrections, "record_event", met_by_a_third)
    answer = client.post(url, data=mine | {"place_type": "school", "csrf_token": token})
    assert answer.status_code == 302 and len(tries) == 2
    db.session.expire_all()
    fixed = db.session.get(Incident, incident.id)
    assert (fixed.place_type, fixed.description) == ("school", "Bị đánh ở nhà")
    mine_said = select(CaseEvent.to_value).where(
        CaseEvent.kind == "correct", CaseEvent.by_id == people["manager"].id
    )
    assert db.session.execute(mine_said).scalars().all() == [f"{incident.id} place_type"]


def test_a_page_drawn_for_an_adult_keeps_the_category_once_the_case_is_a_childs(client, case_of):
    case, people = case_of
    case.is_child = True
    db.session.commit()
    incident = casework.add_incident(
        case=case,
        by=people["operator"],
        data=IncidentData(acts=["a_beating"], chi_category="physical"),
    )
    case.is_child = False
    db.session.commit()
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    fields = _opened(client, url)
    token = client.csrf_token(url)
    case.is_child = True  # the age corrected meanwhile
    db.session.commit()
    sent = fields | {"place_type": "school", "csrf_token": token}
    assert client.post(url, data=sent).status_code == 302
    db.session.expire_all()
    fixed = db.session.get(Incident, incident.id)
    assert (fixed.place_type, fixed.chi_category) == ("school", "physical")


def test_a_form_that_says_nothing_of_its_page_is_asked_to_be_checked(client, case_of):
    """A page of an earlier release (a draft typed before per-field marks): which fields anyone
    changed is not known, so the page says so, not that a colleague corrected them."""
    case, people = case_of
    incident = _incident(case, people)
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/{incident.id}/edit"
    fields = _opened(client, url) | {"seen": "0" * 32, "place_type": "school"}
    answer = client.post(url, data=fields | {"csrf_token": client.csrf_token(url)})
    assert answer.status_code == 409
    assert "không thể biết" in answer.text and "Một đồng nghiệp" not in answer.text
    again = browser_fields(answer.text)
    assert client.post(url, data=again | {"csrf_token": client.csrf_token(url)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).place_type == "school"
