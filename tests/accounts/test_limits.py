"""Guessing is limited: per email (sign-in and password change share one budget) and per client address."""

from __future__ import annotations

import os
import uuid

import pytest

from brokerage.accounts.models import Role
from brokerage.accounts.passwords import verify_password
from tests.factories import PASSWORD

NEW_PASSWORD = "river boat lantern 42"


def test_wrong_current_passwords_lock_the_password_change_and_the_right_one_is_then_refused(app, client, auth, world, session):
    holder = world.users["a"][Role.holder]
    auth.sign_in(holder.email)
    limit = app.config["LOGIN_MAX_FAILURES"]
    answers = [client.post("/account/password", data={"current": f"guess number {i}", "new": NEW_PASSWORD}) for i in range(limit + 3)]
    assert [a.status_code for a in answers[: limit - 1]] == [422] * (limit - 1)
    assert all(a.status_code == 429 for a in answers[limit - 1 :])
    assert "Too many wrong passwords for this account" in answers[-1].get_data(as_text=True)
    assert int(answers[-1].headers["Retry-After"]) > 60
    right = client.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD})
    assert right.status_code == 429
    session.refresh(holder)
    assert verify_password(holder.password_hash, PASSWORD)
    # One budget per account: the guesses made through the form lock sign-in too.
    assert app.test_client().post("/sign-in", data={"email": holder.email, "password": PASSWORD}).status_code == 429
    # The person's own session is not ended by the lock.
    assert client.get("/dashboard").status_code == 200


def test_a_right_current_password_clears_the_count_of_wrong_ones(app, client, auth, world, session):
    holder = world.users["a"][Role.holder]
    auth.sign_in(holder.email)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert client.post("/account/password", data={"current": "not it at all", "new": NEW_PASSWORD}).status_code == 422
    session.refresh(holder)
    assert holder.failed_sign_ins == app.config["LOGIN_MAX_FAILURES"] - 1
    assert client.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD}).status_code == 302
    session.refresh(holder)
    assert holder.failed_sign_ins == 0 and holder.locked_until is None


def test_a_weak_new_password_uses_up_no_guess(app, client, auth, world, session):
    holder = world.users["a"][Role.holder]
    auth.sign_in(holder.email)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1):
        assert client.post("/account/password", data={"current": "a guess", "new": "short"}).status_code == 422
    session.refresh(holder)
    assert holder.failed_sign_ins == 0


def test_sign_in_is_limited_per_address_with_a_plain_429_and_retry_after(app, world):
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    for i in range(3):
        assert client.post("/sign-in", data={"email": f"someone-{i}@example.org", "password": "a guess"}).status_code == 401
    refused = client.post("/sign-in", data={"email": "broker-a@example.org", "password": PASSWORD})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "too many attempts from your internet connection" in page and "Wait 1 minute and try again" in page
    assert "Traceback" not in page
    as_json = client.post("/sign-in", data={"email": "x@example.org", "password": "y"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 429 and "Retry-After" in as_json.headers
    assert "too many attempts" in as_json.get_json()["error"]
    # Reading the form is not limited, and another address has its own count.
    assert client.get("/sign-in").status_code == 200
    elsewhere = app.test_client()
    other = elsewhere.post("/sign-in", data={"email": "broker-a@example.org", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(make_app, world):
    app = make_app(SIGN_IN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    for i in range(2):
        client.post("/sign-in", data={"email": "x@example.org", "password": "y"}, headers={"X-Forwarded-For": f"198.51.100.{i}"})
    spoofed = client.post("/sign-in", data={"email": "x@example.org", "password": "y"}, headers={"X-Forwarded-For": "198.51.100.99"})
    assert spoofed.status_code == 429


def test_behind_a_trusted_proxy_the_address_it_saw_is_limited_not_the_one_the_client_claims(make_app, world):
    app = make_app(SIGN_IN_RATE_LIMIT="2 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()

    def attempt(claimed, seen):
        # The proxy appends the address it saw to whatever the client sent.
        return client.post("/sign-in", data={"email": "x@example.org", "password": "y"}, headers={"X-Forwarded-For": f"{claimed}, {seen}"})

    assert attempt("10.0.0.1", "203.0.113.5").status_code == 401
    assert attempt("10.0.0.2", "203.0.113.5").status_code == 401
    assert attempt("10.0.0.3", "203.0.113.5").status_code == 429
    assert attempt("10.0.0.3", "203.0.113.6").status_code == 401


def test_password_changes_are_limited_per_address(app, client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    app.config["PASSWORD_RATE_LIMIT"] = "2 per minute"
    for _ in range(2):
        assert client.post("/account/password", data={"current": PASSWORD, "new": "short"}).status_code == 422
    refused = client.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert client.get("/account/password").status_code == 200


def test_ipv6_clients_are_counted_by_their_slash_64(app):
    from brokerage.extensions import client_address

    for address, key in [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("192.0.2.1", "192.0.2.1"),
    ]:
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            assert client_address() == key


def test_a_limit_that_cannot_be_read_is_refused_at_start(monkeypatch):
    from brokerage import create_app
    from brokerage.errors import ConfigError

    monkeypatch.setenv("CAREPOOL_ENV", "development")
    monkeypatch.setenv("SIGN_IN_RATE_LIMIT", "lots")
    with pytest.raises(ConfigError, match="SIGN_IN_RATE_LIMIT"):
        create_app()


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.mark.redis
def test_with_redis_the_per_address_count_is_kept_in_redis(make_app, world):
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    redis = Redis.from_url(redis_url(), socket_connect_timeout=1)
    try:
        redis.ping()
    except RedisConnectionError:
        pytest.skip(f"no Redis at {redis_url()}")
    app = make_app(REDIS_URL=redis_url(), SIGN_IN_RATE_LIMIT="2 per minute")
    assert app.config["RATELIMIT_STORAGE_URI"] == redis_url()
    # A fresh address per run, so earlier runs' counts in the same Redis do not matter.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    client = app.test_client()

    def attempt():
        return client.post("/sign-in", data={"email": "x@example.org", "password": "y"}, environ_base={"REMOTE_ADDR": address})

    assert [attempt().status_code for _ in range(3)] == [401, 401, 429]
    keys = [key.decode() for key in redis.scan_iter(match=f"*{address}*")]
    assert keys, "the count was not stored in Redis"
    # A second app (another gunicorn worker) sees the same count.
    other_worker = make_app(REDIS_URL=redis_url(), SIGN_IN_RATE_LIMIT="2 per minute")
    assert other_worker.test_client().post("/sign-in", data={"email": "x@example.org", "password": "y"}, environ_base={"REMOTE_ADDR": address}).status_code == 429
    for key in keys:
        redis.delete(key)
