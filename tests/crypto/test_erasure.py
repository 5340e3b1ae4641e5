"""Erasure by key destruction: nothing of the case opens, its number no longer matches."""

import pytest

from app.audit import AuditEntry
from app.calls import services as calls
from app.calls.models import Call
from app.cases import services as cases
from app.cases.models import Case
from app.crypto.blind import BlindIndex
from app.crypto.datakeys import KeyDestroyedError
from app.extensions import db

NAME = "Lê Thị Xoá Bỏ"


def test_an_erased_case_cannot_be_opened_and_its_number_no_longer_matches(make_user):
    supervisor = make_user("supervisor")
    call = calls.log_call(by=supervisor, caller_phone="0903 111 222", narrative="kể lại")
    case = cases.open_case(
        by=supervisor,
        call=call,
        survivor_name=NAME,
        survivor_phone="0903111222",
        survivor_sex="female",
        survivor_age_band="16_59",
        province_code="01",
    )
    assert calls.calls_from_number("0903111222", organisation_id=supervisor.organisation_id)
    cases.erase_case(case=case, by=supervisor, reason="survivor_request")
    db.session.expire_all()
    erased = db.session.get(Case, case.id)
    with pytest.raises(KeyDestroyedError):
        _ = erased.survivor_name
    with pytest.raises(KeyDestroyedError):
        _ = db.session.get(Call, call.id).narrative
    assert erased.key_wrapped is None and erased.key_kek_id is None
    assert erased.key_destroyed_at is not None
    assert calls.calls_from_number("0903111222", organisation_id=supervisor.organisation_id) == []
    assert db.session.query(BlindIndex).count() == 0
    assert (erased.status, erased.survivor_sex, erased.survivor_age_band, erased.province_code) == (
        "erased",
        "female",
        "16_59",
        "01",
    )
    entry = db.session.query(AuditEntry).filter_by(action="erase").one()
    assert entry.case_id == case.id and entry.reason == "survivor_request"


def test_erasing_twice_is_refused(make_user):
    supervisor = make_user("supervisor")
    case = cases.open_case(by=supervisor, survivor_name=NAME)
    cases.erase_case(case=case, by=supervisor, reason="survivor_request")
    with pytest.raises(cases.CaseError):
        cases.erase_case(case=case, by=supervisor, reason="again")
