"""Membership of groups: forming a group, asking to join, pledges within the weekly budget, the weekly
budget itself, notice and settling leavers. They flush and never commit.

The lower piece of clusters (above `members`): it never opens, decides or applies a proposal. A
flow that needs a vote as well (a join request opens an "admit" proposal) lives in `governance`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.clusters import areas, rules
from brokerage.clusters.errors import RECORD_ERRORS, AlreadyJoined, BadTransition, ClusterFull, PledgeTooHigh, failure_message
from brokerage.clusters.leaver_holds import reasons_to_wait
from brokerage.clusters.members import LIVE_MEMBERSHIP, OPEN, get_cluster, get_membership, holder_for_actor, live_count
from brokerage.clusters.models import Cluster, ClusterKind, ClusterStatus, Membership, MembershipStatus
from brokerage.errors import NotAllowed, ValidationFailed
from brokerage.formatting import pounds, voice
from brokerage.holders.models import Holder
from brokerage.holders.registration import allocation_problem
from brokerage.holders.services import get_holder, may_see_money
from brokerage.ledger import kinds
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import LedgerAccount
from brokerage.ledger.services import EntrySpec, lock_accounts, lock_run_writer, post_in_batches
from brokerage.locks import fresh_row, insert_once, lock_row, lock_rows
from brokerage.types import utcnow

PLEDGING = (MembershipStatus.requested, MembershipStatus.admitted, MembershipStatus.active, MembershipStatus.leaving)


@dataclass
class BatchResult:
    """What a daily run did: the records it handled, and one plain line for each it could not."""

    done: list = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Leavers whose share waits (see `leaver_holds`): one plain line each; they are settled by a later run.
    waiting: list[str] = field(default_factory=list)


# --- who shares a group -------------------------------------------------------------------------


def group_mate_ids(*, session: Session, holder_ids: list[int] | set[int]) -> set[int]:
    """Return the holders who share a live membership of a group with any of these holders (themselves included)."""
    if not holder_ids:
        return set()
    clusters = select(Membership.cluster_id).where(Membership.holder_id.in_(list(holder_ids)), Membership.status.in_(LIVE_MEMBERSHIP))
    rows = session.exec(select(Membership.holder_id).where(Membership.cluster_id.in_(clusters), Membership.status.in_(LIVE_MEMBERSHIP)))
    return set(rows)


# --- forming ------------------------------------------------------------------------------------


def create_cluster(
    *,
    session: Session,
    actor: User,
    name: str,
    description: str,
    kinds: list[str],
    districts: Iterable[str] = (),
    min_size: int | None = None,
    max_size: int | None = None,
    founder_holder_id: int | None = None,
    founder_pledge: int = 0,
) -> Cluster:
    """Create a forming cluster over some of its council's districts; a holder (or their representative) founds it as its first member.

    The group is placed at the centre of its founder's district (never at a home: `areas.place_of_group`), or, when a
    broker starts it with nobody yet, at the middle of its area.
    """
    if actor.role not in (Role.holder, Role.representative, Role.broker):
        raise NotAllowed("Only holders, their representatives and brokers can start a group.")
    council = session.get(Council, actor.council_id)
    min_size = council.cluster_min_size if min_size is None else min_size
    max_size = council.cluster_max_size if max_size is None else max_size
    errors = {}
    if not name.strip():
        errors["name"] = "Enter a name for the group"
    if not kinds or any(k not in ClusterKind.__members__ for k in kinds):
        errors["kinds"] = "Choose at least one kind of group"
    if not 2 <= min_size <= max_size <= 12:
        errors["max_size"] = "A group has between 2 and 12 members, and the smallest size cannot be more than the largest"
    try:
        area = areas.check_area(session=session, council_id=council.id, districts=districts)
    except ValidationFailed as error:
        errors |= {field: messages[0] for field, messages in error.errors.items()}
        area = []
    if errors:
        raise ValidationFailed(errors)
    founder = None
    if actor.role in (Role.holder, Role.representative):
        founder = holder_for_actor(session=session, actor=actor, holder_id=founder_holder_id or actor.holder_id or -1,
                                   undone="the group was not started")
    elif founder_holder_id:
        founder = holder_for_actor(session=session, actor=actor, holder_id=founder_holder_id)
    if founder is not None:
        require_pledge_above_zero(founder_pledge)
    lat, lon = areas.place_of_group(session=session, founder=founder, districts=area)
    cluster = Cluster(
        council_id=actor.council_id, name=name.strip(), description=description.strip(), kinds=sorted(set(kinds)),
        lat=lat, lon=lon, min_size=min_size, max_size=max_size, status=ClusterStatus.forming,
    )
    session.add(cluster)
    session.flush()
    areas.set_area(session=session, cluster=cluster, districts=area)
    if founder is not None:
        check_pledge(session, founder, founder_pledge, exclude_membership=None, reader=actor)
        session.add(Membership(
            council_id=cluster.council_id, cluster_id=cluster.id, holder_id=founder.id, status=MembershipStatus.admitted,
            weekly_pledge_pence=founder_pledge, start_date=clock.today(),
        ))
        session.flush()
    return cluster


# --- pledges ------------------------------------------------------------------------------------


def require_pledge_above_zero(pledge: int, *, member: bool = False) -> None:
    """Refuse a pledge a member chooses (joining, founding, or changing it: `member`) unless it is more than £0."""
    try:
        rules.check_pledge_above_zero(pledge, member=member)
    except ValueError as error:
        raise ValidationFailed({"pledge": str(error)}) from None


def check_pledge(session: Session, holder: Holder, pledge: int, *, exclude_membership: int | None, reader: User | None = None) -> None:
    """Refuse a pledge that would take the holder's pledges past their allocation, in words for the reader ("your" only to the holder).

    Locks the holder row first (locks.py: after any cluster and proposal), so two pledges, or a
    pledge and a lower allocation, cannot both pass on what each read before the other committed.
    """
    holder = lock_row(session, Holder, holder.id)
    # Plain columns, not Membership objects: the session may remember stale pledges.
    others = [
        amount
        for membership_id, amount in session.exec(
            select(Membership.id, Membership.weekly_pledge_pence).where(Membership.holder_id == holder.id, Membership.status.in_(PLEDGING))
        )
        if membership_id != exclude_membership
    ]
    try:
        rules.check_pledge(allocation=holder.weekly_allocation_pence, other_pledges=others, pledge=pledge)
    except ValueError as error:
        headroom = max(rules.pledge_headroom(holder.weekly_allocation_pence, others), 0)
        message = str(error)
        if "more than" in message:
            # A representative or broker reads the holder's name: "your weekly budget" was the holder's, not theirs.
            v = voice(holder, reader)
            message = f"{v.Your} pledges to all {v.their} groups cannot add up to more than {v.their} weekly budget"
            if reader is None or may_see_money(session=session, actor=reader, holder=holder):
                message += f" of {pounds(holder.weekly_allocation_pence)}. {v.You} can pledge up to {pounds(headroom)} a week here."
            else:
                # The budget and what is left of it are the holder's money: a representative without leave is told only why.
                message += f". {holder.name} has not asked you to see their money, so how much is left to pledge is not shown here."
        raise PledgeTooHigh(message, field="pledge") from None


def pledge_refused(session: Session, holder: Holder, pledge: int, membership_id: int) -> bool:
    """Tell whether this membership's pledge would now take the holder past their allocation."""
    try:
        check_pledge(session, holder, pledge, exclude_membership=membership_id)
    except PledgeTooHigh:
        return True
    return False


