"""Paying a released run: one ledger payout entry and one Stripe Transfer per line, exactly once.

The job `payments.execute_run` (registered in `wiring.py`) first claims the run (a random token and a
time the claim lapses, on the run's locked row): while one job holds it, a second job for the same run
does nothing, the restart button is refused and no line can be checked with Stripe. It then pays each
line in this order:

1. Payout entries, a batch of lines at a time (`post_payouts`, PAYOUT_BATCH lines a transaction): renew
   the claim; lock the lines still `planned`; post each one's payable → `stripe:clearing` entry
   (EntryKind.payout_sent, key `payrun:{run}:{provider}`) through the council's one writer
   (`ledger.post_in_batches`, one call of the database for the batch, a result per line) and mark it
   `sending` with no attempt yet; a line whose money is not there, or whose provider has no Stripe
   account, is held, and the others go on. Commit. Then, line by line, in one transaction: renew the
   claim (stop if another job took it over); lock the line, count the attempt (a line still `planned`
   is posted here, one entry). Commit.
2. Outside any transaction, ask Stripe for the transfer with the idempotency key `payrun:{run}:{provider}`
   (the SDK retries timeouts, 5xx and 409 with that same key, `gateway.NETWORK_RETRIES` times).
3. In one transaction: record the transfer's id and mark the line `sent`. Commit. A failure is read by
   `run_rules.transfer_failure`: no answer, 5xx, 429 or 409 (the same key still running elsewhere) keep
   the line `sending` for a restart; a 4xx to a first attempt marks it `failed` with Stripe's message and
   reverses its payout entry (key `payrun:{run}:{provider}:failed`); a 4xx to a repeat (the line was
   `sending` already, so an earlier request may have made the transfer) or Stripe's 400 idempotency_error
   marks it `unsure`, money untouched, for an officer to check with Stripe (`line_checks.py`).

Why this order never pays twice. The entry and the `sending` mark are committed before Stripe is asked,
so whatever dies afterwards leaves a line that says "maybe sent". A restarted job sends a `sending` line
again with the same key: Stripe answers with the transfer it already made (or makes it now, if the first
request never arrived). Stripe forgets keys after 24 hours, so before sending a line again the job first
looks for a transfer already made for it (the run's `transfer_group`, matched on the line's metadata) and
adopts it. Money goes back to payable only when no transfer can exist: Stripe refused the line's only
request, or an officer found none at Stripe after the last request had long finished.

The claim is let go when the job ends (returns or raises); a worker killed outright leaves it to lapse
after `CLAIM_MINUTES`, after which the run can be restarted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

import stripe
from flask import current_app
from sqlmodel import Session, select

from brokerage.accounts.system import system_actor
from brokerage.db import session_scope
from brokerage.errors import BrokerageError
from brokerage.ledger import services as ledger
from brokerage.ledger.kinds import EntryKind, payout_failed_key, payout_key
from brokerage.ledger.rules import CLEARING_CODE, payable_code
from brokerage.locks import lock_row, lock_rows
from brokerage.payments import gateway
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.payments.run_rules import (
    Failure,
    LineStatus,
    RunStatus,
    is_claimed,
    move_payment_line,
    move_payment_run,
    run_outcome,
    stripe_value,
    transfer_failure,
)
from brokerage.providers.models import Provider
from brokerage.types import utcnow

CURRENCY = "gbp"
# How long a job's claim on a run lasts without renewal. Renewed before each line; one line takes at most
# the SDK's tries (4 × 80 s, twice: looking for the transfer, then asking for it), so a live job never lapses.
CLAIM_MINUTES = 20


def transfer_group(run_id: int) -> str:
    """Return the Stripe transfer_group of a run's transfers (used to find a transfer made before a crash)."""
    return f"payrun-{run_id}"


@dataclass
class Sending:
    """What a line asks Stripe for: the same every time it is sent."""

    line_id: int
    council_id: int
    run_id: int
    provider_id: int
    amount_pence: int
    destination: str
    again: bool  # it was `sending` already: a transfer may exist

    @property
    def key(self) -> str:
        """Return the idempotency key, the same as the ledger entry's."""
        return payout_key(run_id=self.run_id, provider_id=self.provider_id)

    def params(self) -> dict[str, Any]:
        """Return the Transfer's parameters."""
        return {
            "amount": self.amount_pence, "currency": CURRENCY, "destination": self.destination,
            "transfer_group": transfer_group(self.run_id),
            "metadata": {"council": str(self.council_id), "run": str(self.run_id), "provider": str(self.provider_id)},
        }


