"""Made-up demo data: organisations and one account per role. No real person appears here."""

from __future__ import annotations

import pyotp
from sqlalchemy import func, select

from app.admin import services as admin_services
from app.auth import mfa
from app.auth.models import User
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
    ("case_manager@example.org", "Lê Văn Demo Hai", "case_manager", "CTXH"),
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
