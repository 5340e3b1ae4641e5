"""A form sent with nothing in it adds nothing: an empty note, an incident or a person all
"unknown" would stand on the timeline (and in the statistics) as one recorded."""

import pytest
from sqlalchemy import func, select

from app.cases.models import CaseNote, Incident, Perpetrator
from app.extensions import db
from tests.conftest import sign_in


def count(model) -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(model.id))).scalar_one()


@pytest.mark.parametrize("body", ["", "   \r\n  "])
def test_an_empty_note_is_refused_in_vietnamese(client, case_of, body):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"
    answer = client.submit(f"{url}/notes", {"kind": "note", "body": body}, page=url)
    assert answer.status_code in (200, 400, 422)
    assert "Ô này là bắt buộc." in answer.get_data(as_text=True)
    before = count(CaseNote)
    client.submit(f"{url}/notes", {"kind": "note", "body": "Đã gọi lại"}, page=url)
    assert count(CaseNote) == before + 1 and before == 0


def test_an_incident_with_nothing_filled_in_is_refused_and_one_with_an_act_is_added(
    client, case_of
):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/new"
    before = count(Incident)
    answer = client.submit(url, {"place_type": "unknown"})
    assert answer.status_code == 200
    assert "Chưa điền gì về vụ việc" in answer.get_data(as_text=True)
    assert count(Incident) == before
    assert client.submit(url, {"place_type": "unknown", "acts": ["a_beating"]}).status_code == 302
    assert count(Incident) == before + 1


def test_a_person_with_nothing_filled_in_is_refused(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/perpetrators/new"
    before = count(Perpetrator)
    unknown = {
        "perpetrator_relationship": "unknown",
        "perpetrator_sex": "unknown",
        "perpetrator_age_band": "unknown",
    }
    answer = client.submit(url, unknown)
    assert "Chưa điền gì về người này" in answer.get_data(as_text=True)
    assert count(Perpetrator) == before
    told = {**unknown, "perpetrator_relationship": "intimate_partner"}
    assert client.submit(url, told).status_code == 302
    assert count(Perpetrator) == before + 1


def test_a_task_sent_after_the_case_closed_is_kept_on_the_page_to_copy(
    client, case_of, monkeypatch
):
    from app.cases import casework
    from app.cases.services import CaseError

    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}"

    def closed_meanwhile(**_kw):
        raise CaseError("Ca này đã đóng.")

    monkeypatch.setattr(casework, "add_task", closed_meanwhile)
    sent = {"kind": "follow_up_call", "due_at": "05/12/2026 10:00", "note": "gọi lúc 9 giờ"}
    answer = client.submit(f"{url}/tasks", sent, page=url)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "gọi lúc 9 giờ" in html and "05/12/2026 10:00" in html


def test_an_incident_dated_in_the_future_is_refused(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    url = f"/cases/{case.id}/incidents/new"
    answer = client.submit(url, {"incident_date": "01/01/2031", "acts": ["a_beating"]})
    assert "Ngày xảy ra vụ việc không thể ở tương lai." in answer.get_data(as_text=True)
    assert count(Incident) == 0


def test_spaces_alone_are_nothing_filled_in(client, case_of):
    case, people = case_of
    sign_in(client, people["manager"])
    answer = client.submit(
        f"/cases/{case.id}/incidents/new", {"place_type": "unknown", "incident_description": "   "}
    )
    assert "Chưa điền gì về vụ việc" in answer.get_data(as_text=True)
    answer = client.submit(
        f"/cases/{case.id}/perpetrators/new",
        {"perpetrator_relationship": "unknown", "perpetrator_name": "  "},
    )
    assert "Chưa điền gì về người này" in answer.get_data(as_text=True)
    assert count(Incident) == 0 and count(Perpetrator) == 0
