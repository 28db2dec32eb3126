"""Reading surplus flags and clawbacks for pages: the officers' overview and a flag's page, and a holder's own flags.

Nothing here writes, except that a member of staff opening one flag's page, or the overview, is recorded in the
access log (they show people's money).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, func, select

from brokerage import clock
from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Role, User
from brokerage.audit import log_access
from brokerage.audit.rules import SURPLUS_LIST
from brokerage.audit.services import log_accesses
from brokerage.clusters.models import Cluster, Membership, MembershipStatus
from brokerage.errors import NotAllowed
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import holders_for_representative
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.queries import balance
from brokerage.surplus import rules
from brokerage.surplus.models import Clawback, SurplusFlag
from brokerage.surplus.rules import ClawbackStatus, FlagStatus, RuleSettings
from brokerage.surplus.services import OFFICERS, WaitingClawback, waiting_clawbacks
from brokerage.surplus.settings import rule_of

RECENT_DECISIONS = 20


def _check_officer(actor: User) -> None:
    if actor.role not in OFFICERS:
        raise NotAllowed("Only council officers can see surplus flags and clawbacks.")


@dataclass
class FlagRow:
    """An open flag with the member's and the group's names, and any clawback waiting under it."""

    flag: SurplusFlag
    holder_name: str
    group_name: str
    waiting: Clawback | None = None
    # The member gave notice to leave the group (their day of leaving, if set): the next review closes the flag.
    leaving: bool = False
    leaves_on: date | None = None


@dataclass
class DecidedClawback:
    """A clawback that was approved, rejected or withdrawn, with who proposed and who decided it."""

    clawback: Clawback
    holder_name: str
    group_name: str
    proposed_by: str
    decided_by: str


@dataclass
class SurplusPage:
    """The officers' surplus page: the rule, open flags per member, clawbacks waiting, and recent decisions."""

    settings: RuleSettings
    today: date
    flags: list[FlagRow]
    waiting: list[WaitingClawback]
    decided: list[DecidedClawback] = field(default_factory=list)

    @property
    def flagged_pence(self) -> int:
        """Return the total that could be taken back under the open flags."""
        return sum(row.flag.amount_pence for row in self.flags)


def _people(session: Session, ids: set[int]) -> dict[int, str]:
    ids.discard(None)
    return dict(session.exec(select(User.id, User.name).where(User.id.in_(sorted(ids)))).all()) if ids else {}


def surplus_page(*, session: Session, actor: User) -> SurplusPage:
    """Return the officers' surplus page for the actor's council; log the read of each member's money it names."""
    _check_officer(actor)
    council_id = actor.council_id
    rows = session.exec(
        select(SurplusFlag, Holder.name, Cluster.name, Membership.status, Membership.leaves_on)
        .join(Holder, Holder.id == SurplusFlag.holder_id)
        .join(Cluster, Cluster.id == SurplusFlag.cluster_id)
        .join(Membership, Membership.id == SurplusFlag.membership_id)
        .where(SurplusFlag.council_id == council_id, SurplusFlag.status == FlagStatus.open)
        .order_by(Holder.name, Cluster.name, SurplusFlag.id)
    ).all()
    waiting = waiting_clawbacks(session=session, council_id=council_id)
    by_flag = {row.clawback.flag_id: row.clawback for row in waiting}
    flags = [
        FlagRow(flag=f, holder_name=h, group_name=g, waiting=by_flag.get(f.id), leaving=status == MembershipStatus.leaving,
                leaves_on=leaves_on if status == MembershipStatus.leaving else None)
        for f, h, g, status, leaves_on in rows
    ]
    decided_rows = session.exec(
        select(Clawback, Holder.name, Cluster.name)
        .join(Holder, Holder.id == Clawback.holder_id)
        .join(Cluster, Cluster.id == Clawback.cluster_id)
        .where(Clawback.council_id == council_id, Clawback.status != ClawbackStatus.proposed)
        .order_by(Clawback.decided_at.desc(), Clawback.id.desc())
        .limit(RECENT_DECISIONS)
    ).all()
    people = _people(session, {c.proposed_by_id for c, _, _ in decided_rows} | {c.decided_by_id or c.cancelled_by_id for c, _, _ in decided_rows})
    decided = [
        DecidedClawback(clawback=c, holder_name=h, group_name=g, proposed_by=people.get(c.proposed_by_id, ""),
                        decided_by=people.get(c.decided_by_id or c.cancelled_by_id, ""))
        for c, h, g in decided_rows
    ]
    named = [row.flag.holder_id for row in flags] + [row.clawback.holder_id for row in waiting] + [row.clawback.holder_id for row in decided]
    log_accesses(session=session, actor=actor, council_id=council_id, holder_ids=named, what=SURPLUS_LIST)
    return SurplusPage(settings=rule_of(session=session, council_id=council_id), today=clock.today(), flags=flags, waiting=waiting,
                       decided=decided)


@dataclass
class FlagPage:
    """One flag: whose share, how much, why, its dates, the share's balance now, and the clawbacks under it."""

    flag: SurplusFlag
    holder: Holder
    group_name: str
    balance_pence: int
    clawbacks: list[tuple[Clawback, str, str]]  # (clawback, proposed by, decided or withdrawn by)
    notice_problem: str | None
    waiting: Clawback | None
    # Said when the member gave notice to leave the group: which comes first, and that the next review closes the flag.
    leaving_note: str | None = None

    @property
    def may_propose(self) -> bool:
        """Tell whether a clawback can be proposed under the flag now (never once its member gave notice to leave)."""
        return self.flag.status == FlagStatus.open and self.notice_problem is None and self.waiting is None and self.leaving_note is None


