"""A clock the tests can move, and apps built with other settings inside the test's transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from brokerage.types import utcnow
from tests.conftest import app_in_transaction


class Clock:
    """The time signed-in sessions see; moved by the test instead of sleeping."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@pytest.fixture()
def clock(monkeypatch):
    """Return a clock that sessions read, starting now."""
    clock = Clock()
    monkeypatch.setattr("brokerage.accounts.sessions.utcnow", clock)
    return clock


@pytest.fixture()
def make_app(db_url, connection, app):
    """Return a builder of apps with extra settings, sharing the test's rolled-back transaction."""
    def build(**config):
        return app_in_transaction(db_url, connection, **config)

    return build
