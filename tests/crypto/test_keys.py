"""Key management: status, rotation (re-wrap only), index rebuild, and the start-up key check."""

import json
import shutil
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import event, insert, select

from app import StartupError, create_app
from app.calls import services as calls
from app.calls.models import Call
from app.cases import services as cases
from app.cases.models import Case
from app.clock import utcnow
from app.crypto import load_keyring, management, write_new_key_file
from app.crypto.blind import BlindIndex, digest_for
from app.crypto.datakeys import KEY_HOLDERS, keyring
from app.crypto.fingerprints import RECORDED, KekRecord, keep_fingerprints
from app.extensions import db

NAME = "Trần Thị Khoá Xoay"


@pytest.fixture
def keyed(make_app, app_config, tmp_path):
    """An app with its own copy of the key file, so rotating it touches no other test."""
    path = tmp_path / "keys.json"
    shutil.copy(app_config["KEY_FILE"], path)
    return make_app(KEY_FILE=str(path)), path


def run(app, *args):
    """Run a flask command in that app (a pushed test context would otherwise be used)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def _plant(make_user, count=3):
    operator = make_user("operator")
    made = [
        cases.open_case(by=operator, survivor_name=f"{NAME} {n}", survivor_phone=f"090000000{n}")
        for n in range(count)
    ]
    call = calls.log_call(by=operator, caller_phone="0912345678", narrative="lời kể")
    return made, call


def test_status_counts_data_keys_per_kek(keyed, make_user):
    app, _ = keyed
    _plant(make_user)
    result = run(app, "keys", "status")
    assert result.exit_code == 0, result.output
    assert "k1" in result.output and "4 " in result.output


def test_rotation_rewraps_every_data_key_and_retires_the_old_kek(keyed, make_user):
    app, path = keyed
    made, call = _plant(make_user)
    sealed_before = {c.id: c.survivor_name_sealed for c in made}
    result = run(app, "keys", "rotate")
    assert result.exit_code == 0, result.output
    ring = load_keyring(path)
    assert ring.active_kek_id == "k2" and set(ring.keks) == {"k1", "k2"}  # kept until retire
    assert run(app, "keys", "retire").exit_code == 0
    ring = load_keyring(path)
    assert ring.active_kek_id == "k2" and set(ring.keks) == {"k2"}
    with app.app_context():
        keks = {
            kid
            for model in KEY_HOLDERS
            for kid in db.session.execute(
                select(model.key_kek_id).where(model.key_wrapped.is_not(None))
            ).scalars()
        }
        assert keks == {"k2"}
        for case in db.session.execute(select(Case)).scalars():
            assert case.survivor_name.startswith(NAME)
            assert case.survivor_name_sealed == sealed_before[case.id]  # no field re-encrypted
        assert db.session.get(Call, call.id).narrative == "lời kể"
        retired = db.session.get(KekRecord, "k1")
        assert retired.retired_at is not None
        assert db.session.get(KekRecord, "k2") is not None


def test_an_interrupted_rotation_finishes_on_the_next_run(keyed, make_user, monkeypatch):
    app, path = keyed
    _plant(make_user, count=5)
    monkeypatch.setattr(management, "BATCH", 2)
    calls_made = {"n": 0}
    original = management.rewrapped

    def failing(ring, *row):
        calls_made["n"] += 1
        if calls_made["n"] == 3:
            raise KeyboardInterrupt
        return original(ring, *row)

    monkeypatch.setattr(management, "rewrapped", failing)
    run(app, "keys", "rotate")
    monkeypatch.setattr(management, "rewrapped", original)
    assert set(load_keyring(path).keks) == {"k1", "k2"}  # half done: both kept
    again = run(app, "keys", "rotate")
    assert again.exit_code == 0, again.output
    ring = load_keyring(path)
    assert ring.active_kek_id == "k2" and set(ring.keks) == {"k1", "k2"}  # no third key made


def test_reindex_rebuilds_digests_and_lookups_still_work(keyed, make_user):
    app, path = keyed
    _, call = _plant(make_user)
    result = run(app, "keys", "reindex")
    assert result.exit_code == 0, result.output
    ring = load_keyring(path)
    # The old key stays until `retire`: a worker not yet restarted may still write with it.
    assert ring.active_index_id == "i2" and set(ring.index_keys) == {"i1", "i2"}
    with app.app_context():
        ids = {r.index_key_id for r in db.session.execute(select(BlindIndex)).scalars()}
        assert ids == {"i2"}
        assert [
            c.id
            for c in calls.calls_from_number(
                "+84 912 345 678", organisation_id=call.organisation_id
            )
        ] == [call.id]
    assert run(app, "keys", "retire").exit_code == 0
    assert set(load_keyring(path).index_keys) == {"i2"}


def test_a_number_a_worker_saved_with_the_old_index_key_is_found_and_rebuilt(keyed, make_user):
    """A worker picks up the new key file up to a second after the rebuild (or commits a save
    begun before it): its digest, made with the old index key, is found through that key until
    `retire`, which rebuilds it under the new one before removing the old key."""
    app, path = keyed
    _, call = _plant(make_user)
    assert run(app, "keys", "reindex").exit_code == 0
    with app.app_context():
        # As the late worker wrote it: its digest under i1 only.
        db.session.query(BlindIndex).filter_by(owner_id=call.id).delete()
        app.extensions["diemtua.keyring"] = load_keyring(path)
        old = digest_for("phone", "0912 345 678", index_id="i1")
        db.session.add(
            BlindIndex(
                field="phone", index_key_id="i1", digest=old, owner_type="call", owner_id=call.id
            )
        )
        db.session.commit()
        found = calls.calls_from_number("0912 345 678", organisation_id=call.organisation_id)
        assert [c.id for c in found] == [call.id]
    assert run(app, "keys", "retire").exit_code == 0
    assert set(load_keyring(path).index_keys) == {"i2"}
    with app.app_context():
        app.extensions["diemtua.keyring"] = load_keyring(path)
        ids = {r.index_key_id for r in db.session.execute(select(BlindIndex)).scalars()}
        assert ids == {"i2"}
        found = calls.calls_from_number("0912 345 678", organisation_id=call.organisation_id)
        assert [c.id for c in found] == [call.id]


def test_the_app_refuses_a_key_file_from_another_installation(app_config, make_user, tmp_path):
    _plant(make_user, count=1)  # records the fingerprint of the real key file
    foreign = tmp_path / "foreign.json"
    write_new_key_file(foreign)
    with pytest.raises(StartupError, match="does not belong to this database"):
        create_app("testing", app_config | {"KEY_FILE": str(foreign)})


def test_keys_can_come_from_the_environment(app_config, monkeypatch):
    monkeypatch.setenv("KEYS_JSON", Path(app_config["KEY_FILE"]).read_text())
    app = create_app("testing", app_config | {"KEY_FILE": "/nonexistent/keys.json"})
    assert app.extensions["diemtua.keyring"].active_kek_id
    with app.app_context():
        db.engine.dispose()
    monkeypatch.setenv("KEYS_JSON", json.dumps({"keks": {}}))
    with pytest.raises(StartupError, match="KEYS_JSON"):
        create_app("testing", app_config)


def test_an_interrupted_rebuild_finishes_on_the_next_run(keyed, make_user, monkeypatch):
    from app.crypto import blind

    app, path = keyed
    _, call = _plant(make_user, count=5)
    monkeypatch.setattr(management, "BATCH", 2)
    original, seen = blind.set_index, {"n": 0}

    def failing(**kwargs):
        seen["n"] += 1
        if seen["n"] == 4:
            raise KeyboardInterrupt
        return original(**kwargs)

    monkeypatch.setattr(management, "set_index", failing)
    run(app, "keys", "reindex")
    monkeypatch.setattr(management, "set_index", original)
    assert set(load_keyring(path).index_keys) == {"i1", "i2"}  # half done: both kept
    assert run(app, "keys", "reindex").exit_code == 0
    assert set(load_keyring(path).index_keys) == {"i1", "i2"}  # no third key made
    assert run(app, "keys", "retire").exit_code == 0
    ring = load_keyring(path)
    assert ring.active_index_id == "i2" and set(ring.index_keys) == {"i2"}
    with app.app_context():
        assert [
            c.id
            for c in calls.calls_from_number("0912 345 678", organisation_id=call.organisation_id)
        ] == [call.id]
        assert {r.index_key_id for r in db.session.execute(select(BlindIndex)).scalars()} == {"i2"}


def test_rotation_never_brings_back_an_erased_key(keyed, make_user, monkeypatch):
    app, path = keyed
    supervisor = make_user("supervisor")
    case = cases.open_case(by=supervisor, survivor_name=NAME)
    original = management.rewrapped

    def erase_meanwhile(ring, *row):
        update = original(ring, *row)
        if row[0] == case.id:  # the case is erased between the read and the write
            with app.app_context():
                cases.erase_case(
                    case=db.session.get(Case, case.id),
                    by=db.session.get(type(supervisor), supervisor.id),
                    reason="survivor_request",
                )
        return update

    monkeypatch.setattr(management, "rewrapped", erase_meanwhile)
    assert run(app, "keys", "rotate").exit_code == 0
    with app.app_context():
        erased = db.session.get(Case, case.id)
        assert erased.key_wrapped is None and erased.key_destroyed_at is not None


def test_the_app_refuses_a_key_file_missing_a_key_still_in_use(keyed, make_user, app_config):
    app, path = keyed
    _plant(make_user, count=1)
    assert run(app, "keys", "rotate").exit_code == 0  # k1 and k2 in the file, k1 not retired
    ring = load_keyring(path)
    stripped = path.parent / "stripped.json"
    stripped.write_text(ring.without_keks({"k1"}).to_json())
    with pytest.raises(StartupError, match="lacks the key"):
        create_app("testing", app_config | {"KEY_FILE": str(stripped)})


def test_rotation_refuses_keys_from_the_environment(keyed, monkeypatch):
    app, path = keyed
    monkeypatch.setenv("KEYS_JSON", path.read_text())
    result = run(app, "keys", "rotate")
    assert result.exit_code != 0
    assert set(load_keyring(path).keks) == {"k1"}


def _kek_records() -> int:
    return len(db.session.execute(select(KekRecord.kek_id)).all())


def test_a_kek_another_worker_records_meanwhile_is_left_as_it_is():
    """Workers of a new installation record the KEK at the same moment: the one that finds it
    recorded after it looked leaves the record as it is (a plain insert failed its save)."""
    ring = keyring()
    rows = [
        {"kek_id": kid, "fingerprint": fingerprint, "added_at": utcnow()}
        for kid, fingerprint in ring.fingerprints().items()
    ]
    other = []

    def meanwhile(conn, cursor, statement, *args):
        if statement.startswith("SELECT kek_record.kek_id") and not other:
            other.append(1)
            with db.engine.begin() as elsewhere:  # the other worker, committed
                elsewhere.execute(insert(KekRecord.__table__), rows)

    event.listen(db.engine, "after_cursor_execute", meanwhile)
    try:
        keep_fingerprints()
        db.session.commit()
    finally:
        event.remove(db.engine, "after_cursor_execute", meanwhile)
    assert other and _kek_records() == len(rows)
    assert current_app.extensions[RECORDED] == ring.active_kek_id


def test_a_kek_record_rolled_back_is_made_again_by_the_next_save():
    """Known recorded only once committed: a save rolled back takes its record with it, and
    the next one records the KEK again (no data key wrapped under an unrecorded KEK)."""
    ring = keyring()
    keep_fingerprints()
    keep_fingerprints()  # the same transaction: not looked up twice
    db.session.rollback()
    assert _kek_records() == 0 and RECORDED not in current_app.extensions
    keep_fingerprints()
    db.session.commit()
    assert _kek_records() == len(ring.fingerprints())
    assert current_app.extensions[RECORDED] == ring.active_kek_id


def test_a_savepoint_rolled_back_keeps_the_transactions_kek_record():
    """A case counter made at the same moment elsewhere rolls a savepoint back inside a save
    (numbers.next_case_number): the save's KEK record is still written with it."""
    keep_fingerprints()
    with pytest.raises(RuntimeError), db.session.begin_nested():
        raise RuntimeError("the other worker made the counter first")
    db.session.commit()
    assert _kek_records() == len(keyring().fingerprints())
    assert current_app.extensions[RECORDED] == keyring().active_kek_id


