"""The audit bench's money: week after week of direct payments, pledges, care, payment runs, leavers and corrections.

Everything is posted through the ledger's batch API (`post_entries`), a batch of entries per
transaction, with every check and trigger of the posting path on, so the pool summary
(`ledger_pool_month`) is written the normal way. The history's clock (`HistoryClock`) replaces
`brokerage.clock.now` the way the demo's story does, only ever forwards, so every entry is dated in
its week. One week, in the order it happens (times in England):

- Monday 06:00, every fourth week: the council pays each holder four weeks of direct payment (dp_issued).
- Monday 07:00: each member's weekly pledge moves from their wallet to their share of the pool.
- Tuesday to Thursday, every second week: a payment run (prepared by the broker, released by the
  officer) sends each provider's payable (payout_sent) and Stripe confirms it (payout_paid); about one
  payment in a hundred is refused and reversed (payrun:{run}:{provider}:failed), to be paid next time.
- Sunday 18:00: each contract's week of care is approved: a care_cost entry from the members' shares
  (split by pledge) to the provider's payable, keyed care:{contract}:{week}, with its approved timesheet.
  Most groups spend about what they pledge; about one in seven contracted for less and builds a surplus.
- Sunday 19:00: about one care cost in five hundred was approved in error and is reversed.
- Sunday 20:00: about one holder in a hundred leaves their group; their share goes back to their wallet.
- Sunday 23:00, every fourth week and at the end: the ledger is sealed.

The bench tracks balances in memory only to choose amounts; the ledger remains the judge, and an
overdraft it refuses stops the build.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from sqlalchemy import bindparam, update
from sqlalchemy.orm import sessionmaker

from brokerage import clock
from brokerage.accounts.models import User
from brokerage.clusters.models import Membership, MembershipStatus
from brokerage.clusters.rules import period_of
from brokerage.contracts.rules import AllocationRule
from brokerage.ledger import kinds
from brokerage.ledger.integrity import seal
from brokerage.ledger.rules import CLEARING_CODE, allocate_shared_cost
from brokerage.ledger.services import EntrySpec, post_entries
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.payments.run_rules import LineStatus, RunStatus
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import TimesheetStatus
from brokerage_bench.audit_world import Group, World

TICK = timedelta(milliseconds=1)  # each reading of the history's clock is a millisecond after the one before
DP_WEEKS = 4  # the council pays direct payments four-weekly in advance
RUN_WEEKS = 2  # a payment run every second week
SEAL_WEEKS = 4
FAILED_PAYOUTS = 0.01
REVERSED_CARE = 0.002
LEAVERS = 0.01
NO_CARE = 0.03  # a contract's week with no care at all (a holiday, a hospital stay)


class HistoryClock:
    """Move `brokerage.clock.now` through the history, only forwards; give the real clock back at the end."""

    def __init__(self) -> None:
        self._real = clock.now
        self._last: datetime | None = None
        self._lock = threading.Lock()  # the build's threads read it together

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        """Set the time to a wall-clock time in England; it must be after every time read so far."""
        moment = datetime.combine(day, time(hour, minute), tzinfo=clock.LONDON).astimezone(timezone.utc)
        if self._last is not None and moment <= self._last:
            raise ValueError(f"the history's clock runs forwards: {moment} is not after {self._last}")
        if moment >= self._real():
            raise ValueError(f"the history must stay in the past: {moment} is in the future")
        self._last = moment - TICK
        clock.now = self._now

    def _now(self) -> datetime:
        with self._lock:
            self._last += TICK
            return self._last

    def restore(self) -> None:
        """Give the real clock back."""
        clock.now = self._real


@dataclass
class Posted:
    """What the build posted."""

    entries: int = 0
    postings: int = 0
    transactions: int = 0


class Poster:
    """Post entries a batch at a time, one transaction a batch; `after` writes the batch's own rows in the same transaction."""

    def __init__(self, factory: sessionmaker, council_id: int, batch: int) -> None:
        self.factory, self.council_id, self.batch = factory, council_id, batch
        self.posted = Posted()
        self._lock = threading.Lock()

    def post_parts(self, actor: User, parts: list[list[tuple[EntrySpec, object]]], after: Callable | None = None) -> None:
        """Post each part in a thread of its own, at the same time; the parts must share no account (else they take turns)."""
        parts = [part for part in parts if part]
        if len(parts) <= 1:
            for part in parts:
                self.post(actor, part, after)
            return
        with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="bench-audit") as pool:
            for future in [pool.submit(self.post, actor, part, after) for part in parts]:
                future.result()

    def post(self, actor: User, items: list[tuple[EntrySpec, object]], after: Callable | None = None) -> None:
        for start in range(0, len(items), self.batch):
            chunk = items[start:start + self.batch]
            with self.factory() as session:
                entries = post_entries(session=session, actor=actor, council_id=self.council_id, entries=[spec for spec, _ in chunk])
                if after is not None:
                    after(session, [(tag, entry.id) for (_, tag), entry in zip(chunk, entries)])
                session.commit()
            with self._lock:
                self.posted.entries += len(chunk)
                self.posted.postings += sum(len(spec.postings) for spec, _ in chunk)
                self.posted.transactions += 1


