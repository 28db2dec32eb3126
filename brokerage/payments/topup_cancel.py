"""Cancelling a top-up nobody has paid: the person (or their representative) asks, Stripe cancels the
PaymentIntent, and the top-up is `cancelled`, so an abandoned payment no longer waits "on its way" for ever.

Stripe refuses to cancel once it is taking the money (a Direct Debit in `processing`, or a payment that
went through); then nothing changes here and the person is told why (`rules.NOT_CANCELLABLE`). A cancel
made on Stripe's side (its `payment_intent.canceled` event) cancels the top-up too. No money moves either
way: nothing was posted while the top-up waited.
"""

from __future__ import annotations

import stripe
from sqlmodel import Session

from brokerage.accounts.models import Role, User
from brokerage.errors import Conflict, NotAllowed
from brokerage.locks import lock_row
from brokerage.payments import rules
from brokerage.payments.models import TopUp
from brokerage.payments.onboarding import StripeUnavailable, stripe_client
from brokerage.payments.rules import TopUpStatus, move_top_up
from brokerage.payments.topup_events import locked_top_up, note_event
from brokerage.payments.topups import get_top_up
from brokerage.types import utcnow

CANCELLABLE = (TopUpStatus.waiting, TopUpStatus.failed)


class TopUpNotCancellable(Conflict):
    """The top-up's money is already being taken (or was), so it cannot be cancelled."""

    title = "This payment cannot be cancelled"


def cancel_top_up(*, session: Session, actor: User, top_up_id: int, config: dict) -> TopUp:
    """Cancel a top-up still waiting or failed, on Stripe first, and record who did it; a second cancel changes nothing.

    Only the holder, or a representative who may act for them on money. Raises NotFound (not theirs, or
    another council's), NotAllowed (staff), TopUpNotCancellable (paid, refunded, or Stripe is taking the
    money), PaymentsNotSetUp, StripeUnavailable.
    """
    found = get_top_up(session=session, actor=actor, top_up_id=top_up_id, undone="the payment was not cancelled")
    if actor.role not in (Role.holder, Role.representative):
        raise NotAllowed("Only the person, or someone they asked to act for them, can cancel their payment.")
    # Locked before asking Stripe, so the payment's own events (which take this lock) wait for the answer.
    top_up = lock_row(session, TopUp, found.id)
    if top_up.status == TopUpStatus.cancelled:
        return top_up
    if top_up.status not in CANCELLABLE:
        raise TopUpNotCancellable(rules.NOT_CANCELLABLE["succeeded"] if top_up.status == TopUpStatus.succeeded
                                  else "This payment was refunded, so there is nothing to cancel.")
    client = stripe_client(config)
    try:
        # The key names the business event: cancelling this top-up (a retry of the same request is the same cancel).
        client.v1.payment_intents.cancel(top_up.payment_intent_id, options={"idempotency_key": f"top-up:{top_up.id}:cancel"})
    except stripe.InvalidRequestError:
        # Stripe refuses a cancel once it is taking the money: say where the payment is, change nothing.
        status = _stripe_status(client, top_up.payment_intent_id)
        if status != "canceled":
            raise TopUpNotCancellable(rules.NOT_CANCELLABLE.get(status, rules.NOT_CANCELLABLE_OTHERWISE)) from None
    except stripe.StripeError as error:
        raise StripeUnavailable(f"Stripe could not cancel the payment: {error.user_message or 'no answer'}. Nothing was changed; try again.") from None
    top_up.status = move_top_up(top_up.status, TopUpStatus.cancelled)
    top_up.cancelled_by_id, top_up.cancelled_at = actor.id, utcnow()
    top_up.updated_at = top_up.cancelled_at
    return top_up


def _stripe_status(client: stripe.StripeClient, payment_intent_id: str) -> str:
    try:
        return client.v1.payment_intents.retrieve(payment_intent_id).status or ""
    except stripe.StripeError as error:
        raise StripeUnavailable(f"Stripe could not show the payment: {error.user_message or 'no answer'}. Nothing was changed; try again.") from None


def on_payment_canceled(*, session: Session, event: stripe.Event) -> str:
    """Cancel a waiting or failed top-up whose PaymentIntent was cancelled on Stripe's side; nothing is posted."""
    intent = event.data.object.to_dict()
    top_up = locked_top_up(session, intent.get("id"))
    if top_up is None:
        return "not a top-up made here: no effect"
    if top_up.status not in CANCELLABLE:
        return f"top-up {top_up.id} is {top_up.status.value}: no effect"
    top_up.status = move_top_up(top_up.status, TopUpStatus.cancelled)
    top_up.cancelled_at = utcnow()
    note_event(top_up, event.id)
    return f"top-up {top_up.id}: cancelled on Stripe"
