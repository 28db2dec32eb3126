"""The daily surplus review: apply the council's rule to every active member's pool share and keep the flags up to date.

A share with unspent money gets one open flag (raised today, with the earliest clawback date after the
council's notice); an open flag's amount and reason follow each review; a flag that no longer applies
(the money was spent, the member is leaving or left, the group is closing, the council changed its rule)
is closed with the reason, never deleted, and a clawback still waiting under it is withdrawn.

It reads the ledger only through `brokerage.ledger.queries.statement`. Lock order: flags in id order, then
their waiting clawbacks (the same order as proposing and deciding a clawback, `services.py`). Running it
twice on a day changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import same_council
from brokerage.accounts.models import User
from brokerage.accounts.system import system_actor
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.db import session_scope
from brokerage.errors import AlreadyDone
from brokerage.holders.models import Holder
from brokerage.ledger.models import LedgerAccount
from brokerage.ledger.queries import statement
from brokerage.ledger.rules import AccountType
from brokerage.locks import insert_once, lock_row, lock_rows
from brokerage.surplus import rules
from brokerage.surplus.models import Clawback, SurplusFlag
from brokerage.surplus.rules import Assessment, ClawbackStatus, FlagStatus, RuleSettings
from brokerage.surplus.settings import rule_of
from brokerage.types import utcnow


@dataclass
class ReviewReport:
    """What one council's review did."""

    council_id: int
    today: date
    opened: int = 0
    updated: int = 0
    kept: int = 0
    closed: int = 0
    withdrawn: int = 0  # clawbacks still waiting when their flag closed

    def as_dict(self) -> dict:
        """Return the report as plain data (for jobs)."""
        return {
            "council_id": self.council_id, "today": self.today.isoformat(), "opened": self.opened, "updated": self.updated,
            "kept": self.kept, "closed": self.closed, "withdrawn": self.withdrawn,
        }


def assess_share(
    *, session: Session, actor: User, council_id: int, code: str, settings: RuleSettings, today: date, weekly_pledge: int,
) -> Assessment | None:
    """Apply the council's rule to one pool share, read from its postings; None when nothing in it counts as unspent."""
    # A microsecond before the first day begins, so a posting at midnight exactly counts on that day.
    start = clock.start_of_day(rules.first_day_needed(settings, today)) - timedelta(microseconds=1)
    found = statement(session=session, actor=actor, council_id=council_id, code=code, start=start, end=clock.now())
    movements = [(clock.london(line.at).date(), line.amount) for line in found.lines]
    return rules.assess(settings=settings, today=today, opening=found.opening, movements=movements, weekly_pledge=weekly_pledge)


def _live_memberships(session: Session, council_id: int) -> dict[tuple[int, int], Membership]:
    """Return the active memberships of active groups, by (cluster, holder): the shares the rule applies to."""
    rows = session.exec(
        select(Membership)
        .join(Cluster, Cluster.id == Membership.cluster_id)
        .where(Membership.council_id == council_id, Membership.status == MembershipStatus.active, Cluster.status == ClusterStatus.active)
        .order_by(Membership.id)
    )
    return {(m.cluster_id, m.holder_id): m for m in rows}


def _pool_shares(session: Session, council_id: int) -> dict[tuple[int, int], LedgerAccount]:
    # Balances as committed now: the ledger's trigger changes them behind the session's back.
    rows = session.exec(
        select(LedgerAccount).where(LedgerAccount.council_id == council_id, LedgerAccount.account_type == AccountType.pool)
        .execution_options(populate_existing=True)
    )
    return {(a.cluster_id, a.holder_id): a for a in rows}


def _withdraw_waiting(session: Session, actor: User, flag: SurplusFlag, why: str) -> int:
    """Withdraw any clawback still waiting under a flag that has closed; return how many."""
    ids = session.exec(select(Clawback.id).where(Clawback.flag_id == flag.id, Clawback.status == ClawbackStatus.proposed)).all()
    waiting = lock_rows(session, Clawback, ids)
    for clawback in waiting:
        clawback.status = rules.move_clawback(clawback.status, ClawbackStatus.cancelled)
        clawback.cancelled_by_id, clawback.decided_at = actor.id, utcnow()
        clawback.note = f"Withdrawn when the flag closed: {why}"[:500]
        session.add(clawback)
    return len(waiting)