def test_a_rebuild_meeting_an_erased_case_writes_no_digest_for_it(keyed, make_user):
    """A digest still there when the rebuild read it (the case erased meanwhile): the rebuild
    cannot open the number, writes nothing for it and carries on; lookups never see it."""
    app, _ = keyed
    supervisor = make_user("supervisor")
    call = calls.log_call(by=supervisor, caller_phone="0977 000 111", narrative="kể")
    case = cases.open_case(by=supervisor, call=call, survivor_name=NAME)
    cases.erase_case(case=case, by=supervisor, reason="survivor_request")
    db.session.execute(  # the digest the erasure deleted, as the rebuild had read it
        insert(BlindIndex).values(
            field="phone",
            index_key_id="i1",
            digest=b"\x01" * 16,
            owner_type="call",
            owner_id=call.id,
        )
    )
    db.session.commit()
    result = run(app, "keys", "reindex")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(select(BlindIndex)).scalars().all() == []


def test_a_register_imported_before_a_rebuild_is_still_found_after_it(keyed, make_user):
    """A register row's key (imported once, found again at the next import) is keyed under a
    key no blind-index rebuild changes: imported again after `reindex` and `retire`, nothing
    is written twice."""
    from tests.cases.test_import import CSV

    app, path = keyed
    head = make_user("supervisor")
    first = run(app, "cases", "import", str(CSV), "--as", head.email, "--lang", "en")
    assert first.exit_code == 0 and "written: 15" in first.output
    assert run(app, "keys", "reindex").exit_code == 0
    assert run(app, "keys", "retire").exit_code == 0
    assert set(load_keyring(path).index_keys) == {"i2"}
    again = run(app, "cases", "import", str(CSV), "--as", head.email, "--lang", "en")
    assert again.exit_code == 0
    assert "written: 0" in again.output and "already imported: 15" in again.output


