"""Pure rules of payments: the statuses of top-ups, connected-account payouts and payment set-up, and
what a Stripe event is about. No Flask, no SQL."""

from __future__ import annotations

import enum
from typing import Any, Mapping

from brokerage.errors import BrokerageError

# A top-up is at least £1 and at most £5,000 (a card payment larger than that is not what a pool share needs).
TOP_UP_MIN_PENCE = 100
TOP_UP_MAX_PENCE = 500_000
TOP_UP_MESSAGE = "Enter an amount from £1 to £5,000"
METHODS = {"card": "Debit or credit card", "bacs_debit": "Direct Debit from a UK bank account"}
# How a payment was made, once Stripe said: short words for the page that once said only what could be chosen.
PAID_WITH = {"card": "Card", "bacs_debit": "Direct Debit"}


def method_used(obj: Mapping[str, Any] | None) -> str | None:
    """Return how Stripe says a PaymentIntent or charge was paid ("card", "bacs_debit"), or None when it does not say.

    A charge names it (`payment_method_details.type`); a PaymentIntent through its charge (`latest_charge`, or
    `charges.data` in older API versions), its expanded payment method, or the only type it allowed.
    """
    if not isinstance(obj, Mapping):
        return None
    charges = [obj] if obj.get("object") == "charge" else []
    latest = obj.get("latest_charge")
    charges += [latest] if isinstance(latest, Mapping) else []
    listed = obj.get("charges")
    charges += [c for c in (listed.get("data") or []) if isinstance(c, Mapping)] if isinstance(listed, Mapping) else []
    for charge in charges:
        details = charge.get("payment_method_details")
        if isinstance(details, Mapping) and details.get("type") in METHODS:
            return details["type"]
    method = obj.get("payment_method")
    if isinstance(method, Mapping) and method.get("type") in METHODS:
        return method["type"]
    allowed = obj.get("payment_method_types")
    if isinstance(allowed, list) and len(allowed) == 1 and allowed[0] in METHODS:
        return allowed[0]
    return None


class BadPaymentMove(BrokerageError):
    """A top-up, payout, payment run or payment line cannot move from its status to that one."""

    status = 409


class TopUpStatus(str, enum.Enum):
    """Where a top-up is: waiting for the payment, paid (money in the pool share), failed, refunded in full, or
    cancelled before anyone paid it (by the person, or on Stripe)."""

    waiting = "waiting"
    succeeded = "succeeded"
    failed = "failed"
    refunded = "refunded"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return TOP_UP_LABELS[self.value]


# A paid top-up whose money went to the holder's wallet (paid after notice began), as the statement says.
IN_WALLET_LABEL = "Kept in the wallet"
TOP_UP_LABELS = {"waiting": "Waiting for the payment", "succeeded": "Added to the pool", "failed": "Payment failed", "refunded": "Refunded",
                 "cancelled": "Cancelled"}

# A failed payment can be tried again on the same PaymentIntent; money refunded in full is final. A payment nobody
# has paid can be cancelled. Stripe never takes a cancelled PaymentIntent's money; should it ever say it did, the
# money is real, so cancelled can still become succeeded (and the money is posted), never the other way.
TOP_UP_MOVES: dict[str, set[str]] = {
    "waiting": {"succeeded", "failed", "cancelled"},
    "failed": {"succeeded", "cancelled"},
    "succeeded": {"refunded"},
    "refunded": set(),
    "cancelled": {"succeeded"},
}
# Stripe refuses to cancel a PaymentIntent once it is taking the money; what to tell the person, by Stripe's status.
NOT_CANCELLABLE = {
    "processing": "Stripe is already taking this payment, so it can no longer be cancelled (a Direct Debit takes about 4 working days). "
                  "If it goes through, the money is added to the pool; ask your broker if you need it back.",
    "succeeded": "This payment has already gone through, so it can no longer be cancelled. The money is added to the pool as soon as "
                 "Stripe tells us; ask your broker if you need it back.",
}
NOT_CANCELLABLE_OTHERWISE = "Stripe would not cancel this payment just now. Nothing was changed. Reload the page to see where it is."


def move_top_up(current: str | enum.Enum, target: str | enum.Enum) -> TopUpStatus:
    """Return the new top-up status, or raise BadPaymentMove."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in TOP_UP_MOVES.get(current, set()):
        raise BadPaymentMove(f"A top-up that is {current} cannot become {target}.")
    return TopUpStatus(target)


class PayoutStatus(str, enum.Enum):
    """A connected account's payout to the provider's bank, as Stripe last told it."""

    paid = "paid"
    failed = "failed"


# Stripe may report a paid payout as failed later (the bank returned it); a failed one never becomes paid.
PAYOUT_MOVES: dict[str, set[str]] = {"paid": {"failed"}, "failed": set()}


def move_payout(current: str | enum.Enum, target: str | enum.Enum) -> PayoutStatus:
    """Return the new payout status, or raise BadPaymentMove."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in PAYOUT_MOVES.get(current, set()):
        raise BadPaymentMove(f"A payout that is {current} cannot become {target}.")
    return PayoutStatus(target)


class SetupStatus(str, enum.Enum):
    """How far a provider's Stripe connected account is set up (stored in provider.stripe_status)."""

    none = "none"
    details_needed = "details_needed"
    pending = "pending"
    enabled = "enabled"
    paused = "paused"


def setup_status(account: Mapping[str, Any], previous: str) -> SetupStatus:
    """Return the set-up status an `account` object from Stripe shows, given the provider's previous status."""
    requirements = account.get("requirements") or {}
    if account.get("payouts_enabled"):
        return SetupStatus.enabled
    if previous in (SetupStatus.enabled.value, SetupStatus.paused.value):
        return SetupStatus.paused
    if not account.get("details_submitted") or requirements.get("currently_due"):
        return SetupStatus.details_needed
    return SetupStatus.pending


def event_subject(event: Mapping[str, Any]) -> str | None:
    """Return the id of what an event is about: a charge's PaymentIntent, else the object itself."""
    obj = (event.get("data") or {}).get("object") or {}
    if obj.get("object") == "charge" and obj.get("payment_intent"):
        return str(obj["payment_intent"])
    return str(obj["id"]) if obj.get("id") else None


def council_in_metadata(event: Mapping[str, Any]) -> int | None:
    """Return the council id our own objects carry in metadata (`council`), or None."""
    obj = (event.get("data") or {}).get("object") or {}
    value = (obj.get("metadata") or {}).get("council")
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < int(value) < 2**31:
        return int(value)
    return None


def refund_split(refunded: int, available: int) -> tuple[int, int]:
    """Return (taken back from the pool share, shortfall): never more than the share holds."""
    taken = max(0, min(refunded, available))
    return taken, refunded - taken
