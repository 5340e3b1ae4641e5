"""Fixtures for the screen-pop tests: a line with its token, and a call announced on it."""

from __future__ import annotations

import pytest

from app.telephony import services

NUMBER = "+84 912 345 678"
DIGITS = "912345678"  # what would betray the number in any spelling


@pytest.fixture
def make_line(make_user, make_org):
    """Create a line (for an organisation, by one of its admins); returns (line, token)."""

    def factory(organisation=None, name: str = "Tổng đài thử"):
        org = organisation or make_org()
        admin = make_user("admin", organisation=org)
        return services.create_line(by=admin, name=name)

    return factory


@pytest.fixture
def announce(app):
    """Announce a call through the API, as the phone system would; returns the response."""
    pbx = app.test_client()

    def post(token: str | None, body: dict | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return pbx.post(
            "/api/v1/calls/incoming",
            json={"caller": NUMBER} if body is None else body,
            headers=headers,
            **kwargs,
        )

    return post