@dataclass
class RunResult:
    """What one execution of a run did."""

    run_id: int
    run_status: str
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    unsure: list[int] = field(default_factory=list)
    busy: bool = False  # another job held the run: this one did nothing

    def as_dict(self) -> dict:
        """Return the result for a job's caller."""
        return {"run_id": self.run_id, "status": self.run_status, "sent": len(self.sent), "failed": len(self.failed),
                "waiting": len(self.waiting), "unsure": len(self.unsure), "busy": self.busy}


def claim_run(*, session: Session, actor, run_id: int, token: str) -> list[int] | None:
    """Claim a released or paying run for this job, mark it paying and return its lines still to send.

    Returns None when another job holds the run's claim, [] for a run with nothing to send.
    The run's row is locked (PostgreSQL) or the database's write lock held (SQLite), so of two jobs one claims it.
    """
    run = lock_row(session, PaymentRun, run_id)
    if run is None or run.council_id != actor.council_id:
        return []
    now = utcnow()
    if run.claim_token not in (None, token) and is_claimed(run.claimed_until, now):
        return None
    if run.status == RunStatus.released:
        run.status = move_payment_run(run.status, RunStatus.paying)
    if run.status != RunStatus.paying:
        return []
    run.started_at = now
    run.claim_token, run.claimed_until = token, now + timedelta(minutes=CLAIM_MINUTES)
    session.flush()
    return list(session.exec(
        select(PaymentLine.id).where(PaymentLine.run_id == run_id, PaymentLine.status.in_((LineStatus.planned, LineStatus.sending)))
        .order_by(PaymentLine.id)
    ))


def renew_claim(*, session: Session, run_id: int, token: str) -> bool:
    """Extend this job's claim on a run; return False when it no longer holds it (it lapsed and another job took it)."""
    run = lock_row(session, PaymentRun, run_id)
    if run is None or run.claim_token != token:
        return False
    run.claimed_until = utcnow() + timedelta(minutes=CLAIM_MINUTES)
    session.flush()
    return True


def let_go(*, session: Session, run_id: int, token: str) -> None:
    """End this job's claim on a run (when it finishes, or stops on an error)."""
    run = lock_row(session, PaymentRun, run_id)
    if run is not None and run.claim_token == token:
        run.claim_token, run.claimed_until = None, None
        session.flush()


PAYOUT_BATCH = 200  # lines whose payout entries are posted in one transaction


def post_payouts(*, session: Session, actor, run_id: int, line_ids: list[int]) -> int:
    """Post the payout entries of a run's planned lines in one batch and mark them sending (step 1); return how many.

    Lines no longer `planned` are left as they are. A line whose payable money is not there, or whose
    provider has no Stripe account, is held with the reason; every other line is posted. The entries
    go through the council's one writer (`ledger.post_in_batches`), which is taken before any line or
    account is locked, so money runs of one council always queue in the same order.
    """
    run = session.get(PaymentRun, run_id)
    if run is None or run.council_id != actor.council_id:
        return 0
    ledger.lock_run_writer(session, run.council_id)
    lines = [line for line in lock_rows(session, PaymentLine, line_ids) if line.run_id == run_id and line.status == LineStatus.planned]
    providers = {p.id: p for p in session.exec(select(Provider).where(Provider.id.in_({line.provider_id for line in lines})))}
    payable = []
    for line in lines:
        if providers[line.provider_id].stripe_account_id:
            payable.append(line)
        else:
            _hold(session, line, "This provider has no Stripe account, so nothing was sent.")
    outcomes = ledger.post_in_batches(session=session, actor=actor, council_id=run.council_id, entries=[
        ledger.EntrySpec(
            kind=EntryKind.payout_sent, postings=[(payable_code(line.provider_id), -line.amount_pence), (CLEARING_CODE, line.amount_pence)],
            idempotency_key=payout_key(run_id=line.run_id, provider_id=line.provider_id),
            memo=f"Payment run {line.run_id}: payment to {providers[line.provider_id].name}",
        )
        for line in payable
    ], batch_size=PAYOUT_BATCH)
    posted = 0
    for line, outcome in zip(payable, outcomes):
        if isinstance(outcome, Exception):  # the payable money is no longer there (an overdraft): nothing is sent
            _hold(session, line, f"Not sent: {getattr(outcome, 'message', None) or outcome}")
            continue
        line.payout_entry_id = outcome.id
        line.status = move_payment_line(line.status, LineStatus.sending)
        line.updated_at = utcnow()
        posted += 1
    session.flush()
    return posted


