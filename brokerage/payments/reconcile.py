"""Reconciliation: read Stripe's transfers and balance transactions and the ledger's payouts, and compare them.

The ledger side is read from the journal itself (payout entries by their `payrun:` keys, their clearing
legs and any entries that reverse them), not from the payment lines, so an entry changed or removed
behind the application's back shows up. The comparison is `reconcile_rules.compare`. Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import stripe
from sqlmodel import Session, select

from brokerage import clock
from brokerage.accounts.models import User
from brokerage.errors import NotFound
from brokerage.ledger.kinds import EntryKind, payout_failed_key
from brokerage.ledger.models import JournalEntry, LedgerAccount, Posting
from brokerage.ledger.rules import CLEARING_CODE
from brokerage.payments.reconcile_rules import CONFIRM_DAYS, Difference, LedgerPayout, StripeTransfer, compare
from brokerage.payments.run_models import PaymentLine
from brokerage.payments.run_rules import stripe_value
from brokerage.types import Role

PAGE = 100
# How long before the first day asked for Stripe is read for transfers of payout entries inside it.
EDGE = timedelta(days=1)


@dataclass
class Report:
    """What reconciliation compared, and every difference found."""

    since: date
    council_ids: list[int]
    payouts: int
    transfers: int
    differences: list[Difference]

    def as_dict(self) -> dict:
        """Return the report for JSON output."""
        return {"since": self.since.isoformat(), "councils": self.council_ids, "payouts": self.payouts, "transfers": self.transfers,
                "differences": [d.as_dict() for d in self.differences]}


def _key_parts(key: str) -> tuple[int, int] | None:
    parts = key.split(":")
    if len(parts) == 3 and parts[0] == "payrun" and all(p.isascii() and p.isdigit() for p in parts[1:]):
        return int(parts[1]), int(parts[2])
    return None


def ledger_payouts(*, session: Session, council_ids: list[int], since: datetime | None = None,
                   keys: list[str] | None = None) -> list[LedgerPayout]:
    """Return the payout entries posted since a moment in these councils (or those with these keys, whenever posted), each with what happened to it since."""
    found = select(JournalEntry).where(
        JournalEntry.council_id.in_(council_ids), JournalEntry.kind == EntryKind.payout_sent.value,
        JournalEntry.idempotency_key.like("payrun:%"),
    )
    if since is not None:
        found = found.where(JournalEntry.created_at >= since)
    if keys is not None:
        found = found.where(JournalEntry.idempotency_key.in_(keys))
    entries = session.exec(found.order_by(JournalEntry.id)).all()
    ids = [e.id for e in entries]
    if not ids:
        return []
    clearing = dict(session.exec(
        select(Posting.entry_id, Posting.amount_pence).join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.entry_id.in_(ids), LedgerAccount.code == CLEARING_CODE, Posting.amount_pence > 0)
    ).all())
    reversals = dict(session.exec(select(JournalEntry.reverses_id, JournalEntry.idempotency_key).where(JournalEntry.reverses_id.in_(ids))).all())
    lines = {
        (line.run_id, line.provider_id): line
        for line in session.exec(select(PaymentLine).where(PaymentLine.payout_entry_id.in_(ids)))
    }
    paid_ids = [line.paid_entry_id for line in lines.values() if line.paid_entry_id]
    unconfirmed = set(session.exec(select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.in_(paid_ids))).all()) if paid_ids else set()
    payouts = []
    for entry in entries:
        parts = _key_parts(entry.idempotency_key)
        # A payout entry without its clearing leg moved nothing into clearing (a posting removed behind our back).
        if parts is None or entry.id not in clearing:
            continue
        run_id, provider_id = parts
        line = lines.get(parts)
        reversing_key = reversals.get(entry.id)
        payouts.append(LedgerPayout(
            key=entry.idempotency_key, council_id=entry.council_id, run_id=run_id, provider_id=provider_id,
            amount_pence=int(clearing[entry.id]), posted_at=entry.created_at, reversed=reversing_key is not None,
            failed=reversing_key == payout_failed_key(run_id=run_id, provider_id=provider_id),
            confirmed=bool(line and line.paid_entry_id and line.paid_entry_id not in unconfirmed),
            line_status=line.status.value if line else "",
        ))
    return payouts


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def stripe_transfers(*, client: stripe.StripeClient, since: datetime, council_ids: list[int] | None) -> list[StripeTransfer]:
    """Return Stripe's transfers created since a moment (those of these councils, or all when None), with their balance totals."""
    created = {"gte": int(since.timestamp())}
    moved: dict[str, int] = {}
    for kind in ("transfer", "transfer_refund"):
        listing = client.v1.balance_transactions.list(params={"created": created, "type": kind, "limit": PAGE})
        for bt in listing.auto_paging_iter():
            source = stripe_value(bt, "source")
            source_id = source if isinstance(source, str) else stripe_value(source, "id")
            if kind == "transfer" and source_id:
                moved[source_id] = moved.get(source_id, 0) - int(stripe_value(bt, "amount", 0))
    found = []
    for transfer in client.v1.transfers.list(params={"created": created, "limit": PAGE}).auto_paging_iter():
        metadata = stripe_value(transfer, "metadata", {})
        council, run, provider = (_int(stripe_value(metadata, k)) for k in ("council", "run", "provider"))
        if council_ids is not None and council not in council_ids:
            continue
        found.append(StripeTransfer(
            id=transfer.id, key=f"payrun:{run}:{provider}" if run and provider else None, council_id=council,
            amount_pence=int(stripe_value(transfer, "amount", 0)), amount_reversed_pence=int(stripe_value(transfer, "amount_reversed", 0)),
            destination=str(stripe_value(transfer, "destination", "")),
            created=datetime.fromtimestamp(int(stripe_value(transfer, "created", 0)), tz=timezone.utc), balance_pence=moved.get(transfer.id),
        ))
    return found


def reconcile(
    *, session: Session, client: stripe.StripeClient, council_ids: list[int], since: date, every_council: bool = False,
    confirm_days: int = CONFIRM_DAYS,
) -> Report:
    """Compare Stripe with the ledger for these councils since a day in England (`every_council` also lists transfers of no council)."""
    start = clock.start_of_day(since)
    payouts = ledger_payouts(session=session, council_ids=council_ids, since=start)
    # A payment is compared when either side of it falls in the dates asked for: a transfer just before the
    # first day whose entry is inside is read too, and an entry posted before it (a run restarted days later,
    # clocks a little apart) is read for a transfer inside, so neither looks like money moved behind our back.
    posted = {p.key for p in payouts}
    transfers = [
        t for t in stripe_transfers(client=client, since=start - EDGE, council_ids=None if every_council else council_ids)
        if t.created >= start or t.key in posted
    ]
    earlier = sorted({t.key for t in transfers if t.key and t.key not in posted})
    if earlier:
        payouts += ledger_payouts(session=session, council_ids=council_ids, keys=earlier)
    differences = compare(payouts, transfers, now=clock.now(), confirm_days=confirm_days)
    return Report(since=since, council_ids=council_ids, payouts=len(payouts), transfers=len(transfers), differences=differences)


def reconcile_for_officer(*, session: Session, actor: User, client: stripe.StripeClient, since: date) -> Report:
    """Reconcile the officer's own council (the page); NotFound for anyone else."""
    if actor.role != Role.council_officer:
        raise NotFound()
    return reconcile(session=session, client=client, council_ids=[actor.council_id], since=since)
