"""The official list loads whole, with its codes and kinds, and loading again changes nothing."""

import re
import time
from collections import Counter

import pytest
from sqlalchemy import delete, func, select

from app import audit
from app.audit import AuditEntry
from app.auth.models import Organisation
from app.extensions import db
from app.places import queries
from app.places.models import Place
from app.places.services import load_places


@pytest.fixture
def restore_places():
    """Tests that damage the list get it back whole afterwards."""
    yield
    db.session.rollback()
    load_places()  # its audit entry goes when the tables are emptied after the test


def _places() -> list[Place]:
    return list(db.session.execute(select(Place)).scalars())


def test_the_list_has_34_provinces_and_3321_communes_with_official_codes():
    places = _places()
    provinces = [p for p in places if p.province_code is None]
    communes = [p for p in places if p.province_code is not None]
    assert len(provinces) == 34 and len(communes) == 3321
    assert all(re.fullmatch(r"\d\d", p.code) for p in provinces)
    assert all(re.fullmatch(r"\d{5}", p.code) for p in communes)
    assert {p.province_code for p in communes} == {p.code for p in provinces}
    hanoi = db.session.get(Place, "01")
    assert (hanoi.name, hanoi.kind, hanoi.codename) == (
        "Thành phố Hà Nội",
        "thanh_pho_trung_uong",
        "ha_noi",
    )
    ward = db.session.get(Place, "00070")
    assert (ward.name, ward.kind, ward.province_code) == ("Phường Hoàn Kiếm", "phuong", "01")


def test_every_unit_has_one_of_the_five_kinds():
    kinds = Counter((p.province_code is None, p.kind) for p in _places())
    assert kinds == {
        (True, "tinh"): 28,
        (True, "thanh_pho_trung_uong"): 6,
        (False, "xa"): 2621,
        (False, "phuong"): 687,
        (False, "dac_khu"): 13,
    }


def test_loading_again_changes_nothing_and_writes_no_audit_entry():
    result = load_places()
    assert (result.added, result.updated, result.unchanged) == (0, 0, 3355)
    assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_a_changed_or_missing_unit_is_put_right_and_the_load_audited(restore_places):
    db.session.get(Place, "00004").name = "Phường Ba Đình Cũ"
    db.session.execute(delete(Place).where(Place.code == "00070"))
    db.session.commit()
    queries.forget_cached()
    assert queries.place_name("00004") == "Phường Ba Đình Cũ"
    result = load_places()
    assert (result.added, result.updated, result.unchanged) == (1, 1, 3353)
    assert queries.place_name("00004") == "Phường Ba Đình"  # the in-memory copy was dropped
    assert queries.place_name("00070") == "Phường Hoàn Kiếm"
    entry = db.session.execute(select(AuditEntry)).scalar_one()
    assert (entry.action, entry.object_type) == ("import", "place")
    assert "1 added, 1 updated" in entry.detail


def test_a_load_made_by_another_process_is_seen_within_a_minute(restore_places, monkeypatch):
    """`flask places load` runs beside the app: the app's workers read the list again once they
    see the load's audit entry, without a restart, and not before they look."""
    assert queries.place_name("00004") == "Phường Ba Đình"  # the copy in memory
    # What the command does in its own process: the table changed, a load audited.
    db.session.get(Place, "00004").name = "Phường Ba Đình Mới"
    audit.record("import", object_type="place", detail="vietnam-provinces: 0 added, 1 updated")
    db.session.commit()
    assert queries.place_name("00004") == "Phường Ba Đình"  # not looked for yet
    later = time.monotonic() + queries.CHECK_EVERY + 1
    monkeypatch.setattr(queries, "_clock", lambda: later)
    assert queries.place_name("00004") == "Phường Ba Đình Mới"
    assert queries.commune_choices("01")[0][0]  # the forms' lists come from the new copy too


def test_the_command_reports_the_counts(app):
    output = app.test_cli_runner().invoke(args=["places", "load"])
    assert output.exit_code == 0, output.output
    assert re.findall(r"\d+", output.output) == ["0", "0", "3355"]
    quiet = app.test_cli_runner().invoke(args=["places", "load", "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""


def test_the_quiet_command_still_speaks_when_it_changed_something(app, restore_places):
    db.session.execute(delete(Place).where(Place.code == "96"))
    db.session.commit()
    output = app.test_cli_runner().invoke(args=["places", "load", "--quiet"])
    assert re.findall(r"\d+", output.output) == ["1", "0", "3354"]


def test_demo_seeding_does_not_need_the_place_list(app, restore_places):
    db.session.execute(delete(Place))
    db.session.commit()
    queries.forget_cached()
    assert app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    assert db.session.execute(select(func.count()).select_from(Organisation)).scalar_one() == 4
    assert queries.place_name("01") is None  # an empty table is not kept in memory
    load_places()
    assert queries.place_name("01") == "Thành phố Hà Nội"
