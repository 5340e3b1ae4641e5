"""Work on the case page: notes, parts, risk, tasks, edits with conflicts, and statuses."""

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.calls.intake import Intake, Survivor, save_intake
from app.cases.casework import add_task
from app.cases.models import (
    Case,
    CaseDraft,
    CaseEvent,
    CaseNote,
    Consent,
    Incident,
    Perpetrator,
    RiskAssessment,
    Task,
)
from app.cases.services import open_task
from app.clock import utcnow
from app.extensions import db
from app.form_fields import local_text
from tests.conftest import CSRF_META, STATUS_VERSION, duties_done, sign_in


def test_the_page_shows_the_timeline_and_safe_contact(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Chỉ nhắn Zalo" in page and "Đỗ Thị Hạnh" in page
    assert 'class="timeline-call"' in page


def test_a_note_is_sealed_on_the_timeline_and_audited(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    response = client.submit(
        f"{url}/notes", {"kind": "note", "body": "Đã gọi lại, an toàn"}, page=url
    )
    assert response.status_code == 302
    note = db.session.execute(select(CaseNote)).scalar_one()
    assert note.body == "Đã gọi lại, an toàn"
    assert "an toàn".encode() not in note.body_sealed
    assert "Đã gọi lại" in client.get(url).get_data(as_text=True)
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.detail == f"note:{note.id}")
    ).scalar_one()
    assert (entry.action, entry.user_id) == ("update", people["manager"].id)


def test_the_child_helpline_category_is_asked_on_a_child_s_case_only(client, case_of):
    """An adult's case keeps no category: it is not offered there, rather than dropped."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/new"
    assert 'name="chi_category"' not in client.get(url).text
    case.is_child = True
    db.session.commit()
    assert 'name="chi_category"' in client.get(url).text
    sent = {"chi_category": "bullying", "place_type": "school"}
    assert client.submit(url, sent, page=url).status_code == 302
    db.session.rollback()
    assert [i.chi_category for i in db.session.get(Case, case.id).incidents] == ["bullying"]


def test_incident_perpetrator_and_reassessment_are_added(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    client.submit(
        f"{url}/incidents/new",
        {"acts": ["i_forced_sex"], "place_type": "home", "incident_date": "01/11/2026"},
        page=f"{url}/incidents/new",
    )
    client.submit(
        f"{url}/perpetrators/new",
        {
            "perpetrator_relationship": "former_partner",
            "perpetrator_sex": "male",
            "perpetrator_age_band": "26_40",
            "perpetrator_alcohol": "yes",
            "perpetrator_weapon": "no",
            "perpetrator_earlier": "yes",
        },
        page=f"{url}/perpetrators/new",
    )
    client.submit(
        f"{url}/risk",
        {"risk_answers": ["strangulation", "threats_to_kill"]},
        page=f"{url}/risk",
    )
    incident = db.session.execute(select(Incident)).scalar_one()
    assert incident.forms == "sexual" and incident.occurred_on.day == 1
    assert (
        db.session.execute(select(Perpetrator)).scalar_one().relationship_code == "former_partner"
    )
    db.session.refresh(case)
    assert case.risk_level == "severe"
    kinds = [t.kind for t in db.session.execute(select(Task).order_by(Task.due_at)).scalars()]
    assert kinds == ["notify_commune", "safety_review"]  # the first planned when it opened


def test_two_editors_get_the_conflict_screen_not_an_overwrite(client, app, case_of):
    case, people = case_of
    first = app.test_client()
    sign_in(first, people["manager"])
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}/edit"
    first_page = first.get(url).get_data(as_text=True)
    second_page = client.get(url).get_data(as_text=True)
    assert views_of(case, "edit form") == 2  # opening the form is a look at the case
    version = str(case.version)
    assert f'name="version" type="hidden" value="{version}"' in first_page
    base = {
        "version": version,
        "survivor_name": "Đỗ Thị Hạnh",
        "survivor_sex": "female",
        "safe_contact": "Chỉ nhắn Zalo",
    }
    saved = first.submit(url, {**base, "safe_contact": "Gọi sau 20h"}, page=url)
    assert saved.status_code == 302
    clash = client.submit(url, {**base, "survivor_name": "Hạnh (bí danh)"}, page=url)
    page = clash.get_data(as_text=True)
    assert clash.status_code == 409
    assert "Gọi sau 20h" in page and "Hạnh (bí danh)" in page
    assert views_of(case, "edit conflict") == 1  # so is seeing the other editor's values
    db.session.refresh(case)
    assert case.survivor_name == "Đỗ Thị Hạnh" and case.safe_contact == "Gọi sau 20h"
    # The second editor's form was drawn before the first save, at the version it was sent with.
    assert f'name="version" type="hidden" value="{version}"' in second_page
    # Keeping theirs is a link; saving mine over theirs posts again with the new version.
    mine = client.submit(
        url,
        {
            **base,
            "version": str(case.version),
            "survivor_name": "Hạnh (bí danh)",
            "safe_contact": "Gọi sau 20h",
        },
        page=url,
    )
    assert mine.status_code == 302
    db.session.refresh(case)
    assert (case.survivor_name, case.safe_contact) == ("Hạnh (bí danh)", "Gọi sau 20h")


def test_an_edit_sent_twice_by_a_double_click_is_saved_once_without_a_conflict(client, case_of):
    """The second send carries the version the first one moved on: it was answered with the
    conflict screen, as if someone else had edited the case."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/edit"
    page = client.get(url).get_data(as_text=True)
    hidden = dict(re.findall(r'name="(version|form_key)" type="hidden" value="([^"]*)"', page))
    assert set(hidden) == {"version", "form_key"}
    sent = {
        **hidden,
        "survivor_name": "Đỗ Thị Hạnh",
        "survivor_sex": "female",
        "safe_contact": "Gọi sau 20h",
    }
    first = client.submit(url, sent, page=url)
    second = client.submit(url, sent, page=url)  # the double click
    assert first.status_code == second.status_code == 302
    assert "Đã lưu thay đổi." in client.get(second.location).get_data(as_text=True)
    db.session.refresh(case)
    assert case.safe_contact == "Gọi sau 20h"
    assert views_of(case, "edit conflict") == 0
    # The same page sent with other values after the first save is a conflict still.
    clash = client.submit(url, {**sent, "safe_contact": "Chỉ nhắn Zalo"}, page=url)
    assert clash.status_code == 409


def test_an_unchanged_edit_sent_twice_at_the_same_instant_is_no_error(client, case_of, monkeypatch):
    """Both sendings of a double click checked the form's key before either recorded it: the
    second's record meets the first's, and the page says nothing changed, not an error."""
    from app.cases import edits
    from app.cases.models import FormSubmission
    from tests.cases.test_edit_merge import form_of

    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/edit"
    fields = form_of(client.get(url).get_data(as_text=True))
    original = edits._sent

    def twin_first(case, by, page, sent, copies):
        original(case, by, page, sent, copies)
        with db.engine.begin() as conn:  # the other click's record, committed meanwhile
            conn.execute(
                FormSubmission.__table__.insert().values(key=sent, user_id=by.id, case_id=case.id)
            )

    monkeypatch.setattr(edits, "_sent", twin_first)
    answer = client.post(url, data=fields)
    assert answer.status_code == 302
    assert "Không có gì thay đổi." in client.get(answer.location).get_data(as_text=True)


def test_the_conflict_screen_shows_labels_and_dates_not_stored_codes(client, app, case_of):
    case, people = case_of
    first = app.test_client()
    sign_in(first, people["manager"])
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}"
    version = str(case.version)
    base = {"version": version, "survivor_name": "Đỗ Thị Hạnh", "safe_contact": "Chỉ nhắn Zalo"}
    theirs = {"survivor_sex": "male", "survivor_birth_date": "05/03/1990"}
    mine = {"survivor_sex": "female", "services_wanted": ["legal", "health"]}
    token = client.csrf_token(f"{url}/edit")  # the second editor's form, loaded first
    assert first.submit(f"{url}/edit", {**base, **theirs}, page=f"{url}/edit").status_code == 302
    clash = client.post(f"{url}/edit", data={**base, **mine, "csrf_token": token})
    assert clash.status_code == 409
    table = clash.get_data(as_text=True)
    table = table[table.index('<table class="conflict">') : table.index("</table>")]
    assert "Nam" in table and "Nữ" in table and "05/03/1990" in table
    assert "Trợ giúp pháp lý" in table
    for code in (">male<", ">female<", "1990-03-05", "legal health"):
        assert code not in table


def views_of(case, detail: str) -> int:
    """The audited looks at the case with this detail."""
    return db.session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "view", AuditEntry.case_id == case.id, AuditEntry.detail == detail
        )
    ).scalar_one()


