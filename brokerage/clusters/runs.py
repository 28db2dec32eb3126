"""Weekly money runs: issue direct payments and collect pledges. Idempotent per holder or membership and period."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlmodel import Session, select

from brokerage.accounts.models import User
from brokerage.clusters import rules
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.holders.models import Holder
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.services import EntrySpec, lock_accounts, post_entries

BATCH = 500


@dataclass
class RunReport:
    """What a run did."""

    period: str
    posted: int = 0
    already: int = 0
    skipped: list[str] = field(default_factory=list)
    total_pence: int = 0

    def as_dict(self) -> dict:
        """Return the report as plain data (for jobs)."""
        return {"period": self.period, "posted": self.posted, "already": self.already, "skipped": self.skipped, "total_pence": self.total_pence}


def _existing_keys(session: Session, council_id: int, keys: list[str]) -> set[str]:
    from brokerage.ledger.models import JournalEntry

    found: set[str] = set()
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        found.update(session.exec(select(JournalEntry.idempotency_key).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key.in_(chunk))))
    return found


def issue_dp(
    *, session: Session, actor: User | None, council_id: int, period: str, progress: Callable[[int, int], None] | None = None
) -> RunReport:
    """Post each holder's weekly allocation for the period from the council's funding to their wallet."""
    rules.parse_period(period)
    holders = list(session.exec(select(Holder).where(Holder.council_id == council_id, Holder.weekly_allocation_pence > 0).order_by(Holder.id)))
    report = RunReport(period=period)
    keys = {h.id: f"dp:{h.id}:{period}" for h in holders}
    done = _existing_keys(session, council_id, list(keys.values()))
    specs = []
    for holder in holders:
        if keys[holder.id] in done:
            report.already += 1
            continue
        specs.append(EntrySpec(
            kind="dp_issued", memo=f"Direct payment for {period}", idempotency_key=keys[holder.id],
            postings=[(ledger_rules.funding_code(council_id), -holder.weekly_allocation_pence), (ledger_rules.wallet_code(holder.id), holder.weekly_allocation_pence)],
        ))
        report.total_pence += holder.weekly_allocation_pence
    for start in range(0, len(specs), BATCH):
        post_entries(session=session, actor=actor, council_id=council_id, entries=specs[start:start + BATCH])
        report.posted += len(specs[start:start + BATCH])
        if progress:
            progress(report.posted, len(specs))
    return report


def collect_pledges(
    *, session: Session, actor: User | None, council_id: int, period: str, progress: Callable[[int, int], None] | None = None
) -> RunReport:
    """Move each active pledge for the period from the holder's wallet to their share of the pool.

    A member whose wallet is short is skipped and named in the report; nobody else is held up.
    """
    monday, _ = rules.parse_period(period)
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
        )
    )
    # Members on notice still pay in until their notice ends.
    rows = [(m, c) for m, c in rows if m.status == MembershipStatus.active or (m.leaves_on and m.leaves_on >= monday)]
    report = RunReport(period=period)
    keys = {m.id: f"pledge:{m.id}:{period}" for m, _ in rows}
    done = _existing_keys(session, council_id, list(keys.values()))
    pending = [(m, c) for m, c in rows if keys[m.id] not in done]
    report.already = len(rows) - len(pending)
    # One query locks every wallet involved; balances then run forward in memory.
    balances = {
        code: balance
        for code, (_, balance, _) in lock_accounts(
            session=session, council_id=council_id, codes=(ledger_rules.wallet_code(m.holder_id) for m, _ in pending)
        ).items()
    }
    names = dict(session.exec(select(Holder.id, Holder.name).where(Holder.id.in_({m.holder_id for m, _ in pending}))).all()) if pending else {}
    specs = []
    for membership, cluster in pending:
        wallet = ledger_rules.wallet_code(membership.holder_id)
        if balances[wallet] < membership.weekly_pledge_pence:
            report.skipped.append(f"{names.get(membership.holder_id, membership.holder_id)} ({cluster.name}): wallet too low for the pledge")
            continue
        balances[wallet] -= membership.weekly_pledge_pence
        report.total_pence += membership.weekly_pledge_pence
        specs.append(EntrySpec(
            kind="pledge_collected", memo=f"Pledge to {cluster.name} for {period}", idempotency_key=keys[membership.id],
            postings=[(wallet, -membership.weekly_pledge_pence), (ledger_rules.pool_code(cluster.id, membership.holder_id), membership.weekly_pledge_pence)],
        ))
    for start in range(0, len(specs), BATCH):
        post_entries(session=session, actor=actor, council_id=council_id, entries=specs[start:start + BATCH])
        report.posted += len(specs[start:start + BATCH])
        if progress:
            progress(report.posted, len(specs))
    return report


def issue_dp_job(*, council_id: int, period: str) -> dict:
    """Run issue_dp for one council as a job."""
    from brokerage.db import session_scope

    with session_scope() as session:
        return issue_dp(session=session, actor=None, council_id=council_id, period=period).as_dict()


def collect_job(*, council_id: int, period: str) -> dict:
    """Run collect_pledges for one council as a job."""
    from brokerage.db import session_scope

    with session_scope() as session:
        return collect_pledges(session=session, actor=None, council_id=council_id, period=period).as_dict()


def settle_job(*, council_id: int) -> dict:
    """Settle leavers whose notice has ended, and decide proposals past their deadline (a daily job)."""
    from brokerage.clusters.services import close_due_proposals, settle_leavers
    from brokerage.db import session_scope

    # Separate transactions: refunds to leavers never wait on a proposal that cannot be decided.
    with session_scope() as session:
        settled = settle_leavers(session=session, actor=None, council_id=council_id)
    with session_scope() as session:
        decided = close_due_proposals(session=session, actor=None, council_id=council_id)
    return {"settled": len(settled), "decided": len(decided)}