def set_pledge(*, session: Session, actor: User, membership_id: int, pledge: int) -> Membership:
    """Change one's own weekly pledge, within the allocation."""
    membership = get_membership(session=session, actor=actor, membership_id=membership_id)
    holder = holder_for_actor(session=session, actor=actor, holder_id=membership.holder_id, undone="the pledge was not changed")
    # A membership's status changes under its group's lock (notice, admission), so read it there.
    lock_row(session, Cluster, membership.cluster_id)
    membership = fresh_row(session, Membership, membership.id)
    if membership.status not in PLEDGING or membership.status == MembershipStatus.leaving:
        raise BadTransition("You can only change the pledge of a membership that is not ending.")
    if membership.status == MembershipStatus.requested:
        # The members are voting on the request at the pledge it named: a new amount would not be what they decide.
        raise ValidationFailed({"pledge": f"The members are voting on the request to join with {pounds(membership.weekly_pledge_pence)} a week. "
                                          "To pledge another amount, withdraw the request and ask again."})
    require_pledge_above_zero(pledge, member=True)
    check_pledge(session, holder, pledge, exclude_membership=membership.id, reader=actor)
    if pledge != membership.weekly_pledge_pence:  # the same amount again is no change, and records none
        membership.weekly_pledge_pence = pledge
        membership.changed_by_id, membership.changed_at = actor.id, utcnow()
        session.add(membership)
        session.flush()
    return membership


