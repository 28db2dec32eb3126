"""Simultaneous wrong passwords on one email: no more guesses are checked than the lockout allows (PostgreSQL)."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from brokerage.accounts.models import Role, SignInThrottle, User
from brokerage.accounts.services import _throttle_key
from tests import factories as f
from tests.races import purge_council

ATTEMPTS = 24


@pytest.fixture()
def committed_email(engine):
    """Create a council and a broker account, committed for the app's own connections to see; delete them afterwards."""
    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    with factory() as session:
        council = f.CouncilFactory(session=session, slug=f"race-{uuid.uuid4().hex[:10]}")
        user = f.UserFactory(session=session, role=Role.broker, council_id=council.id, email=f"race-{uuid.uuid4().hex[:10]}@example.org")
        session.commit()
        council_id, email = council.id, user.email
    yield email
    purge_council(factory, council_id)
    with factory() as session:
        session.execute(delete(SignInThrottle).where(SignInThrottle.key == _throttle_key(email)))
        session.commit()


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
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_url, "LOGIN_MAX_FAILURES": 5})
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
def test_24_simultaneous_wrong_passwords_on_one_email_check_at_most_5(engine, live_app, checked_passwords, committed_email):
    email = committed_email
    statuses = race(live_app, "/sign-in", [{"email": email, "password": f"wrong guess {i}"} for i in range(ATTEMPTS)])
    assert checked_passwords["n"] == 5
    assert sorted(statuses) == [401] * 4 + [429] * (ATTEMPTS - 4)
    factory = sessionmaker(bind=engine, class_=Session)
    with factory() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        assert user.locked_until is not None
        assert session.exec(select(SignInThrottle).where(SignInThrottle.locked_until.is_not(None))).first() is not None


@pytest.mark.postgres_only
def test_simultaneous_wrong_current_passwords_check_at_most_5(engine, live_app, checked_passwords, committed_email):
    email = committed_email
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