def mark_sending(*, session: Session, actor, line_id: int) -> Sending | None:
    """Count a line's attempt and return what to send (posting its payout entry first if it is still planned), or None when it needs nothing.

    `again` is set when an earlier attempt may have reached Stripe (the line was sending and attempted before).
    """
    line = lock_row(session, PaymentLine, line_id)
    if line is None or line.status not in (LineStatus.planned, LineStatus.sending):
        return None
    again = line.status == LineStatus.sending and line.attempts > 0
    provider = session.get(Provider, line.provider_id)
    if line.status == LineStatus.planned:
        if not provider.stripe_account_id:
            _hold(session, line, "This provider has no Stripe account, so nothing was sent.")
            return None
        try:
            with session.begin_nested():
                entry = ledger.post_entry(
                    session=session, actor=actor, council_id=line.council_id, kind=EntryKind.payout_sent,
                    postings=[(payable_code(line.provider_id), -line.amount_pence), (CLEARING_CODE, line.amount_pence)],
                    idempotency_key=payout_key(run_id=line.run_id, provider_id=line.provider_id),
                    memo=f"Payment run {line.run_id}: payment to {provider.name}",
                )
        except BrokerageError as error:  # the payable money is no longer there (an overdraft): nothing is sent
            _hold(session, line, f"Not sent: {error.message}")
            return None
        line.payout_entry_id = entry.id
        line.status = move_payment_line(line.status, LineStatus.sending)
    line.attempts += 1
    line.updated_at = utcnow()
    session.flush()
    return Sending(
        line_id=line.id, council_id=line.council_id, run_id=line.run_id, provider_id=line.provider_id,
        amount_pence=line.amount_pence, destination=provider.stripe_account_id or "", again=again,
    )


def _hold(session: Session, line: PaymentLine, reason: str) -> None:
    line.status = LineStatus(move_payment_line(line.status, LineStatus.held))
    line.reason, line.updated_at = reason[:500], utcnow()
    session.flush()


def _fail(session: Session, line: PaymentLine, reason: str) -> None:
    line.status = LineStatus(move_payment_line(line.status, LineStatus.failed))
    line.reason, line.updated_at = reason[:500], utcnow()
    session.flush()


def find_transfer(client: stripe.StripeClient, *, run_id: int, provider_id: int):
    """Return the transfer Stripe made for a run's line (its transfer_group and metadata), or None; raise stripe.StripeError.

    Not filtered by destination: the provider's account may have changed since the transfer was made.
    """
    found = client.v1.transfers.list(params={"transfer_group": transfer_group(run_id), "limit": 100})
    for transfer in found.auto_paging_iter():
        metadata = stripe_value(transfer, "metadata", {})
        if stripe_value(metadata, "run") == str(run_id) and stripe_value(metadata, "provider") == str(provider_id):
            return transfer
    return None


def existing_transfer(client: stripe.StripeClient, sending: Sending):
    """Return the transfer already made for this line (after Stripe forgot the key), or None."""
    return find_transfer(client, run_id=sending.run_id, provider_id=sending.provider_id)


def send_transfer(client: stripe.StripeClient, sending: Sending):
    """Ask Stripe for the line's transfer (step 2), with its idempotency key; raise stripe.StripeError when it fails."""
    if sending.again:
        transfer = existing_transfer(client, sending)
        if transfer is not None:
            return transfer
    return client.v1.transfers.create(params=sending.params(), options={"idempotency_key": sending.key})


def record_sent(*, session: Session, line_id: int, transfer_id: str) -> None:
    """Record the transfer Stripe made for a line (step 3); Stripe's event may have moved the line on already."""
    line = lock_row(session, PaymentLine, line_id)
    if line.stripe_transfer_id is None:
        line.stripe_transfer_id = transfer_id
    if line.status in (LineStatus.sending, LineStatus.unsure):
        line.status = move_payment_line(line.status, LineStatus.sent)
        line.sent_at = utcnow()
        line.reason = ""  # only the move clears it: a reversal or a confirmation recorded first keeps its words
    line.updated_at = utcnow()
    session.flush()


def record_refused(*, session: Session, actor, line_id: int, message: str) -> None:
    """Mark a line failed with Stripe's message and put its money back in payable (step 3, a 4xx)."""
    line = lock_row(session, PaymentLine, line_id)
    if line.status != LineStatus.sending:
        return
    ledger.reverse_entry(
        session=session, actor=actor, entry_id=line.payout_entry_id,
        idempotency_key=payout_failed_key(run_id=line.run_id, provider_id=line.provider_id),
        memo=f"Payment run {line.run_id}: Stripe refused the transfer, so the money is back in payable",
    )
    _fail(session, line, f"Stripe refused the transfer: {message}")


def record_try_again(*, session: Session, line_id: int, message: str, in_flight: bool = False) -> None:
    """Keep a line `sending` after a failure that may pass, noting it for the run's page."""
    line = lock_row(session, PaymentLine, line_id)
    if line.status == LineStatus.sending:
        why = ("Stripe was still handling another request for this payment" if in_flight
               else f"Stripe could not be reached or had a problem ({message})")
        line.reason = f"{why}. Restart the run to try again, or check with Stripe; nobody is paid twice."[:500]
        line.updated_at = utcnow()
        session.flush()