def set_pledges(*, session: Session, pledges: dict[str, int]) -> None:
    """Set several members' pledges at once (a passed 'change pledges' decision), each within its allocation."""
    memberships = {m.id: m for m in session.exec(
        select(Membership).where(Membership.id.in_([int(i) for i in pledges])).execution_options(populate_existing=True)
    )}
    # Every holder concerned, in id order, before any is checked (locks.py).
    lock_rows(session, Holder, [m.holder_id for m in memberships.values()])
    for membership_id, amount in sorted(pledges.items(), key=lambda item: int(item[0])):
        membership = memberships[int(membership_id)]
        check_pledge(session, session.get(Holder, membership.holder_id), int(amount), exclude_membership=membership.id)
        membership.weekly_pledge_pence = int(amount)
        session.add(membership)
    session.flush()


def set_allocation(*, session: Session, actor: User, holder_id: int, weekly_allocation_pence: int) -> Holder:
    """Set a holder's weekly direct payment (brokers, for the council); never below what they already pledge."""
    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can change a weekly budget.")
    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    # The same rule as a new holder's budget: a change of £20,000 (for £200.00) or of nothing was taken.
    if allocation_problem(weekly_allocation_pence):
        raise ValidationFailed({"allocation": allocation_problem(weekly_allocation_pence)})
    # The holder row guards "pledges within the allocation" (locks.py): a pledge being raised at
    # this moment either commits first and is counted here, or waits and sees the new budget.
    holder = lock_row(session, Holder, holder.id)
    pledged = sum(
        session.exec(
            select(Membership.weekly_pledge_pence).where(Membership.holder_id == holder.id, Membership.status != MembershipStatus.left)
        )
    )
    if weekly_allocation_pence < pledged:
        raise ValidationFailed({"allocation": f"{holder.name} pledges {pounds(pledged)} a week to groups. Lower the pledges first."})
    holder.weekly_allocation_pence = weekly_allocation_pence
    session.add(holder)
    session.flush()
    return holder


# --- joining ------------------------------------------------------------------------------------


