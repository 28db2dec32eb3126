"""Simultaneous wrong passwords on one email: no more guesses are checked than the lockout allows (PostgreSQL)."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from brokerage.accounts.models import Role, SignInThrottle, User
from tests import factories as f

ATTEMPTS = 24


def make_committed_user(engine) -> str:
    """Create a council and a holder account, committed for the app's own connections to see."""
    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    with factory() as session:
        council = f.CouncilFactory(session=session, slug=f"race-{uuid.uuid4().hex[:10]}")
        user = f.UserFactory(session=session, role=Role.broker, council_id=council.id, email=f"race-{uuid.uuid4().hex[:10]}@example.org")
        session.commit()
        return user.email


def race(app, path: str, forms: list[dict], prepare=None) -> list[int]:
    """Send the forms to the app at the same moment, one thread each, and return the statuses."""
    barrier = threading.Barrier(len(forms))
    statuses: list[int | None] = [None] * len(forms)

    def one(i: int) -> None:
        client = app.test_client()
        if prepare:
            prepare(client)
        barrier.wait(timeout=60)
        statuses[i] = client.post(path, data=forms[i]).status_code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


@pytest.fixture()
def live_app(engine, db_url):
    """Return an app on the real database: each request commits for the others to see."""
    from brokerage import create_app

    app = create_app(
        {
            "ENV_MODE": "testing",
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": db_url,
            "REDIS_URL": None,
            "WTF_CSRF_ENABLED": False,
            "LOGIN_MAX_FAILURES": 5,
        }
    )
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture()
def checked_passwords(monkeypatch):
    """Count every argon2 check of a password, from every thread."""
    from brokerage.accounts import services

    real = services.verify_password
    count = {"n": 0}
    lock = threading.Lock()

    def counting(password_hash, password):
        with lock:
            count["n"] += 1
        return real(password_hash, password)

    monkeypatch.setattr(services, "verify_password", counting)
    return count


@pytest.mark.postgres_only
def test_24_simultaneous_wrong_passwords_on_one_email_check_at_most_5(engine, live_app, checked_passwords):
    email = make_committed_user(engine)
    statuses = race(live_app, "/sign-in", [{"email": email, "password": f"wrong guess {i}"} for i in range(ATTEMPTS)])
    assert checked_passwords["n"] == 5
    assert sorted(statuses) == [401] * 4 + [429] * (ATTEMPTS - 4)
    factory = sessionmaker(bind=engine, class_=Session)
    with factory() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        assert user.locked_until is not None
        assert session.exec(select(SignInThrottle).where(SignInThrottle.locked_until.is_not(None))).first() is not None


@pytest.mark.postgres_only
def test_simultaneous_wrong_current_passwords_check_at_most_5(engine, live_app, checked_passwords):
    email = make_committed_user(engine)
    clients_signed_in = []

    def sign_in(client):
        assert client.post("/sign-in", data={"email": email, "password": f.PASSWORD}).status_code == 302
        clients_signed_in.append(client)

    forms = [{"current": f"wrong guess {i}", "new": "river boat lantern 42"} for i in range(12)]
    statuses = race(live_app, "/account/password", forms, prepare=sign_in)
    assert len(clients_signed_in) == 12
    # Twelve sign-ins checked a password each before the race began.
    assert checked_passwords["n"] - 12 == 5
    assert sorted(statuses) == [422] * 4 + [429] * 8
