"""Clawbacks, maker-checker: one council officer proposes taking flagged money back, a different one approves or rejects it.

Approval applies the council's rule to the share again as it is now (the review's figure may be a day old),
then posts one `clawback` entry, pool share -> `council:{c}:funding`, through the ledger's `post_entry`, with
the key `clawback:{id}`; the ledger's overdraft check refuses it if the share no longer holds the amount
(care approved at the same moment), and then nothing changes. Lock order (the same as the daily review's): the flag's row, then the
clawback's row, then the ledger accounts (post_entry locks those). Of two officers deciding at once, the
second waits on the locks and then finds the clawback decided. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import get_or_404
from brokerage.accounts.models import Role, User
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.errors import NotAllowed, ValidationFailed
from brokerage.formatting import long_date, pounds
from brokerage.holders.models import Holder
from brokerage.ledger import kinds
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.errors import Overdraft
from brokerage.ledger.queries import balance
from brokerage.ledger.services import post_entry
from brokerage.locks import insert_once, lock_row
from brokerage.surplus import rules
from brokerage.surplus.errors import BadClawbackMove, ClawbackPending, FlagClosed, NoticeNotOver, NotYourProposal, SamePerson, ShareTooSmall
from brokerage.surplus.models import Clawback, SurplusFlag
from brokerage.surplus.review import assess_share, close_flag
from brokerage.surplus.rules import ClawbackStatus, FlagStatus
from brokerage.surplus.settings import rule_of
from brokerage.types import utcnow

OFFICERS = (Role.council_officer,)
SAME_PERSON = "You proposed this clawback, so you cannot approve or reject it. Another council officer must check and decide it."
MEMO = "Unspent money taken back by the council"


def _officer(actor: User, doing: str) -> None:
    if actor.role not in OFFICERS:
        raise NotAllowed(f"Only a council officer can {doing}.")


def _names(session: Session, holder_id: int, cluster_id: int) -> tuple[str, str]:
    holder, cluster = session.get(Holder, holder_id), session.get(Cluster, cluster_id)
    return (holder.name if holder else "The member"), (cluster.name if cluster else "the group")


def propose_clawback(*, session: Session, actor: User, flag_id: int, amount_pence: int | None, reason: str) -> Clawback:
    """Propose taking back up to a flag's unspent amount (pence), once its notice has ended; a second officer must decide it.

    Raises NotFound (another council's flag too), FlagClosed, NoticeNotOver, ClawbackPending, or
    ValidationFailed naming `amount` or `reason`.
    """
    _officer(actor, "propose a clawback")
    get_or_404(session, actor, SurplusFlag, flag_id, what="surplus flag")
    # The flag's row guards its one waiting clawback and its notice; the partial unique index backs it.
    flag = lock_row(session, SurplusFlag, flag_id)
    if flag.status != FlagStatus.open:
        raise FlagClosed(f"This flag is closed, so nothing can be taken back under it: {flag.closed_reason}")
    _refuse_if_member_gone(session, flag)
    problem = rules.notice_problem(today=clock.today(), from_day=flag.clawback_from)
    if problem:
        raise NoticeNotOver(problem)
    problems = {}
    if amount_problem := rules.amount_problem(amount_pence, flag.amount_pence):
        problems["amount"] = amount_problem
    if reason_problem := rules.reason_problem(reason):
        problems["reason"] = reason_problem
    if problems:
        raise ValidationFailed(problems)
    pending = ClawbackPending("A clawback of this share is already waiting for a second officer. Approve, reject or withdraw it first.")
    if session.exec(select(Clawback.id).where(Clawback.flag_id == flag.id, Clawback.status == ClawbackStatus.proposed)).first():
        raise pending
    clawback = Clawback(
        council_id=flag.council_id, flag_id=flag.id, cluster_id=flag.cluster_id, holder_id=flag.holder_id,
        amount_pence=amount_pence, reason=reason.strip(), proposed_by_id=actor.id, proposed_at=utcnow(),
    )
    with insert_once(session, pending):
        session.add(clawback)
    return clawback


def _refuse_if_member_gone(session: Session, flag: SurplusFlag) -> None:
    """Raise FlagClosed when the flag's member is no longer active in an active group (notice given, left, group
    closing): the review applies the rule to active members only and closes such a flag, so nothing is taken meanwhile."""
    membership = session.get(Membership, flag.membership_id)
    cluster = session.get(Cluster, flag.cluster_id)
    if membership is None or membership.status != MembershipStatus.active or cluster is None or cluster.status != ClusterStatus.active:
        name, group = _names(session, flag.holder_id, flag.cluster_id)
        raise FlagClosed(rules.member_gone_reason(name, group) + " Nothing can be taken back under this flag; the next daily review closes it.")


def unspent_now(*, session: Session, actor: User, flag: SurplusFlag, today: date) -> int:
    """Return what the council's rule finds unspent in a flag's share right now, in pence (the review's figure is a day old).

    Raises FlagClosed if the council changed its rule since the flag was raised: the next review closes it and flags again.
    """
    settings = rule_of(session=session, council_id=flag.council_id)
    if settings.kind != flag.rule:
        raise FlagClosed("The council changed its surplus rule since this share was flagged, so nothing was taken back. "
                         "The next review flags the share again under the new rule, with new clawback notice.")
    membership = session.get(Membership, flag.membership_id)
    found = assess_share(session=session, actor=actor, council_id=flag.council_id, code=ledger_rules.pool_code(flag.cluster_id, flag.holder_id),
                         settings=settings, today=today, weekly_pledge=membership.weekly_pledge_pence)
    return found.amount if found else 0


def _deciding(session: Session, actor: User, clawback_id: int, doing: str) -> tuple[Clawback, SurplusFlag]:
    """Return a clawback and its flag, both locked (flag first), once the actor may decide it; raise otherwise."""
    _officer(actor, doing)
    seen = get_or_404(session, actor, Clawback, clawback_id, what="clawback")
    flag = lock_row(session, SurplusFlag, seen.flag_id)
    clawback = lock_row(session, Clawback, clawback_id)
    if clawback.proposed_by_id == actor.id:
        raise SamePerson(SAME_PERSON)
    if problem := rules.decided_problem(clawback.status):
        raise BadClawbackMove(problem)
    return clawback, flag


def approve_clawback(*, session: Session, actor: User, clawback_id: int) -> Clawback:
    """Approve a clawback another officer proposed: post pool share -> council funding once, and close the flag.

    The rule is applied again to the share as it is now: raises ShareTooSmall when the share no longer holds
    the amount or less of it is unspent than proposed (nothing changes then), SamePerson for the proposer,
    BadClawbackMove once it is decided, FlagClosed, and NoticeNotOver.
    """
    clawback, flag = _deciding(session, actor, clawback_id, "approve a clawback")
    if flag.status != FlagStatus.open:
        raise FlagClosed(f"The flag under this clawback is closed, so nothing can be taken back: {flag.closed_reason}")
    _refuse_if_member_gone(session, flag)
    today = clock.today()
    if problem := rules.notice_problem(today=today, from_day=flag.clawback_from):
        raise NoticeNotOver(problem)
    name, group = _names(session, clawback.holder_id, clawback.cluster_id)
    share = ledger_rules.pool_code(clawback.cluster_id, clawback.holder_id)

    def too_small() -> ShareTooSmall:
        held = balance(session=session, actor=actor, council_id=clawback.council_id, code=share)
        return ShareTooSmall(f"{name}'s share of {group} now holds {pounds(held)}, less than the {pounds(clawback.amount_pence)} this "
                             "clawback would take. Nothing was taken back. Reject it, and propose a smaller amount if money is still unspent.")

    if clawback.amount_pence > balance(session=session, actor=actor, council_id=clawback.council_id, code=share):
        raise too_small()
    unspent = unspent_now(session=session, actor=actor, flag=flag, today=today)
    if clawback.amount_pence > unspent:
        raise ShareTooSmall(
            f"Since this was proposed, the unspent money in {name}'s share of {group} fell to {pounds(unspent)}, less than "
            f"the {pounds(clawback.amount_pence)} proposed. Nothing was taken back. Reject it, and propose a smaller amount if you still need to."
        )
    try:
        entry = post_entry(
            session=session, actor=actor, council_id=clawback.council_id, kind=kinds.EntryKind.clawback,
            postings=[(share, -clawback.amount_pence), (ledger_rules.funding_code(clawback.council_id), clawback.amount_pence)],
            idempotency_key=kinds.clawback_key(clawback_id=clawback.id), memo=MEMO,
        )
    except Overdraft:
        # Money left the share after the checks above (care approved at the same moment): the ledger refuses.
        raise too_small() from None
    clawback.status = rules.move_clawback(clawback.status, ClawbackStatus.approved)
    clawback.decided_by_id, clawback.decided_at, clawback.entry_id = actor.id, utcnow(), entry.id
    session.add(clawback)
    close_flag(session=session, actor=actor, flag=flag, today=today,
               why=f"{pounds(clawback.amount_pence)} was taken back on {long_date(today)}.")
    session.flush()
    return clawback


def reject_clawback(*, session: Session, actor: User, clawback_id: int, note: str = "") -> Clawback:
    """Reject a clawback another officer proposed; nothing is taken back and the flag stays as it is."""
    note = (note or "").strip()
    if len(note) > rules.REASON_LIMIT:
        raise ValidationFailed({"note": f"Use {rules.REASON_LIMIT} characters or fewer"})
    clawback, _ = _deciding(session, actor, clawback_id, "reject a clawback")
    clawback.status = rules.move_clawback(clawback.status, ClawbackStatus.rejected)
    clawback.decided_by_id, clawback.decided_at, clawback.note = actor.id, utcnow(), note
    session.add(clawback)
    session.flush()
    return clawback


def withdraw_clawback(*, session: Session, actor: User, clawback_id: int) -> Clawback:
    """Withdraw (cancel) a clawback the actor proposed and nobody has decided yet."""
    _officer(actor, "withdraw a clawback")
    seen = get_or_404(session, actor, Clawback, clawback_id, what="clawback")
    lock_row(session, SurplusFlag, seen.flag_id)
    clawback = lock_row(session, Clawback, clawback_id)
    if clawback.proposed_by_id != actor.id:
        raise NotYourProposal("Only the officer who proposed a clawback can withdraw it. You can approve or reject it instead.")
    if problem := rules.decided_problem(clawback.status):
        raise BadClawbackMove(problem)
    clawback.status = rules.move_clawback(clawback.status, ClawbackStatus.cancelled)
    clawback.cancelled_by_id, clawback.decided_at = actor.id, utcnow()
    session.add(clawback)
    session.flush()
    return clawback


@dataclass
class WaitingClawback:
    """A clawback waiting for a second officer, with names for people (never account codes)."""

    clawback: Clawback
    holder_name: str
    group_name: str
    proposed_by: str
    clawback_from: date


def clawbacks_waiting(*, session: Session, actor: User) -> list[WaitingClawback]:
    """Return the clawbacks of the officer's council that another officer proposed, so this one may approve them, oldest first.

    For the officer's dashboard; anyone but a council officer gets an empty list.
    """
    if actor.role not in OFFICERS:
        return []
    return [row for row in waiting_clawbacks(session=session, council_id=actor.council_id) if row.clawback.proposed_by_id != actor.id]


def waiting_clawbacks(*, session: Session, council_id: int) -> list[WaitingClawback]:
    """Return every clawback of the council waiting for a second officer, oldest first, whoever proposed it."""
    rows = session.exec(
        select(Clawback, Holder.name, Cluster.name, User.name, SurplusFlag.clawback_from)
        .join(Holder, Holder.id == Clawback.holder_id)
        .join(Cluster, Cluster.id == Clawback.cluster_id)
        .join(User, User.id == Clawback.proposed_by_id)
        .join(SurplusFlag, SurplusFlag.id == Clawback.flag_id)
        .where(Clawback.council_id == council_id, Clawback.status == ClawbackStatus.proposed)
        .order_by(Clawback.proposed_at, Clawback.id)
    ).all()
    return [WaitingClawback(clawback=c, holder_name=h, group_name=g, proposed_by=p, clawback_from=d) for c, h, g, p, d in rows]


def clawbacks_waiting_on(session: Session, user: User) -> list[str]:
    """Return a sentence for each clawback this officer proposed that still waits for a second officer (it keeps them an officer)."""
    rows = session.exec(
        select(Clawback.amount_pence, Holder.name).join(Holder, Holder.id == Clawback.holder_id)
        .where(Clawback.proposed_by_id == user.id, Clawback.status == ClawbackStatus.proposed).order_by(Clawback.id)
    ).all()
    return [f"They proposed taking back {pounds(amount)} from {name}, which is waiting for a second officer." for amount, name in rows]
