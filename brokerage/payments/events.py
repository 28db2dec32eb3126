"""Which code gives a Stripe event its effect: a registry from event type to handler.

The webhook stores each event and a job hands it to the handler registered for its type. Handlers
live with the records they change (onboarding, top-ups, payment runs) and are registered here by
`wiring.connect_domains()`; a type with no handler is stored and marked as having no effect.
"""

from __future__ import annotations

from typing import Any, Callable

# handler(session=, event=) where `event` is the stored event's payload as a `stripe.Event`.
HANDLERS: dict[str, Callable[..., Any]] = {}


def register(event_type: str, handler: Callable[..., Any]) -> None:
    """Give an event type its handler; another handler for a registered type is refused."""
    if HANDLERS.get(event_type, handler) is not handler:
        raise ValueError(f"Stripe event {event_type!r} already has a handler")
    HANDLERS[event_type] = handler
