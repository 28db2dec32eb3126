"""Forgotten passwords: the same answer for every address, a single-use link that runs out, every other session ended."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.accounts.passwords import verify_password
from brokerage.invitations.errors import LINK_NOT_USABLE
from brokerage.invitations.models import PasswordReset
from brokerage.invitations.rules import hash_token
from tests import factories as f
from tests.conftest import app_in_transaction
from tests.invitations.conftest import NEW_PASSWORD


def text(response) -> str:
    return response.get_data(as_text=True)


def ask(client, email, **kwargs):
    return client.post("/forgotten-password", data={"email": email}, **kwargs)


def test_the_sign_in_page_offers_a_reset_and_the_answer_is_the_same_whether_or_not_an_account_uses_the_address(client, world, outbox, session):
    holder = world.users["a"][Role.holder]
    assert 'href="/forgotten-password"' in text(client.get("/sign-in")) and "Forgotten your password?" in text(client.get("/sign-in"))
    known, unknown = ask(client, holder.email), ask(client, "nobody-here@example.org")
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"]) == (302, "/forgotten-password/sent")
    assert known.headers.get("Set-Cookie") is None and unknown.headers.get("Set-Cookie") is None
    page = text(client.get("/forgotten-password/sent"))
    assert "If an account uses that address, we have sent a link to it" in page and holder.email not in page
    [message] = outbox.messages()
    assert message.recipient == holder.email and message.subject == "Reset your carepool password" and "for 60 minutes" in message.body
    token = outbox.last_link(holder.email).rsplit("/", 1)[1]
    [row] = session.exec(select(PasswordReset)).all()
    assert row.token_hash == hash_token(token) and token not in repr(row.model_dump())


def test_a_switched_off_account_gets_no_link_but_is_told_whom_to_ask_and_the_page_is_the_same(client, world, outbox, session):
    # Nothing was sent: a person switched off by mistake went round "Forgotten your password?" for ever (tester R7-8).
    holder = world.users["a"][Role.holder]
    holder.is_active_account = False
    session.commit()
    answer = ask(client, holder.email.upper())
    assert (answer.status_code, answer.headers["Location"]) == (302, "/forgotten-password/sent")
    assert session.exec(select(PasswordReset)).all() == []
    [message] = outbox.messages()
    broker = world.users["a"][Role.broker]
    assert message.recipient == holder.email and message.subject == "Your carepool account is switched off"
    assert "its password cannot be reset" in message.body and f"{broker.name} ({broker.email})" in message.body and "http" not in message.body
    page = text(client.get("/forgotten-password/sent"))
    assert "If an account uses that address, we have sent a link to it" in page and "the email says whom to ask" in page


def test_the_link_sets_a_new_password_signs_in_ends_every_other_session_and_lifts_a_lock(app, client, auth, world, outbox, session):
    holder = world.users["a"][Role.holder]
    elsewhere = app.test_client()
    assert elsewhere.post("/sign-in", data={"email": holder.email, "password": f.PASSWORD}).status_code == 302
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/sign-in", data={"email": holder.email, "password": "a wrong guess"})
    assert client.post("/sign-in", data={"email": holder.email, "password": f.PASSWORD}).status_code == 429
    ask(client, holder.email)
    link = outbox.last_link(holder.email)
    page = client.get(link)
    assert page.status_code == 200 and "Choose a new password" in text(page)
    weak = client.post(link, data={"password": "holder-a-pass"})
    assert weak.status_code == 422 and "the first part of your email address, in your password" in text(weak)
    done = client.post(link, data={"password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/dashboard"
    assert "signed out everywhere else" in text(client.get("/dashboard"))
    session.refresh(holder)
    assert verify_password(holder.password_hash, NEW_PASSWORD) and holder.locked_until is None and holder.failed_sign_ins == 0
    # The other device's session has ended; the new password signs in, the old one does not.
    assert elsewhere.get("/dashboard").status_code == 302
    assert app.test_client().post("/sign-in", data={"email": holder.email, "password": f.PASSWORD}).status_code == 401
    assert app.test_client().post("/sign-in", data={"email": holder.email, "password": NEW_PASSWORD}).status_code == 302
    # Single use.
    again = client.post(link, data={"password": "another long new passphrase"})
    assert again.status_code == 410 and LINK_NOT_USABLE in text(again)


def test_a_reset_link_runs_out_after_an_hour(client, world, outbox, later):
    holder = world.users["a"][Role.holder]
    ask(client, holder.email)
    link = outbox.last_link(holder.email)
    later.advance(minutes=59, seconds=59)
    assert client.get(link).status_code == 200
    later.advance(seconds=1)
    assert client.get(link).status_code == 410
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 410


def test_a_reset_link_that_no_longer_works_offers_to_send_a_new_one(client, world, outbox):
    holder = world.users["a"][Role.holder]
    ask(client, holder.email)
    link = outbox.last_link(holder.email)
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 302
    client.post("/sign-out")
    for dead in (link, "/reset-password/never-sent"):
        page = client.get(dead)
        assert page.status_code == 410 and 'href="/forgotten-password">Ask for a new link to reset your password</a>' in text(page)


def test_reset_link_minutes_sets_how_long_a_link_works(db_url, connection, world, outbox, later):
    client = app_in_transaction(db_url, connection, RESET_LINK_MINUTES=5).test_client()
    holder = world.users["a"][Role.holder]
    ask(client, holder.email)
    assert "for 5 minutes" in outbox.messages(holder.email)[-1].body
    later.advance(minutes=5)
    assert client.get(outbox.last_link(holder.email)).status_code == 410


@pytest.mark.parametrize("what_happens", ["signs out", "changes their password", "is deactivated", "uses a newer link"])
def test_a_link_stops_working_once_the_accounts_sessions_have_ended_another_way(app, client, auth, world, outbox, session, what_happens):
    holder = world.users["a"][Role.holder]
    ask(client, holder.email)
    first = outbox.last_link(holder.email)
    if what_happens == "signs out":
        auth.sign_in(holder.email)
        auth.sign_out()
    elif what_happens == "changes their password":
        auth.sign_in(holder.email)
        assert client.post("/account/password", data={"current": f.PASSWORD, "new": NEW_PASSWORD}).status_code == 302
        auth.sign_out()
    elif what_happens == "is deactivated":
        auth.sign_in("admin@example.org")
        assert client.post(f"/admin/users/{holder.id}/active", data={"active": "no"}).status_code == 302
        auth.sign_out()
    else:
        ask(client, holder.email)
        newer = outbox.last_link(holder.email)
        assert newer != first and client.post(newer, data={"password": NEW_PASSWORD}).status_code == 302
        client.post("/sign-out")
    assert client.get(first).status_code == 410
    assert client.post(first, data={"password": "yet another long passphrase"}).status_code == 410


def test_asking_is_limited_per_address_with_a_429_and_retry_after(app, world, outbox):
    app.config["RESET_RATE_LIMIT"] = "2 per minute"
    client = app.test_client()
    # A form sent back (not an email address) sends nothing and does not count against the connection (tester R6-5).
    assert [ask(client, "not an address").status_code for _ in range(3)] == [422, 422, 422]
    assert [ask(client, f"person-{i}@example.org").status_code for i in range(2)] == [302, 302]
    refused = ask(client, world.users["a"][Role.holder].email)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert "too many attempts from your internet connection" in text(refused)
    assert outbox.messages() == []
    assert client.get("/forgotten-password").status_code == 200  # reading the form is not limited
    other = app.test_client()
    assert ask(other, world.users["a"][Role.holder].email, environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 302


def test_asking_is_limited_per_email_address_from_any_number_of_addresses(app, world, outbox):
    app.config["RESET_EMAIL_RATE_LIMIT"] = "2 per hour"
    holder = world.users["a"][Role.holder]
    client = app.test_client()
    answers = [ask(client, holder.email, environ_base={"REMOTE_ADDR": f"192.0.2.{i}"}).status_code for i in range(1, 4)]
    assert answers == [302, 302, 429]
    assert ask(client, f" {holder.email.upper()} ", environ_base={"REMOTE_ADDR": "192.0.2.50"}).status_code == 429  # the same address, typed otherwise
    assert len(outbox.messages(holder.email)) == 2
    # Another address has its own count, and an unknown one counts the same way as a known one.
    assert ask(client, "nobody@example.org", environ_base={"REMOTE_ADDR": "192.0.2.60"}).status_code == 302


def test_a_malformed_email_is_refused_beside_the_field_and_nothing_is_sent(client, outbox, world):
    refused = ask(client, "not an address")
    assert refused.status_code == 422 and "Enter an email address like name@example.org" in text(refused)
    assert outbox.messages() == []


def test_the_system_actor_and_unknown_addresses_never_get_a_link(app, world, outbox, session):
    from brokerage.accounts.system import system_actor
    from brokerage.invitations.resets import request_reset

    job = system_actor(session=session, council_id=world.councils["a"].id)
    with app.app_context():
        for email in (job.email, "", "nobody@example.org"):
            assert request_reset(session=session, email=email) is None
    assert outbox.messages() == [] and session.exec(select(PasswordReset)).all() == []
