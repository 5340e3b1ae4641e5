"""Server-side sessions that can be revoked at once.

The browser holds only a random id. The database holds a hash of it and the session data sealed
under a key derived from it (app.crypto), with the user, the times and the client. Deleting a
user's rows ends every session of that user immediately, so a copied cookie stops working.
Expired sessions (idle or absolute timeout) are dropped when next presented.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask import Flask, Request, Response, g, request
from flask.sessions import SessionInterface, SessionMixin, TaggedJSONSerializer
from sqlalchemy import delete, func, insert, select, update
from werkzeug.datastructures import CallbackDict

from app import crypto
from app.auth.models import User, WebSession
from app.clock import utcnow
from app.extensions import db

SID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
TOUCH_INTERVAL = timedelta(seconds=10)
_serializer = TaggedJSONSerializer()
_table = WebSession.__table__
_users = User.__table__


class ServerSession(CallbackDict, SessionMixin):
    """Session data for one request, with what the interface needs to save it."""

    def __init__(self, initial=None, sid: str | None = None, row: dict | None = None):
        def on_update(self_):
            self_.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.row = row or {}
        self.modified = False
        self.regenerate_requested = False
        self.expired_reason: str | None = None

    @property
    def new(self) -> bool:  # type: ignore[override]
        """Whether the session has no row yet."""
        return self.sid is None

    def regenerate(self) -> None:
        """Ask for a fresh session id at the end of this request (done at sign-in)."""
        self.regenerate_requested = True
        self.modified = True


def expiry_reason(row: dict, now: datetime, idle: int, absolute: int) -> str | None:
    """Why a stored session is no longer valid ('idle' or 'absolute'), or None."""
    if now - row["last_seen_at"] > timedelta(seconds=idle):
        return "idle"
    started = row["authenticated_at"] or row["created_at"]
    if now - started > timedelta(seconds=absolute):
        return "absolute"
    return None


def _engine():
    return db.engine


class DatabaseSessionInterface(SessionInterface):
    """Flask session interface storing sealed session data in the web_session table."""

    serializer = _serializer

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """Load the session named by the cookie, dropping it if expired or unreadable."""
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or not SID_PATTERN.match(sid):
            return ServerSession()
        key = crypto.session_key_id(sid)
        with _engine().begin() as conn:
            row = conn.execute(select(_table).where(_table.c.id == key)).mappings().first()
            if row is None:
                return ServerSession()
            row = dict(row)
            reason = expiry_reason(
                row, utcnow(), app.config["SESSION_IDLE_SECONDS"], app.config["SESSION_MAX_SECONDS"]
            )
            if reason:
                conn.execute(delete(_table).where(_table.c.id == key))
                expired = ServerSession()
                expired.expired_reason = reason if row["user_id"] else None
                expired.row = {"user_id": row["user_id"]}
                return expired
        try:
            data = self.serializer.loads(crypto.open_session(sid, row["data"]).decode())
        except crypto.DecryptionError:
            return ServerSession()
        return ServerSession(data, sid=sid, row=row)

    def _forget(self, app: Flask, response: Response) -> None:
        """Delete the browser's cookie with the flags it was set with: a browser ignores the
        deletion of a `__Host-` cookie (the production name) sent without Secure."""
        response.delete_cookie(
            self.get_cookie_name(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        """Write the session back; a revoked session is never brought back to life."""
        name, path = self.get_cookie_name(app), self.get_cookie_path(app)
        if not session and session.new:
            return
        if not session:
            self._delete(session.sid)
            self._forget(app, response)
            return
        now = utcnow()
        user_id = _user_id(session)
        if session.new or session.regenerate_requested:
            if not session.new and not self._delete(session.sid):
                self._forget(app, response)
                return  # revoked meanwhile (sign-out elsewhere, reset): never revive it
            session.sid = secrets.token_urlsafe(32)
            if not self._insert(session, user_id, now):
                self._forget(app, response)
                return  # a sign-in overtaken by a password change: never a session
        elif session.modified or now - session.row["last_seen_at"] > TOUCH_INTERVAL:
            if g.get("passive_request"):
                if not session.modified:
                    return
                now = session.row["last_seen_at"]
            if not self._update(session, user_id, now):
                self._forget(app, response)
                return
        else:
            return
        response.set_cookie(
            name,
            session.sid,
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            path=path,
        )
        response.vary.add("Cookie")

    def _seal(self, session: ServerSession) -> bytes:
        return crypto.seal_session(session.sid, self.serializer.dumps(dict(session)).encode())

    def _insert(self, session: ServerSession, user_id: int | None, now: datetime) -> bool:
        """Write the new session's row; False (nothing written) for a sign-in whose password
        was checked before the account's password last changed: a change or a reset committed
        while that sign-in was on its way would otherwise miss it
        (its revocation deletes the rows there are, and this one was not there yet). The row
        is written first and the account read after, in one transaction (the account's row
        locked on PostgreSQL): a change committing after it finds and deletes the row."""
        values = {
            "id": crypto.session_key_id(session.sid),
            "user_id": user_id,
            "data": self._seal(session),
            "created_at": now,
            "authenticated_at": now if user_id else None,
            "last_seen_at": now,
            "ip": request.remote_addr,
            "user_agent": (request.user_agent.string or "")[:200],
        }
        checked = g.get("password_checked_at") if user_id else None
        with _engine().begin() as conn:
            conn.execute(insert(_table).values(**values))
            if checked is not None:
                changed = conn.execute(
                    select(_users.c.password_changed_at)
                    .where(_users.c.id == user_id)
                    .with_for_update()
                ).scalar_one_or_none()
                if changed is None or changed > checked:
                    conn.rollback()
                    return False
        return True

    def _update(self, session: ServerSession, user_id: int | None, now: datetime) -> bool:
        values = {"user_id": user_id, "data": self._seal(session), "last_seen_at": now}
        if user_id and not session.row.get("user_id"):
            values["authenticated_at"] = now
        key = crypto.session_key_id(session.sid)
        with _engine().begin() as conn:
            result = conn.execute(update(_table).where(_table.c.id == key).values(**values))
        return result.rowcount == 1

    def _delete(self, sid: str | None) -> bool:
        if not sid:
            return False
        with _engine().begin() as conn:
            result = conn.execute(delete(_table).where(_table.c.id == crypto.session_key_id(sid)))
        return result.rowcount == 1


def _user_id(session: ServerSession) -> int | None:
    raw = session.get("_user_id")
    return int(raw) if raw else None


def revoke_user_sessions(user_id: int, *, keep_sid: str | None = None) -> int:
    """Delete every session of a user (but the current one, if named) in the current transaction."""
    stmt = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_sid:
        stmt = stmt.where(WebSession.id != crypto.session_key_id(keep_sid))
    return db.session.execute(stmt).rowcount


def purge_expired_sessions(*, idle: int, absolute: int) -> int:
    """Delete sessions past their idle or absolute limit; run from `flask sessions purge`."""
    now = utcnow()
    stmt = delete(WebSession).where(
        (WebSession.last_seen_at < now - timedelta(seconds=idle))
        | (
            func.coalesce(WebSession.authenticated_at, WebSession.created_at)
            < now - timedelta(seconds=absolute)
        )
    )
    count = db.session.execute(stmt).rowcount
    db.session.commit()
    return count
