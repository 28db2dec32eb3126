"""The outbox: with no MAIL_SERVER, mail is kept for administrators to read, newest first, with its links ready to follow."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.mail.models import OutboxMessage
from brokerage.types import utcnow
from tests.conftest import app_in_transaction
from tests.factories import PASSWORD


def text(response) -> str:
    return response.get_data(as_text=True)


def keep(session, *, to="amina@example.org", subject="Hello", body="Hello", minutes_ago=0) -> OutboxMessage:
    message = OutboxMessage(recipient=to, subject=subject, body=body, created_at=utcnow() - timedelta(minutes=minutes_ago))
    session.add(message)
    session.commit()
    return message


def test_an_administrator_reads_the_outbox_newest_first_and_follows_a_link_in_a_message(client, auth, world, session):
    keep(session, subject="Older", minutes_ago=10)
    link = "http://localhost/invitations/" + "a" * 43
    newest = keep(session, subject="Make your account", body=f"Hello Amina,\n\nOpen this link:\n\n{link}\n\nThanks <b>not bold</b>.")
    auth.sign_in("admin@example.org")
    listing = text(client.get("/admin/outbox/"))
    assert listing.index("Make your account") < listing.index("Older")
    assert f'href="/admin/outbox/{newest.id}"' in listing and "is not set up to send email" in listing
    page = text(client.get(f"/admin/outbox/{newest.id}"))
    assert f'<a class="govuk-link" href="{link}">{link}</a>' in page
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page and "<b>not bold</b>" not in page
    assert client.get("/admin/outbox/987654321").status_code == 404


def test_nobody_but_an_administrator_reads_the_outbox(client, auth, world, session):
    message = keep(session)
    for role in (Role.broker, Role.council_officer, Role.holder, Role.representative, Role.provider):
        auth.sign_in(world.users["a"][role].email)
        assert client.get("/admin/outbox/").status_code == 403
        assert client.get(f"/admin/outbox/{message.id}", headers={"Accept": "application/json"}).status_code == 403
        auth.sign_out()
    assert client.get("/admin/outbox/").status_code == 302


def test_the_outbox_comes_in_pages_of_fifty(client, auth, world, session):
    for minute in range(51):
        keep(session, subject=f"Message {minute:02d}", minutes_ago=minute)
    auth.sign_in("admin@example.org")
    first = text(client.get("/admin/outbox/"))
    assert "Message 00" in first and "Message 49" in first and "Message 50" not in first and "Older messages" in first
    second = text(client.get("/admin/outbox/?page=2"))
    assert "Message 50" in second and "Message 49" not in second and "Newer messages" in second


def test_with_a_mail_server_the_outbox_page_says_mail_is_sent_instead(db_url, connection, world):
    app = app_in_transaction(db_url, connection, MAIL_SERVER="127.0.0.1", MAIL_DEFAULT_SENDER="carepool@council.example")
    client = app.test_client()
    client.post("/sign-in", data={"email": "admin@example.org", "password": PASSWORD})
    assert "Mail is being sent by email now" in text(client.get("/admin/outbox/"))


def test_a_refused_request_keeps_nothing_in_the_outbox(client, auth, world, session):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.post(f"/holders/{world.records['a']['holder'].id}/invite", data={"email": "x@example.org"}).status_code == 409
    assert session.exec(select(OutboxMessage)).all() == []
