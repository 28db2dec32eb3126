"""A clock the tests can move, and apps built with other settings inside the test's transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from brokerage.types import utcnow


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
    from brokerage import create_app

    def build(**config):
        built = create_app(
            {
                "ENV_MODE": "testing",
                "TESTING": True,
                "SECRET_KEY": "test-secret-key-not-for-production",
                "DATABASE_URL": db_url,
                "REDIS_URL": None,
                "SESSION_COOKIE_SECURE": False,
                "WTF_CSRF_ENABLED": False,
                **config,
            }
        )
        built.extensions["db_engine"].dispose()
        built.extensions["db_sessionmaker"] = sessionmaker(
            bind=connection, class_=Session, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        return built

    return build
