"""What Stripe's transfer events do to a payment line and the ledger (handlers registered in `wiring.py`).

- `transfer.created`: Stripe confirms the transfer; clearing → `provider:{p}:paid` (EntryKind.payout_paid).
- `transfer.reversed`: the money comes back to `provider:{p}:payable`. A line still in clearing has its
  payout entry reversed; a line already paid has its confirmation reversed and then its payout entry,
  so each correction points at what it undoes and clearing never goes below zero.

Each effect's idempotency key carries the event id (`ledger.kinds.stripe_event_key`), and the line's own
status says which effects it has had, so an event delivered twice, or a `transfer.created` that arrives
after the `transfer.reversed` of the same transfer, has no second effect. Only a full reversal is
handled; a partial one changes nothing here and reconciliation lists it as "a reversal not posted".
Handlers flush; the webhook job commits.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from brokerage.accounts.system import system_actor
from brokerage.ledger import services as ledger
from brokerage.ledger.kinds import EntryKind, stripe_event_key
from brokerage.ledger.rules import CLEARING_CODE, paid_code
from brokerage.locks import lock_row
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.payments.run_rules import LineStatus, RunStatus, move_payment_line, move_payment_run, stripe_value
from brokerage.types import utcnow


def _number(text: Any) -> int | None:
    return int(text) if isinstance(text, str) and text.isascii() and text.isdigit() else None


def find_line(session: Session, transfer: Any) -> PaymentLine | None:
    """Return the payment line a transfer pays: by its metadata (council, run, provider), else by its id."""
    metadata = stripe_value(transfer, "metadata", {}) or {}
    council, run, provider = (_number(stripe_value(metadata, k)) for k in ("council", "run", "provider"))
    if council and run and provider:
        line = session.exec(
            select(PaymentLine).where(PaymentLine.council_id == council, PaymentLine.run_id == run, PaymentLine.provider_id == provider)
        ).first()
        if line is not None:
            return line
    transfer_id = stripe_value(transfer, "id")
    if not transfer_id:
        return None
    return session.exec(select(PaymentLine).where(PaymentLine.stripe_transfer_id == transfer_id)).first()


def on_transfer_created(*, session: Session, event: Any) -> str:
    """Confirm a line's transfer: clearing → paid, once; return what it did, in a word."""
    transfer = event.data.object
    found = find_line(session, transfer)
    if found is None:
        return "unknown transfer"
    line = lock_row(session, PaymentLine, found.id)
    # An unsure line's transfer is hereby known to exist: the event settles it.
    if line.status not in (LineStatus.sending, LineStatus.unsure, LineStatus.sent):
        return f"no effect: the payment is {line.status.value}"
    if int(stripe_value(transfer, "amount", 0)) != line.amount_pence:
        line.reason = f"Stripe's transfer is for {stripe_value(transfer, 'amount')}p, not {line.amount_pence}p; see reconciliation."
        session.flush()
        return "amounts differ"
    actor = system_actor(session=session, council_id=line.council_id)
    entry = ledger.post_entry(
        session=session, actor=actor, council_id=line.council_id, kind=EntryKind.payout_paid,
        postings=[(CLEARING_CODE, -line.amount_pence), (paid_code(line.provider_id), line.amount_pence)],
        idempotency_key=stripe_event_key(event_id=event.id),
        memo=f"Payment run {line.run_id}: Stripe confirmed transfer {stripe_value(transfer, 'id')}",
    )
    line.paid_entry_id = entry.id
    line.stripe_transfer_id = line.stripe_transfer_id or stripe_value(transfer, "id")
    line.status = move_payment_line(line.status, LineStatus.paid)
    line.reason, line.updated_at = "", utcnow()
    session.flush()
    return "paid"


def _fully_reversed(transfer: Any) -> bool:
    return bool(stripe_value(transfer, "reversed", False)) or int(stripe_value(transfer, "amount_reversed", 0)) >= int(stripe_value(transfer, "amount", 0)) > 0


def on_transfer_reversed(*, session: Session, event: Any) -> str:
    """Put a reversed transfer's money back in payable, once; return what it did, in a word."""
    transfer = event.data.object
    found = find_line(session, transfer)
    if found is None:
        return "unknown transfer"
    if not _fully_reversed(transfer):
        return "partial reversal: not handled"
    # Lock order: the run, then its line (the run's status may change below).
    run = lock_row(session, PaymentRun, found.run_id)
    line = lock_row(session, PaymentLine, found.id)
    if line.status not in (LineStatus.sending, LineStatus.unsure, LineStatus.sent, LineStatus.paid):
        return f"no effect: the payment is {line.status.value}"
    actor = system_actor(session=session, council_id=line.council_id)
    memo = f"Payment run {line.run_id}: Stripe reversed transfer {stripe_value(transfer, 'id')}, so the money is back in payable"
    if line.status == LineStatus.paid:
        ledger.reverse_entry(session=session, actor=actor, entry_id=line.paid_entry_id,
                             idempotency_key=stripe_event_key(event_id=event.id, effect="unconfirm"), memo=memo)
    ledger.reverse_entry(session=session, actor=actor, entry_id=line.payout_entry_id,
                         idempotency_key=stripe_event_key(event_id=event.id, effect="payable"), memo=memo)
    line.stripe_transfer_id = line.stripe_transfer_id or stripe_value(transfer, "id")
    line.status = move_payment_line(line.status, LineStatus.reversed)
    line.reason = "Stripe reversed this transfer, so the money is back with the council to pay again."
    line.updated_at = utcnow()
    if run.status == RunStatus.paid:
        run.status = move_payment_run(run.status, RunStatus.paid_with_failures)
    session.flush()
    return "reversed"


HANDLERS = {"transfer.created": on_transfer_created, "transfer.reversed": on_transfer_reversed}
