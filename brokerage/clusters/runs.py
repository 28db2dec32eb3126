"""Weekly money runs: issue direct payments and collect pledges. Idempotent per holder or tenure and week."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from sqlmodel import Session, select

from brokerage import clock
from brokerage.accounts.models import User
from brokerage.accounts.system import system_actor
from brokerage.clusters import rules
from brokerage.clusters.errors import RECORD_ERRORS, BadPeriod, failure_message
from brokerage.clusters.governance import close_due_proposals
from brokerage.clusters.membership import lock_balances, settle_leavers
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.db import session_scope
from brokerage.holders.models import Holder
from brokerage.ledger import kinds
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.services import EntrySpec, lock_run_writer, post_in_batches
from brokerage.locks import lock_rows

BATCH = 500


def today() -> date:
    """Return the date the money runs count as today: England's date (brokerage.clock)."""
    return clock.today()


def check_period(period: str, *, on: date | None = None) -> tuple[date, date]:
    """Return the Monday and Sunday of a week a run may post for, or raise BadPeriod naming the field."""
    try:
        return rules.run_period(period, today=on or today())
    except ValueError as error:
        raise BadPeriod(str(error), field="period") from None


@dataclass
class RunReport:
    """What a run did."""

    period: str
    posted: int = 0
    already: int = 0
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    total_pence: int = 0

    def as_dict(self) -> dict:
        """Return the report as plain data (for jobs)."""
        return {
            "period": self.period, "posted": self.posted, "already": self.already, "skipped": self.skipped,
            "failed": self.failed, "total_pence": self.total_pence,
        }


def _existing_keys(session: Session, council_id: int, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        found.update(session.exec(select(JournalEntry.idempotency_key).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key.in_(chunk))))
    return found


