"""Mail by SMTP, to a real SMTP server on 127.0.0.1 (aiosmtpd): the message received, and the link in it followed."""

from __future__ import annotations

import logging

from sqlmodel import select

from brokerage.accounts.models import Role, User
from brokerage.invitations.models import Invitation
from brokerage.mail.models import OutboxMessage
from tests.conftest import app_in_transaction
from tests.invitations.conftest import NEW_PASSWORD, _free_port, link_in, path_of

EMAIL = "neighbour@example.org"


def sign_in(client, email, password):
    from tests.factories import PASSWORD

    return client.post("/sign-in", data={"email": email, "password": password or PASSWORD})


def test_an_invitation_goes_by_smtp_and_the_holder_follows_the_link_in_the_message_received(smtp_app, smtp_server, world, session):
    _, received = smtp_server
    client = smtp_app.test_client()
    holder = world.records["a"]["other_holder"]
    sign_in(client, world.users["a"][Role.broker].email, None)
    assert client.post(f"/holders/{holder.id}/invite", data={"email": EMAIL}).status_code == 302
    message = received.only(EMAIL)
    assert message["From"] == "carepool <carepool@council.example>" and message["Subject"] == "Council A: make your carepool account"
    assert received.envelopes[0] == ("carepool@council.example", [EMAIL])
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    link = link_in(body)
    assert link.startswith("https://carepool.council.example/invitations/")  # PUBLIC_URL, not the address the request came to
    assert f"Hello {holder.name}" in body and "works once, for 7 days" in body
    assert session.exec(select(OutboxMessage)).all() == []  # nothing is kept when mail is sent
    client.post("/sign-out")
    assert client.post(path_of(link), data={"password": NEW_PASSWORD}).status_code == 302
    assert holder.name in client.get("/dashboard").get_data(as_text=True)
    assert session.exec(select(User).where(User.email == EMAIL)).one().holder_id == holder.id


def test_a_reset_link_goes_by_smtp_only_to_an_account_and_works_from_the_message(smtp_app, smtp_server, world):
    _, received = smtp_server
    client = smtp_app.test_client()
    holder = world.users["a"][Role.holder]
    assert client.post("/forgotten-password", data={"email": "nobody@example.org"}).status_code == 302
    assert client.post("/forgotten-password", data={"email": holder.email}).status_code == 302
    assert [m["To"] for m in received.messages] == [holder.email]
    link = link_in(received.only(holder.email).get_content())
    assert client.post(path_of(link), data={"password": NEW_PASSWORD}).status_code == 302
    assert sign_in(smtp_app.test_client(), holder.email, NEW_PASSWORD).status_code == 302
    assert client.post(path_of(link), data={"password": "another long passphrase"}).status_code == 410


def test_a_refused_invitation_sends_nothing(smtp_app, smtp_server, world):
    _, received = smtp_server
    client = smtp_app.test_client()
    sign_in(client, world.users["a"][Role.broker].email, None)
    assert client.post(f"/holders/{world.records['a']['holder'].id}/invite", data={"email": EMAIL}).status_code == 409
    assert client.post(f"/holders/{world.records['a']['other_holder'].id}/invite", data={"email": "bad"}).status_code == 422
    assert received.messages == []


def test_a_mail_server_that_cannot_be_reached_is_logged_and_the_page_still_answers(db_url, connection, world, session, caplog):
    app = app_in_transaction(db_url, connection, MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port(), MAIL_DEFAULT_SENDER="carepool@council.example")
    client = app.test_client()
    sign_in(client, world.users["a"][Role.broker].email, None)
    with caplog.at_level(logging.ERROR):
        response = client.post(f"/holders/{world.records['a']['other_holder'].id}/invite", data={"email": EMAIL})
    assert response.status_code == 302
    assert any("mail.send" in record.getMessage() for record in caplog.records)
    # The invitation is kept, so the broker can send it again once mail works.
    assert session.exec(select(Invitation)).one().email == EMAIL


def test_inside_outbox_only_mail_is_kept_even_with_a_mail_server(smtp_app, smtp_server, session):
    from brokerage.mail import services as mail
    from brokerage.mail.rules import Message

    _, received = smtp_server
    with smtp_app.app_context(), mail.outbox_only():
        mail.send(session=session, message=Message(to="made-up@example.org", subject="Demo", body="Hello"))
    assert received.messages == []
    assert [m.recipient for m in session.exec(select(OutboxMessage))] == ["made-up@example.org"]
