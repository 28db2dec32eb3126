"""Stripe webhooks: verify and store each event quickly, then give it its effect once, in a job.

`receive` checks the signature with the SDK (tolerance 300 s, Stripe's default) and stores the event
under its unique id (a second delivery, even a concurrent one, stores nothing). `process_event` takes
the stored row's lock, and does nothing if the event was already processed; otherwise it calls the
handler registered for the type (`payments.events.HANDLERS`) and records the outcome. A handler that
needs an earlier event raises `Deferred`; the event is tried again once another event about the same
object has been processed.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import stripe
from flask import Flask
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from brokerage import clock
from brokerage.db import session_scope
from brokerage.errors import BrokerageError
from brokerage.payments import rules
from brokerage.payments.events import HANDLERS, Deferred
from brokerage.payments.models import StripeEvent
from brokerage.providers.models import Provider

log = logging.getLogger(__name__)
NO_EFFECT = "no effect"
MAX_RETRIES_OF_WAITING = 20


class WebhookRefused(BrokerageError):
    """A delivery that is not a verified Stripe event (bad or old signature, bad JSON, no secret set)."""

    status = 400


def _verified(payload: bytes, signature: str | None, secret: str | None) -> dict:
    if not secret:
        log.error("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set, so no event can be verified.")
        raise WebhookRefused("This server has no Stripe webhook secret, so it cannot accept events.")
    try:
        # The SDK's own check, as Webhook.construct_event makes it: HMAC-SHA256 of "t.payload", and t within 300 s.
        stripe.WebhookSignature.verify_header(payload.decode("utf-8", "replace"), signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
    except stripe.SignatureVerificationError as error:
        raise WebhookRefused(f"The Stripe signature is not valid: {error.user_message or error}") from None
    try:
        event = json.loads(payload)
    except ValueError:
        raise WebhookRefused("The body is not a Stripe event in JSON.") from None
    if not _well_formed(event):
        raise WebhookRefused("The body is not a Stripe event: it needs an id, a type, a time and data.")
    return event


def _council_of(session: Session, event: dict) -> int | None:
    council_id = rules.council_in_metadata(event)
    if council_id is not None:
        return council_id
    obj = event["data"].get("object") or {}
    account = event.get("account") or (obj.get("id") if obj.get("object") == "account" else None)
    if not account:
        return None
    return session.exec(select(Provider.council_id).where(Provider.stripe_account_id == account)).first()


def _well_formed(event) -> bool:
    return (isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"].startswith("evt_")
            and isinstance(event.get("type"), str) and isinstance(event.get("created"), int)
            and isinstance(event.get("data"), dict) and len(event["id"]) <= 255 and len(event["type"]) <= 100)


def store_event(*, session: Session, event: dict) -> StripeEvent:
    """Store a Stripe event once (a second copy, even a concurrent one, stores nothing); return the stored row."""
    values = dict(
        event_id=event["id"], type=event["type"], council_id=_council_of(session, event),
        subject_id=rules.event_subject(event), account=event.get("account") if isinstance(event.get("account"), str) else None,
        stripe_created_at=datetime.fromtimestamp(event["created"], timezone.utc), payload=event,
        received_at=clock.now(), processed_at=None, outcome="",
    )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # A second delivery of the same event, even at the same moment, inserts nothing: the unique event id decides.
    session.execute(insert(StripeEvent).values(**values).on_conflict_do_nothing(index_elements=["event_id"]))
    return session.exec(select(StripeEvent).where(StripeEvent.event_id == event["id"])).one()


def receive(*, session: Session, payload: bytes, signature: str | None, secret: str | None) -> StripeEvent:
    """Verify a delivery and store its event once; return the stored row. Raises WebhookRefused (400)."""
    return store_event(session=session, event=_verified(payload, signature, secret))


def catch_up(*, session: Session, client: stripe.StripeClient, since: datetime | None = None) -> list[str]:
    """Fetch the events Stripe holds (since a time, else all it keeps: 30 days) and store those never delivered.

    Stripe's own advice for missed webhooks. The events come from Stripe's API over our secret key, so they
    need no signature. Returns the ids newly stored, oldest first, for `process_event`.
    """
    params: dict = {"limit": 100}
    if since is not None:
        params["created"] = {"gte": int(since.timestamp())}
    fetched = [event.to_dict() for event in client.v1.events.list(params=params).auto_paging_iter()]
    ids = [e.get("id") for e in fetched]
    known: set[str] = set()
    for start in range(0, len(ids), 500):  # 30 days of events can be thousands: keep each IN (...) small
        known.update(session.exec(select(StripeEvent.event_id).where(StripeEvent.event_id.in_(ids[start:start + 500]))))
    new = sorted((e for e in fetched if _well_formed(e) and e["id"] not in known), key=lambda e: (e["created"], e["id"]))
    for event in new:
        store_event(session=session, event=event)
    return [event["id"] for event in new]


def _lock_event(session: Session, event_id: str) -> StripeEvent | None:
    statement = (select(StripeEvent).where(StripeEvent.event_id == event_id).with_for_update()
                 .execution_options(populate_existing=True))
    return session.exec(statement).first()


def _run_handler(session: Session, row: StripeEvent) -> bool:
    """Give one locked, unprocessed event its effect; return whether it is now processed."""
    handler = HANDLERS.get(row.type)
    if handler is None:
        row.outcome, row.processed_at = NO_EFFECT, clock.now()
        return True
    event = stripe.Event.construct_from(row.payload, None)
    try:
        with session.begin_nested():
            outcome = handler(session=session, event=event)
    except Deferred as waiting:
        row.outcome = f"waiting: {waiting}"
        return False
    except BrokerageError as refused:
        # A domain refusal is the event's final outcome (shown to staff); anything else fails the job to be run again.
        outcome = f"refused: {refused.message}"
    row.outcome, row.processed_at = (outcome or "done")[:2000], clock.now()
    return True


def process_event(*, session: Session, event_id: str) -> str:
    """Give a stored event its effect unless it already had it; return its outcome in words."""
    row = _lock_event(session, event_id)
    if row is None:
        return "unknown event"
    if row.processed_at is not None:
        return row.outcome
    if not _run_handler(session, row):
        return row.outcome
    outcome = row.outcome
    if row.subject_id:
        _retry_waiting(session, row.subject_id, done=row.event_id)
    return outcome


def _retry_waiting(session: Session, subject_id: str, *, done: str) -> None:
    """Process the events about the same object that waited for an earlier one, oldest first."""
    for _ in range(MAX_RETRIES_OF_WAITING):
        waiting = session.exec(
            select(StripeEvent.event_id).where(StripeEvent.subject_id == subject_id, StripeEvent.processed_at.is_(None),
                                               StripeEvent.event_id != done)
            .order_by(StripeEvent.stripe_created_at, StripeEvent.id)
        ).all()
        progressed = False
        for event_id in waiting:
            row = _lock_event(session, event_id)
            if row is not None and row.processed_at is None and _run_handler(session, row):
                progressed = True
        if not progressed:
            return


def process_event_job(event_id: str, app: Flask | None = None) -> str:
    """The job: process one stored event in its own transaction; return its outcome."""
    with session_scope(app) as session:
        return process_event(session=session, event_id=event_id)
