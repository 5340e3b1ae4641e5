"""Sign-in throttling after repeated failures, per account and per client address.

Counts live in the limiter's storage (memory by default, Redis when RATELIMIT_STORAGE_URI names
one), so several workers share them. Accounts are keyed by a keyed hash of the email, so the
storage never holds an address, and unknown accounts are counted like known ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


@dataclass(frozen=True)
class ThrottleState:
    """Whether sign-in is blocked for this attempt, and until when."""

    blocked: bool
    retry_at: datetime | None = None


def init_app(app: Flask) -> None:
    """Give the app its own failure counter on the configured storage."""
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["diemtua.throttle"] = MovingWindowRateLimiter(storage)


def _strategy() -> MovingWindowRateLimiter:
    return current_app.extensions["diemtua.throttle"]


def reset() -> None:
    """Forget every count (used by tests and after an incident review)."""
    _strategy().storage.reset()


def _keys(email: str, ip: str | None) -> list[tuple]:
    ring = current_app.extensions["diemtua.keyring"]
    account = ring.keyed_hash(email.strip().lower(), purpose="throttle-account")[:32]
    return [
        (parse(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"]), "login-account", account),
        (parse(current_app.config["LOGIN_FAILURES_PER_IP"]), "login-ip", ip or "unknown"),
    ]


def check(email: str, ip: str | None) -> ThrottleState:
    """Whether another attempt is allowed now for this account and address."""
    strategy = _strategy()
    retry = None
    for item, *key in _keys(email, ip):
        if not strategy.test(item, *key):
            reset = strategy.get_window_stats(item, *key).reset_time
            moment = datetime.fromtimestamp(reset, UTC)
            retry = max(retry, moment) if retry else moment
    return ThrottleState(blocked=retry is not None, retry_at=retry)


def record_failure(email: str, ip: str | None) -> bool:
    """Count a failed attempt; True when it has just locked the account or address."""
    strategy = _strategy()
    for item, *key in _keys(email, ip):
        strategy.hit(item, *key)
    return check(email, ip).blocked


def first_in(limit: str, *key: str) -> bool:
    """Count one event under `key` and say whether it is within `limit` (e.g. "1 per minute"):
    for writing repeated refusals to the audit log once a while instead of every time."""
    return _strategy().hit(parse(limit), "once", *key)


def clear_account(email: str, ip: str | None) -> None:
    """Forget the failures of an account after a successful sign-in."""
    strategy = _strategy()
    item, *key = _keys(email, ip)[0]
    strategy.clear(item, *key)
