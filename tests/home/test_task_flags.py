"""Flags are shown wherever a contact is offered: a task row ("Follow-up call", "Mark done") in
any work list carries its case's flags, set on any of its calls."""

from datetime import timedelta

from app.calls import services as calls
from app.cases import services as cases
from app.cases.services import open_task
from app.clock import utcnow
from app.extensions import db
from tests.conftest import sign_in
from tests.home.test_home_queues import desk  # noqa: F401 (fixture)


def test_a_task_row_shows_its_cases_flags_in_every_list(client, desk):  # noqa: F811
    _org, people = desk
    operator, manager = people["operator"], people["case_manager"]
    call = calls.log_call(by=operator, caller_phone="0911222333")
    call.flags = "perpetrator_calling abusive"
    case = cases.open_case(by=operator, call=call)
    quiet = cases.open_case(by=operator)
    for each in (case, quiet):
        each.assigned_to_id = manager.id
        open_task(each, kind="follow_up_call", due=utcnow() + timedelta(hours=2))
    db.session.commit()
    number, quiet_number = case.number, quiet.number
    sign_in(client, manager)
    for page, table in (
        ("/home/case-manager", "due-tasks"),
        ("/cases/tasks?list=mine", "task-list"),
    ):
        html = client.get(page).get_data(as_text=True)
        html = html[html.index(f'id="{table}"') :]
        html = html[: html.index("</table>")]
        [row] = [tr for tr in html.split("<tr")[1:] if number in tr]
        [other] = [tr for tr in html.split("<tr")[1:] if quiet_number in tr]
        assert "flag-perpetrator_calling" in row and "flag-abusive" in row, page
        assert "The perpetrator may call" in row
        assert "flag-" not in other


def test_an_overdue_task_of_someone_who_left_says_so_beside_its_assign_form(
    client,
    desk,  # noqa: F811
    make_user,
):
    """The overdue list offers to reassign the case of a case manager who can no longer work
    it, saying so, as the list of cases waiting for a case manager does."""
    org, people = desk
    gone = make_user("case_manager", organisation=org)
    case = cases.open_case(by=people["operator"])
    case.assigned_to_id = gone.id
    open_task(case, kind="follow_up_call", due=utcnow() - timedelta(hours=3))
    gone.active = False
    db.session.commit()
    number = case.number
    sign_in(client, people["supervisor"])
    html = client.get("/home/supervisor").get_data(as_text=True)
    table = html[html.index('id="overdue-tasks"') :]
    table = table[: table.index("</table>")]
    [row] = [tr for tr in table.split("<tr")[1:] if number in tr]
    assert "The person assigned can no longer work this case." in row
    assert ">Assign<" in row