def test_the_status_page_without_a_move_named_is_the_case_not_a_refusal(client, case_of):
    """An address cut short by someone who may see the case: no 404, no "denied" entry in the
    log supervisors review."""
    case, people = case_of
    sign_in(client, people["manager"])
    answer = client.get(f"/cases/{case.id}/status")
    assert answer.status_code == 302 and answer.location == f"/cases/{case.id}"
    denied = select(AuditEntry).where(AuditEntry.action == "denied")
    assert db.session.execute(denied).first() is None


def status_form(client, case, to: str, **fields) -> dict:
    """The status page's form for a move, as drawn (token, version, form key), with `fields`."""
    page = client.get(f"/cases/{case.id}/status?to={to}").get_data(as_text=True)
    key = re.search(r'name="form_key" type="hidden" value="([^"]+)"', page).group(1)
    return {
        "to": to,
        "csrf_token": CSRF_META.search(page).group(1),
        "version": STATUS_VERSION.search(page).group(1),
        "form_key": key,
        **fields,
    }


def test_a_status_change_sent_twice_is_made_once_and_said_plainly(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    form = status_form(client, case, "in_support")
    first = client.post(f"{url}/status", data=form)
    again = client.post(f"{url}/status", data=form)  # a double click, or the back button
    assert first.status_code == again.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Ca đã ở trạng thái đó; không có gì thay đổi." in page
    events = db.session.execute(select(CaseEvent).where(CaseEvent.kind == "status")).scalars()
    assert [e.to_value for e in events] == ["in_support"]


def test_closure_needs_another_persons_approval_and_makes_the_case_read_only(client, app, case_of):
    case, people = case_of
    duties_done(case, people["manager"])
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    client.submit(f"{url}/status", {"to": "in_support"}, page=f"{url}/status?to=in_support")
    client.submit(
        f"{url}/status", {"to": "pending_closure"}, page=f"{url}/status?to=pending_closure"
    )
    db.session.refresh(case)
    assert case.status == "pending_closure"
    # The case manager cannot approve their own closure.
    refused = client.get(f"{url}/status?to=closed")
    assert refused.status_code == 404
    boss = app.test_client()
    sign_in(boss, people["supervisor"])
    boss.submit(f"{url}/status", {"to": "closed"}, page=f"{url}/status?to=closed")
    db.session.refresh(case)
    assert case.status == "closed" and case.closed_at is not None
    blocked = client.submit(f"{url}/notes", {"kind": "note", "body": "Ghi chú viết muộn"}, page=url)
    assert blocked.status_code == 409  # the page again, the text kept to copy
    assert re.search(r"<textarea readonly[^>]*>Ghi chú viết muộn</textarea>", blocked.text)
    assert db.session.execute(select(CaseNote)).first() is None
    # Reopening needs a reason.
    boss.submit(f"{url}/status", {"to": "reopened", "reason": ""}, page=f"{url}/status?to=reopened")
    db.session.refresh(case)
    assert case.status == "closed"
    boss.submit(
        f"{url}/status",
        {"to": "reopened", "reason": "Bạo lực tái diễn"},
        page=f"{url}/status?to=reopened",
    )
    db.session.refresh(case)
    assert case.status == "reopened"
    events = (
        db.session.execute(
            select(CaseEvent).where(CaseEvent.kind == "status").order_by(CaseEvent.at)
        )
        .scalars()
        .all()
    )
    assert [e.to_value for e in events][-1] == "reopened"
    assert events[-1].reason == "Bạo lực tái diễn"


def test_a_supervisor_cannot_approve_a_closure_they_asked_for(app, client, case_of):
    case, people = case_of
    duties_done(case, people["supervisor"])
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}"
    client.submit(f"{url}/status", {"to": "in_support"}, page=f"{url}/status?to=in_support")
    client.submit(
        f"{url}/status", {"to": "pending_closure"}, page=f"{url}/status?to=pending_closure"
    )
    page = client.get(url).get_data(as_text=True)
    assert "to=closed" not in page  # no "Approve closure" offered to whoever asked
    # Nor by an address (a bookmark, the list of unsent text): refused, on the case page.
    opened = client.get(f"{url}/status?to=closed")
    said = "Việc đóng ca phải được một người khác (không phải người đề nghị) phê duyệt."
    assert opened.status_code == 403 and said in opened.get_data(as_text=True)
    db.session.refresh(case)
    asked = {"to": "closed", "reason": "Đã hỗ trợ xong", "version": str(case.version)}
    sent = client.submit(f"{url}/status", asked, page=url)
    shown = sent.get_data(as_text=True)
    assert sent.status_code == 403 and said in shown
    assert "Đã hỗ trợ xong" in shown  # the reason typed, kept in the note box
    assert f'href="{url}/status?to=closed"' not in shown
    db.session.refresh(case)
    assert case.status == "pending_closure"
    denied = db.session.execute(
        select(AuditEntry.detail).where(
            AuditEntry.case_id == case.id, AuditEntry.action == "denied"
        )
    ).scalars()
    # Both attempts are in the audit log.
    assert list(denied) == ["closure self-approval", "closure self-approval"]
    other = app.test_client()
    sign_in(other, people["supervisor2"])
    assert "to=closed" in other.get(url).get_data(as_text=True)
    other.submit(f"{url}/status", {"to": "closed"}, page=f"{url}/status?to=closed")
    db.session.refresh(case)
    assert case.status == "closed"


