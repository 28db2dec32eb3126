"""An officer settles a payment line nobody is sure about by asking Stripe ("Check with Stripe" on the run's page).

A line is checkable when it is `unsure` (Stripe refused a request that may have repeated one that worked,
or the key was used with other parameters) or still `sending` (timeouts, 5xx or 409 outlasted the retries)
and no job holds the run. The check looks for the line's transfer at Stripe by the run's transfer_group
and the line's metadata (`transfers.find_transfer`), with the run's row locked so no job can claim it
meanwhile, and then:

- a transfer for the line's amount: the line is `sent` with the transfer's id. Its payout entry already
  moved the money to clearing; Stripe's `transfer.created` event confirms it as usual. No entry is posted.
- a transfer for another amount: nothing changes; the officer is told to reconcile with Stripe.
- no transfer, and the line's last request ended at least `QUIET_MINUTES` ago (so none is still being made
  at Stripe): the payout entry is reversed (key `payrun:{run}:{provider}:failed`, memo naming the officer),
  the line is `failed` and its money is back in payable. The next run pays it, prepared by one person and
  released by another, as every run is.

Services flush, never commit; the view's request commits once.
"""

from __future__ import annotations

from datetime import timedelta

import stripe
from sqlmodel import Session

from brokerage.access import get_or_404
from brokerage.accounts.models import User
from brokerage.accounts.system import system_actor
from brokerage.errors import Conflict, NotAllowed
from brokerage.formatting import clock_time, date_time, pounds
from brokerage.ledger import services as ledger
from brokerage.ledger.kinds import payout_failed_key
from brokerage.locks import lock_row
from brokerage.payments import transfers
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.payments.run_rules import CHECKABLE_LINE, LineStatus, is_claimed, move_payment_line, stripe_value
from brokerage.types import Role, utcnow

# How long after a line's last request a missing transfer is taken to mean "never made".
QUIET_MINUTES = 10
CHECKERS = (Role.council_officer,)


class NothingToCheck(Conflict):
    """The line is not waiting for anyone to check it."""


class RunBeingPaid(Conflict):
    """A job is paying the line's run right now."""


def _refuse_unless_checkable(run: PaymentRun, line: PaymentLine) -> None:
    if line.status not in CHECKABLE_LINE:
        raise NothingToCheck(f"This payment has nothing to check with Stripe: it is {line.status.label.lower()}.")
    if is_claimed(run.claimed_until, utcnow()):
        raise RunBeingPaid(f"Payment run {run.id} is being paid right now. Wait until it stops, then check again.")


def line_for_officer(*, session: Session, actor: User, line_id: int) -> PaymentLine:
    """Return a payment line of this council officer's council; raise NotAllowed or NotFound (another council's too). Reads only."""
    if actor.role not in CHECKERS:
        raise NotAllowed("Only a council officer can check a payment with Stripe.")
    return get_or_404(session, actor, PaymentLine, line_id, what="payment")


def line_to_check(*, session: Session, actor: User, line_id: int) -> PaymentLine:
    """Return a line this council officer may check with Stripe now; raise NotAllowed, NotFound or Conflict. Reads only."""
    line = line_for_officer(session=session, actor=actor, line_id=line_id)
    _refuse_unless_checkable(session.get(PaymentRun, line.run_id), line)
    return line


def check_with_stripe(*, session: Session, actor: User, line_id: int, client: stripe.StripeClient) -> str:
    """Ask Stripe whether a line's transfer exists and settle the line; return what happened, in words.

    Raises NotAllowed, NotFound or Conflict (nothing changed), or stripe.StripeError when Stripe cannot be asked.
    """
    line_to_check(session=session, actor=actor, line_id=line_id)
    # Lock order: the run, then its line. The run stays locked while Stripe is asked, so no job claims it.
    run = lock_row(session, PaymentRun, session.get(PaymentLine, line_id).run_id)
    line = lock_row(session, PaymentLine, line_id)
    _refuse_unless_checkable(run, line)
    now = utcnow()
    when = date_time(now)
    transfer = transfers.find_transfer(client, run_id=line.run_id, provider_id=line.provider_id)
    if transfer is not None:
        amount = int(stripe_value(transfer, "amount", 0))
        if amount != line.amount_pence:
            return (f"Stripe's transfer {transfer.id} for this payment is for {pounds(amount)}, not {pounds(line.amount_pence)}. "
                    "Nothing was changed: compare them on the reconciliation page and ask Stripe.")
        line.stripe_transfer_id = line.stripe_transfer_id or transfer.id
        line.status = move_payment_line(line.status, LineStatus.sent)
        line.sent_at = line.sent_at or now
        line.reason = f"{actor.name} checked with Stripe on {when}: Stripe made transfer {transfer.id}."[:500]
        line.updated_at = now
        session.flush()
        transfers.finish_run(session=session, run_id=run.id)
        return f"Stripe made this payment (transfer {transfer.id}). It is recorded as sent; nothing more will be sent."
    quiet_from = line.updated_at + timedelta(minutes=QUIET_MINUTES)
    if line.status == LineStatus.sending and quiet_from > now:
        raise Conflict(f"Stripe has no transfer for this payment yet, but the last request was less than {QUIET_MINUTES} minutes ago "
                       f"and may still be running. Check again after {clock_time(quiet_from)}.")
    ledger.reverse_entry(
        session=session, actor=system_actor(session=session, council_id=line.council_id), entry_id=line.payout_entry_id,
        idempotency_key=payout_failed_key(run_id=line.run_id, provider_id=line.provider_id),
        memo=f"Payment run {line.run_id}: {actor.name} checked with Stripe and found no transfer, so the money is back in payable",
    )
    line.status = move_payment_line(line.status, LineStatus.failed)
    line.reason = (f"{actor.name} checked with Stripe on {when}: no transfer was made, so the money is back in payable "
                   "and the next payment run will pay it.")[:500]
    line.updated_at = now
    session.flush()
    transfers.finish_run(session=session, run_id=run.id)
    return f"Stripe made no transfer for this payment, so {pounds(line.amount_pence)} is back in payable for the next payment run."
