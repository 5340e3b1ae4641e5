"""Blind indexes: any spelling of a number finds its calls; digests reveal nothing."""

import pytest
from flask import current_app
from sqlalchemy import select

from app.calls import services as calls
from app.crypto import blind
from app.crypto.blind import BlindIndex
from app.extensions import db

SPELLINGS = ["0912 345 678", "+84 912 345 678", "84912345678", "0084912345678", "0912.345.678"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_finds_the_call(make_user, spelling):
    operator = make_user("operator")
    call = calls.log_call(by=operator, caller_phone="0912345678")
    calls.log_call(by=operator, caller_phone="0987654321")
    found = calls.calls_from_number(spelling, organisation_id=operator.organisation_id)
    assert [c.id for c in found] == [call.id]


def test_digests_are_short_keyed_and_not_the_number(make_user):
    app = current_app
    operator = make_user("operator")
    calls.log_call(by=operator, caller_phone="0912345678")
    row = db.session.execute(select(BlindIndex)).scalar_one()
    assert len(row.digest) == app.config["BLIND_INDEX_BITS"] // 8
    assert b"912345678" not in row.digest and row.field == "phone"


def test_false_matches_are_confirmed_away(make_user):
    app = current_app
    operator = make_user("operator")
    original = app.config["BLIND_INDEX_BITS"]
    app.config["BLIND_INDEX_BITS"] = 8  # one byte: among 100 numbers, collisions are certain
    try:
        logged = {
            calls.log_call(by=operator, caller_phone=f"0912345{n:03d}").id: f"0912345{n:03d}"
            for n in range(100)
        }
        by_digest = {}
        for row in db.session.execute(select(BlindIndex)).scalars():
            by_digest.setdefault(row.digest, []).append(row.owner_id)
        shared = next(owners for owners in by_digest.values() if len(owners) > 1)
        number = logged[shared[0]]
        raw_candidates = blind.candidates(field="phone", raw=number, owner_type="call")
        found = calls.calls_from_number(number, organisation_id=operator.organisation_id)
    finally:
        app.config["BLIND_INDEX_BITS"] = original
    assert len(raw_candidates) >= 2
    assert [c.id for c in found] == [shared[0]]


def test_normalisation():
    assert blind.normalise_phone("0912 345 678") == "+84912345678"
    assert blind.normalise_phone("(024) 3223 3111") == "+842432233111"
    assert blind.normalise_phone("111") == "digits:111"
    assert blind.normalise_phone("  ") is None
    assert blind.normalise_identity("001-203 004 005") == "001203004005"


def test_numbers_are_not_kept_in_a_process_wide_cache():
    """A worker holds no list of the numbers it has normalised (searched for, or of a case since
    erased); a lookup's matcher memoises only for its own candidates."""
    assert not hasattr(blind.normalise_phone, "cache_info")
    same = blind.matcher("phone", "0912 345 678")
    assert same("+84 912 345 678") and same("0912.345.678")
    assert not same("0912 345 679") and not same(None)
    assert not blind.matcher("phone", "  ")("  ")
