"""Reading the mail the app sent: the outbox in the test's transaction, or a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import re
import socket
import threading
from datetime import timedelta
from email.policy import default as default_policy
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from brokerage import clock
from brokerage.mail.models import OutboxMessage
from tests.conftest import app_in_transaction

LINK = re.compile(r"https?://\S+")
NEW_PASSWORD = "kestrel lantern orchard 42"


def path_of(link: str) -> str:
    """Return the path of an absolute link, for the test client."""
    return urlsplit(link).path


def link_in(body: str) -> str:
    """Return the one web address in an email's body."""
    links = LINK.findall(body)
    assert len(links) == 1, body
    return links[0]


class Outbox:
    """The messages kept in the outbox, as the test's transaction sees them."""

    def __init__(self, session):
        self.session = session

    def messages(self, to: str | None = None) -> list[OutboxMessage]:
        """Return the kept messages, oldest first (to one address, when given)."""
        self.session.expire_all()
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if to is not None:
            query = query.where(OutboxMessage.recipient == to)
        return list(self.session.exec(query))

    def last_link(self, to: str) -> str:
        """Return the path of the link in the newest message to this address."""
        messages = self.messages(to)
        assert messages, f"no message to {to} in the outbox"
        return path_of(link_in(messages[-1].body))


@pytest.fixture()
def outbox(session):
    """Return the outbox the app writes to when no MAIL_SERVER is set."""
    return Outbox(session)


class Clock:
    """brokerage.clock moved on by the test instead of waiting."""

    def __init__(self, monkeypatch):
        self.now = clock.now()
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def advance(self, **delta) -> None:
        """Move the clock on."""
        self.now += timedelta(**delta)


@pytest.fixture()
def later(monkeypatch):
    """Return a clock that the tests move forward (every expiry reads brokerage.clock)."""
    return Clock(monkeypatch)


# --- a real SMTP server -----------------------------------------------------------------------------


class Received:
    """What the SMTP server received: each message parsed, in order."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def only(self, to: str) -> email.message.EmailMessage:
        """Return the one message received for this address."""
        found = [m for m in self.messages if m["To"] == to]
        assert len(found) == 1, [m["To"] for m in self.messages]
        return found[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def smtp_server():
    """Run aiosmtpd's SMTP server on 127.0.0.1 and a free port for the test; yield (port, what it received)."""
    from aiosmtpd.controller import Controller

    received = Received()
    port = _free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


@pytest.fixture()
def smtp_app(db_url, connection, smtp_server):
    """Return an app that sends its mail to the test's SMTP server (and keeps no outbox)."""
    port, _ = smtp_server
    return app_in_transaction(db_url, connection, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="carepool <carepool@council.example>",
                              PUBLIC_URL="https://carepool.council.example")