def add_join_request(*, session: Session, actor: User, cluster_id: int, holder_id: int, pledge: int) -> Membership:
    """Record a request to join a cluster with a weekly pledge, under the group's lock; the vote on it is governance's."""
    cluster = get_cluster(session=session, actor=actor, cluster_id=cluster_id)
    holder = holder_for_actor(session=session, actor=actor, holder_id=holder_id, undone="no request to join was sent")
    # The group's row guards its size and its one first member: joins to one group take turns.
    cluster = lock_row(session, Cluster, cluster.id)
    if cluster.status not in OPEN:
        raise BadTransition("This group is not taking new members.")
    already = AlreadyJoined(f"{holder.name} has already asked to join or is a member.", field="holder_id")
    existing = session.exec(
        select(Membership.id).where(Membership.cluster_id == cluster.id, Membership.holder_id == holder.id, Membership.status != MembershipStatus.left)
    ).first()
    if existing is not None:
        raise already
    if live_count(session, cluster.id) >= cluster.max_size:
        raise ClusterFull("This group is full.")
    require_pledge_above_zero(pledge)
    check_pledge(session, holder, pledge, exclude_membership=None, reader=actor)
    # Someone who left may ask again: that is a new tenure with a new row, so its money keys never
    # meet those of the earlier stay. Their pool share is one ledger account across tenures.
    membership = Membership(
        council_id=cluster.council_id, cluster_id=cluster.id, holder_id=holder.id, status=MembershipStatus.requested,
        weekly_pledge_pence=pledge, changed_by_id=actor.id, changed_at=utcnow(),
    )
    # One live membership per holder and group (a partial unique index): a second request racing
    # this one gets the same plain answer.
    with insert_once(session, already):
        session.add(membership)
    return membership


def admit(*, session: Session, membership_id: int) -> Holder:
    """Let a requested member in (active in an active group, admitted in a forming one); return the holder."""
    membership = session.get(Membership, membership_id)
    cluster = session.get(Cluster, membership.cluster_id)
    holder = session.get(Holder, membership.holder_id)
    check_pledge(session, holder, membership.weekly_pledge_pence, exclude_membership=membership.id)
    target = "active" if cluster.status == ClusterStatus.active else "admitted"
    membership.status = MembershipStatus(rules.move_membership(membership.status, "admitted"))
    if target == "active":
        membership.status = MembershipStatus(rules.move_membership(membership.status, "active"))
    membership.start_date = clock.today()
    session.add(membership)
    session.flush()
    _activate_if_big_enough(session, cluster)
    return holder


def _activate_if_big_enough(session: Session, cluster: Cluster) -> None:
    if cluster.status != ClusterStatus.forming:
        return
    admitted = list(session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.status == MembershipStatus.admitted)))
    if len(admitted) >= cluster.min_size:
        cluster.status = ClusterStatus(rules.move_cluster(cluster.status, "active"))
        for membership in admitted:
            membership.status = MembershipStatus(rules.move_membership(membership.status, "active"))
            session.add(membership)
        session.add(cluster)
        session.flush()


def end_request(*, session: Session, membership_id: int) -> None:
    """End a request to join that was not granted; a membership that moved on meanwhile is left alone."""
    membership = fresh_row(session, Membership, membership_id)
    if membership.status == MembershipStatus.requested:
        membership.status = MembershipStatus(rules.move_membership(membership.status, "left"))
        session.add(membership)
        session.flush()


# --- leaving ------------------------------------------------------------------------------------


def start_notice(session: Session, membership: Membership, today: date) -> None:
    """Put a member on notice from today; their pool share comes back when the notice ends."""
    council, cluster = session.get(Council, membership.council_id), session.get(Cluster, membership.cluster_id)
    membership.status = MembershipStatus(rules.move_membership(membership.status, "leaving"))
    membership.notice_date = today
    membership.leaves_on = rules.notice_end(today, rules.notice_weeks_of(cluster.status, council.notice_weeks))
    session.add(membership)
    session.flush()


def lock_balances(session: Session, council_id: int, codes: set[str], failed: dict[str, str]) -> dict[str, int]:
    """Lock the accounts (one query, in id order) and return their balances in pence.

    An account that cannot be opened is left out and its code named in `failed` with the reason.
    """
    try:
        with session.begin_nested():
            return {code: balance for code, (_, balance, _) in lock_accounts(session=session, council_id=council_id, codes=codes).items()}
    except RECORD_ERRORS:
        pass
    balances = {}
    for code in sorted(codes):
        try:
            with session.begin_nested():
                balances.update({c: b for c, (_, b, _) in lock_accounts(session=session, council_id=council_id, codes=[code]).items()})
        except RECORD_ERRORS as error:
            failed[code] = failure_message(error)
    return balances


