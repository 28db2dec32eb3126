"""Signing in and out, lockout, CSRF, safe redirects and security headers."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from brokerage.accounts.models import Role, User
from brokerage.accounts.passwords import verify_password
from brokerage.types import utcnow
from tests import factories as f


def test_signing_in_with_the_right_password_shows_the_dashboard(client, auth, world):
    response = auth.sign_in("broker-a@example.org")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert b"Broker dashboard" in page.data
    assert b"Council A" in page.data


def test_a_wrong_password_is_refused_beside_the_field_and_counts_a_failure(client, auth, world, session):
    response = auth.sign_in("broker-a@example.org", "wrong password!!")
    assert response.status_code == 401
    assert b"The email address or password is not right." in response.data
    assert b'id="email-error-1"' in response.data
    assert client.get("/dashboard").status_code == 302
    user = session.exec(select(User).where(User.email == "broker-a@example.org")).one()
    session.refresh(user)
    assert user.failed_sign_ins == 1


def test_an_unknown_email_gets_the_same_message_as_a_wrong_password(auth, world):
    response = auth.sign_in("nobody@example.org", "whatever password")
    assert response.status_code == 401
    assert b"The email address or password is not right." in response.data


def test_empty_fields_are_named_and_nothing_changes(client, world):
    response = client.post("/sign-in", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert b"Enter your email address" in response.data
    assert b"Enter your password" in response.data
    assert b"govuk-error-summary" in response.data


def test_an_account_locks_after_repeated_failures_even_for_the_right_password(app, client, auth, world, session):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        assert auth.sign_in("holder-a@example.org", "not the password").status_code == 401
    locked = auth.sign_in("holder-a@example.org", "not the password")
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.data
    # The lock's own length, not a minute more, and the way out that needs nobody's help.
    page = locked.get_data(as_text=True).replace("&#34;", '"')
    assert f"Wait {app.config['LOGIN_LOCK_MINUTES']} minutes and try again" in page and "Forgotten your password?" in page
    still_locked = auth.sign_in("holder-a@example.org")
    assert still_locked.status_code == 429
    assert client.get("/dashboard").status_code == 302


def test_a_lock_expires(app, auth, world, session):
    from brokerage.accounts.models import SignInThrottle
    from brokerage.accounts.services import _throttle_key

    session.add(SignInThrottle(key=_throttle_key("Holder-A@example.org "), failures=0, locked_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert auth.sign_in("holder-a@example.org").status_code == 302
    assert session.get(SignInThrottle, _throttle_key("holder-a@example.org")) is None


def test_signing_out_ends_the_session(client, auth, world):
    auth.sign_in("broker-a@example.org")
    assert client.get("/dashboard").status_code == 200
    assert auth.sign_out().status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_next_redirect_stays_on_this_site(client, world):
    ok = client.post("/sign-in?next=/clusters/", data={"email": "broker-a@example.org", "password": f.PASSWORD})
    assert ok.headers["Location"] == "/clusters/"
    client.post("/sign-out")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = client.post(f"/sign-in?next={evil}", data={"email": "broker-a@example.org", "password": f.PASSWORD})
        assert response.headers["Location"].endswith("/dashboard"), evil
        client.post("/sign-out")


def test_forms_without_a_csrf_token_are_refused(app, client, world):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/sign-in", data={"email": "broker-a@example.org", "password": f.PASSWORD})
    assert response.status_code == 400
    assert client.get("/dashboard").status_code == 302


def test_a_form_with_its_csrf_token_is_accepted(app, client, world):
    import re

    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/sign-in").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/sign-in", data={"email": "broker-a@example.org", "password": f.PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_pages_carry_security_headers(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_passwords_are_stored_as_argon2_hashes(world):
    user = world.users["a"][Role.broker]
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, f.PASSWORD)
    assert not verify_password(user.password_hash, "wrong")


def test_session_cookie_is_secure_and_http_only_in_production(monkeypatch):
    from brokerage import create_app

    monkeypatch.setenv("CAREPOOL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-random-secret-value-123456")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_a-real-secret")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    for name, value in {"MAIL_SERVER": "smtp.council.example", "MAIL_DEFAULT_SENDER": "carepool@council.example", "PUBLIC_URL": "https://carepool.example"}.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_and_known_emails_lock_alike_so_accounts_cannot_be_discovered(app, auth, world):
    limit = app.config["LOGIN_MAX_FAILURES"]
    answers = {}
    for email in ("holder-a@example.org", "nobody-here@example.org"):
        statuses = [auth.sign_in(email, "not the password") for _ in range(limit + 1)]
        answers[email] = [(r.status_code, b"Too many failed sign-ins" in r.data) for r in statuses]
    assert answers["holder-a@example.org"] == answers["nobody-here@example.org"]
    assert answers["nobody-here@example.org"][-1] == (429, True)


def test_the_app_hashes_with_argon2ids_default_cost_and_only_the_tests_use_the_cheapest(tmp_path):
    import subprocess
    import sys

    from argon2 import PasswordHasher, extract_parameters, profiles

    # The tests' own process hashes cheaply (tests/conftest.py); a fresh process, like the served app, does not.
    cheap = extract_parameters(f.password_hash())
    assert (cheap.time_cost, cheap.memory_cost) == (profiles.CHEAPEST.time_cost, profiles.CHEAPEST.memory_cost)
    code = "from brokerage.accounts.passwords import hash_password; print(hash_password('a long enough password'))"
    made = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    served = extract_parameters(made)
    default = PasswordHasher()
    assert made.startswith("$argon2id$")
    assert (served.time_cost, served.memory_cost, served.parallelism) == (default.time_cost, default.memory_cost, default.parallelism)
    assert served.memory_cost >= 65536


def test_a_switched_off_account_with_the_right_password_is_told_so_and_whom_to_ask(client, auth, world, session):
    # It was told "The email address or password is not right." and went round "Forgotten your password?" (tester R7-8).
    holder, broker = world.users["a"][Role.holder], world.users["a"][Role.broker]
    holder.is_active_account = False
    session.commit()
    response = auth.sign_in(holder.email)
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and 'id="email-error-1"' in page
    assert "This account has been switched off, so you cannot sign in with it." in page and f"{broker.name} ({broker.email})" in page
    assert client.get("/dashboard").status_code == 302
    # A wrong password to a switched-off account still says only "not right", and counts as a failure.
    wrong = auth.sign_in(holder.email, "wrong password!!")
    assert wrong.status_code == 401 and "switched off" not in wrong.get_data(as_text=True)
    session.refresh(holder)
    assert holder.failed_sign_ins == 1


def test_whom_a_switched_off_account_asks_depends_on_its_role(world, session):
    from brokerage.accounts.services import who_to_ask

    council = world.councils["a"]
    broker = world.users["a"][Role.broker]
    assert who_to_ask(session=session, user=world.users["a"][Role.provider]) == f"the broker at {council.name}: {broker.name} ({broker.email})"
    assert who_to_ask(session=session, user=world.users["a"][Role.council_officer]).startswith("your manager")
    assert who_to_ask(session=session, user=world.admin) == "another carepool administrator"
    broker.is_active_account = False
    session.flush()
    assert who_to_ask(session=session, user=world.users["a"][Role.holder]) == f"the adult social care team at {council.name}"


def test_the_sign_in_page_says_how_someone_without_an_account_joins(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert "No account yet?" in page and "ask your council's adult social care team or broker to invite you" in page and 'href="/offer-care"' in page
