"""Sealed fields: ciphertext only in the database, fresh nonces, bound to their place."""

import pytest
from sqlalchemy import select, text

from app.calls import services as calls
from app.calls.models import Call
from app.cases import services as cases
from app.cases.models import Case
from app.crypto import DecryptionError
from app.extensions import db

NAME = "Nguyễn Thị Hoa Thử Nghiệm"
NARRATIVE = "Chồng chị đánh chị tối qua ở nhà riêng"


def test_values_read_back_but_the_columns_hold_ciphertext(make_user):
    operator = make_user("operator")
    call = calls.log_call(
        by=operator, caller_phone="0912 345 678", caller_name=NAME, narrative=NARRATIVE
    )
    db.session.expire_all()
    stored = db.session.get(Call, call.id)
    assert stored.caller_name == NAME and stored.narrative == NARRATIVE
    raw = db.session.execute(text("SELECT caller_name_sealed FROM call")).scalar_one()
    assert NAME.encode() not in bytes(raw)


def test_the_same_value_twice_gives_different_ciphertexts(make_user):
    operator = make_user("operator")
    first = calls.log_call(by=operator, caller_name=NAME)
    second = calls.log_call(by=operator, caller_name=NAME)
    assert first.caller_name_sealed != second.caller_name_sealed
    case = cases.open_case(by=operator, survivor_name=NAME, summary=NAME)
    assert case.survivor_name_sealed[13:] != case.summary_sealed[13:]


def test_a_value_moved_to_another_column_fails_to_open(make_user):
    operator = make_user("operator")
    case = cases.open_case(by=operator, survivor_name=NAME, summary=NARRATIVE)
    case.summary_sealed = case.survivor_name_sealed
    db.session.commit()
    db.session.expire_all()
    moved = db.session.get(Case, case.id)
    with pytest.raises(DecryptionError):
        _ = moved.summary
    assert moved.survivor_name == NAME


def test_a_value_moved_to_another_row_fails_to_open(make_user):
    operator = make_user("operator")
    call = calls.log_call(by=operator, narrative=NARRATIVE)
    other = calls.log_call(by=operator, narrative="something else")
    other.narrative_sealed = call.narrative_sealed
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(DecryptionError):
        _ = db.session.get(Call, other.id).narrative


def test_a_value_sealed_under_one_case_does_not_open_under_another(make_user):
    operator = make_user("operator")
    first = cases.open_case(by=operator, survivor_name=NAME)
    second = cases.open_case(by=operator, survivor_name="Khác")
    # give the second row the first case's wrapped key
    second.key_id, second.key_kek_id, second.key_wrapped = (
        first.key_id,
        first.key_kek_id,
        first.key_wrapped,
    )
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(DecryptionError):
        _ = db.session.get(Case, second.id).survivor_name


def test_plain_text_cannot_be_written_to_a_sealed_column(make_user):
    operator = make_user("operator")
    call = calls.log_call(by=operator, narrative=NARRATIVE)
    call.narrative_sealed = NARRATIVE.encode()
    with pytest.raises(Exception, match="unsealed"):
        db.session.commit()
    db.session.rollback()


def test_a_missing_kek_is_a_clear_error_not_empty_data(make_user, app):
    operator = make_user("operator")
    call = calls.log_call(by=operator, narrative=NARRATIVE)
    call.key_kek_id = "k99"
    db.session.commit()
    db.session.expire_all()
    from app.crypto import KeyFileError

    with pytest.raises(KeyFileError, match="restore the key file"):
        _ = db.session.get(Call, call.id).narrative


def test_each_case_has_its_own_data_key(make_user):
    operator = make_user("operator")
    first = cases.open_case(by=operator, survivor_name=NAME)
    second = cases.open_case(by=operator, survivor_name=NAME)
    assert first.key_id != second.key_id and first.key_wrapped != second.key_wrapped
    rows = db.session.execute(select(Case)).scalars().all()
    assert len(rows) == 2 and all(c.key_kek_id == "k1" and c.key_wrapped for c in rows)


def test_a_call_joining_a_case_moves_under_the_case_key(make_user):
    operator = make_user("operator")
    call = calls.log_call(by=operator, caller_phone="0912345678", narrative=NARRATIVE)
    assert call.key_wrapped is not None
    case = cases.open_case(by=operator, call=call, survivor_name=NAME)
    db.session.expire_all()
    joined = db.session.get(Call, call.id)
    assert joined.case_id == case.id and joined.narrative == NARRATIVE
    assert joined.key_wrapped is None and joined.key_destroyed_at is not None


def test_sealing_needs_the_row_id_first(make_org):
    from app.auth.models import User

    user = User(
        email="new@example.org",
        full_name="Mới",
        role="operator",
        organisation=make_org(),
        password_hash="x",
    )
    with pytest.raises(RuntimeError, match="row id must be known"):
        user.totp_secret = "JBSWY3DPEHPK3PXP"
    db.session.rollback()
