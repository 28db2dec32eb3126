"""Pure rules of payment runs: the statuses of a run and of its lines, each with one transition function,
and the small decisions the run makes (which Stripe failures are worth another try, when a run is finished).

No Flask, no SQL: tested without a database.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Iterable

from brokerage.formatting import long_date, plural
from brokerage.payments.rules import BadPaymentMove  # one error for every payment status move


class RunStatus(str, enum.Enum):
    """Where a payment run is: prepared by a broker, released by an officer, paid by a job."""

    prepared = "prepared"
    released = "released"
    paying = "paying"
    paid = "paid"
    paid_with_failures = "paid_with_failures"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return RUN_WORDS[self.value]


RUN_WORDS = {
    "prepared": "Waiting for an officer to release it",
    "released": "Released, waiting to start paying",
    "paying": "Paying",
    "paid": "Paid",
    "paid_with_failures": "Paid, but some providers were not paid",
    "cancelled": "Cancelled",
}


def run_label(status: str | enum.Enum, *, waiting_for_stripe: int = 0) -> str:
    """Return a run's status in plain English, saying how many of its payments Stripe has still to confirm.

    A run is paid once every transfer is made, before Stripe confirms each one: "Paid" beside lines
    that say "Sent, waiting for Stripe to confirm" would say two things at once, so until Stripe has
    confirmed them all the run says "Sent" and how many it waits for.
    """
    value = getattr(status, "value", status)
    if not waiting_for_stripe or value not in ("paid", "paid_with_failures"):
        return RUN_WORDS[value]
    waiting = f"{plural(waiting_for_stripe, 'payment')} waiting for Stripe to confirm"
    if value == "paid":
        return f"Sent, {waiting}"
    return f"Sent, but some providers were not paid; {waiting}"


# A paid run becomes "paid with failures" when Stripe reverses one of its transfers later.
RUN_MOVES: dict[str, set[str]] = {
    "prepared": {"released", "cancelled"},
    "released": {"paying"},
    "paying": {"paid", "paid_with_failures"},
    "paid": {"paid_with_failures"},
    "paid_with_failures": set(),
    "cancelled": set(),
}

# Runs that still hold (or may still move) providers' payable money: only one per council at a time.
OPEN_RUN = ("prepared", "released", "paying")
# Why a run waiting for release is cancelled: said by whoever cancels it, kept on the run and shown on its page.
CANCEL_REASON_MAX = 500


def move_payment_run(current: str | enum.Enum, target: str | enum.Enum) -> RunStatus:
    """Return the run's new status, or raise BadPaymentMove."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in RUN_MOVES.get(current, set()):
        raise BadPaymentMove(f"A payment run that is {current} cannot become {target}.")
    return RunStatus(target)


class LineStatus(str, enum.Enum):
    """Where one provider's payment in a run is.

    planned → sending (its payout entry is posted; Stripe is being asked) → sent (Stripe made the
    transfer) → paid (Stripe's transfer.created event confirmed it). A refused transfer is failed; a
    transfer reversed by Stripe is reversed; a provider whose vetting lapsed before release is held.
    A line whose transfer may or may not exist, and that sending again cannot settle (Stripe refused a
    repeat of a request that may have worked, or its idempotency key was used with other parameters), is
    unsure: its money stays out of payable until an officer checks with Stripe (`line_checks.py`).
    """

    planned = "planned"
    sending = "sending"
    sent = "sent"
    paid = "paid"
    failed = "failed"
    reversed = "reversed"
    held = "held"
    unsure = "unsure"

    @property
    def label(self) -> str:
        """Return the status in plain English."""
        return LINE_WORDS[self.value]


LINE_WORDS = {
    "planned": "To be paid",
    "sending": "Being sent to Stripe",
    "sent": "Sent, waiting for Stripe to confirm",
    "paid": "Paid",
    "failed": "Not paid: Stripe refused the transfer",
    "reversed": "Paid, then taken back by Stripe",
    "held": "Held: not paid",
    "unsure": "Not known whether Stripe paid it: check with Stripe",
}

# `sending` may go straight to paid or reversed: Stripe's event can arrive before the job has
# recorded the transfer it made. An unsure line becomes sent (an officer found its transfer), paid or
# reversed (Stripe's event about its transfer), or failed (an officer found no transfer at Stripe).
LINE_MOVES: dict[str, set[str]] = {
    "planned": {"sending", "held"},
    "sending": {"sent", "paid", "failed", "reversed", "unsure"},
    "unsure": {"sent", "paid", "failed", "reversed"},
    "sent": {"paid", "reversed"},
    "paid": {"reversed"},
    "failed": set(),
    "reversed": set(),
    "held": set(),
}

# Lines whose transfer may still be made, or may exist and nobody knows yet: the run is not finished.
UNFINISHED_LINE = ("planned", "sending", "unsure")
# Lines whose money left `payable` and has not come back.
MONEY_OUT = ("sending", "sent", "paid", "unsure")
# Lines an officer may check with Stripe (when no job is paying the run).
CHECKABLE_LINE = ("sending", "unsure")
NOT_PAID = ("failed", "reversed", "held")