def test_a_task_can_be_added_with_a_local_due_time(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    client.submit(
        f"{url}/tasks",
        {"kind": "follow_up_call", "due_at": "25/11/2026 08:00", "note": "Hỏi thăm"},
        page=url,
    )
    task = db.session.execute(select(Task).where(Task.kind == "follow_up_call")).scalar_one()
    assert (task.due_at.day, task.due_at.hour) == (25, 1)  # 08:00 in Hanoi is 01:00 UTC
    assert task.assigned_to_id == people["manager"].id and task.note == "Hỏi thăm"


def test_a_task_due_long_ago_is_said_to_be_overdue_already(client, case_of):
    """A slip of the year (01/01/2020) made the task overdue at once, added without a word: it
    is added (a call-back written up late is a fact), and the page says it is overdue."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    sent = {"kind": "follow_up_call", "due_at": "01/01/2020 09:00"}
    added = client.submit(f"{url}/tasks", sent, page=url)
    said = client.get(added.location).get_data(as_text=True)
    assert "Đã thêm việc. Hạn của việc, 01/01/2020 09:00, đã qua" in said
    soon = local_text(utcnow() + timedelta(hours=2))
    added = client.submit(f"{url}/tasks", {**sent, "due_at": soon}, page=url)
    said = client.get(added.location).get_data(as_text=True)
    assert "Đã thêm việc." in said and "đã qua" not in said


def test_a_refused_task_or_note_comes_back_with_everything_typed(client, case_of):
    """A due time without its hour, a note too long: the case page again (422), the form
    filled in as it was sent, the field marked, nothing saved."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    refused = client.submit(
        f"{url}/tasks",
        {"kind": "safety_review", "due_at": "25/11/2026", "note": "Hỏi về nơi ở an toàn"},
        page=url,
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'value="25/11/2026"' in page and 'value="Hỏi về nơi ở an toàn"' in page
    assert '<option selected value="safety_review">' in page
    assert re.search(r"<details open>\s*<summary>", page)  # the task form is open
    assert 'aria-invalid="true"' in page
    assert "Viết thời gian theo dạng dd/mm/yyyy hh:mm" in page  # how to write it, not "required"
    long_note = "Ghi chép dài " * 2000  # over the 20,000 characters a note may hold
    refused = client.submit(
        f"{url}/notes", {"kind": "contact_attempt", "body": long_note}, page=url
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and long_note.strip() in page
    assert '<option selected value="contact_attempt">' in page
    tasks = select(func.count()).select_from(Task).where(Task.kind != "notify_commune")
    assert db.session.execute(tasks).scalar_one() == 0  # none but the one the case opened with
    assert db.session.execute(select(func.count()).select_from(CaseNote)).scalar_one() == 0


def test_erased_cases_show_no_content(client, case_of):
    from app.cases.services import erase_case

    case, people = case_of
    erase_case(case=case, by=people["supervisor"], reason="survivor_request")
    sign_in(client, people["supervisor"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Đỗ Thị Hạnh" not in page and "Chỉ nhắn Zalo" not in page
    assert db.session.get(Case, case.id).status == "erased"


def test_consent_is_recorded_per_service_and_recipient(client, case_of, make_org):
    case, people = case_of
    shelter = make_org(name="Nhà tạm lánh Bình Minh", kind="shelter")
    make_org(name="Trung tâm đã ngừng", kind="ngo").active = False
    db.session.commit()
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/consent"
    form = client.get(url).get_data(as_text=True)
    assert "Nhà tạm lánh Bình Minh" in form and "Trung tâm đã ngừng" not in form
    assert f'value="{case.organisation_id}"' not in form  # not the case's own hotline
    response = client.submit(
        url,
        {
            "consent_services": ["shelter"],
            "consent_refused": ["police"],
            "consent_share": "yes",
            "consent_given_by": "survivor",
            "consent_recipient": str(shelter.id),
        },
        page=url,
    )
    assert response.status_code == 302
    rows = {c.service: c for c in db.session.get(Case, case.id).consents}
    assert (rows["shelter"].granted, rows["shelter"].recipient_id) == (True, shelter.id)
    assert rows["shelter"].share_data is True
    assert (rows["police"].granted, rows["police"].share_data) == (False, False)
    assert "Nhà tạm lánh Bình Minh" in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_a_child_s_consent_asks_the_child_and_a_guardian_and_shows_their_answers(client, case_of):
    """On a child's case the form asks both; the record says a guardian agreed only when one
    did, and the case page shows each answer. An adult's case is not asked."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/consent"
    assert 'name="guardian_consent"' not in client.get(url).get_data(as_text=True)
    case.is_child = True
    db.session.commit()
    assert 'name="guardian_consent"' in client.get(url).get_data(as_text=True)
    for service, guardian in (("counselling", "no"), ("health", "yes")):
        sent = {
            "consent_services": [service],
            "consent_given_by": "survivor",
            "child_assent": "yes",
            "guardian_consent": guardian,
        }
        assert client.submit(url, sent, page=url).status_code == 302
    db.session.rollback()
    rows = {c.service: c for c in db.session.get(Case, case.id).consents}
    assert (rows["counselling"].given_by, rows["counselling"].guardian_consent) == (
        "survivor",
        "no",
    )
    assert (rows["health"].given_by, rows["health"].child_assent) == ("child_and_guardian", "yes")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "cha mẹ/người giám hộ không đồng ý" in page and "Trẻ và cha mẹ/người giám hộ" in page


def test_consent_to_an_unknown_recipient_is_refused_and_the_form_kept(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/consent"
    response = client.submit(
        url, {"consent_services": ["legal"], "consent_recipient": "99999"}, page=url
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    kept = re.search(
        r'<input[^>]*\bchecked\b[^>]*value="legal"|<input[^>]*value="legal"[^>]*\bchecked\b', page
    )
    assert kept, re.findall(r"<input[^>]*legal[^>]*>", page)
    assert 'id="consent_recipient-error"' in page
    assert not db.session.get(Case, case.id).consents


def test_consent_with_no_service_ticked_is_said_at_the_boxes(client, case_of):
    """Said at the first group of boxes (marked, the keyboard sent there), not only at the
    page's top, where the keyboard stayed and no box was marked."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/consent"
    response = client.submit(url, {"consent_share": "no"}, page=url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="field-error" id="consent_services-error">([^<]*)</p>', page)
    assert error and error.group(1) == "Hãy chọn ít nhất một dịch vụ."
    assert 'aria-describedby="consent_services-error"' in page
    assert not db.session.get(Case, case.id).consents


def test_a_move_needing_a_reason_sent_without_one_is_said_at_the_reason_box(app, client, case_of):
    """A return to support with no reason: said at the reason's box (marked, the keyboard sent
    there), not only at the page's top, where the keyboard stayed."""
    case, people = case_of
    duties_done(case, people["manager"])
    sign_in(client, people["manager"])
    for to in ("in_support", "pending_closure"):
        client.post(f"/cases/{case.id}/status", data=status_form(client, case, to))
    boss = app.test_client()
    sign_in(boss, people["supervisor"])
    form = status_form(boss, case, "in_support", reason="  ")
    response = boss.post(f"/cases/{case.id}/status", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    (box,) = re.findall(r'<input[^>]*id="reason"[^>]*>', page)
    assert 'aria-invalid="true"' in box and "reason-error" in box
    assert '<p class="field-error" id="reason-error">Hãy ghi lý do cho thay đổi này.</p>' in page
    db.session.refresh(case)
    assert case.status == "pending_closure"


def test_a_task_is_marked_done_from_the_case_page_and_comes_back_to_it(client, case_of):
    case, people = case_of
    task = open_task(case, kind="follow_up_call", due=utcnow(), by=people["manager"])
    db.session.commit()
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    page = client.get(url).get_data(as_text=True)
    assert f"/cases/tasks/{task.id}/done" in page and 'name="back" value="case"' in page
    response = client.submit(f"/cases/tasks/{task.id}/done", {"back": "case"}, page=url)
    assert response.status_code == 302 and response.location.endswith(url)
    db.session.refresh(task)
    assert task.done_at is not None and task.done_by_id == people["manager"].id


def test_a_closed_case_keeps_its_tasks_as_they_were(client, case_of):
    case, people = case_of
    task = open_task(case, kind="follow_up_call", due=utcnow(), by=people["manager"])
    case.status = "closed"
    db.session.commit()
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}"
    assert f"/cases/tasks/{task.id}/done" not in client.get(url).get_data(as_text=True)
    response = client.submit(f"/cases/tasks/{task.id}/done", {"back": "case"}, page=url)
    assert response.status_code == 302 and response.location.endswith(url)
    db.session.refresh(task)
    assert task.done_at is None


FORM_KEY = re.compile(r'name="form_key"[^>]*value="([0-9a-f-]{36})"')
CASE_PAGE_FORMS = [
    # (path of the form's page, where it posts, what it sends, the model it adds)
    ("", "/notes", {"kind": "note", "body": "Đã gọi lại"}, CaseNote),
    ("", "/tasks", {"kind": "follow_up_call", "due_at": "25/11/2026 08:00"}, Task),
    ("/incidents/new", "/incidents/new", {"acts": ["a_beating"], "place_type": "home"}, Incident),
    (
        "/perpetrators/new",
        "/perpetrators/new",
        {"perpetrator_relationship": "former_partner", "perpetrator_sex": "male"},
        Perpetrator,
    ),
    ("/risk", "/risk", {"risk_answers": ["strangulation"]}, RiskAssessment),
    ("/consent", "/consent", {"consent_services": ["shelter"]}, Consent),
]


@pytest.mark.parametrize("page, target, data, model", CASE_PAGE_FORMS, ids=lambda v: str(v))
def test_a_case_page_form_sent_twice_adds_once(client, case_of, page, target, data, model):
    """A double click, a retry after a timeout, the back button: the same form (same key)
    adds its record once, and the second answer says so."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    html = client.get(url + page).get_data(as_text=True)
    keys = FORM_KEY.findall(html)
    key = keys[0] if target != "/notes" else keys[-1]  # the case page holds two forms
    form = {**data, "form_key": key, "csrf_token": client.csrf_token(url + page)}
    before = db.session.execute(select(func.count()).select_from(model)).scalar_one()
    first = client.post(url + target, data=form)
    again = client.post(url + target, data=form)
    assert first.status_code == again.status_code == 302
    after = db.session.execute(select(func.count()).select_from(model)).scalar_one()
    assert after == before + 1  # one task, note, incident...; one consent for one service
    shown = client.get(url).get_data(as_text=True)
    assert "Biểu mẫu này đã được lưu trước đó; không có gì được lưu hai lần." in shown
    fresh = FORM_KEY.findall(client.get(url + page).get_data(as_text=True))
    assert key not in fresh  # the next form is a new one


def test_a_refused_form_keeps_its_key_free_for_the_corrected_one(client, case_of):
    """Raising the level without a reason is refused; the same form, corrected, then saves."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/risk"
    key = FORM_KEY.search(client.get(url).get_data(as_text=True)).group(1)
    token = client.csrf_token(url)
    refused = client.post(
        url,
        data={"risk_answers": [], "risk_raised_to": "high", "form_key": key, "csrf_token": token},
    )
    assert refused.status_code == 200 and key in refused.get_data(as_text=True)
    saved = client.post(
        url,
        data={
            "risk_answers": [],
            "risk_raised_to": "high",
            "risk_reason": "Đe doạ qua điện thoại",
            "form_key": key,
            "csrf_token": token,
        },
    )
    assert saved.status_code == 302
    assert db.session.execute(select(func.count()).select_from(RiskAssessment)).scalar_one() == 1


def _edit_case(client, case, **fields):
    url = f"/cases/{case.id}/edit"
    base = {
        "version": str(case.version),
        "survivor_name": "Đỗ Thị Hạnh",
        "survivor_sex": "female",
        "safe_contact": "Chỉ nhắn Zalo",
    }
    return client.submit(url, {**base, **fields}, page=url)


def test_an_edit_that_empties_the_services_wanted_saves(client, case_of):
    case, people = case_of
    case.services_wanted = "legal"
    db.session.commit()
    sign_in(client, people["manager"])
    assert _edit_case(client, case).status_code == 302  # no box ticked
    db.session.refresh(case)
    assert case.services_wanted == ""


def test_an_age_under_16_typed_later_starts_the_child_path_once(client, case_of):
    case, people = case_of
    case.risk_level = "severe"
    db.session.commit()
    sign_in(client, people["manager"])
    assert _edit_case(client, case, survivor_age="12").status_code == 302
    db.session.refresh(case)
    kinds = sorted(t.kind for t in case.tasks)
    assert case.is_child and kinds.count("notify_commune") == 1 and "child_12h" in kinds
    for task in case.tasks:  # the commune was told, the child seen to
        task.done_at = utcnow()
    db.session.commit()
    from app.cases.casework import plan_child_path

    plan_child_path(case, by=people["manager"], serious=True)  # a later high reassessment
    db.session.commit()
    assert [t.kind for t in case.tasks].count("notify_commune") == 1  # not asked again


def test_clearing_the_age_makes_the_age_group_unknown_and_keeps_the_child_path(client, case_of):
    case, people = case_of
    case.risk_level = "high"  # a child's case then needs action within 12 hours
    db.session.commit()
    sign_in(client, people["manager"])
    assert _edit_case(client, case, survivor_age="40").status_code == 302
    db.session.refresh(case)
    assert (case.survivor_age_band, case.is_child) == ("16_59", False)
    assert _edit_case(client, case).status_code == 302  # age emptied
    db.session.refresh(case)
    assert (case.survivor_age, case.survivor_age_band, case.is_child) == (None, "unknown", False)
    assert _edit_case(client, case, survivor_birth_date="01/01/2020").status_code == 302
    db.session.refresh(case)
    assert (case.survivor_age_band, case.is_child) == ("under_16", True)
    assert _edit_case(client, case).status_code == 302  # birth date emptied
    db.session.refresh(case)
    assert (case.survivor_birth_date, case.survivor_age_band) == (None, "unknown")
    assert case.is_child  # still on the child-protection path
    assert {t.kind for t in case.tasks if t.done_at is None} == {"notify_commune", "child_12h"}
    assert _edit_case(client, case, survivor_age="30").status_code == 302
    db.session.refresh(case)
    assert (case.survivor_age_band, case.is_child) == ("16_59", False)
    # Its child-path task no longer applies: ended, not done, and said so on the case page. The
    # commune is notified of every violence report: that task stays.
    assert sorted((t.kind, t.ended_by, t.done_by_id) for t in case.tasks) == [
        ("child_12h", "not_child", None),
        ("notify_commune", None, None),
    ]
    assert "Kết thúc: người bị bạo lực từ 16 tuổi trở lên" in client.get(f"/cases/{case.id}").text
    # A mistyped age corrected back: the 12 hours are to be kept (the same task).
    assert _edit_case(client, case, survivor_age="12").status_code == 302
    db.session.refresh(case)
    assert sorted((t.kind, t.done_at, t.ended_by) for t in case.tasks) == [
        ("child_12h", None, None),
        ("notify_commune", None, None),
    ]


def test_a_birth_date_in_the_future_is_refused_on_the_edit_page(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    answer = _edit_case(client, case, survivor_birth_date="05/03/2062")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Ngày sinh không thể ở tương lai" in page
    assert 'value="05/03/2062"' in page
    db.session.refresh(case)
    assert not case.is_child and case.survivor_birth_date is None


def test_an_edit_with_an_altered_version_is_a_bad_request_not_a_raw_error(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    answer = _edit_case(client, case, version="1 OR 1=1", survivor_name="Tên Mới")
    assert answer.status_code == 400 and "invalid literal" not in answer.get_data(as_text=True)
    db.session.refresh(case)
    assert case.survivor_name == "Đỗ Thị Hạnh"


def _bump_elsewhere(case, **values):
    """Another request's write to the case, committed on its own connection."""
    from sqlalchemy import update

    with db.engine.begin() as conn:
        conn.execute(
            update(Case.__table__)
            .where(Case.__table__.c.id == case.id)
            .values(version=Case.__table__.c.version + 1, **values)
        )


def test_a_note_overtaken_at_every_try_is_kept_on_the_page_not_an_error(
    client, case_of, monkeypatch
):
    """Two people write to a case at once: the note is written again on the case as it now is,
    not lost to an error page; overtaken twice, at the third try; overtaken at every try
    (several people writing at once), it comes back on the page with its text and a word on
    sending it again."""
    from app.cases import casework, views

    case, people = case_of
    sign_in(client, people["manager"])
    original, calls, clashes = casework.add_note, [], {"n": 2}

    def overtaken(**kw):
        calls.append(1)
        if len(calls) <= clashes["n"]:
            _bump_elsewhere(case)
        return original(**kw)

    monkeypatch.setattr(casework, "add_note", overtaken)
    page = f"/cases/{case.id}"
    answer = client.submit(f"{page}/notes", {"body": "Ghi chú cùng lúc", "kind": "note"}, page=page)
    assert answer.status_code == 302 and len(calls) == 3
    calls.clear()
    clashes["n"] = 99
    typed = "Chị Hạnh gọi lại, nói anh ta vẫn đe doạ"
    answer = client.submit(f"{page}/notes", {"body": typed, "kind": "note"}, page=page)
    assert answer.status_code == 409 and len(calls) == views.PART_WRITE_ATTEMPTS
    assert typed in answer.text and "nhiều lần" in answer.text
    assert db.session.execute(select(func.count(CaseNote.id))).scalar_one() == 1


def test_a_task_added_as_the_case_is_reassigned_goes_to_the_new_manager(
    client, case_of, make_user, monkeypatch
):
    """The supervisor hands the case to another case manager while a task is being added: the
    task is written again on the case as it now is, so it is the new manager's, not left with
    the one who no longer holds the case."""
    from app.cases import casework

    case, people = case_of
    newcomer = make_user("case_manager", organisation=people["manager"].organisation)
    sign_in(client, people["supervisor"])
    original, calls = casework.refuse_if_closed, []

    def overtaken(case):
        calls.append(1)
        if len(calls) == 1:
            _bump_elsewhere(case, assigned_to_id=newcomer.id)
        return original(case)

    monkeypatch.setattr(casework, "refuse_if_closed", overtaken)
    page = f"/cases/{case.id}"
    answer = client.submit(
        f"{page}/tasks", {"kind": "follow_up_call", "due_at": "25/11/2026 08:00"}, page=page
    )
    assert answer.status_code == 302 and len(calls) == 2
    db.session.expire_all()
    task = db.session.execute(select(Task).where(Task.kind == "follow_up_call")).scalar_one()
    assert task.assigned_to_id == newcomer.id


def test_a_status_change_overtaken_by_the_same_change_says_so(client, case_of, monkeypatch):
    from app.cases import services

    case, people = case_of
    sign_in(client, people["manager"])
    original = services.change_status

    def overtaken(**kw):
        _bump_elsewhere(case, status="in_support")  # a colleague made the same move
        return original(**kw)

    monkeypatch.setattr(services, "change_status", overtaken)
    url = f"/cases/{case.id}/status"
    answer = client.submit(url, {"to": "in_support"}, page=f"{url}?to=in_support")
    assert answer.status_code == 302
    shown = client.get(answer.location).get_data(as_text=True)
    assert "Ca đã ở trạng thái đó; không có gì thay đổi." in shown


def test_a_reason_for_a_move_a_colleague_made_at_the_same_instant_is_kept(
    client, case_of, monkeypatch
):
    """Both supervisors' version checks passed, the colleague's same move committed first: the
    reason typed here is kept in the note box, as when the move was found made before saving."""
    from app.cases import services

    case, people = case_of
    case.status = "pending_closure"
    db.session.commit()
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}/status"
    form = status_form(client, case, "in_support", reason="Chồng lại đe doạ hôm qua")
    original = services.change_status

    def overtaken(**kw):
        _bump_elsewhere(case, status="in_support")  # the colleague's same move, committed
        return original(**kw)

    monkeypatch.setattr(services, "change_status", overtaken)
    answer = client.post(url, data=form)
    assert answer.status_code == 409
    assert re.search(r"<textarea[^>]*>\s*Chồng lại đe doạ hôm qua</textarea>", answer.text)
    assert "Một đồng nghiệp đã" in answer.text


def test_an_edit_overtaken_between_check_and_write_shows_the_conflict_screen(
    client, case_of, monkeypatch
):
    from app.cases import services

    case, people = case_of
    sign_in(client, people["manager"])
    original = services.record_event

    def overtaken(*args, **kw):
        _bump_elsewhere(case)
        return original(*args, **kw)

    monkeypatch.setattr(services, "record_event", overtaken)
    answer = _edit_case(client, case, survivor_name="Tên Mới")
    assert answer.status_code == 409 and 'value="Tên Mới"' in answer.get_data(as_text=True)


def test_an_edit_overtaken_by_an_erasure_says_so(client, case_of, monkeypatch):
    """The other write was the case's erasure: nothing to compare with (its values can no longer
    be opened), so the editor is told, not shown a 500."""
    from app.cases import services

    case, people = case_of
    sign_in(client, people["manager"])
    original = services.record_event

    def erased_meanwhile(*args, **kw):
        now = utcnow()
        _bump_elsewhere(
            case,
            status="erased",
            erased_at=now,
            key_wrapped=None,
            key_kek_id=None,
            key_destroyed_at=now,
        )
        return original(*args, **kw)

    monkeypatch.setattr(services, "record_event", erased_meanwhile)
    answer = _edit_case(client, case, survivor_name="Tên Mới")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Ca này đã bị xoá" in page


def test_an_age_under_16_typed_later_after_a_weapon_was_told_gets_the_12_hour_check(
    client, make_user, make_org
):
    """At intake a serious danger told in the call (a weapon, a threat to kill) makes a child's
    case urgent whatever the risk level; the same when the age is only known later."""
    org = make_org()
    operator = make_user("operator", organisation=org)
    case = save_intake(
        data=Intake(reason="violence_report", danger=["weapon_or_threat"], survivor=Survivor()),
        by=operator,
    ).case
    assert not case.is_child and case.risk_level in (None, "low")
    sign_in(client, operator)
    assert _edit_case(client, case, survivor_age="10").status_code == 302
    db.session.refresh(case)
    assert case.is_child and "child_12h" in [t.kind for t in case.tasks]


def test_a_closure_approved_from_a_page_older_than_a_new_task_is_shown_again_first(
    app, client, case_of
):
    """The approval page lists the open tasks the closure ends: a task added after it was
    opened (a 12-hour check, a follow-up) is never ended unseen."""
    case, people = case_of
    duties_done(case, people["manager"])
    case.status = "pending_closure"
    db.session.commit()
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}/status"
    page = client.get(f"{url}?to=closed").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    add_task(
        case=case, by=people["manager"], kind="follow_up_call", due=utcnow() + timedelta(days=1)
    )
    response = client.post(
        url, data={"to": "closed", "version": version, "reason": "", "csrf_token": token}
    )
    shown = response.get_data(as_text=True)
    db.session.refresh(case)
    assert response.status_code == 200 and case.status == "pending_closure"
    assert "open task" in shown or "việc" in shown  # the task now listed before confirming
    again = re.search(r'name="version" type="hidden" value="(\d+)"', shown).group(1)
    assert again == str(case.version)
    looks = db.session.execute(
        select(AuditEntry.detail).where(
            AuditEntry.case_id == case.id,
            AuditEntry.action == "view",
            AuditEntry.user_id == people["supervisor"].id,
        )
    ).scalars()
    assert list(looks) == ["status form", "status form"]  # shown again with its tasks: a look
    client.post(url, data={"to": "closed", "version": again, "reason": "", "csrf_token": token})
    db.session.refresh(case)
    assert case.status == "closed"


def test_a_move_a_colleague_made_first_goes_back_to_the_case_not_a_refusal(app, client, case_of):
    """A colleague approved the closure while this supervisor typed why to return it: not a
    refusal, nor "confirm again" (nothing can be), but the case as it is, saying so, with the
    reason typed kept to copy (a closed case takes no note); without one, the case page."""
    case, people = case_of
    duties_done(case, people["manager"])
    case.status = "pending_closure"
    db.session.commit()
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}/status"
    page = client.get(f"{url}?to=in_support").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    other = app.test_client()
    sign_in(other, people["supervisor2"])
    other.submit(url, {"to": "closed"}, page=f"{url}?to=closed")
    response = client.post(
        url, data={"to": "in_support", "version": version, "reason": "Cần hỗ trợ thêm",
                   "csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 409
    assert re.search(r"<textarea readonly[^>]*>\s*Cần hỗ trợ thêm</textarea>", response.text)
    assert "Không thể thực hiện thay đổi này nữa" in response.text
    assert "xác nhận lại" not in response.text
    bare = client.post(url, data={"to": "in_support", "version": version, "csrf_token": token})
    assert bare.status_code == 302 and bare.location.endswith(f"/cases/{case.id}")
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.case_id == case.id)
    ).all()
    assert denied == []


@pytest.mark.parametrize(
    "path, detail",
    [("status?to=in_support", "status form"), ("incidents/new", "incident form"),
     ("perpetrators/new", "person form"), ("risk", "risk form"), ("consent", "consent form")],
)  # fmt: skip
def test_each_form_page_about_a_case_is_a_look_written_to_the_audit_log(
    client, case_of, path, detail
):
    case, people = case_of
    sign_in(client, people["manager"])
    assert client.get(f"/cases/{case.id}/{path}").status_code == 200
    looks = db.session.execute(
        select(AuditEntry.detail).where(
            AuditEntry.action == "view",
            AuditEntry.case_id == case.id,
            AuditEntry.user_id == people["manager"].id,
        )
    ).scalars()
    assert list(looks) == [detail]


def test_the_case_page_has_no_two_elements_with_one_id(client, case_of):
    """The note and task forms both have a "kind": each label must point at its own field."""
    case, people = case_of
    sign_in(client, people["manager"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert 'for="note-kind"' in page and 'for="task-kind"' in page


def test_what_was_typed_stays_on_the_page_when_the_case_is_closed_meanwhile(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    incident_page = f"{url}/incidents/new"
    token = client.csrf_token(incident_page)
    edit_page = client.get(f"{url}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', edit_page).group(1)
    case.status = "closed"  # a supervisor approved the closure meanwhile
    db.session.commit()
    incident = client.post(
        incident_page,
        data={"csrf_token": token, "form_key": str(uuid.uuid4()), "incident_date": "01/11/2026",
              "place_type": "home", "incident_description": "Mô tả dài viết muộn"},
    )  # fmt: skip
    assert incident.status_code == 200
    assert "Mô tả dài viết muộn" in incident.get_data(as_text=True)
    edit = client.post(
        f"{url}/edit",
        data={"csrf_token": token, "version": version, "survivor_name": "Tên Sửa Muộn",
              "survivor_sex": "female", "survivor_age_band": "unknown"},
    )  # fmt: skip
    assert edit.status_code == 409 and "Tên Sửa Muộn" in edit.get_data(as_text=True)
    db.session.expire_all()
    assert count_of(Incident, case) == 0  # nothing saved on the closed case
    assert db.session.get(Case, case.id).survivor_name == "Đỗ Thị Hạnh"


def count_of(model, case) -> int:
    return db.session.execute(
        select(func.count()).select_from(model).where(model.case_id == case.id)
    ).scalar_one()


def test_a_move_the_role_may_not_make_is_refused_and_audited_even_with_a_stale_page(
    client, case_of
):
    case, people = case_of
    sign_in(client, people["operator"])
    url = f"/cases/{case.id}/status"
    token = client.csrf_token(f"/cases/{case.id}")
    for version in (str(case.version), "999"):  # its own, or one made up
        answer = client.post(
            url, data={"to": "in_support", "version": version, "csrf_token": token}
        )
        assert answer.status_code == 404
    denied = db.session.execute(
        select(func.count()).where(AuditEntry.action == "denied", AuditEntry.case_id == case.id)
    ).scalar_one()
    assert denied == 2 and db.session.get(Case, case.id).status == "open"


def test_the_part_forms_of_a_closed_case_do_not_open(client, case_of):
    from app.cases import services

    case, people = case_of
    duties_done(case, people["manager"])
    services.change_status(case=case, to="in_support", by=people["manager"])
    services.change_status(case=case, to="pending_closure", by=people["manager"])
    services.change_status(case=case, to="closed", by=people["supervisor"])
    sign_in(client, people["manager"])
    for form in ("incidents/new", "perpetrators/new", "risk", "consent"):
        answer = client.get(f"/cases/{case.id}/{form}")
        assert answer.status_code == 302, form
        assert answer.location.endswith(f"/cases/{case.id}"), form
    looks = select(AuditEntry.detail).where(
        AuditEntry.action == "view", AuditEntry.case_id == case.id
    )
    assert not [d for d in db.session.execute(looks).scalars() if d and d.endswith(" form")]


def test_a_new_call_on_a_case_shows_its_safe_contact_and_says_so_in_the_audit_log(client, case_of):
    case, people = case_of
    sign_in(client, people["operator"])
    page = client.get(f"/calls/new?case={case.id}").get_data(as_text=True)
    notice = re.search(r'<div class="notice" id="linked-case".*?</div>', page, flags=re.S)
    assert notice and "Chỉ nhắn Zalo" in notice.group(0) and case.number in notice.group(0)
    entry = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "view",
            AuditEntry.case_id == case.id,
            AuditEntry.user_id == people["operator"].id,
        )
    ).scalar_one()
    assert entry.detail == "safe contact on a new call"


def test_a_note_overtaken_by_a_reassignment_is_not_written_again_out_of_scope(
    client, case_of, make_user, monkeypatch
):
    """The case manager's note meets the supervisor's reassignment on the case's version: the
    note is not written again on a case that is no longer theirs (a denied 404, audited)."""
    from sqlalchemy import update

    from app.cases import views

    case, people = case_of
    other = make_user("case_manager", organisation=people["manager"].organisation)
    original, calls = views.drafts.drop, []

    def overtaken(**kw):
        calls.append(1)
        if len(calls) == 1:
            with db.engine.begin() as conn:
                conn.execute(
                    update(Case.__table__)
                    .where(Case.__table__.c.id == case.id)
                    .values(version=Case.__table__.c.version + 1, assigned_to_id=other.id)
                )
        return original(**kw)

    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    page = client.get(url)
    assert page.status_code == 200
    monkeypatch.setattr(views.drafts, "drop", overtaken)
    response = client.submit(f"{url}/notes", {"kind": "note", "body": "Ghi chú muộn"}, page=url)
    assert response.status_code == 404
    db.session.rollback()
    assert db.session.execute(select(func.count(CaseNote.id))).scalar_one() == 0
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.case_id == case.id)
    ).scalar_one()
    assert denied.user_id == people["manager"].id


def test_a_closure_sent_without_the_pages_version_is_shown_again_not_applied(client, case_of):
    """A form not drawn by this app (a script, a page of an older release) cannot say what the
    person saw: the tasks a closure would end are shown first, as for a page grown stale."""
    case, people = case_of
    duties_done(case, people["manager"])
    case.status = "pending_closure"
    db.session.commit()
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}/status"
    page = client.get(f"{url}?to=closed").get_data(as_text=True)
    token = CSRF_META.search(page).group(1)
    add_task(case=case, by=people["manager"], kind="child_12h", due=utcnow() + timedelta(hours=12))
    answer = client.post(url, data={"to": "closed", "reason": "", "csrf_token": token})
    db.session.refresh(case)
    assert answer.status_code == 200 and case.status == "pending_closure"
    assert STATUS_VERSION.search(answer.text).group(1) == str(case.version)
    assert all(task.ended_by is None for task in case.tasks)


def test_a_reason_for_a_move_a_colleague_made_first_is_kept_in_the_note_box(app, client, case_of):
    """Two supervisors return one pending closure to support, each with a reason: the second
    one's reason is not dropped under "already has that status"."""
    case, people = case_of
    case.status = "pending_closure"
    db.session.commit()
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.id}/status"
    form = status_form(client, case, "in_support", reason="Chồng lại đe doạ hôm qua")
    other = app.test_client()
    sign_in(other, people["supervisor2"])
    other.submit(
        url, {"to": "in_support", "reason": "Lý do của người kia"}, page=f"{url}?to=in_support"
    )
    answer = client.post(url, data=form)
    assert answer.status_code == 409
    assert re.search(r"<textarea[^>]*>\s*Chồng lại đe doạ hôm qua</textarea>", answer.text)
    assert (
        "Một đồng nghiệp đã" in answer.text or "A colleague made this change first" in answer.text
    )
    events = db.session.execute(select(CaseEvent).where(CaseEvent.kind == "status")).scalars()
    assert [e.to_value for e in events] == ["in_support"]
    # Kept on the server too, as a note draft under the form's key: the page closed, the case
    # page offers it back; the note sent, it goes.
    db.session.rollback()
    kept = db.session.execute(select(CaseDraft).where(CaseDraft.form == "note")).scalars().all()
    assert [(str(d.page), json.loads(d.payload)["body"]) for d in kept] == [
        (form["form_key"], "Chồng lại đe doạ hôm qua")
    ]
    again_shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert re.search(r"<textarea[^>]*>\s*Chồng lại đe doạ hôm qua</textarea>", again_shown)
    note = {"kind": "note", "body": "Chồng lại đe doạ hôm qua", "form_key": form["form_key"]}
    assert (
        client.submit(f"/cases/{case.id}/notes", note, page=f"/cases/{case.id}").status_code == 302
    )
    db.session.rollback()
    assert db.session.execute(select(func.count(CaseDraft.id))).scalar_one() == 0
    # The same form sent twice by its own page is still the plain double click.
    again = other
    db.session.refresh(case)
    case.status = "pending_closure"
    db.session.commit()
    mine = status_form(again, case, "in_support", reason="Gọi lại")
    assert again.post(url, data=mine).status_code == 302
    twice = again.post(url, data=mine)
    assert twice.status_code == 302 and twice.location == f"/cases/{case.id}"


def test_an_operator_posting_the_cases_own_status_is_refused_and_audited(client, case_of):
    case, people = case_of
    case.status = "in_support"
    db.session.commit()
    sign_in(client, people["operator"])
    answer = client.submit(
        f"/cases/{case.id}/status",
        {"to": "in_support", "version": str(case.version)},
        page=f"/cases/{case.id}",
    )
    assert answer.status_code == 404
    denied = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "denied", AuditEntry.user_id == people["operator"].id
        )
    ).scalar_one()
    assert denied.case_id == case.id and denied.detail == "status change"


