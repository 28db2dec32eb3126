"""Sending mail, behind one small interface: by SMTP when MAIL_SERVER is set, into the outbox otherwise.

Services call `send(session=..., message=...)` and `link(endpoint, ...)`; they never talk to Flask-Mailman.
With MAIL_SERVER set a message leaves only once the request's changes are committed (the "mail.send"
job: RQ on Redis when REDIS_URL is set, else at once after the commit), so a refused request sends
nothing. Without it (development, tests, the demo) the message is written to the outbox in the
request's own transaction, for an administrator to read at /admin/outbox.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator

from flask import current_app, has_request_context, request
from flask_mailman import EmailMessage
from sqlmodel import Session, select

from brokerage import jobs
from brokerage.errors import NotAllowed, NotFound
from brokerage.mail.models import OutboxMessage
from brokerage.mail.rules import Message, one_line
from brokerage.types import Role

SEND_JOB = "mail.send"
PER_PAGE = 50
# Where links point outside a request when PUBLIC_URL is not set (development only: production requires it).
DEVELOPMENT_URL = "http://127.0.0.1:5000"

_outbox_only: ContextVar[bool] = ContextVar("mail_outbox_only", default=False)


@contextmanager
def outbox_only() -> Iterator[None]:
    """Keep every message sent inside this block in the outbox, whatever MAIL_SERVER says (the demo's made-up addresses)."""
    token = _outbox_only.set(True)
    try:
        yield
    finally:
        _outbox_only.reset(token)


def uses_outbox() -> bool:
    """Tell whether mail is kept in the outbox rather than sent."""
    return _outbox_only.get() or not current_app.config.get("MAIL_SERVER")


def send(*, session: Session, message: Message) -> None:
    """Send an email after the request commits, or keep it in the outbox as part of the request's changes."""
    subject = one_line(message.subject)
    if uses_outbox():
        session.add(OutboxMessage(recipient=message.to, subject=subject, body=message.body))
        session.flush()
        return
    jobs.enqueue_after_commit(SEND_JOB, to=message.to, subject=subject, body=message.body)


def deliver(*, to: str, subject: str, body: str) -> None:
    """Send one plain-text email now through the SMTP server (the "mail.send" job)."""
    EmailMessage(subject=subject, body=body, from_email=current_app.config["MAIL_DEFAULT_SENDER"], to=[to]).send()


def link(endpoint: str, **values) -> str:
    """Return the absolute address of a page, for an email: under PUBLIC_URL, or outside production the address this request came to."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        # Production refuses to start without PUBLIC_URL, so a forged Host header never chooses where a link points.
        base = request.host_url if has_request_context() else DEVELOPMENT_URL
    return base.rstrip("/") + path


# --- the outbox page, for administrators ----------------------------------------------------------


@dataclass
class OutboxPage:
    """A page of the outbox, newest first, and whether mail is being sent instead."""

    messages: list[OutboxMessage]
    page: int
    has_next: bool
    sending: bool


def outbox_page(*, session: Session, actor, page: int = 1) -> OutboxPage:
    """Return a page of the outbox, newest first (administrators only)."""
    if actor.role != Role.admin:
        raise NotAllowed("Only administrators can read the outbox.")
    rows = list(session.exec(
        select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)
    ))
    return OutboxPage(messages=rows[:PER_PAGE], page=page, has_next=len(rows) > PER_PAGE, sending=not uses_outbox())


def outbox_message(*, session: Session, actor, message_id: int) -> OutboxMessage:
    """Return one message of the outbox (administrators only)."""
    if actor.role != Role.admin:
        raise NotAllowed("Only administrators can read the outbox.")
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound()
    return message
