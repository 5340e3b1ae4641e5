"""A write that collides with a colleague's (the case's version moved on between our read and our
write) is read again as the case now is: when that colleague's change handed the case to
someone else, the person who lost it is refused (404, audited), shown nothing of it."""

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from app.audit import AuditEntry
from app.calls.models import Call
from app.cases import edits, queue_views, services
from app.cases.edits import EditConflict
from app.cases.models import Case, Task
from app.extensions import db
from tests.calls.test_intake_page import form
from tests.cases.test_case_drafts import inputs
from tests.conftest import duties_done, sign_in


def handed_away(case, to_user):
    """A colleague's change committed on its own connection: the case given to `to_user`."""
    with db.engine.begin() as conn:
        conn.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(assigned_to_id=to_user.id, version=Case.version + 1)
        )


def denied(case) -> list[str]:
    db.session.rollback()
    stmt = select(AuditEntry.detail).where(
        AuditEntry.action == "denied", AuditEntry.case_id == case.id
    )
    return list(db.session.execute(stmt).scalars())


def test_an_edit_colliding_with_a_hand_over_shows_no_conflict_screen(
    client, case_of, make_user, monkeypatch
):
    case, people = case_of
    other = make_user("case_manager", organisation=people["manager"].organisation)
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/edit"
    fields = inputs(client.get(url).get_data(as_text=True)) | {"survivor_name": "Chị Hoa"}

    def collide(*, case, **_kw):
        handed_away(case, other)
        raise EditConflict(theirs=edits.snapshot(case), version=case.version + 1)

    monkeypatch.setattr(edits, "update_case", collide)
    answer = client.submit(url, fields)
    assert answer.status_code == 404
    assert "Đỗ Thị Hạnh" not in answer.get_data(as_text=True)
    assert denied(case)


def test_a_status_change_colliding_with_a_hand_over_is_refused(
    client, case_of, make_user, monkeypatch
):
    case, people = case_of
    other = make_user("case_manager", organisation=people["manager"].organisation)
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/status"
    page = client.get(f"{url}?to=in_support").get_data(as_text=True)
    fields = {k: v for k, v in inputs(page).items() if k != "csrf_token"}

    def collide(*, case, **_kw):
        handed_away(case, other)
        raise StaleDataError("moved on")

    monkeypatch.setattr(services, "change_status", collide)
    answer = client.submit(url, fields, page=f"{url}?to=in_support")
    assert answer.status_code == 404
    assert denied(case)


def test_marking_a_task_done_colliding_with_a_hand_over_is_refused(
    client, case_of, make_user, monkeypatch
):
    case, people = case_of
    manager = people["manager"]
    other = make_user("case_manager", organisation=manager.organisation)
    task = Task(
        id=uuid.uuid4(),
        case_id=case.id,
        organisation_id=case.organisation_id,
        kind="follow_up_call",
        due_at=case.opened_at,
        assigned_to_id=manager.id,
        created_by_id=manager.id,
    )
    db.session.add(task)
    db.session.commit()
    sign_in(client, manager)

    def collide(*, task, by, note=None):
        db.session.rollback()
        handed_away(task.case, other)
        raise StaleDataError("moved on")

    monkeypatch.setattr(queue_views, "complete_task", collide)
    answer = client.submit(f"/cases/tasks/{task.id}/done", page="/auth/account")
    assert answer.status_code == 404
    db.session.rollback()
    stmt = select(AuditEntry.object_type).where(AuditEntry.action == "denied")
    assert "task" in db.session.execute(stmt).scalars().all()


def test_a_task_ended_meanwhile_is_not_said_to_be_marked_done(client, case_of):
    """Ended by no one's hand (the survivor found to be 16 or over) before the click: the page
    says so, rather than "Task marked done"."""
    from app.clock import utcnow

    case, people = case_of
    manager = people["manager"]
    task = Task(
        id=uuid.uuid4(),
        case_id=case.id,
        organisation_id=case.organisation_id,
        kind="child_12h",
        due_at=case.opened_at,
        assigned_to_id=manager.id,
        done_at=utcnow(),
        ended_by="not_child",
    )
    db.session.add(task)
    db.session.commit()
    sign_in(client, manager)
    answer = client.submit(f"/cases/tasks/{task.id}/done", page="/auth/account")
    assert answer.status_code == 302
    page = client.get(answer.location).get_data(as_text=True)
    assert "Việc cần làm này đã kết thúc" in page and "Đã đánh dấu hoàn thành" not in page


def test_a_call_sent_again_after_its_case_closed_is_the_call_saved_not_unsaved(client, case_of):
    """Saved on the case, then the case closed, then the same page sent again (a reload, the
    back button): it was saved, and says so, rather than "that case is closed, open a new
    one"."""
    case, people = case_of
    sign_in(client, people["operator"])
    data = form(client, reason="follow_up", case_number=case.number, narrative="Gọi lại")
    first = client.submit("/calls/new", data, page="/calls/new")
    assert first.status_code == 302
    db.session.rollback()  # the case as the save left it
    duties_done(case, people["manager"])
    services.change_status(case=case, to="pending_closure", by=people["manager"])
    services.change_status(case=case, to="closed", by=people["supervisor"])
    again = client.submit("/calls/new", data, page="/calls/new")
    assert again.status_code == 302 and again.location == first.location + "&again=1"
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(Call)).scalar_one() == 2