def test_an_edit_listing_the_same_services_in_another_order_changes_nothing(case_of):
    """A call joining a case appends its services ("shelter health"); the edit page sends them
    in the list's order: no change, no version moved, no audit entry."""
    from app.cases.edits import update_case

    case, people = case_of
    case.services_wanted = "shelter health"
    db.session.commit()
    version = case.version
    changed = update_case(
        case=case,
        by=people["manager"],
        expected_version=version,
        changes={"services_wanted": "health shelter"},
    )
    assert changed == []
    db.session.refresh(case)
    assert case.version == version and case.services_wanted == "shelter health"
    updates = select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.case_id == case.id)
    assert db.session.execute(updates).first() is None


def test_a_task_due_in_a_year_no_calendar_converts_is_refused_not_a_server_error(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    refused = client.submit(
        f"{url}/tasks",
        {"kind": "follow_up_call", "due_at": "01/01/0001 00:00", "note": "Hỏi thăm"},
        page=url,
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Hãy viết năm trong khoảng từ 1900 đến 2100." in page
    assert "01/01/0001 00:00" in page and "Hỏi thăm" in page
    assert not [t for t in db.session.get(Case, case.id).tasks if t.kind == "follow_up_call"]


def test_a_birth_date_older_than_any_age_is_refused_on_the_edit_page(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    answer = _edit_case(client, case, survivor_birth_date="01/01/0001")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Ngày sinh này cho thấy người bị bạo lực hơn 120 tuổi: hãy kiểm tra lại năm." in page
    assert 'value="01/01/0001"' in page
    db.session.refresh(case)
    assert case.survivor_birth_date is None and not case.is_child


def test_a_box_sent_twice_on_the_case_page_counts_once(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    assert _edit_case(client, case, services_wanted=["child_protection"] * 20).status_code == 302
    db.session.refresh(case)
    assert case.services_wanted == "child_protection"
    url = f"/cases/{case.id}/consent"
    sent = {"consent_services": ["health"] * 3, "consent_given_by": "survivor"}
    assert client.submit(url, sent, page=url).status_code == 302
    db.session.expire_all()
    assert [c.service for c in db.session.get(Case, case.id).consents] == ["health"]


SEEN = re.compile(r'id="seen" name="seen" type="hidden" value="([^"]*)"')


def test_a_risk_form_drawn_before_a_colleagues_assessment_shows_theirs_before_saving(
    client, case_of, app
):
    """A supervisor rates the case severe (a 24-hour re-assessment planned) while the case
    manager's form, opened before, has nothing ticked: sent, it is not saved but shows the
    supervisor's rating, the ticks kept; sent again from that page, it is saved."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/risk"
    opened = client.get(url).get_data(as_text=True)
    seen, key = SEEN.search(opened).group(1), FORM_KEY.search(opened).group(1)
    assert seen == "none"
    colleague = app.test_client()
    sign_in(colleague, people["supervisor"])
    colleague.submit(url, {"risk_answers": ["strangulation", "threats_to_kill"]}, page=url)
    db.session.rollback()
    assert db.session.get(Case, case.id).risk_level == "severe"
    mine = {"risk_answers": ["controlling"], "seen": seen, "form_key": key}
    first = client.post(url, data={**mine, "csrf_token": client.csrf_token(url)})
    page = first.get_data(as_text=True)
    assert first.status_code == 409
    assert "Chưa lưu: một đánh giá nguy cơ đã được lưu sau khi biểu mẫu này được mở." in page
    assert people["supervisor"].full_name in page and "Đã bóp cổ" in page
    assert re.search(r'value="controlling"[^>]*checked|checked[^>]*value="controlling"', page)
    db.session.rollback()
    again = db.session.get(Case, case.id)
    assert again.risk_level == "severe" and len(again.assessments) == 1
    review = [t for t in again.tasks if t.kind == "safety_review"]
    assert len(review) == 1 and review[0].done_at is None
    newest = SEEN.search(page).group(1)
    assert newest == str(again.assessments[0].id)
    assert views_of(case, "risk conflict") == 1  # their assessment shown: a look, audited
    saved = client.post(url, data={**mine, "seen": newest, "csrf_token": client.csrf_token(url)})
    assert saved.status_code == 302
    db.session.rollback()
    assert len(db.session.get(Case, case.id).assessments) == 2


def test_a_risk_form_sent_twice_is_saved_once_not_taken_for_a_colleagues(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/risk"
    opened = client.get(url).get_data(as_text=True)
    form = {
        "risk_answers": ["strangulation"],
        "seen": SEEN.search(opened).group(1),
        "form_key": FORM_KEY.search(opened).group(1),
        "csrf_token": client.csrf_token(url),
    }
    assert client.post(url, data=form).status_code == 302
    again = client.post(url, data=form)
    assert again.status_code == 302
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Biểu mẫu này đã được lưu trước đó; không có gì được lưu hai lần." in shown
    assert db.session.execute(select(func.count()).select_from(RiskAssessment)).scalar_one() == 1


def test_a_consent_form_drawn_before_a_withdrawal_shows_it_before_saving(client, case_of, app):
    """The survivor withdraws consent to the police while the case manager's consent form,
    opened before, says she agrees: sent, it is not saved over the withdrawal unseen but
    shows it, the ticks kept; sent again from that page, it is saved. A newer answer for
    another service only is no conflict."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/consent"
    opened = client.get(url).get_data(as_text=True)
    seen, key = SEEN.search(opened).group(1), FORM_KEY.search(opened).group(1)
    colleague = app.test_client()
    sign_in(colleague, people["supervisor"])
    colleague.submit(url, {"consent_refused": ["police"]}, page=url)
    mine = {"consent_services": ["police", "health"], "seen": seen, "form_key": key}
    first = client.post(url, data={**mine, "csrf_token": client.csrf_token(url)})
    page = first.get_data(as_text=True)
    assert first.status_code == 409
    assert "Chưa lưu: một sự đồng ý đã được ghi sau khi biểu mẫu này được mở." in page
    assert people["supervisor"].full_name in page and "từ chối" in page
    assert re.search(r'value="police"[^>]*checked|checked[^>]*value="police"', page)
    db.session.rollback()
    answers = db.session.execute(select(Consent).where(Consent.case_id == case.id)).scalars()
    assert [(c.service, c.granted) for c in answers] == [("police", False)]
    assert views_of(case, "consent conflict") == 1  # the withdrawal shown: a look, audited
    newest = SEEN.search(page).group(1)
    saved = client.post(url, data={**mine, "seen": newest, "csrf_token": client.csrf_token(url)})
    assert saved.status_code == 302
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(Consent)).scalar_one() == 3
    opened = client.get(url).get_data(as_text=True)
    colleague.submit(url, {"consent_services": ["shelter"]}, page=url)
    other = {
        "consent_services": ["legal"],
        "seen": SEEN.search(opened).group(1),
        "form_key": FORM_KEY.search(opened).group(1),
        "csrf_token": client.csrf_token(url),
    }
    assert client.post(url, data=other).status_code == 302


BASE = re.compile(r'id="base" name="base" type="hidden" value="([0-9a-f.]*)"')


def test_an_edit_after_a_colleagues_note_saves_without_a_conflict_screen(client, app, case_of):
    """A note, a task or a call moves the case's version but none of the survivor's details:
    an edit opened before it has nothing to compare, and is saved."""
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/edit"
    opened = client.get(url).get_data(as_text=True)
    version, base = str(case.version), BASE.search(opened).group(1)
    colleague = app.test_client()
    sign_in(colleague, people["supervisor"])
    colleague.submit(
        f"/cases/{case.id}/notes", {"kind": "note", "body": "Đã gọi lại"}, page=f"/cases/{case.id}"
    )
    db.session.rollback()
    assert str(db.session.get(Case, case.id).version) != version
    sent = _edit_case(client, case, version=version, base=base, safe_contact="Gọi sau 20h")
    assert sent.status_code == 302
    db.session.rollback()
    assert db.session.get(Case, case.id).safe_contact == "Gọi sau 20h"


def test_an_edit_after_a_colleague_changed_a_detail_still_meets_the_conflict_screen(
    client, app, case_of
):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/edit"
    opened = client.get(url).get_data(as_text=True)
    version, base = str(case.version), BASE.search(opened).group(1)
    colleague = app.test_client()
    sign_in(colleague, people["supervisor"])
    theirs = {"version": version, "base": base, "survivor_name": "Đỗ Thị Hạnh"}
    theirs |= {"survivor_sex": "female", "safe_contact": "Chỉ gọi buổi sáng"}
    assert colleague.submit(url, theirs, page=url).status_code == 302
    sent = _edit_case(client, case, version=version, base=base, safe_contact="Gọi sau 20h")
    assert sent.status_code == 409 and "Chỉ gọi buổi sáng" in sent.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Case, case.id).safe_contact == "Chỉ gọi buổi sáng"


def test_a_birth_date_after_the_case_opened_is_refused_on_the_edit_page(client, case_of):
    """Born after the case was opened, the survivor's age at the opening was below nought,
    counted as under 16: the case went on the child path."""
    case, people = case_of
    opened = datetime(2024, 3, 15, 3, 0, tzinfo=UTC)
    case.opened_at = opened
    db.session.commit()
    sign_in(client, people["manager"])
    answer = _edit_case(client, case, survivor_birth_date="01/06/2025")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Ngày sinh sau ngày mở ca (15/03/2024): hãy kiểm tra lại năm." in page
    db.session.refresh(case)
    assert case.survivor_birth_date is None and not case.is_child


def test_an_old_case_of_an_elderly_survivor_still_saves(client, case_of):
    """120 years are counted to the day the case was opened, as the import counts them: a case
    of 2010 with a birth date of 1895 was refused on every later save."""
    case, people = case_of
    case.opened_at = datetime(2010, 5, 1, 3, 0, tzinfo=UTC)
    case.survivor_birth_date = "1895-01-01"
    db.session.commit()
    sign_in(client, people["manager"])
    sent = _edit_case(client, case, survivor_birth_date="01/01/1895", safe_contact="Gọi sau 20h")
    assert sent.status_code == 302


@pytest.mark.parametrize("closed", [True, False])
def test_a_reason_sent_for_a_case_erased_meanwhile_is_said_not_a_server_error(
    client, case_of, closed
):
    """A reopening (or a return to support) typed while a colleague erased the case: the reason
    cannot be kept (the case's key is gone), and sealing it as a note draft was a server
    error. Said, and nothing written."""
    from app.cases import services
    from app.classifications import ERASE_REASONS

    case, people = case_of
    duties_done(case, people["manager"])
    services.change_status(case=case, to="pending_closure", by=people["manager"])
    if closed:
        services.change_status(case=case, to="closed", by=people["supervisor"])
    who = people["manager"] if closed else people["supervisor"]
    sign_in(client, who)
    sent = status_form(
        client, case, "reopened" if closed else "in_support", reason="Bạo lực tái diễn hôm qua"
    )
    services.erase_case(case=case, by=people["supervisor2"], reason=next(iter(ERASE_REASONS)))
    answer = client.post(f"/cases/{case.id}/status", data=sent)
    assert answer.status_code == 302 and answer.location == f"/cases/{case.id}"
    page = client.get(answer.location).get_data(as_text=True)
    assert "Ca đã bị xoá trong lúc đó; không có gì thay đổi." in page
    db.session.rollback()
    assert db.session.execute(select(func.count(CaseDraft.id))).scalar_one() == 0


def test_an_age_typed_against_the_date_of_birth_does_not_take_a_child_off_her_path(client, case_of):
    """A 10-year-old's case (born 01/01/2016, severe risk, her 12-hour check open): "30" typed
    beside the date of birth took the case off the child path and ended the check, the date
    still saying 10. Refused, both kept; the date decides."""
    case, people = case_of
    case.risk_level = "severe"
    db.session.commit()
    sign_in(client, people["manager"])
    assert _edit_case(client, case, survivor_birth_date="01/01/2016").status_code == 302
    db.session.refresh(case)
    assert case.is_child and any(t.kind == "child_12h" and t.done_at is None for t in case.tasks)
    answer = _edit_case(client, case, survivor_birth_date="01/01/2016", survivor_age="30")
    assert answer.status_code == 200
    assert "Tuổi (30) không khớp với ngày sinh" in answer.text and 'value="30"' in answer.text
    db.session.refresh(case)
    assert case.is_child and case.survivor_age is None
    assert any(t.kind == "child_12h" and t.done_at is None for t in case.tasks)


def test_a_task_a_colleague_did_first_says_so_not_marked_done(app, client, case_of):
    """Ticked from an older page after a colleague did it: the first stays its doer, and the
    second is told who did it and when, not "Task marked done"."""
    from app.cases.services import open_task

    case, people = case_of
    task = open_task(case, kind="follow_up_call", due=case.opened_at, by=people["manager"])
    db.session.commit()
    url = f"/cases/{case.id}"
    sign_in(client, people["manager"])
    boss = app.test_client()
    sign_in(boss, people["supervisor"])
    token = boss.csrf_token(url)  # the supervisor's page is open, showing the task
    done = client.submit(f"/cases/tasks/{task.id}/done", {"back": "case"}, page=url)
    assert done.status_code == 302
    answer = boss.post(f"/cases/tasks/{task.id}/done", data={"csrf_token": token, "back": "case"})
    page = boss.get(answer.location).get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Task, task.id).done_by_id == people["manager"].id
    assert f"{people['manager'].full_name} đã đánh dấu hoàn thành việc này lúc" in page
    assert "Đã đánh dấu hoàn thành" not in page
    # The same click sent twice by the one who did it is still "marked done".
    again = client.submit(f"/cases/tasks/{task.id}/done", {"back": "case"}, page=url)
    assert "đã đánh dấu hoàn thành việc này" not in client.get(again.location).get_data(
        as_text=True
    )


def _timeline_items(page: str) -> list[str]:
    block = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r"<li class=\"timeline-(\w+)\">(.*?)</li>", block, re.S)