def _post_each(
    session: Session, actor: User, council_id: int, items: list[tuple[str, EntrySpec, int]], report: RunReport,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Post (label, spec, pence) items through the ledger's batch loop; one bad record holds up nobody and is named."""
    outcomes = post_in_batches(
        session=session, actor=actor, council_id=council_id, entries=[spec for _, spec, _ in items], batch_size=BATCH, progress=progress,
    )
    for (label, _, pence), outcome in zip(items, outcomes):
        if isinstance(outcome, Exception):
            report.failed.append(f"{label}: {failure_message(outcome)}")
        else:
            report.posted += 1
            report.total_pence += pence


def issue_dp(
    *, session: Session, actor: User, council_id: int, period: str, progress: Callable[[int, int], None] | None = None
) -> RunReport:
    """Post each holder's weekly allocation for the period from the council's funding to their wallet.

    A holder registered after the week ended gets nothing for it. A holder whose payment fails is
    named in the report's failures; everyone else is paid.
    """
    monday, sunday = check_period(period)
    holders = [
        h for h in session.exec(select(Holder).where(Holder.council_id == council_id, Holder.weekly_allocation_pence > 0).order_by(Holder.id))
        if rules.covers_week(start=clock.london(h.created_at).date(), end=None, monday=monday, sunday=sunday)
    ]
    report = RunReport(period=period)
    # The holder and the canonical ASCII week name the payment: one per holder per week.
    keys = {h.id: kinds.dp_issued_key(holder_id=h.id, week=period) for h in holders}
    done = _existing_keys(session, council_id, list(keys.values()))
    items = []
    for holder in holders:
        if keys[holder.id] in done:
            report.already += 1
            continue
        items.append((holder.name, EntrySpec(
            kind=kinds.EntryKind.dp_issued, memo=f"Direct payment for {period}", idempotency_key=keys[holder.id],
            postings=[(ledger_rules.funding_code(council_id), -holder.weekly_allocation_pence), (ledger_rules.wallet_code(holder.id), holder.weekly_allocation_pence)],
        ), holder.weekly_allocation_pence))
    _post_each(session, actor, council_id, items, report, progress)
    return report


def collect_pledges(
    *, session: Session, actor: User, council_id: int, period: str, progress: Callable[[int, int], None] | None = None
) -> RunReport:
    """Move each active pledge for the period from the holder's wallet to their share of the pool.

    Only weeks within the membership (from its start to the end of any notice) are charged. A
    member whose wallet is short is skipped, and one whose collection fails is named in the
    report's failures; nobody else is held up.
    """
    monday, sunday = check_period(period)
    # The council's money runs queue on one writer, taken before any row (a DP issue holding it locks wallets).
    lock_run_writer(session, council_id)
    # Then every active group, in id order (locks.py: groups before ledger accounts), and the pledges read again
    # under those locks: a group a vote closes meanwhile is either closed before this reads it (and is left out)
    # or waits for this run, and then refunds what it paid in. Paying into a share the vote had just returned
    # would leave money in a closed pool.
    lock_rows(session, Cluster, session.exec(
        select(Cluster.id).where(Cluster.council_id == council_id, Cluster.status == ClusterStatus.active)
    ).all())
    rows = list(
        session.exec(
            select(Membership, Cluster)
            .join(Cluster, Cluster.id == Membership.cluster_id)
            .where(
                Membership.council_id == council_id,
                Membership.status.in_([MembershipStatus.active, MembershipStatus.leaving]),
                Cluster.status == ClusterStatus.active,
                Membership.weekly_pledge_pence > 0,
            )
            .order_by(Membership.id)
            .execution_options(populate_existing=True)
        )
    )
    # Members on notice still pay in until their notice ends; nobody pays for a week before they joined.
    rows = [(m, c) for m, c in rows if rules.covers_week(start=m.start_date, end=m.leaves_on, monday=monday, sunday=sunday)]
    report = RunReport(period=period)
    # A membership row is one tenure (a rejoin is a new row), so this names one tenure's pledge for one week.
    keys = {m.id: kinds.pledge_key(membership_id=m.id, week=period) for m, _ in rows}
    done = _existing_keys(session, council_id, list(keys.values()))
    pending = [(m, c) for m, c in rows if keys[m.id] not in done]
    report.already = len(rows) - len(pending)
    # One query locks every wallet involved; balances then run forward in memory.
    unopened: dict[str, str] = {}
    balances = lock_balances(session, council_id, {ledger_rules.wallet_code(m.holder_id) for m, _ in pending}, unopened)
    names = dict(session.exec(select(Holder.id, Holder.name).where(Holder.id.in_({m.holder_id for m, _ in pending}))).all()) if pending else {}
    items = []
    for membership, cluster in pending:
        wallet = ledger_rules.wallet_code(membership.holder_id)
        label = f"{names.get(membership.holder_id, membership.holder_id)} ({cluster.name})"
        if wallet in unopened:
            report.failed.append(f"{label}: {unopened[wallet]}")
            continue
        if balances[wallet] < membership.weekly_pledge_pence:
            report.skipped.append(f"{label}: wallet too low for the pledge")
            continue
        balances[wallet] -= membership.weekly_pledge_pence
        items.append((label, EntrySpec(
            kind=kinds.EntryKind.pledge_collected, memo=f"Pledge to {cluster.name} for {period}", idempotency_key=keys[membership.id],
            postings=[(wallet, -membership.weekly_pledge_pence), (ledger_rules.pool_code(cluster.id, membership.holder_id), membership.weekly_pledge_pence)],
        ), membership.weekly_pledge_pence))
    _post_each(session, actor, council_id, items, report, progress)
    return report


def issue_dp_job(*, council_id: int, period: str) -> dict:
    """Run issue_dp for one council as a job."""
    with session_scope() as session:
        return issue_dp(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id, period=period).as_dict()


def collect_job(*, council_id: int, period: str) -> dict:
    """Run collect_pledges for one council as a job."""
    with session_scope() as session:
        return collect_pledges(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id, period=period).as_dict()


def settle_job(*, council_id: int) -> dict:
    """Settle leavers whose notice has ended, and decide proposals past their deadline (a daily job)."""
    # Separate transactions: refunds to leavers never wait on a proposal that cannot be decided.
    with session_scope() as session:
        settled = settle_leavers(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id, today=today())
    with session_scope() as session:
        decided = close_due_proposals(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id)
    return {
        "settled": len(settled.done), "waiting": settled.waiting, "decided": len(decided.done), "failed": settled.failed + decided.failed,
    }
