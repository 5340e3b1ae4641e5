"""One-time codes (TOTP, RFC 6238) accepted once only, recovery codes, and the enrolment QR code."""

from __future__ import annotations

import hmac
import secrets
import time

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import or_, update

from app.auth.models import RecoveryCode, User
from app.clock import utcnow
from app.extensions import db

ISSUER = "Diem Tua"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_totp_secret() -> str:
    """A fresh 160-bit base32 seed."""
    return pyotp.random_base32(32)


def seal_totp_secret(user: User, secret: str) -> None:
    """Store a seed on the user, sealed under the account's data key."""
    user.totp_secret = secret


def open_totp_secret(user: User) -> str:
    """The user's seed, opened from its sealed form."""
    return user.totp_secret or ""


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """An inline SVG QR code, drawn locally; no network and no inline style."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#1b2a3a", light="#ffffff")
    return Markup(svg)  # noqa: S704 - segno's own markup, built from our own URI


def matching_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step (previous, current or next) whose code equals the given one, or None."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = int((at if at is not None else time.time()) // STEP_SECONDS)
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def accept_totp(user: User, secret: str, code: str) -> bool:
    """Accept a code once: its step must be later than the last accepted one. Marks it used."""
    step = matching_step(secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    # Conditional on the stored step, so two workers given the same code accept it once.
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    db.session.expire(user, ["totp_last_step"])
    return True


def _canonical(code: str) -> str:
    return code.replace("-", "").replace(" ", "").lower()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with fresh ones and return them, shown once."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    user.sealing_key()
    with db.session.no_autoflush:
        user.recovery_codes = [RecoveryCode(user=user, code=_canonical(c)) for c in codes]
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code once, marking it used."""
    wanted = _canonical(code)
    for stored in user.recovery_codes:
        if stored.used_at is None and hmac.compare_digest(stored.code, wanted):
            claimed = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == stored.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            db.session.expire(stored, ["used_at"])
            return claimed == 1
    return False


def remaining_recovery_codes(user: User) -> int:
    """How many recovery codes are left unused."""
    return sum(1 for c in user.recovery_codes if c.used_at is None)