def test_the_timeline_names_who_recorded_each_part_and_what_an_edit_changed(client, app, case_of):
    """Only notes, status moves and assignments named their author: who rated a risk severe,
    or recorded a consent refused, could not be told; an edit said only "Details changed"."""
    case, people = case_of
    manager, boss = people["manager"], people["supervisor"]
    url = f"/cases/{case.id}"
    sign_in(client, manager)
    assert (
        client.submit(
            f"{url}/incidents/new",
            {"acts": ["i_forced_sex"], "place_type": "home", "incident_date": "01/11/2025"},
            page=f"{url}/incidents/new",
        ).status_code
        == 302
    )
    assert (
        client.submit(
            f"{url}/perpetrators/new",
            {"perpetrator_relationship": "former_partner"},
            page=f"{url}/perpetrators/new",
        ).status_code
        == 302
    )
    assert (
        client.submit(
            f"{url}/consent", {"consent_services": ["shelter"]}, page=f"{url}/consent"
        ).status_code
        == 302
    )
    other = app.test_client()
    sign_in(other, boss)
    assert (
        other.submit(
            f"{url}/risk", {"risk_answers": ["strangulation"]}, page=f"{url}/risk"
        ).status_code
        == 302
    )
    page = other.get(url).get_data(as_text=True)
    items = _timeline_items(page)
    kinds = {k for k, _ in items}
    assert {"incident", "perpetrator", "consent", "risk", "call"} <= kinds
    missing = []
    for kind, body in items:
        who = {
            "incident": manager,
            "perpetrator": manager,
            "consent": manager,
            "risk": boss,
            "call": people["operator"],
        }.get(kind)
        if who is not None and who.full_name not in body:
            missing.append(kind)
    # Every entry should say who recorded it (the note and status entries do).
    assert missing == [], f"timeline entries with no actor: {missing}"
    db.session.refresh(case)  # its version as the parts added left it
    assert _edit_case(client, case, safe_contact="Chỉ gọi sau 20 giờ").status_code == 302
    edited = dict(_timeline_items(client.get(url).get_data(as_text=True)))["event"]
    assert re.search(r"Đã sửa thông tin: [^<]*Liên lạc an toàn</strong>", edited), edited


