"""Pure reconciliation: compare what Stripe says it moved with what the ledger says, payment by payment.

Each payment is named by its key `payrun:{run}:{provider}`: the ledger's payout entry carries it, and so does
the Stripe transfer (as its idempotency key, and in its metadata). No Flask, no SQL, no Stripe calls here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from brokerage.formatting import pounds

CONFIRM_DAYS = 3  # a transfer Stripe has not confirmed after this many days is listed


class DifferenceKind(str, enum.Enum):
    """What kind of difference reconciliation found."""

    transfer_without_payout = "transfer_without_payout"
    payout_without_transfer = "payout_without_transfer"
    amounts_differ = "amounts_differ"
    reversal_not_posted = "reversal_not_posted"
    reversal_not_at_stripe = "reversal_not_at_stripe"
    not_confirmed = "not_confirmed"
    balance_transaction_missing = "balance_transaction_missing"

    @property
    def label(self) -> str:
        """Return the kind in plain English."""
        return KIND_WORDS[self.value]


KIND_WORDS = {
    "transfer_without_payout": "A transfer with no payout entry",
    "payout_without_transfer": "A payout entry with no transfer",
    "amounts_differ": "The amounts differ",
    "reversal_not_posted": "A reversal not posted",
    "reversal_not_at_stripe": "A reversal Stripe does not show",
    "not_confirmed": "Not confirmed by Stripe",
    "balance_transaction_missing": "Missing from Stripe's balance",
}


@dataclass(frozen=True)
class LedgerPayout:
    """A payout entry (payable → clearing) and what happened to it since."""

    key: str
    council_id: int
    run_id: int
    provider_id: int
    amount_pence: int  # moved into clearing
    posted_at: datetime
    reversed: bool  # a reversing entry points at it (refused by Stripe, or reversed later)
    failed: bool  # reversed because Stripe refused the transfer
    confirmed: bool  # clearing → paid was posted (and not undone)
    line_status: str = ""


@dataclass(frozen=True)
class StripeTransfer:
    """A transfer as Stripe reports it, with what its balance transactions add up to."""

    id: str
    key: str | None  # payrun:{run}:{provider} from its metadata; None when carepool did not make it
    council_id: int | None
    amount_pence: int
    amount_reversed_pence: int
    destination: str
    created: datetime
    balance_pence: int | None = None  # -(sum of its `transfer` balance transactions); None when none was listed


@dataclass(frozen=True)
class Difference:
    """One difference, with its likely cause in words."""

    kind: DifferenceKind
    key: str
    council_id: int | None
    amount_pence: int
    stripe_id: str
    cause: str

    def as_dict(self) -> dict:
        """Return the difference for JSON output."""
        return {"kind": self.kind.value, "what": self.kind.label, "payment": self.key, "council": self.council_id,
                "amount_pence": self.amount_pence, "stripe_id": self.stripe_id, "cause": self.cause}


def _who(key: str) -> str:
    parts = key.split(":")
    return f"run {parts[1]}, provider {parts[2]}" if len(parts) == 3 else key


def compare(payouts: list[LedgerPayout], transfers: list[StripeTransfer], *, now: datetime, confirm_days: int = CONFIRM_DAYS) -> list[Difference]:
    """Return every difference between the ledger's payouts and Stripe's transfers, in a fixed order."""
    found: list[Difference] = []
    by_key = {p.key: p for p in payouts}
    seen: set[str] = set()
    for t in sorted(transfers, key=lambda t: (t.key or "", t.id)):
        payout = by_key.get(t.key) if t.key else None
        if t.key:
            seen.add(t.key)
        if t.balance_pence is not None and t.balance_pence != t.amount_pence:
            found.append(Difference(DifferenceKind.amounts_differ, t.key or t.id, t.council_id, t.amount_pence, t.id,
                                    f"Stripe's balance moved {pounds(t.balance_pence)} for a transfer of {pounds(t.amount_pence)}."))
        elif t.balance_pence is None:
            found.append(Difference(DifferenceKind.balance_transaction_missing, t.key or t.id, t.council_id, t.amount_pence, t.id,
                                    "Stripe listed the transfer but no balance transaction for it: it may be outside the dates asked for."))
        if payout is None or payout.failed:
            cause = (
                "Stripe made this transfer but the ledger has no payout entry for it: the entry was removed behind the "
                "application's back, or the transfer was made outside carepool." if t.key else
                "Stripe made this transfer but not for a carepool payment run (it has no run in its details)."
            )
            if payout is not None and payout.failed:
                cause = "Stripe made this transfer although the payment was marked refused and its money put back in payable."
            found.append(Difference(DifferenceKind.transfer_without_payout, t.key or t.id, t.council_id, t.amount_pence, t.id, cause))
            continue
        if payout.amount_pence != t.amount_pence:
            found.append(Difference(DifferenceKind.amounts_differ, t.key, t.council_id, t.amount_pence, t.id,
                                    f"The ledger moved {pounds(payout.amount_pence)} into clearing; Stripe transferred {pounds(t.amount_pence)}."))
        if t.amount_reversed_pence > 0 and not payout.reversed:
            partial = t.amount_reversed_pence < t.amount_pence
            found.append(Difference(DifferenceKind.reversal_not_posted, t.key, t.council_id, t.amount_reversed_pence, t.id,
                                    f"Stripe reversed {pounds(t.amount_reversed_pence)} of this transfer but the ledger still shows it sent: "
                                    + ("a partial reversal is not posted automatically; post a correction." if partial else
                                       "the transfer.reversed event has not been processed.")))
        elif payout.reversed and t.amount_reversed_pence == 0:
            found.append(Difference(DifferenceKind.reversal_not_at_stripe, t.key, t.council_id, payout.amount_pence, t.id,
                                    "The ledger put this payment back in payable, but Stripe shows the transfer as not reversed."))
        elif not payout.reversed and not payout.confirmed and now - payout.posted_at > timedelta(days=confirm_days):
            found.append(Difference(DifferenceKind.not_confirmed, t.key, t.council_id, payout.amount_pence, t.id,
                                    f"The money has waited in clearing for more than {confirm_days} days: Stripe's transfer.created "
                                    "event has not arrived or was not processed."))
    for payout in sorted(payouts, key=lambda p: p.key):
        if payout.key in seen or payout.reversed:
            continue
        if payout.line_status == "sending":
            cause = "The run stopped before Stripe made the transfer: restart the run (nobody is paid twice)."
        else:
            cause = "The ledger moved this money into clearing, but Stripe has no transfer for it."
        found.append(Difference(DifferenceKind.payout_without_transfer, payout.key, payout.council_id, payout.amount_pence, "", cause))
    return found


def exit_code(differences: list[Difference]) -> int:
    """Return the command's exit status: 0 when nothing differs, 1 when something does."""
    return 1 if differences else 0


def describe(difference: Difference) -> str:
    """Return one difference as a line for people."""
    return f"{difference.kind.label} ({_who(difference.key)}, {pounds(difference.amount_pence)}): {difference.cause}"
