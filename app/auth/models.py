"""Accounts, organisations, sessions and the sign-in event log."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import UTCDateTime, utcnow
from app.crypto.datakeys import KeyHolder, SealedBytes, SealedField, SealedModel
from app.extensions import db

ROLES = ("operator", "case_manager", "supervisor", "admin", "partner")
ORG_KINDS = (
    "hotline",
    "social_work_centre",
    "womens_union",
    "health",
    "legal_aid",
    "shelter",
    "police",
    "commune",
    "ngo",
    "other",
)
LANGUAGES = ("vi", "en")


class Organisation(db.Model):
    """A hotline, social work centre, Women's Union branch, provider or authority."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Short prefix used in readable case numbers, e.g. "HN" in HN-2026-000123.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    province_code: Mapped[str | None] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(KeyHolder, UserMixin, db.Model):
    """A staff member or partner account; one role, one organisation."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="vi")
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The account's own data key (KeyHolder columns) seals its seed and recovery codes.
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(SealedBytes)
    totp_secret = SealedField()
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    # The last accepted time step: a code is accepted once only.
    totp_last_step: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # used by Flask-Login: a disabled account cannot sign in
        """Whether the account may be used."""
        return self.active

    def sealing_key(self) -> KeyHolder:
        """The account holds its own data key, made on first use (enrolling one-time codes)."""
        return self

    def has_role(self, *roles: str) -> bool:
        """Whether the user holds one of the given roles."""
        return self.role in roles


class RecoveryCode(SealedModel, db.Model):
    """A single-use code for signing in when the authenticator is lost; sealed like the seed."""

    __tablename__ = "recovery_code"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_sealed: Mapped[bytes] = mapped_column(SealedBytes)
    code = SealedField()
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")

    def sealing_key(self) -> KeyHolder:
        """The account's data key."""
        return self.user.sealing_key()


class WebSession(db.Model):
    """A server-side session; the id is a hash of the cookie, the data is sealed under it."""

    __tablename__ = "web_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    authenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_web_session_user_id", "user_id"),)