class History:
    """Play the weeks of one World through the ledger."""

    def __init__(self, world: World, factory: sessionmaker, history_clock: HistoryClock, *, batch: int, seed: int) -> None:
        self.world, self.factory, self.clock = world, factory, history_clock
        self.poster = Poster(factory, world.council_id, batch)
        self.rng = random.Random(seed * 7919 + 1)
        self.balance: dict[str, int] = {}
        with factory() as session:
            self.system = session.get(User, world.system_id)
            self.broker = session.get(User, world.broker_id)
        self.runs = 0
        self._plan_leavers()

    def _plan_leavers(self) -> None:
        """Choose about one holder in a hundred (at least one) to leave a group of four or more, at the end of a week."""
        big = [g for g in self.world.groups if len(g.members) >= 4]
        wanted = max(1, len(self.world.allocations) * LEAVERS) if big else 0
        for group in self.rng.sample(big, min(len(big), int(wanted))):
            self.rng.choice(group.members).leaves_after = self.rng.randrange(self.world.weeks)

    def _add(self, code: str, pence: int) -> None:
        self.balance[code] = self.balance.get(code, 0) + pence

    def play(self, on_week: Callable[[int], None] | None = None, between_weeks: Callable[[int], None] | None = None) -> Posted:
        """Post every week in order, then seal what is left; return what was posted.

        `between_weeks(week)` runs before each week, outside any transaction (the build vacuums there).
        """
        for week in range(self.world.weeks):
            if between_weeks:
                between_weeks(week)
            monday = self.world.start + timedelta(weeks=week)
            period = period_of(monday)
            if week % DP_WEEKS == 0:
                self.clock.at(monday, 6)
                self._direct_payments(period)
            self.clock.at(monday, 7)
            self._pledges(week, period)
            if week % RUN_WEEKS == RUN_WEEKS - 1:
                self._payment_run(monday)
            self.clock.at(monday + timedelta(days=6), 18)
            reverse = self._care(week, period)
            self.clock.at(monday + timedelta(days=6), 19)
            self._reversals(reverse)
            self.clock.at(monday + timedelta(days=6), 20)
            self._leavers(week, monday + timedelta(days=6))
            if week % SEAL_WEEKS == SEAL_WEEKS - 1 or week == self.world.weeks - 1:
                self.clock.at(monday + timedelta(days=6), 23)
                self._seal()
            if on_week:
                on_week(week + 1)
        return self.poster.posted

    def _direct_payments(self, period: str) -> None:
        items = []
        for holder_id, allocation in sorted(self.world.allocations.items()):
            pence = allocation * DP_WEEKS
            wallet = f"holder:{holder_id}:wallet"
            items.append((EntrySpec(
                kind=kinds.EntryKind.dp_issued, memo=f"Direct payment for four weeks from {period}",
                idempotency_key=kinds.dp_issued_key(holder_id=holder_id, week=period),
                postings=[(self.world.funding, -pence), (wallet, pence)],
            ), None))
            self._add(wallet, pence)
        self.poster.post(self.system, items)

    def _pledges(self, week: int, period: str) -> None:
        by_part: list[list] = [[] for _ in range(self.world.parts)]
        for group in self.world.groups:
            for member in self._active(group, week):
                by_part[group.part].append((EntrySpec(
                    kind=kinds.EntryKind.pledge_collected, memo=f"Pledge to {group.name} for {period}",
                    idempotency_key=kinds.pledge_key(membership_id=member.membership_id, week=period),
                    postings=[(member.wallet, -member.pledge), (member.share, member.pledge)],
                ), None))
                self._add(member.wallet, -member.pledge)
                self._add(member.share, member.pledge)
        self.poster.post_parts(self.system, by_part)

    @staticmethod
    def _active(group: Group, week: int) -> list:
        return [m for m in group.members if m.leaves_after is None or m.leaves_after >= week]

    def _care(self, week: int, period: str) -> list[tuple[int, list[tuple[str, int]]]]:
        """Approve each contract's week of care; return the (entry id, postings) of those to reverse."""
        by_part: list[list] = [[] for _ in range(self.world.parts)]
        for group in self.world.groups:
            members = self._active(group, week)
            room = self._room(members)
            for n, deal in enumerate(group.deals):
                if self.rng.random() < NO_CARE:
                    continue
                # The hours delivered vary around the contract's; a week never costs more than the shares hold.
                minutes = deal.hours * 60 * self.rng.randint(90, 106) // 100 // 15 * 15
                cost = min(deal.rate * minutes // 60, room)
                if cost <= 0:
                    continue
                room -= cost
                parts = allocate_shared_cost(cost, {m.holder_id: m.pledge for m in members})
                postings = [(f"pool:{group.cluster_id}:{h}", -part) for h, part in sorted(parts.items()) if part]
                supplier = self.world.suppliers[deal.provider_id]
                postings.append((supplier.payable, cost))
                for code, pence in postings:
                    self._add(code, pence)
                reverse = self.rng.random() < REVERSED_CARE or (week == 0 and n == 0 and group is self.world.groups[0])
                sheet = {
                    "contract_id": deal.contract_id, "provider_id": deal.provider_id, "cluster_id": group.cluster_id, "week": period,
                    "total_pence": cost, "rate_pence": deal.rate, "hours_per_week": deal.hours,
                    "parts": {str(h): part for h, part in sorted(parts.items())}, "reverse": reverse, "postings": postings,
                }
                by_part[group.part].append((EntrySpec(
                    kind=kinds.EntryKind.care_cost, memo=f"Care from {supplier.name} for {group.name}, {period}",
                    idempotency_key=kinds.care_cost_key(contract_id=deal.contract_id, week=period), postings=postings,
                ), sheet))
        reverse: list[tuple[int, list[tuple[str, int]]]] = []

        def timesheets(session, posted: list[tuple[dict, int]]) -> None:
            now = clock.now()
            rows = []
            for sheet, entry_id in posted:
                if sheet["reverse"]:
                    reverse.append((entry_id, sheet["postings"]))
                rows.append({
                    "council_id": self.world.council_id, "contract_id": sheet["contract_id"], "provider_id": sheet["provider_id"],
                    "cluster_id": sheet["cluster_id"], "week": sheet["week"], "status": TimesheetStatus.approved,
                    "submitted_at": now - timedelta(hours=2), "decided_at": now, "decided_by_id": self.broker.id, "rejection_reason": "",
                    "total_pence": sheet["total_pence"], "travel_paid": False, "rate_pence": sheet["rate_pence"],
                    "hours_per_week": sheet["hours_per_week"], "allocation_rule": AllocationRule.by_pledge, "parts": sheet["parts"],
                    "care_entry_id": entry_id, "created_at": now - timedelta(days=1),
                })
            session.connection().execute(Timesheet.__table__.insert(), rows)

        self.poster.post_parts(self.broker, by_part, after=timesheets)
        return reverse

    def _room(self, members: list) -> int:
        """Return what the members' shares can pay this week when each pays in proportion to their pledge (2% kept back)."""
        if not members:
            return 0
        pledged = sum(m.pledge for m in members)
        # The member with the least in their share, for their pledge, sets the limit; the split's rounding adds at most 1p each.
        return min(self.balance.get(m.share, 0) * pledged // m.pledge for m in members) * 98 // 100 - len(members)

    def _reversals(self, reverse: list[tuple[int, list[tuple[str, int]]]]) -> None:
        items = []
        for entry_id, postings in sorted(reverse):
            items.append((EntrySpec(
                kind=kinds.EntryKind.reversal, memo=f"Reverses entry {entry_id}: care approved in error", reverses_id=entry_id,
                idempotency_key=f"care-reversed:{entry_id}", postings=[(code, -pence) for code, pence in postings],
            ), None))
            for code, pence in postings:
                self._add(code, -pence)
        self.poster.post(self.broker, items)

    def _leavers(self, week: int, sunday: date) -> None:
        leaving = [(g, m) for g in self.world.groups for m in g.members if m.leaves_after == week]
        items = []
        for group, member in leaving:
            share = self.balance.get(member.share, 0)
            if share > 0:
                items.append((EntrySpec(
                    kind=kinds.EntryKind.member_left, memo="Pool share returned at the end of notice",
                    idempotency_key=kinds.member_left_key(membership_id=member.membership_id),
                    postings=[(member.share, -share), (member.wallet, share)],
                ), None))
                self._add(member.share, -share)
                self._add(member.wallet, share)
        self.poster.post(self.system, items)
        if leaving:
            with self.factory() as session:
                table = Membership.__table__
                session.connection().execute(
                    update(table).where(table.c.id == bindparam("membership")).values(
                        status=MembershipStatus.left, notice_date=sunday - timedelta(weeks=4), leaves_on=sunday,
                        changed_by_id=self.broker.id, changed_at=clock.now(),
                    ),
                    [{"membership": m.membership_id} for _, m in leaving],
                )
                session.commit()

    def _payment_run(self, monday: date) -> None:
        """Prepare on Tuesday, release and send on Wednesday, confirm on Thursday."""
        due = [(s, self.balance.get(s.payable, 0)) for s in self.world.suppliers.values() if self.balance.get(s.payable, 0) > 0]
        if not due:
            return
        self.runs += 1
        self.clock.at(monday + timedelta(days=1), 10)
        prepared_at = clock.now()
        self.clock.at(monday + timedelta(days=2), 11)
        released_at = clock.now()
        with self.factory() as session:
            run_id = session.connection().execute(PaymentRun.__table__.insert().returning(PaymentRun.__table__.c.id), {
                "council_id": self.world.council_id, "status": RunStatus.paying, "prepared_by_id": self.world.broker_id,
                "prepared_at": prepared_at, "released_by_id": self.world.officer_id, "released_at": released_at,
                "total_pence": sum(pence for _, pence in due), "started_at": released_at,
            }).scalar_one()
            session.commit()
        items = []
        for supplier, pence in due:
            items.append((EntrySpec(
                kind=kinds.EntryKind.payout_sent, memo=f"Payment run {run_id}: payment to {supplier.name}",
                idempotency_key=kinds.payout_key(run_id=run_id, provider_id=supplier.provider_id),
                postings=[(supplier.payable, -pence), (CLEARING_CODE, pence)],
            ), (supplier, pence)))
            self._add(supplier.payable, -pence)
            self._add(CLEARING_CODE, pence)
        lines: dict[int, tuple] = {}

        def write_lines(session, posted) -> None:
            now = clock.now()
            rows = [
                {
                    "council_id": self.world.council_id, "run_id": run_id, "provider_id": supplier.provider_id, "amount_pence": pence,
                    "status": LineStatus.sent, "stripe_transfer_id": f"tr_bench_{run_id}_{supplier.provider_id}", "reason": "",
                    "payout_entry_id": entry_id, "attempts": 1, "sent_at": now, "updated_at": now,
                }
                for (supplier, pence), entry_id in posted
            ]
            table = PaymentLine.__table__
            ids = session.connection().execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
            for line_id, ((supplier, pence), entry_id) in zip(ids, posted):
                lines[supplier.provider_id] = (line_id, supplier, pence, entry_id)

        self.poster.post(self.system, items, after=write_lines)
        self.clock.at(monday + timedelta(days=3), 9)
        self._confirm(run_id, lines)

    def _confirm(self, run_id: int, lines: dict[int, tuple]) -> None:
        """Stripe confirms each transfer (payout_paid), or refused it (the payout is reversed back to payable)."""
        items = []
        first = self.runs == 1
        for n, (line_id, supplier, pence, entry_id) in enumerate(sorted(lines.values(), key=lambda line: line[0])):
            if self.rng.random() < FAILED_PAYOUTS or (first and n == 0):
                spec = EntrySpec(
                    kind=kinds.EntryKind.reversal, reverses_id=entry_id,
                    idempotency_key=kinds.payout_failed_key(run_id=run_id, provider_id=supplier.provider_id),
                    memo=f"Payment run {run_id}: Stripe refused the transfer, so the money is back in payable",
                    postings=[(CLEARING_CODE, -pence), (supplier.payable, pence)],
                )
                self._add(supplier.payable, pence)
                items.append((spec, (line_id, False)))
            else:
                spec = EntrySpec(
                    kind=kinds.EntryKind.payout_paid, memo=f"Payment run {run_id}: Stripe confirmed transfer tr_bench_{run_id}_{supplier.provider_id}",
                    idempotency_key=kinds.stripe_event_key(event_id=f"evt_bench_{self.world.council_id}_{run_id}_{supplier.provider_id}"),
                    postings=[(CLEARING_CODE, -pence), (supplier.paid, pence)],
                )
                items.append((spec, (line_id, True)))
            self._add(CLEARING_CODE, -pence)
        failed = []

        def settle_lines(session, posted) -> None:
            now = clock.now()
            table = PaymentLine.__table__
            statement = update(table).where(table.c.id == bindparam("line")).values(
                status=bindparam("new_status"), paid_entry_id=bindparam("paid_entry"), reason=bindparam("why"), updated_at=now,
            )
            session.connection().execute(statement, [
                {"line": line_id, "new_status": LineStatus.paid if paid else LineStatus.failed, "paid_entry": entry_id if paid else None,
                 "why": "" if paid else "Stripe refused the transfer: the account could not receive it. The next payment run will pay it."}
                for (line_id, paid), entry_id in posted
            ])
            failed.extend(line_id for (line_id, paid), _ in posted if not paid)

        self.poster.post(self.system, items, after=settle_lines)
        with self.factory() as session:
            table = PaymentRun.__table__
            session.connection().execute(update(table).where(table.c.id == run_id).values(
                status=RunStatus.paid_with_failures if failed else RunStatus.paid, finished_at=clock.now(),
            ))
            session.commit()

    def _seal(self) -> None:
        with self.factory() as session:
            seal(session=session, actor=self.system, council_id=self.world.council_id)
            session.commit()