def close_flag(*, session: Session, actor: User, flag: SurplusFlag, today: date, why: str) -> int:
    """Close a locked open flag with the reason, withdrawing any clawback waiting under it; return how many were withdrawn."""
    flag.status = rules.move_flag(flag.status, FlagStatus.closed)
    flag.closed_on, flag.closed_reason = today, why[:300]
    session.add(flag)
    return _withdraw_waiting(session, actor, flag, why)


def _names(session: Session, flags: list[SurplusFlag]) -> tuple[dict[int, str], dict[int, str]]:
    holders = {f.holder_id for f in flags}
    clusters = {f.cluster_id for f in flags}
    people = dict(session.exec(select(Holder.id, Holder.name).where(Holder.id.in_(holders))).all()) if holders else {}
    groups = dict(session.exec(select(Cluster.id, Cluster.name).where(Cluster.id.in_(clusters))).all()) if clusters else {}
    return people, groups


def review_council(*, session: Session, actor: User, council_id: int, today: date | None = None) -> ReviewReport:
    """Raise, update and close the council's surplus flags as of today in England (flushed, not committed)."""
    same_council(actor, council_id, what="council")
    today = today or clock.today()
    settings = rule_of(session=session, council_id=council_id)
    report = ReviewReport(council_id=council_id, today=today)
    live = _live_memberships(session, council_id)
    shares = _pool_shares(session, council_id)
    findings: dict[tuple[int, int], Assessment] = {}
    for key, membership in live.items():
        account = shares.get(key)
        if account is None or account.balance_pence <= 0:
            continue
        found = assess_share(session=session, actor=actor, council_id=council_id, code=account.code, settings=settings, today=today,
                             weekly_pledge=membership.weekly_pledge_pence)
        if found is not None:
            findings[key] = found

    open_flags = list(session.exec(
        select(SurplusFlag).where(SurplusFlag.council_id == council_id, SurplusFlag.status == FlagStatus.open).order_by(SurplusFlag.id)
    ))
    people, groups = _names(session, open_flags)
    still_open: set[tuple[int, int]] = set()
    for seen in open_flags:
        flag = lock_row(session, SurplusFlag, seen.id)
        if flag.status != FlagStatus.open:
            continue  # another review closed it while this one was reading
        key = (flag.cluster_id, flag.holder_id)
        membership = live.get(key)
        if membership is None or membership.id != flag.membership_id:
            why = rules.member_gone_reason(people.get(flag.holder_id, "The member"), groups.get(flag.cluster_id, "the group"))
        elif flag.rule != settings.kind:
            why = rules.RULE_CHANGED
        elif key not in findings:
            why = rules.NO_LONGER_UNSPENT
        else:
            found = findings[key]
            if (flag.amount_pence, flag.reason) != (found.amount, found.reason):
                flag.amount_pence, flag.reason = found.amount, found.reason
                report.updated += 1
            else:
                report.kept += 1
            flag.reviewed_on = today
            session.add(flag)
            still_open.add(key)
            continue
        report.withdrawn += close_flag(session=session, actor=actor, flag=flag, today=today, why=why)
        report.closed += 1
    session.flush()

    for key, found in sorted(findings.items()):
        if key in still_open:
            continue
        flag = SurplusFlag(
            council_id=council_id, cluster_id=key[0], holder_id=key[1], membership_id=live[key].id, rule=settings.kind,
            amount_pence=found.amount, reason=found.reason, raised_on=today, reviewed_on=today,
            clawback_from=rules.clawback_from(today, settings.notice_days),
        )
        try:
            # One open flag per share (a partial unique index): a review running at the same moment raised it first.
            with insert_once(session, AlreadyDone("This share was flagged by another review at the same moment.")):
                session.add(flag)
        except AlreadyDone:
            continue
        report.opened += 1
    session.flush()
    return report


def review_job(*, council_id: int) -> dict:
    """Review one council's surplus as its system user (a daily job; running it again the same day changes nothing)."""
    with session_scope() as session:
        actor = system_actor(session=session, council_id=council_id)
        return review_council(session=session, actor=actor, council_id=council_id).as_dict()
