"""Screen pops: a line announces an incoming call, the operator who answers claims it once.

The caller's number is sealed under the pop's own data key. The link handed to the phone system
carries a one-time token (kept as its SHA-256) and nothing else. Claiming copies the number into
the operator's sealed intake draft and destroys the pop's key, so from then on the number exists
only in that draft (and, once saved, in the call record).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.auth.models import User
from app.calls.drafts import has_draft, save_draft
from app.clock import LOCAL, utcnow
from app.crypto.datakeys import new_id
from app.extensions import db
from app.telephony.models import PhoneLine, ScreenPop
from app.telephony.services import hash_token

POP_LIFETIME = timedelta(minutes=10)
KEEP_EXPIRED = timedelta(days=1)
CLAIM_ROLES = ("operator", "supervisor")
MAX_TOKEN_LENGTH = 64


class LineStopped(Exception):
    """The line was revoked, or given a new token, while its call was being announced."""


class PopUnavailable(Exception):
    """The link cannot be used: 'unknown' (or not this user's to open), 'expired', 'claimed'
    (by someone else) or 'discarded' (opened by this user, its intake discarded since)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def announce_call(
    *, line: PhoneLine, token_hash: str, caller: str | None, started_at: datetime | None = None
) -> tuple[ScreenPop, str]:
    """Record an incoming call on a line whose token (by its hash) was checked; returns the
    pop and its one-time token (the link). LineStopped when the line was revoked, or given a
    new token, since the check (nothing is written)."""
    now = utcnow()
    # The line is marked used only while it is live and its token the one checked, in one
    # conditional UPDATE: a revoke or a new token committed after the check leaves no pop.
    used = db.session.execute(
        update(PhoneLine)
        .where(
            PhoneLine.id == line.id,
            PhoneLine.revoked_at.is_(None),
            PhoneLine.token_hash == token_hash,
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise LineStopped(line.id)
    set_committed_value(line, "last_used_at", now)
    token = secrets.token_urlsafe(32)
    pop = ScreenPop(
        line_id=line.id,
        organisation_id=line.organisation_id,
        token_hash=hash_token(token),
        started_at=started_at or now,
        created_at=now,
        expires_at=now + POP_LIFETIME,
        caller_phone=caller,
    )
    db.session.add(pop)
    # No unanswered caller's number outlives its link, cron or no cron: this line's expired
    # pops are forgotten, and those of more than a day ago deleted (so the line's index stays
    # short whatever runs or does not run at night).
    forget_expired(now, line_id=line.id)
    db.session.execute(
        delete(ScreenPop)
        .where(ScreenPop.line_id == line.id, ScreenPop.expires_at < now - KEEP_EXPIRED)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        "screen_pop",
        object_type="screen_pop",
        object_id=pop.id,
        organisation_id=line.organisation_id,
        detail=f"line {line.id}" + ("" if caller else "; number withheld"),
    )
    db.session.commit()
    return pop, token


def claim_pop(*, token: str, user: User) -> uuid.UUID:
    """Open an announced call for this user: a sealed intake draft holding the number is made,
    the pop's key destroyed; returns the draft's intake key. Works once, for one user."""
    pop = _find(token)
    if pop is None or pop.organisation_id != user.organisation_id or user.role not in CLAIM_ROLES:
        _deny(user, pop)
        raise PopUnavailable("unknown")
    if pop.claimed_at is not None:
        return _opened_before(pop, user)
    now = utcnow()
    if pop.expires_at <= now:
        forget_expired(now, line_id=pop.line_id)  # its number forgotten now, not at night
        _deny(user, pop, "expired link")
        raise PopUnavailable("expired")
    if not _mark_claimed(pop, user, now):
        # Claimed meanwhile: by this user (a double click, whose first request won) or another;
        # or its line revoked meanwhile (the number forgotten with it).
        db.session.rollback()
        db.session.refresh(pop)
        if pop.claimed_at is None:
            _deny(user, pop, "expired link")
            raise PopUnavailable("expired")
        return _opened_before(pop, user)
    fields = _draft_fields(pop)
    if pop.caller_phone:
        fields["caller_phone"] = pop.caller_phone
    pop.destroy_key()
    pop.caller_phone_sealed = None
    audit.record(
        "screen_pop",
        user=user,
        object_type="screen_pop",
        object_id=pop.id,
        organisation_id=pop.organisation_id,
        detail="claimed",
    )
    intake_key = pop.intake_key = new_id()  # time-ordered, as the intake page makes them
    save_draft(user=user, intake_key=intake_key, fields=fields)  # commits the whole claim
    return intake_key


def _draft_fields(pop: ScreenPop) -> dict:
    """The intake fields a pop fills in (the number added by the caller, while it is known)."""
    return {
        "started_at": pop.started_at.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M"),
        "channel": "phone",
        "line_id": str(pop.line_id),
    }


def _opened_before(pop: ScreenPop, user: User) -> uuid.UUID:
    """A link opened again by the operator who claimed it (a double click, a reload, the link
    clicked twice): the intake the claim made, unsaved, or saved (whose address says where
    the call went: it was saved once); unavailable when that intake was discarded, or to
    anyone else."""
    from app.calls.intake import find_saved  # the intake's save reads the line's pops

    if pop.claimed_by_id != user.id:
        _deny(user, pop, "claimed by another account")
        raise PopUnavailable("claimed")
    key = pop.intake_key
    if key is not None and (has_draft(user=user, intake_key=key) or find_saved(key, user)):
        return key
    raise PopUnavailable("discarded")


def forget_expired(now: datetime, *, line_id: int | None = None) -> int:
    """Destroy the key of every expired, unclaimed pop (of one line, or all): its caller's
    number can no longer be read (not committed)."""
    where = [ScreenPop.expires_at <= now, ScreenPop.key_destroyed_at.is_(None)]
    if line_id is not None:
        where.append(ScreenPop.line_id == line_id)
    return db.session.execute(
        update(ScreenPop)
        .where(*where)
        .values(key_kek_id=None, key_wrapped=None, key_destroyed_at=now, caller_phone_sealed=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def _find(token: str) -> ScreenPop | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    stmt = select(ScreenPop).where(ScreenPop.token_hash == hash_token(token))
    return db.session.execute(stmt).scalar_one_or_none()


def _mark_claimed(pop: ScreenPop, user: User, now: datetime) -> bool:
    """Claim the row only if nobody has, in one conditional UPDATE: of two operators opening
    the link at the same moment, the database lets exactly one through."""
    result = db.session.execute(
        update(ScreenPop)
        .where(
            ScreenPop.id == pop.id,
            ScreenPop.claimed_at.is_(None),
            ScreenPop.expires_at > now,
            ScreenPop.key_destroyed_at.is_(None),  # not forgotten (its line revoked) meanwhile
        )
        .values(claimed_at=now, claimed_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(pop, "claimed_at", now)  # what the row now says, without a 2nd write
    set_committed_value(pop, "claimed_by_id", user.id)
    return True


def _deny(user: User, pop: ScreenPop | None, detail: str | None = None) -> None:
    """Audit an attempt at a link that is not this user's, or no longer opens (expired,
    claimed by a colleague), filed under the pop's organisation, whose supervisors must see
    it; or at one that does not exist, filed under the opener's own (audit.record's default).
    Commits (with what the caller did before)."""
    audit.record(
        "denied",
        user=user,
        object_type="screen_pop",
        object_id=pop.id if pop else None,
        organisation_id=pop.organisation_id if pop else None,
        detail=detail if pop else "unknown link",
    )
    db.session.commit()


def purge_pops(*, now: datetime | None = None) -> tuple[int, int]:
    """Housekeeping: forget the number of every expired, unclaimed pop at once, and delete
    pops expired more than a day ago. Returns (numbers forgotten, pops deleted)."""
    now = now or utcnow()
    forgotten = forget_expired(now)
    deleted = db.session.execute(
        delete(ScreenPop)
        .where(ScreenPop.expires_at < now - KEEP_EXPIRED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return forgotten, deleted