def test_a_register_keyed_as_imports_were_before_is_still_found(keyed, make_user, monkeypatch):
    """Rows imported before 7 December 2026 were keyed under the blind-index key: found by it."""
    from app.cases import import_run
    from tests.cases.test_import import CSV

    app, _ = keyed
    head = make_user("supervisor")

    def as_before(intake, organisation_id):
        return import_run.earlier_row_keys(intake, organisation_id)[0]

    with monkeypatch.context() as patched:
        patched.setattr(import_run, "row_key", as_before)
        first = run(app, "cases", "import", str(CSV), "--as", head.email, "--lang", "en")
    assert "written: 15" in first.output
    again = run(app, "cases", "import", str(CSV), "--as", head.email, "--lang", "en")
    assert "written: 0" in again.output and "already imported: 15" in again.output


def test_a_case_form_s_sending_key_outlives_a_blind_index_rebuild(keyed, make_app):
    """A note sent, then sent again by a worker restarted after `flask keys reindex`, is found
    taken: the form's sending key is not keyed under the index key the rebuild replaces."""
    import uuid

    from app.cases.draft_fields import sent_key

    app, path = keyed
    page, fields = uuid.uuid4(), {"kind": ["note"], "body": ["Đã gọi lại"]}
    with app.app_context():
        before = sent_key(page, fields)
    assert run(app, "keys", "reindex").exit_code == 0
    restarted = make_app(KEY_FILE=str(path))
    assert load_keyring(path).active_index_id != "i1"
    with restarted.app_context():
        assert sent_key(page, fields) == before
