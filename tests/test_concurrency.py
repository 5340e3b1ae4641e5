"""Several workers at once: one audit chain, and case numbers that never repeat."""

import threading

from sqlalchemy import func, select

from app import audit
from app.audit import AuditEntry
from app.auditlog import verify as chain
from app.auth.models import User
from app.cases import services as cases
from app.cases.models import Case
from app.extensions import db


def _in_threads(worker, target, *, threads: int, each: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def run():
        try:
            with worker.app_context():
                for _ in range(each):
                    target()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    return errors


def test_concurrent_appends_form_a_single_valid_chain(make_app, make_user):
    worker = make_app()
    user_id = make_user("operator").id
    before = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()

    def append():
        audit.record(
            "view", user=db.session.get(User, user_id), object_type="case", object_id="concurrent"
        )
        db.session.commit()

    assert _in_threads(worker, append, threads=4, each=20) == []
    db.session.expire_all()
    after = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    assert after == before + 80
    assert chain.verify().ok


def test_case_numbers_stay_unique_with_several_workers(make_app, make_user, make_org):
    worker = make_app()
    org = make_org(code="SONG")
    user_id = make_user("operator", organisation=org).id

    def open_one():
        cases.open_case(by=db.session.get(User, user_id), survivor_name="Song song")

    assert _in_threads(worker, open_one, threads=4, each=10) == []
    numbers = db.session.execute(select(Case.number)).scalars().all()
    assert len(numbers) == len(set(numbers)) == 40
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 41))


def test_intakes_saved_at_once_with_other_casework_keep_numbers_and_chain(
    make_app, make_user, make_org
):
    """Intake saves (case number and audit places taken in one statement on PostgreSQL) beside
    cases opened through the unit of work and plain audit entries: no deadlock, no number
    given twice or skipped, one valid chain."""
    from app.calls.intake import Intake, Survivor, save_intake

    worker = make_app()
    org = make_org(code="DONG")
    user_id = make_user("operator", organisation=org).id
    turn = iter(range(10_000))

    def mixed():
        user = db.session.get(User, user_id)
        kind = next(turn) % 3
        if kind == 0:
            save_intake(
                data=Intake(reason="violence_report", survivor=Survivor(name="Cùng lúc")),
                by=user,
            )
        elif kind == 1:
            cases.open_case(by=user, survivor_name="Cùng lúc")
        else:
            audit.record("view", user=user, object_type="case", object_id="concurrent")
            db.session.commit()

    assert _in_threads(worker, mixed, threads=4, each=12) == []
    numbers = db.session.execute(select(Case.number)).scalars().all()
    assert len(numbers) == len(set(numbers)) == 32
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 33))
    assert chain.verify().ok