def test_an_edit_counts_the_age_on_the_day_of_the_call_as_the_intake_did(client, case_of):
    """A call of 09/03/2026 written up months later, about a girl born 10/03/2010: 15 on the
    call's day, a child's case. The edit page counted on the day the case was saved (16): it
    refused every edit ("the age does not match the date of birth"), and clearing the age as
    it said took her off the child path."""
    from app.calls.intake import Intake, Survivor, save_intake
    from app.clock import LOCAL
    from tests.cases.test_case_drafts import browser_fields

    _, people = case_of
    case = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            started_at=datetime(2026, 3, 9, 10, 0, tzinfo=LOCAL),
            danger=["danger_now"],
            survivor=Survivor(name="Em Lan", birth_date=date(2010, 3, 10), age=15),
        ),
        by=people["operator"],
    ).case
    case.assigned_to_id = people["manager"].id
    db.session.commit()
    assert case.is_child
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/edit"
    fields = browser_fields(client.get(url).get_data(as_text=True))
    assert fields["survivor_age"] == "15"
    answer = client.submit(url, {**fields, "safe_contact": "Chỉ gọi sau 20 giờ"}, page=url)
    assert answer.status_code == 302
    fields = browser_fields(client.get(url).get_data(as_text=True))
    assert client.submit(url, {**fields, "survivor_age": ""}, page=url).status_code == 302
    db.session.refresh(case)
    assert case.is_child and case.survivor_age_band == "under_16"