def settle_leavers(*, session: Session, actor: User, council_id: int, today: date | None = None) -> BatchResult:
    """Return what is left of each leaver's pool share to their wallet once their notice has ended; mark them left.

    A leaver whose share is still needed (`leaver_holds`: a timesheet of their notice not yet approved
    or sent back) waits, named in `result.waiting`, and stays on notice for a later run. The refunds
    are posted together through the council's one writer (`post_in_batches`), a result per leaver: one
    that fails is named in the result and stays on notice for the next run, and every other leaver is
    still settled. Idempotent: the refund's key names the tenure (the row).
    """
    same_council(actor, council_id, what="council")
    today = today or clock.today()
    # The council's money runs queue on one writer, taken before any row: a run never holds rows another run waits for.
    lock_run_writer(session, council_id)
    leaving = (Membership.council_id == council_id, Membership.status == MembershipStatus.leaving, Membership.leaves_on < today)
    # Every group concerned first, in id order (locks.py), so a vote that dissolves one of them, or a
    # second settle run, takes turns with this one; then the leavers are read again under the locks.
    lock_rows(session, Cluster, session.exec(select(Membership.cluster_id).where(*leaving)).all())
    due = list(session.exec(select(Membership).where(*leaving).order_by(Membership.id).execution_options(populate_existing=True)))
    result = BatchResult()
    ready = []
    for membership in due:
        waiting = reasons_to_wait(session=session, membership=membership, today=today)
        if waiting:
            result.waiting.append(f"{_leaver_label(session, membership)}: {'; '.join(waiting)}")
        else:
            ready.append(membership)
    # Costs already approved have left each share (pool -> payable), so what remains, read under the lock, is theirs.
    codes = {m.id: ledger_rules.pool_code(m.cluster_id, m.holder_id) for m in ready}
    opened = set(session.exec(select(LedgerAccount.code).where(LedgerAccount.council_id == council_id, LedgerAccount.code.in_(set(codes.values())))))
    unopened: dict[str, str] = {}
    shares = lock_balances(session, council_id, opened, unopened)
    refunds = []
    for membership in ready:
        code = codes[membership.id]
        if code in unopened:
            result.failed.append(f"{_leaver_label(session, membership)}: {unopened[code]}")
        elif shares.get(code, 0) > 0:
            refunds.append((membership, shares[code], EntrySpec(
                kind=kinds.EntryKind.member_left, memo="Pool share returned at the end of notice",
                idempotency_key=kinds.member_left_key(membership_id=membership.id),
                postings=[(code, -shares[code]), (ledger_rules.wallet_code(membership.holder_id), shares[code])],
            )))
        else:
            _mark_left(session, membership, result, 0)
    outcomes = post_in_batches(session=session, actor=actor, council_id=council_id, entries=[spec for _, _, spec in refunds])
    for (membership, share, _), outcome in zip(refunds, outcomes):
        if isinstance(outcome, Exception):
            result.failed.append(f"{_leaver_label(session, membership)}: {failure_message(outcome)}")
        else:
            _mark_left(session, membership, result, share)
    result.done.sort(key=lambda done: done[0].id)
    session.flush()
    return result


def _mark_left(session: Session, membership: Membership, result: BatchResult, share: int) -> None:
    membership.status = MembershipStatus(rules.move_membership(membership.status, "left"))
    session.add(membership)
    result.done.append((membership, share))


def _leaver_label(session: Session, membership: Membership) -> str:
    return f"{session.get(Holder, membership.holder_id).name} leaving {session.get(Cluster, membership.cluster_id).name}"
