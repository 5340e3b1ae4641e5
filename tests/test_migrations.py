"""Models and migrations agree; upgrade and downgrade both run, on SQLite and PostgreSQL."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.calls.models import Call
from app.cases.models import Case, Incident, RiskAssessment
from app.cases.risk import QUESTIONS
from app.classifications import ACTS, CALL_OUTCOMES, CALLER_FLAGS, DANGER_QUESTIONS, FORMS, SERVICES
from app.extensions import db
from tests.conftest import duties_done


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], diff


@pytest.fixture
def empty_database_url(app_config, tmp_path):
    """A new empty database next to the test one: a file on SQLite, a database on PostgreSQL."""
    url = make_url(app_config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"diemtua_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_downgrade_and_upgrade_again(make_app, empty_database_url):
    fresh = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with fresh.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "user_account",
            "organisation",
            "web_session",
            "audit_entry",
            "blind_index",
            "case_record",
            "call",
        } <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "user_account" in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:  # the chain head is in place after every upgrade
            assert conn.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar_one() == 0


def test_tasks_a_closure_ended_before_0009_are_found_as_ended(
    make_app, empty_database_url, make_user, make_org
):
    """Before revision 0009 a closure marked its open tasks done, by the approver, at the
    instant it closed the case: the upgrade tells them from tasks done by hand by that instant,
    so the case page does not show a 12-hour check never made as done, and reopening brings
    them back."""
    import uuid as uuid_

    from app.calls.intake import Intake, Survivor, save_intake
    from app.cases import services
    from app.cases.models import Task
    from app.clock import utcnow

    fresh = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with fresh.app_context():
        upgrade()
        org = make_org(code="MG")
        operator = make_user("operator", organisation=org)
        manager = make_user("case_manager", organisation=org)
        boss = make_user("supervisor", organisation=org)
        case = save_intake(
            data=Intake(
                reason="violence_report", intake_key=uuid_.uuid4(), survivor=Survivor(age=9)
            ),
            by=operator,
        ).case
        done = services.open_task(case, kind="follow_up_call", due=utcnow(), by=manager)
        done.done_at, done.done_by_id = utcnow(), manager.id
        services.open_task(case, kind="safety_review", due=utcnow(), by=manager)  # left open
        db.session.commit()
        duties_done(case, manager)  # the commune notified: the closure waits on it
        services.change_status(case=case, to="in_support", by=manager)
        services.change_status(case=case, to="pending_closure", by=manager)
        services.change_status(case=case, to="closed", by=boss)
        boss_id, manager_id = boss.id, manager.id
        with db.engine.begin() as conn:  # as the closure wrote them before 0009
            conn.execute(
                text("UPDATE task SET done_by_id = :boss WHERE ended_by = 'closed'"),
                {"boss": boss_id},
            )
        db.session.remove()
        downgrade(revision="0008")
        upgrade()
        rows = db.session.execute(db.select(Task.kind, Task.ended_by, Task.done_by_id)).all()
        assert sorted(rows) == [
            ("follow_up_call", None, manager_id),
            ("notify_commune", None, manager_id),
            ("safety_review", "closed", None),
        ]
        db.session.remove()


def test_incidents_saved_before_0010_count_confinement_as_psychological(
    make_app, empty_database_url, make_user, make_org
):
    """Isolating or confining a family member was counted under the physical form; 0010 derives
    the forms of incidents saved before again from their acts, and its downgrade puts them back."""
    import uuid as uuid_

    from app.calls.intake import Intake, save_intake
    from app.cases.casework import IncidentData
    from app.cases.models import Incident

    fresh = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with fresh.app_context():
        upgrade()
        operator = make_user("operator", organisation=make_org(code="MC"))
        for acts in (["o_confinement"], ["o_confinement", "a_beating"], ["m_property"]):
            save_intake(
                data=Intake(
                    reason="violence_report",
                    intake_key=uuid_.uuid4(),
                    incident=IncidentData(acts=acts),
                ),
                by=operator,
            )
        db.session.remove()

        def forms() -> list[str]:
            stmt = db.select(Incident.acts, Incident.forms).order_by(Incident.acts)
            return [f"{acts}={f}" for acts, f in db.session.execute(stmt).all()]

        downgrade(revision="0009")
        assert forms() == [
            "m_property=economic",
            "o_confinement=physical",
            "o_confinement a_beating=physical",
        ]
        db.session.remove()
        upgrade()
        assert forms() == [
            "m_property=economic",
            "o_confinement=psychological",
            "o_confinement a_beating=physical psychological",
        ]
        db.session.remove()


@pytest.mark.parametrize(
    ("column", "codes"),
    [
        (Incident.__table__.c.acts, ACTS),
        (Incident.__table__.c.forms, FORMS),
        (Case.__table__.c.services_wanted, SERVICES),
        (RiskAssessment.__table__.c.answers, QUESTIONS),
        (Call.__table__.c.danger, DANGER_QUESTIONS),
        (Call.__table__.c.outcomes, CALL_OUTCOMES),
        (Call.__table__.c.flags, CALLER_FLAGS),
    ],
    ids=lambda value: getattr(value, "name", None) or "codes",
)
def test_a_list_of_codes_fits_its_column_with_every_one_ticked(column, codes):
    """Codes joined by spaces: every act ticked took 205 characters of `incident.acts`'
    200, refused by PostgreSQL (SQLite does not hold a text to its length)."""
    assert len(" ".join(codes)) <= column.type.length


def test_tasks_planned_before_0021_by_hand_are_told_by_their_kind(
    make_app, empty_database_url, make_user, make_org
):
    """Before revision 0021 a task did not say who set it going: the upgrade counts follow-up
    calls and other tasks as planned by hand (as the supervisor's list counted them), and the
    duties a call sets going as not."""
    import uuid as uuid_

    from app.calls.intake import Intake, Survivor, save_intake
    from app.cases import services
    from app.cases.models import Task
    from app.clock import utcnow

    fresh = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with fresh.app_context():
        upgrade()
        org = make_org(code="MH")
        operator = make_user("operator", organisation=org)
        case = save_intake(
            data=Intake(
                reason="violence_report", intake_key=uuid_.uuid4(), survivor=Survivor(age=30)
            ),
            by=operator,
        ).case
        for kind in ("follow_up_call", "other"):
            services.open_task(case, kind=kind, due=utcnow(), by=operator)
        db.session.commit()
        db.session.remove()
        downgrade(revision="0020")
        upgrade()
        rows = db.session.execute(db.select(Task.kind, Task.by_hand)).all()
        assert sorted(rows) == [
            ("follow_up_call", True),
            ("notify_commune", False),
            ("other", True),
        ]
        db.session.remove()