def test_an_edit_of_many_details_names_them_all_on_the_timeline(client, case_of):
    """The changed details' names were cut at 40 characters: an edit of the name, the phone
    and the address named the first two only."""
    case, people = case_of
    sign_in(client, people["manager"])
    answer = _edit_case(
        client,
        case,
        survivor_name="Đỗ Thị Hạnh Mới",
        survivor_phone="0912 345 678",
        survivor_address="Số 5 ngõ 10 phố Huế",
        survivor_birth_date="01/01/1990",
        summary="Tóm tắt mới",
    )
    assert answer.status_code == 302
    edited = dict(_timeline_items(client.get(f"/cases/{case.id}").get_data(as_text=True)))
    said = re.search(r"Đã sửa thông tin: ([^<]*)</strong>", edited["event"]).group(1)
    for label in ("Tên hoặc bí danh", "Số của người bị bạo lực", "Địa chỉ", "Ngày sinh", "Tóm tắt"):
        assert label in said, (label, said)


def test_an_edit_met_by_a_note_at_the_same_instant_is_saved_not_a_conflict(
    client, case_of, monkeypatch
):
    """A colleague's note landing between the edit's check and its write moved the case's
    version: the edit met the conflict screen, which said the other had saved details they
    never touched. It is made again on the case as it now is; a detail moved meanwhile is
    still the conflict screen."""
    from app.cases import edits

    case, people = case_of
    sign_in(client, people["manager"])
    original, calls = edits._apply_edit, []

    def overtaken(case_, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            _bump_elsewhere(case_)  # the note's write, committed first
        return original(case_, *args, **kwargs)

    monkeypatch.setattr(edits, "_apply_edit", overtaken)
    url = f"/cases/{case.id}/edit"
    from tests.cases.test_case_drafts import browser_fields

    fields = browser_fields(client.get(url).get_data(as_text=True))
    answer = client.submit(url, {**fields, "safe_contact": "Chỉ gọi sau 20 giờ"}, page=url)
    assert answer.status_code == 302 and len(calls) == 2
    db.session.refresh(case)
    assert case.safe_contact == "Chỉ gọi sau 20 giờ"
    assert views_of(case, "edit conflict") == 0
    calls.clear()
    fields = browser_fields(client.get(url).get_data(as_text=True))

    def detail_moved(case_, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            _bump_elsewhere(case_, safe_contact_sealed=None)  # a colleague cleared it
        return original(case_, *args, **kwargs)

    monkeypatch.setattr(edits, "_apply_edit", detail_moved)
    clash = client.submit(url, {**fields, "safe_contact": "Nhắn Zalo"}, page=url)
    assert clash.status_code == 409 and len(calls) == 1


def test_an_edit_met_by_a_hand_over_is_refused_not_made_again(client, case_of, monkeypatch):
    """The case handed to another case manager between the edit's check and its write: the
    edit was made again (the details untouched) by someone who no longer had the case, with no
    refusal in the log. Refused (404) and audited, as a note in the same race is."""
    from app.cases import edits

    case, people = case_of
    sign_in(client, people["manager"])
    original, calls = edits._apply_edit, []

    def handed_over(case_, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # the supervisor's hand-over, committed first
            _bump_elsewhere(case_, assigned_to_id=people["supervisor2"].id)
        return original(case_, *args, **kwargs)

    monkeypatch.setattr(edits, "_apply_edit", handed_over)
    url = f"/cases/{case.id}/edit"
    from tests.cases.test_case_drafts import browser_fields

    fields = browser_fields(client.get(url).get_data(as_text=True))
    answer = client.submit(url, {**fields, "safe_contact": "Chỉ gọi sau 20 giờ"}, page=url)
    assert answer.status_code == 404 and len(calls) == 1
    db.session.refresh(case)
    assert case.safe_contact != "Chỉ gọi sau 20 giờ"
    denied = db.session.execute(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.case_id == case.id, AuditEntry.action == "denied"
        )
    ).scalar_one()
    assert denied == 1