def record_unsure(*, session: Session, line_id: int, message: str) -> None:
    """Mark a `sending` line unsure: a transfer may exist and sending again cannot tell; its money stays in clearing."""
    line = lock_row(session, PaymentLine, line_id)
    if line.status != LineStatus.sending:
        return
    line.status = LineStatus(move_payment_line(line.status, LineStatus.unsure))
    line.reason = (f"Stripe answered \"{message}\" to a request that may repeat an earlier one, so it is not known "
                   "whether the provider was paid. The money is held back until an officer checks with Stripe.")[:500]
    line.updated_at = utcnow()
    session.flush()


def finish_run(*, session: Session, run_id: int, token: str | None = None) -> str:
    """Mark the run paid (or paid with failures) once no line waits to be sent, let go of the job's claim; return its status."""
    if token is not None:
        let_go(session=session, run_id=run_id, token=token)
    run = lock_row(session, PaymentRun, run_id)
    statuses = session.exec(select(PaymentLine.status).where(PaymentLine.run_id == run_id)).all()
    outcome = run_outcome(statuses)
    if run.status == RunStatus.paying and outcome is not None:
        run.status = move_payment_run(run.status, outcome)
        run.finished_at = utcnow()
        session.flush()
    return run.status.value


def _message(error: stripe.StripeError) -> str:
    text = getattr(error, "user_message", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())[:300]


# Tests replace this to stop a run halfway (a worker killed between two lines).
after_each_line: Callable[[int], None] = lambda line_id: None  # noqa: E731


def execute_run(*, council_id: int, run_id: int, client: stripe.StripeClient | None = None) -> RunResult:
    """Pay a released run's lines (or finish a run that stopped halfway); each step commits on its own.

    Does nothing (result.busy) while another job holds the run.
    """
    client = client or gateway.client(current_app.config)
    token = str(uuid.uuid4())
    with session_scope() as session:
        actor = system_actor(session=session, council_id=council_id)
        line_ids = claim_run(session=session, actor=actor, run_id=run_id, token=token)
    result = RunResult(run_id=run_id, run_status="")
    if line_ids is None:
        with session_scope() as session:
            result.run_status, result.busy = session.get(PaymentRun, run_id).status.value, True
        return result
    try:
        for start in range(0, len(line_ids), PAYOUT_BATCH):
            with session_scope() as session:
                if not renew_claim(session=session, run_id=run_id, token=token):
                    result.busy = True
                    return result
                post_payouts(session=session, actor=system_actor(session=session, council_id=council_id), run_id=run_id,
                             line_ids=line_ids[start:start + PAYOUT_BATCH])
        for line_id in line_ids:
            if not _pay_line(council_id=council_id, run_id=run_id, line_id=line_id, token=token, client=client, result=result):
                result.busy = True  # the claim lapsed and another job took the run over: it pays the rest
                break
            after_each_line(line_id)
    finally:
        with session_scope() as session:
            result.run_status = finish_run(session=session, run_id=run_id, token=token)
    return result


def _pay_line(*, council_id: int, run_id: int, line_id: int, token: str, client: stripe.StripeClient, result: RunResult) -> bool:
    """Pay one line (steps 1 to 3); return False when the job no longer holds the run."""
    with session_scope() as session:
        if not renew_claim(session=session, run_id=run_id, token=token):
            return False
        sending = mark_sending(session=session, actor=system_actor(session=session, council_id=council_id), line_id=line_id)
    if sending is None:
        return True
    try:
        transfer = send_transfer(client, sending)
    except stripe.StripeError as error:
        status = getattr(error, "http_status", None)
        failure = transfer_failure(status, connection_failed=isinstance(error, stripe.APIConnectionError),
                                   idempotency_error=isinstance(error, stripe.IdempotencyError), repeat=sending.again)
        with session_scope() as session:
            if failure == Failure.try_again:
                record_try_again(session=session, line_id=line_id, message=_message(error), in_flight=status == 409)
                result.waiting.append(line_id)
            elif failure == Failure.unsure:
                record_unsure(session=session, line_id=line_id, message=_message(error))
                result.unsure.append(line_id)
            else:
                record_refused(session=session, actor=system_actor(session=session, council_id=council_id), line_id=line_id, message=_message(error))
                result.failed.append(line_id)
    else:
        with session_scope() as session:
            record_sent(session=session, line_id=line_id, transfer_id=transfer.id)
        result.sent.append(line_id)
    return True


def execute_run_job(*, council_id: int, run_id: int) -> dict:
    """Run `execute_run` as a job (released by an officer, or restarted)."""
    return execute_run(council_id=council_id, run_id=run_id).as_dict()