def flag_page(*, session: Session, actor: User, flag_id: int) -> FlagPage:
    """Return one flag's page for an officer of its council; log the read of the member's record."""
    _check_officer(actor)
    flag = get_or_404(session, actor, SurplusFlag, flag_id, what="surplus flag")
    holder = session.get(Holder, flag.holder_id)
    log_access(session=session, actor=actor, holder_id=holder.id, what="surplus flag")
    cluster = session.get(Cluster, flag.cluster_id)
    clawbacks = list(session.exec(select(Clawback).where(Clawback.flag_id == flag.id).order_by(Clawback.id)))
    people = _people(session, {c.proposed_by_id for c in clawbacks} | {c.decided_by_id or c.cancelled_by_id for c in clawbacks})
    code = ledger_rules.pool_code(flag.cluster_id, flag.holder_id)
    return FlagPage(
        flag=flag, holder=holder, group_name=cluster.name if cluster else "",
        balance_pence=balance(session=session, actor=actor, council_id=flag.council_id, code=code),
        clawbacks=[(c, people.get(c.proposed_by_id, ""), people.get(c.decided_by_id or c.cancelled_by_id, "")) for c in clawbacks],
        notice_problem=rules.notice_problem(today=clock.today(), from_day=flag.clawback_from),
        waiting=next((c for c in clawbacks if c.status == ClawbackStatus.proposed), None),
        leaving_note=_leaving_note(session, flag, holder.name, cluster.name if cluster else "the group"),
    )


def _leaving_note(session: Session, flag: SurplusFlag, name: str, group: str) -> str | None:
    membership = session.get(Membership, flag.membership_id)
    if flag.status != FlagStatus.open or membership is None or membership.status != MembershipStatus.leaving:
        return None
    return rules.leaving_words(name=name, group=group, leaves_on=membership.leaves_on)


# --- the holder's own view --------------------------------------------------------------------


@dataclass
class HolderFlag:
    """What a holder (or their representative) is told about unspent money in one of their shares."""

    holder_id: int
    holder_name: str
    group_name: str
    cluster_id: int
    amount_pence: int
    reason: str
    raised_on: date
    clawback_from: date
    waiting_pence: int | None  # an officer proposed taking this much back; a second officer has not decided yet


def _holder_flags(session: Session, holder_ids: list[int]) -> list[HolderFlag]:
    if not holder_ids:
        return []
    rows = session.exec(
        select(SurplusFlag, Holder.name, Cluster.name)
        .join(Holder, Holder.id == SurplusFlag.holder_id)
        .join(Cluster, Cluster.id == SurplusFlag.cluster_id)
        # Only while the member is active: notice to leave ends the flag (the next review closes it), so a member on
        # notice is not told the council could still take money back.
        .join(Membership, Membership.id == SurplusFlag.membership_id)
        .where(SurplusFlag.holder_id.in_(holder_ids), SurplusFlag.status == FlagStatus.open, Membership.status == MembershipStatus.active)
        .order_by(Holder.name, Cluster.name, SurplusFlag.id)
    ).all()
    flag_ids = [f.id for f, _, _ in rows]
    waiting = dict(session.exec(
        select(Clawback.flag_id, Clawback.amount_pence).where(Clawback.flag_id.in_(flag_ids), Clawback.status == ClawbackStatus.proposed)
    ).all()) if flag_ids else {}
    return [
        HolderFlag(holder_id=f.holder_id, holder_name=h, group_name=g, cluster_id=f.cluster_id, amount_pence=f.amount_pence, reason=f.reason,
                   raised_on=f.raised_on, clawback_from=f.clawback_from, waiting_pence=waiting.get(f.id))
        for f, h, g in rows
    ]


def flags_for_member(*, session: Session, actor: User) -> list[HolderFlag]:
    """Return the open flags on the signed-in holder's own shares, or on those of the people a representative acts for."""
    if actor.role == Role.holder and actor.holder_id:
        return _holder_flags(session, [actor.holder_id])
    if actor.role == Role.representative:
        return _holder_flags(session, [h.id for h in holders_for_representative(session=session, actor=actor, power=Power.money)])
    return []


def open_flags_of_holder(*, session: Session, actor: User, holder_id: int) -> list[HolderFlag]:
    """Return a holder's open flags, for a page whose caller has already checked the actor may see this holder."""
    holder = session.get(Holder, holder_id)
    same_council(actor, holder.council_id if holder else None, what="person")
    return _holder_flags(session, [holder_id])


@dataclass(frozen=True)
class FlagTotals:
    """The council's open surplus flags in sum, for a dashboard: how many members' shares, how much, under which rule."""

    members: int
    pence: int
    settings: RuleSettings
    last_review: date | None


def open_flag_totals(*, session: Session, council_id: int) -> FlagTotals:
    """Return how many pool shares hold flagged money now and how much could be taken back (pence), with the rule."""
    members, pence, last = session.exec(
        select(func.count(SurplusFlag.id), func.coalesce(func.sum(SurplusFlag.amount_pence), 0), func.max(SurplusFlag.reviewed_on))
        .where(SurplusFlag.council_id == council_id, SurplusFlag.status == FlagStatus.open)
    ).one()
    return FlagTotals(members=int(members), pence=int(pence), settings=rule_of(session=session, council_id=council_id), last_review=last)
