"""The ledger's vocabulary: the kinds of entry the product posts, and the idempotency key of each.

An idempotency key names the business event an entry records, never a reused row id on its own: the
same event posted twice returns the first entry, and a different event can never share a key. Each
builder below says which identity makes its event unique. The formats are stored in the ledger, so a
builder's output must never change for an event already posted.
"""

from __future__ import annotations

import enum


class EntryKind(str, enum.Enum):
    """What a journal entry records; stored in `journal_entry.kind`."""

    dp_issued = "dp_issued"  # the council pays a holder's weekly direct payment into their wallet
    pledge_collected = "pledge_collected"  # a member's weekly pledge moves from wallet to pool share
    member_left = "member_left"  # a leaver's pool share goes back to their wallet when notice ends
    member_refund = "member_refund"  # a dissolved group returns each pool share to its member's wallet
    care_cost = "care_cost"  # approved care moves from pool shares to what the group owes the provider
    payout_sent = "payout_sent"  # a released payment run moves payable to clearing
    payout_paid = "payout_paid"  # the payment processor confirms the money reached the provider
    topup = "topup"  # a holder adds their own money to a pool share by card or Direct Debit
    topup_refund = "topup_refund"  # Stripe refunded (part of) a top-up: it leaves the pool share again
    clawback = "clawback"  # two council officers agreed to take unspent money from a pool share back to funding
    reversal = "reversal"  # undoes one earlier entry, pointing at it
    adjustment = "adjustment"  # a correction posted by hand (tests and back-office tools)

    @property
    def label(self) -> str:
        """Return the kind in plain English, for statements and the journal."""
        return LABELS[self]


LABELS = {
    EntryKind.dp_issued: "Direct payment",
    EntryKind.pledge_collected: "Pledge to the group",
    EntryKind.member_left: "Pool share returned on leaving",
    EntryKind.member_refund: "Pool share returned when the group closed",
    EntryKind.care_cost: "Care paid for from the pool",
    EntryKind.payout_sent: "Payment to the provider sent",
    EntryKind.payout_paid: "Payment to the provider confirmed",
    EntryKind.topup: "Money added by card or Direct Debit",
    EntryKind.topup_refund: "Card or Direct Debit payment refunded",
    EntryKind.clawback: "Unspent money taken back by the council",
    EntryKind.reversal: "Correction (reverses an earlier entry)",
    EntryKind.adjustment: "Adjustment",
}


def kind_label(kind: str) -> str:
    """Return a stored kind in plain English; an unknown kind (from an older release) is shown as stored."""
    try:
        return EntryKind(kind).label
    except ValueError:
        return kind.replace("_", " ").capitalize()


def dp_issued_key(*, holder_id: int, week: str) -> str:
    """Name one holder's direct payment for one ISO week (`YYYY-Www`): one per holder per week."""
    return f"dp:{holder_id}:{week}"


def pledge_key(*, membership_id: int, week: str) -> str:
    """Name one tenure's pledge for one ISO week: a membership row is one tenure (a rejoin is a new row)."""
    return f"pledge:{membership_id}:{week}"


def member_left_key(*, membership_id: int) -> str:
    """Name the return of one tenure's pool share when its notice ends.

    The prefix is new because rows reused before migration 0010 already hold `leave:{membership}` keys
    of an earlier stay.
    """
    return f"member-left:{membership_id}"


def dissolve_key(*, proposal_id: int, holder_id: int) -> str:
    """Name one member's refund when a group closes: a group closes once, by one passed proposal."""
    return f"dissolve:{proposal_id}:{holder_id}"


def care_cost_key(*, contract_id: int, week: str) -> str:
    """Name the approved care of one contract in one ISO week: a week's timesheet is approved once, however often it was resubmitted."""
    return f"care:{contract_id}:{week}"


def payout_key(*, run_id: int, provider_id: int) -> str:
    """Name one provider's payment in one payment run; the same string is the Stripe Transfer's idempotency key."""
    return f"payrun:{run_id}:{provider_id}"


def payout_failed_key(*, run_id: int, provider_id: int) -> str:
    """Name the reversal of a payment whose transfer Stripe refused: it fails once."""
    return f"payrun:{run_id}:{provider_id}:failed"


def stripe_event_key(*, event_id: str, effect: str = "") -> str:
    """Name the ledger effect of one Stripe event (`evt_…`); `effect` tells apart two entries one event makes."""
    return f"stripe:{event_id}:{effect}" if effect else f"stripe:{event_id}"


def clawback_key(*, clawback_id: int) -> str:
    """Name one clawback decision: a proposal two officers agreed to, made once (its row is never reused)."""
    return f"clawback:{clawback_id}"
