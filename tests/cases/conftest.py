"""Fixtures shared by the case tests."""

import uuid

import pytest

from app.calls.intake import Intake, Survivor, save_intake
from app.extensions import db


@pytest.fixture
def case_of(make_user, make_org):
    """A case opened by an operator of a hotline, assigned to its case manager."""
    org = make_org(code="HN")
    people = {
        "operator": make_user("operator", organisation=org),
        "manager": make_user("case_manager", organisation=org),
        "supervisor": make_user("supervisor", organisation=org),
        "supervisor2": make_user("supervisor", organisation=org),
    }
    case = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            survivor=Survivor(name="Đỗ Thị Hạnh", safe_contact="Chỉ nhắn Zalo"),
        ),
        by=people["operator"],
    ).case
    case.assigned_to_id = people["manager"].id
    db.session.commit()
    return case, people
