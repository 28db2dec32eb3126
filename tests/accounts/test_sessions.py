"""Sessions can be ended: a copied cookie stops working after sign-out, a password change or reset, and deactivation."""

from __future__ import annotations

import pytest

from brokerage.accounts import rules
from brokerage.accounts.models import Role
from tests.factories import PASSWORD

NEW_PASSWORD = "river boat lantern 42"


def copy_session(client, app):
    """Return a second browser holding a copy of the client's session cookie, as a thief would."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    return other


def sign_in(client, email, password=PASSWORD):
    return client.post("/sign-in", data={"email": email, "password": password})


def test_a_cookie_copied_before_signing_out_no_longer_opens_the_dashboard(app, client, auth, world):
    auth.sign_in("broker-a@example.org")
    thief = copy_session(client, app)
    assert thief.get("/dashboard").status_code == 200
    auth.sign_out()
    assert thief.get("/dashboard").status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_signing_out_ends_the_sessions_on_other_devices_too(app, world):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, "broker-a@example.org")
    sign_in(laptop, "broker-a@example.org")
    phone.post("/sign-out")
    assert laptop.get("/dashboard").status_code == 302


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, client, auth, world):
    holder = world.users["a"][Role.holder]
    auth.sign_in(holder.email)
    thief = copy_session(client, app)
    other_device = app.test_client()
    sign_in(other_device, holder.email)
    assert client.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD}).status_code == 302
    still_here = client.get("/dashboard")
    assert still_here.status_code == 200
    assert "signed out on any other devices" in still_here.get_data(as_text=True)
    assert thief.get("/dashboard").status_code == 302
    assert other_device.get("/dashboard").status_code == 302


def test_an_admin_password_reset_ends_the_persons_sessions(app, client, auth, world):
    holder = world.users["a"][Role.holder]
    auth.sign_in(holder.email)
    thief = copy_session(client, app)
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    assert admin.post(f"/admin/users/{holder.id}/password", data={"password": NEW_PASSWORD}).status_code == 302
    assert client.get("/dashboard").status_code == 302
    assert thief.get("/dashboard").status_code == 302
    assert sign_in(app.test_client(), holder.email, NEW_PASSWORD).status_code == 302


def test_deactivating_an_account_ends_its_sessions_for_good(app, client, auth, world, session):
    holder = world.users["a"][Role.holder]
    auth.sign_in(holder.email)
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    off = admin.post(f"/admin/users/{holder.id}/active", data={"active": "no"}, follow_redirects=True)
    assert "can no longer sign in" in off.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    refused = sign_in(app.test_client(), holder.email)  # the right password: told it is switched off, and whom to ask
    assert refused.status_code == 403 and "This account has been switched off" in refused.get_data(as_text=True)
    # Reactivating lets the person sign in again, but does not bring an old cookie back to life.
    assert admin.post(f"/admin/users/{holder.id}/active", data={"active": "yes"}).status_code == 302
    assert client.get("/dashboard").status_code == 302
    assert sign_in(app.test_client(), holder.email).status_code == 302


def test_admins_cannot_deactivate_themselves_and_others_cannot_deactivate_anyone(app, client, auth, world, session):
    admin = world.admin
    auth.sign_in(admin.email)
    refused = client.post(f"/admin/users/{admin.id}/active", data={"active": "no"}, follow_redirects=True)
    assert "You cannot deactivate your own account" in refused.get_data(as_text=True)
    session.refresh(admin)
    assert admin.is_active_account
    nonsense = client.post(f"/admin/users/{world.users['a'][Role.holder].id}/active", data={"active": "maybe"}, follow_redirects=True)
    assert "Nothing was changed" in nonsense.get_data(as_text=True)
    broker = app.test_client()
    sign_in(broker, "broker-a@example.org")
    assert broker.post(f"/admin/users/{world.users['a'][Role.holder].id}/active", data={"active": "no"}).status_code == 403


def test_a_remember_me_cookie_does_not_sign_anyone_in(app, world):
    from flask_login.utils import encode_cookie

    holder = world.users["a"][Role.holder]
    with app.test_request_context():
        forged = encode_cookie(holder.get_id())
    visitor = app.test_client()
    visitor.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), forged)
    assert visitor.get("/dashboard").status_code == 302


def test_a_session_ends_after_the_idle_lifetime(app, client, auth, world, clock):
    idle = app.config["SESSION_IDLE_MINUTES"]
    auth.sign_in("broker-a@example.org")
    for _ in range(3):
        # Using the service keeps the session alive, however long in total.
        clock.advance(minutes=idle - 1)
        assert client.get("/dashboard").status_code == 200
    clock.advance(minutes=idle)
    ended = client.get("/dashboard", follow_redirects=True)
    assert ended.request.path == "/sign-in"
    assert f"not used for {idle} minutes" in ended.get_data(as_text=True)


def test_a_session_ends_after_the_absolute_lifetime_even_when_busy(app, client, auth, world, clock):
    hours = app.config["SESSION_MAX_HOURS"]
    auth.sign_in("broker-a@example.org")
    for _ in range(hours * 3 - 1):
        clock.advance(minutes=20)
        assert client.get("/dashboard").status_code == 200
    clock.advance(minutes=20)
    ended = client.get("/dashboard", follow_redirects=True)
    assert ended.request.path == "/sign-in"
    assert f"more than {hours} hours ago" in ended.get_data(as_text=True)


def test_the_lifetimes_come_from_the_settings(monkeypatch):
    from brokerage import settings

    monkeypatch.setenv("SESSION_IDLE_MINUTES", "10")
    monkeypatch.setenv("SESSION_MAX_HOURS", "2")
    config = settings.from_environment(instance_path="/tmp")
    assert (config["SESSION_IDLE_MINUTES"], config["SESSION_MAX_HOURS"]) == (10, 2)
    monkeypatch.delenv("SESSION_IDLE_MINUTES")
    monkeypatch.delenv("SESSION_MAX_HOURS")
    config = settings.from_environment(instance_path="/tmp")
    assert (config["SESSION_IDLE_MINUTES"], config["SESSION_MAX_HOURS"]) == (30, 12)


@pytest.mark.parametrize("name, value", [("SESSION_IDLE_MINUTES", "soon"), ("SESSION_MAX_HOURS", "0"), ("LOGIN_MAX_FAILURES", "-1"), ("TRUSTED_PROXIES", "١")])
def test_a_bad_number_in_the_settings_is_refused_by_name(monkeypatch, name, value):
    from brokerage import settings
    from brokerage.errors import ConfigError

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        settings.from_environment(instance_path="/tmp")


def test_session_rules():
    assert rules.session_end_reason(0, 0, 60, idle_minutes=30, max_hours=12) is None
    assert rules.session_end_reason(0, 0, 30 * 60, idle_minutes=30, max_hours=12) == "idle"
    assert rules.session_end_reason(0, 12 * 3600 - 1, 12 * 3600, idle_minutes=30, max_hours=12) == "expired"
    assert rules.session_end_reason(None, None, 1, idle_minutes=30, max_hours=12) == "expired"
    assert rules.parse_session_id("12:3") == (12, 3)
    for bad in ("12", "x:1", "1:", "１:1", "1:2:3", "9" * 11 + ":1", ""):
        assert rules.parse_session_id(bad) is None, bad
