"""Throttling after repeated failures, per account and per address, shared through Redis."""

import os
import socket

import pytest

from tests.conftest import PASSWORD, audit_actions


def _fail(client, email, times, password="wrong password here"):  # noqa: S107
    responses = []
    for _ in range(times):
        responses.append(client.submit("/auth/login", {"email": email, "password": password}))
    return responses


def test_account_locks_after_five_failures_and_says_when_to_retry(client, make_user):
    user = make_user("operator")
    first = _fail(client, user.email, 5)
    assert all(r.status_code == 200 for r in first)
    locked = client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    page = locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert "thử lại sau" in page or "Try again after" in page
    assert f'value="{user.email}"' in page
    kinds = audit_actions(user)
    assert kinds.count("login_failure") == 5 and "lockout" in kinds and "login_throttled" in kinds


def test_unknown_account_locks_the_same_way(client):
    _fail(client, "ghost@example.org", 5)
    locked = client.submit("/auth/login", {"email": "ghost@example.org", "password": "anything"})
    assert locked.status_code == 429


def test_other_accounts_are_not_locked_by_one(client, make_user):
    victim, other = make_user("operator"), make_user("operator")
    _fail(client, victim.email, 5)
    assert (
        client.submit("/auth/login", {"email": other.email, "password": PASSWORD}).status_code
        == 302
    )


def test_address_locks_after_many_failures_across_accounts(app, make_user):
    client = app.test_client()
    user = make_user("operator")
    for n in range(20):
        client.submit("/auth/login", {"email": f"guess{n}@example.org", "password": "x" * 12})
    blocked = client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429


def test_wrong_codes_count_towards_the_lock(client, make_user):
    user = make_user("supervisor")
    client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    for _ in range(5):
        client.submit("/auth/verify", {"code": "12345x"})
    response = client.submit("/auth/verify", {"code": "123456"})
    assert response.status_code == 429


def _redis_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(
    not _redis_available() and not os.environ.get("REQUIRE_REDIS"),
    reason="no Redis on 127.0.0.1:6379 (CI sets REQUIRE_REDIS=1)",
)
def test_lock_is_shared_across_workers_through_redis(make_app, make_user):
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    storage = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}
    worker_a, worker_b = make_app(**storage), make_app(**storage)
    user = make_user("operator")
    try:
        client_a = worker_a.test_client()
        _fail(client_a, user.email, 5)
        client_b = worker_b.test_client()
        response = client_b.submit("/auth/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
        keys = redis.Redis.from_url("redis://127.0.0.1:6379/15").keys("*")
        assert keys and not any(user.email.encode() in k for k in keys)
    finally:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
