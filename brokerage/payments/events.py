"""Which code gives a Stripe event its effect: a registry from event type to handler.

The webhook stores each event and a job hands it to the handler registered for its type. Handlers
live with the records they change (onboarding, top-ups, payment runs) and are registered here by
`wiring.connect_domains()`; a type with no handler is stored and marked as having no effect.
"""

from __future__ import annotations

from typing import Any, Callable

# handler(session=, event=) where `event` is the stored event's payload as a `stripe.Event`; it returns the
# outcome in words ("top-up 12 added to the pool"), or raises `Deferred` when an earlier event it needs
# (a `payment_intent.succeeded` before its `charge.refunded`) has not been processed yet.
HANDLERS: dict[str, Callable[..., Any]] = {}


class Deferred(Exception):
    """The event needs another event processed first: it is kept unprocessed and tried again after any
    event about the same object (the same `subject_id`: a PaymentIntent, a transfer) is processed."""


def register(event_type: str, handler: Callable[..., Any]) -> None:
    """Give an event type its handler; another handler for a registered type is refused."""
    if HANDLERS.get(event_type, handler) is not handler:
        raise ValueError(f"Stripe event {event_type!r} already has a handler")
    HANDLERS[event_type] = handler
