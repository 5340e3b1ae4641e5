"""A case is not closed with a duty of law open: the commune notified of the report, a child at
serious risk acted on within 12 hours, a prohibition of contact followed to its decision. The
closure is neither asked for nor approved until each is marked done; other tasks still end with
the closure, as the approval page says."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.calls.intake import Intake, Survivor, save_intake
from app.cases import services
from app.cases.casework import add_task, complete_task
from app.cases.models import CaseEvent
from app.clock import utcnow
from app.extensions import db
from tests.cases.test_case_work import status_form
from tests.conftest import sign_in

DUTY_SAID = "Ca này còn 1 nghĩa vụ theo luật chưa hoàn thành"
DONE = "Đã báo chủ tịch UBND xã qua điện thoại lúc 9h"


def _kinds_open(case) -> set[str]:
    return {t.kind for t in case.tasks if t.done_at is None}


def test_the_commune_notice_open_stops_the_closure_asked_for(case_of):
    case, people = case_of
    assert _kinds_open(case) == {"notify_commune"}  # every violence report's
    with pytest.raises(services.DutiesOpen):
        services.change_status(case=case, to="pending_closure", by=people["manager"])
    db.session.rollback()
    assert case.status == "open"
    (duty,) = services.duties_open(case)
    complete_task(task=duty, by=people["manager"], note=DONE)
    services.change_status(case=case, to="pending_closure", by=people["manager"])
    assert case.status == "pending_closure"


@pytest.mark.parametrize("kind", ["child_12h", "no_contact_12h", "notify_commune"])
def test_a_duty_opened_after_the_request_stops_the_approval(case_of, kind):
    """A duty planned while the closure waits (a reassessment finds a child at serious risk,
    say) is not ended unseen by the approval; a follow-up call is, as before."""
    case, people = case_of
    for task in services.duties_open(case):
        complete_task(task=task, by=people["manager"], note=DONE)
    services.change_status(case=case, to="pending_closure", by=people["manager"])
    later = utcnow() + timedelta(hours=12)
    add_task(case=case, by=people["supervisor"], kind="follow_up_call", due=later)
    duty = add_task(case=case, by=people["supervisor"], kind=kind, due=later)
    with pytest.raises(services.DutiesOpen):
        services.change_status(case=case, to="closed", by=people["supervisor"])
    db.session.rollback()
    assert case.status == "pending_closure" and duty.done_at is None
    complete_task(task=duty, by=people["supervisor"], note=DONE)
    services.change_status(case=case, to="closed", by=people["supervisor"])
    assert case.status == "closed"
    ended = {t.kind: t.ended_by for t in case.tasks if t.ended_by}
    assert ended == {"follow_up_call": "closed"}
    assert duty.ended_by is None and duty.done_by_id == people["supervisor"].id


def test_the_status_page_lists_the_duties_and_offers_no_confirm(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/status?to=pending_closure"
    page = client.get(url).get_data(as_text=True)
    assert 'id="duties-open"' in page
    assert DUTY_SAID in page
    assert "Thông báo UBND cấp xã" in page
    assert f'href="/cases/{case.id}#tasks"' in page
    assert 'value="Xác nhận"' not in page  # nothing to confirm yet
    # Sent anyway (a page of before the duty, a script): refused, said, the reason kept.
    sent = status_form(client, case, "pending_closure", reason="Chị đã an toàn ở nhà mẹ")
    answer = client.post(f"/cases/{case.id}/status", data=sent)
    assert answer.status_code == 200
    assert answer.text.count(DUTY_SAID) == 1  # the list of duties, not a second message
    assert "Chị đã an toàn ở nhà mẹ" in answer.text
    assert "được giữ lại" in answer.text  # the reason box says what becomes of it
    db.session.refresh(case)
    assert case.status == "open"
    moves = db.session.execute(select(CaseEvent).where(CaseEvent.kind == "status")).all()
    assert moves == []


def test_marked_done_on_the_case_page_the_closure_can_be_asked(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    (duty,) = services.duties_open(case)
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'action="/cases/tasks/{duty.id}/done"' in shown
    assert "Nghĩa vụ theo luật: phải xong trước khi đóng ca" in shown
    sent = {"back": "case", "note": DONE}
    done = client.submit(f"/cases/tasks/{duty.id}/done", sent, page=f"/cases/{case.id}")
    assert done.status_code == 302
    url = f"/cases/{case.id}/status?to=pending_closure"
    page = client.get(url).get_data(as_text=True)
    assert 'id="duties-open"' not in page and 'value="Xác nhận"' in page
    asked = client.submit(f"/cases/{case.id}/status", {"to": "pending_closure"}, page=url)
    assert asked.status_code == 302
    db.session.refresh(case)
    assert case.status == "pending_closure"
    # The confirmation names the case and where it is now.
    said = client.get(asked.location).get_data(as_text=True)
    assert f"Ca {case.number} nay ở trạng thái: Chờ đóng ca." in said


def test_a_return_to_support_is_not_held_by_a_duty(client, case_of):
    """Only the closure waits on the duties: a pending closure goes back to support at once."""
    case, people = case_of
    case.status = "pending_closure"
    db.session.commit()
    assert services.duties_open(case)
    services.change_status(case=case, to="in_support", by=people["supervisor"], reason="Chưa xong")
    assert case.status == "in_support"


def test_the_supervisors_list_of_closures_says_which_wait_on_a_duty(client, case_of):
    case, people = case_of
    case.status = "pending_closure"
    db.session.commit()
    sign_in(client, people["supervisor"])
    said = "Còn 1 nghĩa vụ theo luật chưa hoàn thành"
    html = client.get("/home/supervisor").get_data(as_text=True)
    closing = re.search(r'<table id="pending-closure".*?</table>', html, flags=re.S).group(0)
    assert case.number in closing and said in closing
    # "See them all" (the search of pending closures) says it too; other searches do not count.
    found = client.get("/cases/search?status=pending_closure").get_data(as_text=True)
    results = re.search(r'<table id="search-results".*?</table>', found, flags=re.S).group(0)
    assert case.number in results and said in results
    found = client.get("/cases/search?status=active").get_data(as_text=True)
    results = re.search(r'<table id="search-results".*?</table>', found, flags=re.S).group(0)
    assert case.number in results and said not in results
    complete_task(task=services.duties_open(case)[0], by=people["manager"], note=DONE)
    html = client.get("/home/supervisor").get_data(as_text=True)
    closing = re.search(r'<table id="pending-closure".*?</table>', html, flags=re.S).group(0)
    assert case.number in closing and said not in closing
    found = client.get("/cases/search?status=pending_closure").get_data(as_text=True)
    assert case.number in found and said not in found


def test_a_duty_is_marked_done_only_with_a_note_of_what_was_done(client, case_of):
    """One click would let the record say the commune was told when it never was: a duty of law
    is marked done with a note (sealed, kept apart from the task's own note and shown under
    "What was done" in the finished tasks); other tasks need none."""
    case, people = case_of
    (duty,) = services.duties_open(case)
    duty.note = "Gọi số trực ban"
    db.session.commit()
    with pytest.raises(services.CaseError):
        complete_task(task=duty, by=people["manager"], note="   ")
    db.session.rollback()
    assert duty.done_at is None
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    shown = client.get(url).get_data(as_text=True)
    box = re.search(rf'action="/cases/tasks/{duty.id}/done".*?</form>', shown, flags=re.S)
    assert 'name="note"' in box.group(0) and "Đã làm gì" in box.group(0)
    bare = client.submit(f"/cases/tasks/{duty.id}/done", {"back": "case"}, page=url)
    assert bare.status_code == 302
    db.session.refresh(duty)
    assert duty.done_at is None
    assert "Hãy ghi rõ đã làm gì" in client.get(bare.location).get_data(as_text=True)
    sent = {"back": "case", "note": DONE}
    assert client.submit(f"/cases/tasks/{duty.id}/done", sent, page=url).status_code == 302
    db.session.refresh(duty)
    assert duty.done_by_id == people["manager"].id
    assert (duty.note, duty.done_note) == ("Gọi số trực ban", DONE)
    shown = client.get(url).get_data(as_text=True)
    finished = shown[shown.index('class="tasks-finished"') :]
    said = re.search(
        r'class="done-note-text"><strong>(.*?)</strong> <span[^>]*>(.*?)</span>', finished
    )
    assert said.groups() == ("Đã làm gì:", DONE)
    assert finished.index("Gọi số trực ban") < finished.index("done-note-text")
    db.session.refresh(case)  # as the page left it
    other = add_task(
        case=case, by=people["manager"], kind="follow_up_call", due=utcnow() + timedelta(hours=1)
    )
    assert complete_task(task=other, by=people["manager"])
    assert (other.note, other.done_note) == (None, None)


def test_a_note_not_saved_with_its_duty_is_kept_in_the_note_box(client, case_of):
    """Too long to save (a page of before the box's limit, a script): the text typed is not
    dropped but kept as the person's note draft, which the case page brings back."""
    case, people = case_of
    (duty,) = services.duties_open(case)
    sign_in(client, people["manager"])
    long = "Đã gọi chủ tịch xã, " * 30
    sent = {"back": "home", "note": long}
    answer = client.submit(f"/cases/tasks/{duty.id}/done", sent, page=f"/cases/{case.id}")
    assert answer.status_code == 302 and answer.location.endswith(f"/cases/{case.id}#add-note")
    db.session.refresh(duty)
    assert duty.done_at is None
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "tối đa 500 ký tự" in page
    assert re.search(r"<textarea[^>]*>\s*" + re.escape(long.strip()[:60]), page)


def test_a_note_typed_for_a_duty_a_colleague_marked_done_first_is_kept(app, client, case_of):
    case, people = case_of
    (duty,) = services.duties_open(case)
    sign_in(client, people["manager"])
    token = client.csrf_token(f"/cases/{case.id}")
    complete_task(task=duty, by=people["supervisor"], note=DONE)  # meanwhile
    mine = "Tôi cũng đã gọi cán bộ tư pháp xã"
    sent = {"back": "home", "note": mine, "csrf_token": token}
    answer = client.post(f"/cases/tasks/{duty.id}/done", data=sent)
    assert answer.status_code == 302 and answer.location.endswith(f"/cases/{case.id}#add-note")
    page = client.get(answer.location).get_data(as_text=True)
    assert "đã đánh dấu hoàn thành việc này lúc" in page
    assert re.search(r"<textarea[^>]*>\s*" + re.escape(mine), page)
    db.session.expire_all()
    assert services.duties_open(case) == [] and duty.done_note == DONE


def test_a_second_note_by_the_same_person_is_kept_not_dropped(client, case_of):
    """A duty marked done from one tab, then from another (or the page sent again after its
    note was changed) with another note: the first stays on the task, the second is kept as
    the person's note draft, not answered "marked done" and dropped. The same note sent
    twice (a double click) is the same sending: nothing kept."""
    case, people = case_of
    (duty,) = services.duties_open(case)
    sign_in(client, people["manager"])
    url, page = f"/cases/tasks/{duty.id}/done", f"/cases/{case.id}"
    assert client.submit(url, {"back": "case", "note": DONE}, page=page).status_code == 302
    again = client.submit(url, {"back": "case", "note": DONE}, page=page)
    assert again.status_code == 302 and not again.location.endswith("#add-note")
    assert "Đã đánh dấu hoàn thành việc cần làm của ca" in client.get(again.location).get_data(
        as_text=True
    )
    later = "Đã gọi chủ tịch xã lúc 9 giờ, ông nhận thông tin"
    answer = client.submit(url, {"back": "case", "note": later}, page=page)
    assert answer.location.endswith(f"/cases/{case.id}#add-note")
    shown = client.get(answer.location).get_data(as_text=True)
    assert "Bạn đã đánh dấu hoàn thành việc này lúc" in shown
    assert re.search(r"<textarea[^>]*>\s*" + re.escape(later), shown)
    db.session.expire_all()
    assert db.session.get(type(duty), duty.id).done_note == DONE


def test_a_duty_in_two_lists_of_a_page_has_a_box_each(client, make_org, make_user):
    """An overdue 12-hour check is on the supervisor's deadlines and overdue lists both: each
    box its own id, and a duty sent empty comes back to the box it was sent from."""
    org = make_org(code="HN")
    boss = make_user("supervisor", organisation=org)
    case = save_intake(
        data=Intake(
            reason="violence_report",
            started_at=utcnow() - timedelta(hours=13),
            danger=["danger_now"],
            survivor=Survivor(age=9),
        ),
        by=make_user("operator", organisation=org),
    ).case
    (check,) = [t for t in case.tasks if t.kind == "child_12h"]
    assert check.due_at < utcnow()
    sign_in(client, boss)
    html = client.get("/home/supervisor").get_data(as_text=True)
    boxes = re.findall(rf'id="(done-note-[a-z-]+-{check.id})"', html)
    assert sorted(boxes) == sorted(
        {f"done-note-child-deadlines-{check.id}", f"done-note-overdue-tasks-{check.id}"}
    )
    sent = {"note": "", "at": f"done-note-overdue-tasks-{check.id}"}
    back = client.submit(f"/cases/tasks/{check.id}/done", sent, page="/home/supervisor")
    assert back.location.endswith(f"/home/supervisor#done-note-overdue-tasks-{check.id}")
    forged = {"note": "", "at": "done-note-x-00000000-0000-0000-0000-000000000000"}
    back = client.submit(f"/cases/tasks/{check.id}/done", forged, page="/home/supervisor")
    assert back.location.endswith("/home/supervisor")
