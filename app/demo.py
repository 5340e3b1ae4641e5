"""Made-up demo data: organisations, one account per role, and a few calls and cases so the desk,
the queues, the case page and the repeat-caller panel have something to show. No real person
appears here: every name carries "Demo" and the numbers are unassigned 0912 000 xxx numbers."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pyotp
from sqlalchemy import func, select

from app.admin import services as admin_services
from app.auth import mfa
from app.auth.models import User
from app.calls.intake import Intake, Survivor, save_intake
from app.cases.casework import ConsentData, IncidentData, PerpetratorData
from app.cases.models import Case
from app.cases.services import assign_case
from app.clock import as_of, local_day, utcnow
from app.extensions import db

DEMO_PASSWORD = "diemtua-demo-2026"  # noqa: S105 - published on purpose, demo only
ORGANISATIONS = [
    ("Tổng đài tư vấn Demo Hà Nội", "HN", "hotline", "01"),
    ("Trung tâm Công tác xã hội Demo", "CTXH", "social_work_centre", "01"),
    ("Hội Liên hiệp Phụ nữ Demo", "HLHPN", "womens_union", "01"),
    ("Bệnh viện Đa khoa Demo", "BVDK", "health", "01"),
]
ACCOUNTS = [
    ("operator@example.org", "Trần Thị Demo Một", "operator", "HN"),
    ("case_manager@example.org", "Lê Văn Demo Hai", "case_manager", "HN"),
    ("supervisor@example.org", "Phạm Thị Demo Ba", "supervisor", "HN"),
    ("admin@example.org", "Hoàng Văn Demo Bốn", "admin", "HN"),
    ("partner@example.org", "Vũ Thị Demo Năm", "partner", "BVDK"),
]


def database_is_empty() -> bool:
    """Whether no account exists yet, so demo data may be loaded."""
    return db.session.execute(select(func.count(User.id))).scalar_one() == 0


def seed_demo() -> None:
    """Create the demo organisations and accounts; supervisors and admins get one-time codes."""
    orgs = {}
    for name, code, kind, province in ORGANISATIONS:
        orgs[code] = admin_services.create_organisation(
            by=None, name=name, code=code, kind=kind, province_code=province
        )
    for email, name, role, org_code in ACCOUNTS:
        user, _ = admin_services.create_user(
            by=None,
            email=email,
            full_name=name,
            role=role,
            organisation=orgs[org_code],
            password=DEMO_PASSWORD,
            is_demo=True,
        )
        if role in ("supervisor", "admin"):
            mfa.seal_totp_secret(user, mfa.new_totp_secret())
            user.totp_enabled = True
    db.session.commit()
    seed_demo_calls()


DEMO_NUMBER = "0912 000 111"


def seed_demo_calls() -> None:
    """A few made-up calls through the real intake service (sealed, indexed and audited like any
    other): a violence report assigned to the case manager and a repeat call on it, a child
    case waiting for a supervisor, a silent call and an information request."""
    users = {u.role: u for u in db.session.execute(select(User).where(User.is_demo)).scalars()}
    operator, manager, supervisor = users["operator"], users["case_manager"], users["supervisor"]
    now = utcnow()
    first_ended = now - timedelta(days=3, hours=1, minutes=35)
    with as_of(first_ended):  # everything the call records dated with it, not the seeding
        first = _first_case(operator, now)
        first.opened_at = first.calls[0].started_at  # opened when the call came in
        db.session.commit()
    with as_of(first_ended + timedelta(minutes=20)):
        assign_case(case=first, to=manager, by=supervisor)
    follow_up_ended = now - timedelta(days=1, hours=4, minutes=50)
    with as_of(follow_up_ended):
        save_intake(
            by=operator,
            data=Intake(
                reason="follow_up",
                intake_key=uuid.uuid4(),
                started_at=now - timedelta(days=1, hours=5),
                ended_at=follow_up_ended,
                caller_phone="+84 912 000 111",
                narrative="Gọi lại: đã đến trạm y tế, muốn được tư vấn pháp lý.",
                outcomes=["counselled", "referred"],
                case_id=first.id,
            ),
        )
    child = save_intake(
        by=operator,
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_type="neighbour",
            started_at=now - timedelta(minutes=25),
            ended_at=now - timedelta(minutes=10),
            caller_phone="0912 000 222",
            narrative="Hàng xóm nghe thấy cháu bé bị đánh và la hét nhiều đêm liền.",
            outcomes=["case_opened"],
            danger=["child_involved"],
            survivor=Survivor(name="Cháu Demo Bình", sex="male", birth_date=date(2014, 5, 1)),
            incident=IncidentData(place_type="home", acts=["a_beating"], chi_category="physical"),
            perpetrator=PerpetratorData(relationship="parent_caregiver", sex="male"),
        ),
    ).case
    child.opened_at = child.calls[0].started_at
    db.session.commit()
    for minutes, reason, outcomes in (
        (90, "silent", ["no_action"]),
        (60, "information", ["informed"]),
    ):
        save_intake(
            by=operator,
            data=Intake(
                reason=reason,
                intake_key=uuid.uuid4(),
                caller_type="anonymous",
                started_at=now - timedelta(minutes=minutes),
                ended_at=now - timedelta(minutes=minutes - 2),
                outcomes=outcomes,
            ),
        )


def _first_case(operator: User, now: datetime) -> Case:
    """The demo's violence report of three days ago, with its case."""
    return save_intake(
        by=operator,
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_type="survivor",
            started_at=now - timedelta(days=3, hours=2),
            ended_at=now - timedelta(days=3, hours=1, minutes=35),
            caller_phone=DEMO_NUMBER,
            caller_name="Chị Demo Lan",
            narrative="Chồng thường xuyên đánh đập khi say rượu, lần gần nhất tối qua.",
            outcomes=["counselled", "case_opened", "call_back"],
            danger=["injured"],
            # Recorded in the call: its commune-notification task is done at that time.
            emergency=[("commune_chair", now - timedelta(days=3, hours=1, minutes=40))],
            survivor=Survivor(
                name="Nguyễn Thị Demo Lan",
                sex="female",
                age=34,
                province_code="01",
                safe_contact="Chỉ gọi giờ hành chính. Nếu đàn ông nghe máy, nói là gọi nhầm số.",
            ),
            summary="Bạo lực thể chất và tinh thần từ chồng, leo thang trong ba tháng qua.",
            services_wanted=["counselling", "legal", "health"],
            incident=IncidentData(
                occurred_on=local_day(now - timedelta(days=4)),  # the day in Vietnam
                place_type="home",
                acts=["a_beating", "b_insults"],
                gbv_type="physical_assault",
                gbv_context="intimate_partner",
                description="Bị đánh vào tay và mặt, có vết bầm.",
            ),
            perpetrator=PerpetratorData(
                relationship="intimate_partner",
                sex="male",
                alcohol_or_drugs="yes",
                weapon_access="no",
                earlier_violence="yes",
            ),
            risk_answers=["escalating", "threats_to_kill", "substance", "controlling"],
            consents=[
                ConsentData(service="counselling", granted=True, share_data=True),
                ConsentData(service="legal", granted=True),
                ConsentData(service="police", granted=False),
            ],
            counselling="Tư vấn an toàn: kế hoạch rời nhà khi nguy hiểm, số 113.",
            follow_up_at=now + timedelta(hours=20),
        ),
    ).case


def demo_logins() -> list[dict]:
    """The demo accounts with their password and, where set, their one-time-code seed."""
    users = db.session.execute(select(User).where(User.is_demo).order_by(User.id)).scalars().all()
    rows = []
    for user in users:
        secret = mfa.open_totp_secret(user) if user.totp_enabled else None
        rows.append(
            {
                "email": user.email,
                "role": user.role,
                "password": DEMO_PASSWORD,
                "secret": secret,
                "uri": mfa.provisioning_uri(user, secret) if secret else None,
                "code": pyotp.TOTP(secret).now() if secret else None,
            }
        )
    return rows