def week_payment_words(line_status: str | enum.Enum, run_status: str | enum.Enum, sent_at: datetime | None) -> str | None:
    """Return where an approved week's money is in a payment that pays it, in words for its provider and staff, or None
    when this payment no longer pays it (not paid, or its run was cancelled: the week goes to the next run)."""
    line, run = getattr(line_status, "value", line_status), getattr(run_status, "value", run_status)
    if line == "planned":
        if run == "prepared":
            return "In a payment run waiting for a council officer to release it"
        return "In a payment run a council officer has released, waiting to be sent" if run in OPEN_RUN else None
    if line == "sending":
        return "The payment is being sent"
    if line == "unsure":
        return "The payment is being checked with Stripe"
    if line == "sent":
        return f"Sent on {long_date(sent_at)}: waiting for Stripe to confirm"
    if line == "paid":
        return f"Paid on {long_date(sent_at)}"
    return None


# An approved week whose last payment was not made (refused, taken back, or held) waits for the next run again.
NEXT_RUN_AFTER_FAILURE = "Waiting for the next payment run: the last payment did not go through"


def move_payment_line(current: str | enum.Enum, target: str | enum.Enum) -> LineStatus:
    """Return the line's new status, or raise BadPaymentMove."""
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in LINE_MOVES.get(current, set()):
        raise BadPaymentMove(f"A payment line that is {current} cannot become {target}.")
    return LineStatus(target)


def stripe_value(obj, name: str, default=None):
    """Return a field of a Stripe object (or of a dict), or `default` when it is missing or null.

    StripeObjects are not dicts in stripe 16 (no `.get`); both answer `obj[name]`.
    """
    try:
        value = obj[name]
    except (KeyError, TypeError, AttributeError):
        return default
    return default if value is None else value


def run_outcome(line_statuses: Iterable[str | enum.Enum]) -> RunStatus | None:
    """Return paid or paid_with_failures once no line waits to be sent, or None while one does."""
    values = [getattr(s, "value", s) for s in line_statuses]
    if any(v in UNFINISHED_LINE for v in values):
        return None
    return RunStatus.paid_with_failures if any(v in NOT_PAID for v in values) else RunStatus.paid


def is_worth_retrying(http_status: int | None, *, connection_failed: bool = False) -> bool:
    """Tell whether a failed transfer request may succeed later with the same idempotency key.

    No answer (timeout, connection lost), a 5xx, 429 (too many requests) and Stripe's 409 (a request with
    the same key is still running elsewhere) may all have made the transfer or may make it next time.
    The SDK raises the 409 as a plain APIError(409), not an IdempotencyError (that is the 400).
    """
    if connection_failed or http_status is None:
        return True
    return http_status >= 500 or http_status in (409, 429)


class Failure(str, enum.Enum):
    """What a failed transfer request means for its line."""

    try_again = "try_again"  # keep it `sending`: sending again with the same key settles it
    refused = "refused"  # Stripe refused it and no transfer can exist: put the money back in payable
    unsure = "unsure"  # a transfer may exist and sending again cannot tell: an officer checks with Stripe


def transfer_failure(http_status: int | None, *, connection_failed: bool = False, idempotency_error: bool = False,
                     repeat: bool = False) -> Failure:
    """Return what a failed transfer request means for its line.

    `repeat`: the line was already `sending` before this attempt, so an earlier request (another job's,
    or one before a crash) may have made the transfer. A 4xx is a refusal only on a first attempt; on a
    repeat, or when the key was used with other parameters (Stripe's 400 idempotency_error), the line is
    unsure. Reversing a line whose transfer may exist would pay the provider twice.
    """
    if is_worth_retrying(http_status, connection_failed=connection_failed):
        return Failure.try_again
    if idempotency_error or repeat:
        return Failure.unsure
    return Failure.refused


def is_claimed(claimed_until: datetime | None, now: datetime) -> bool:
    """Tell whether a job holds a run's claim at `now` (a claim ends when its job finishes, or lapses at `claimed_until`)."""
    return claimed_until is not None and claimed_until > now


def amount_to_pay(payable_pence: int, reserved_pence: int) -> int:
    """Return what a new run may pay a provider: its payable balance less what an unfinished run already plans to pay."""
    return max(0, int(payable_pence) - int(reserved_pence))


def vetting_reason(missing: Iterable[str], expired: Iterable[str], unverified: Iterable[str], words: dict[str, str]) -> str:
    """Return why a provider's vetting stops its payment, in words ("Vetting not valid at release: DBS check expired")."""
    parts = [f"{words.get(k, k)} expired" for k in expired]
    parts += [f"{words.get(k, k)} missing" for k in missing]
    parts += [f"{words.get(k, k)} not yet checked by a broker" for k in unverified]
    return "Vetting not valid at release: " + (", ".join(parts) if parts else "not vetted") + "."
