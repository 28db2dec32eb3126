"""Group decisions: open proposals, vote, decide at once or at the deadline, and apply what passed.

The higher piece of clusters. It calls `membership` (and flows that need both, such as a request
to join that opens an "admit" proposal, or notice that settles open votes, live here), never the
other way round. What a passed proposal does comes from the registry in `actions`.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import same_council
from brokerage.accounts.models import Role, User
from brokerage.clusters import rules
from brokerage.clusters.actions import ProposalAction, action_for, close_if_everyone_left
from brokerage.clusters.errors import RECORD_ERRORS, AlreadyVoted, BadTransition, NotAMember, ProposalClosed, SameDecisionOpen, failure_message
from brokerage.clusters.members import OPEN, eligible_voters, get_cluster, get_membership, holder_for_actor, visible_holder_ids
from brokerage.clusters.membership import BatchResult, add_join_request, start_notice
from brokerage.clusters.models import Cluster, Membership, MembershipStatus, Proposal, Vote
from brokerage.clusters.proposals import PROPOSAL_DAYS, close_proposal, count, get_proposal, new_proposal, open_proposals
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.errors import BrokerageError, NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import plural, pounds
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import refuse_lost_power
from brokerage.locks import fresh_row, insert_once, lock_provider_hours, lock_row, lock_rows
from brokerage.types import utcnow

# --- opening proposals --------------------------------------------------------------------------


def open_proposal(
    *, session: Session, actor: User, cluster_id: int, kind: ProposalKind, title: str, description: str = "",
    payload: dict | None = None, days: int = PROPOSAL_DAYS,
) -> Proposal:
    """Put a proposal another package prepared to a cluster's members (e.g. matching's care match); its kind must have an action."""
    kind = ProposalKind(kind)
    action_for(kind)  # a kind nobody can carry out is refused now, not when the vote ends
    cluster = session.get(Cluster, cluster_id)
    if cluster is None:
        raise NotFound()
    same_council(actor, cluster.council_id, what="cluster")
    return new_proposal(session=session, actor=actor, cluster=cluster, kind=kind, title=title, description=description, payload=payload, days=days)


def propose(
    *, session: Session, actor: User, cluster_id: int, kind: ProposalKind, title: str, description: str = "", payload: dict | None = None
) -> Proposal:
    """Put a proposal to a cluster's members (members, their representatives or a broker)."""
    cluster = get_cluster(session=session, actor=actor, cluster_id=cluster_id)
    kind = ProposalKind(kind)
    action_for(kind)
    # Under the group's lock, read again: a vote closing the group meanwhile either commits first (and this is
    # refused) or waits, so no proposal is left open in a closed group.
    cluster = lock_row(session, Cluster, cluster.id)
    if cluster.status not in OPEN:
        raise BadTransition("This group is closing and cannot take new decisions.")
    voters = eligible_voters(session, cluster)
    if actor.role != Role.broker and not set(visible_holder_ids(session=session, actor=actor)) & set(voters):
        refuse_lost_power(session=session, actor=actor, holder_ids=voters, power=Power.groups, undone="nothing was put to the members")
        raise NotAMember("Only members of this group (or their representatives) can make proposals.")
    payload = dict(payload or {})
    errors = {}
    if not title.strip() and kind != ProposalKind.remove_member:
        errors["title"] = "Enter what you want the group to decide"
    if kind == ProposalKind.remove_member:
        membership = session.get(Membership, int(payload.get("membership_id") or 0))
        if membership is None or membership.cluster_id != cluster.id or membership.status not in (MembershipStatus.admitted, MembershipStatus.active):
            errors["membership_id"] = "Choose a member of this group who is not already leaving"
        elif actor.role != Role.broker and membership.holder_id in visible_holder_ids(session=session, actor=actor):
            # One's own leaving (or that of someone one acts for) is notice given from the group page, not a vote.
            errors["membership_id"] = "To leave the group, give notice from your place in the group instead"
        else:
            member_name = session.get(Holder, membership.holder_id).name
            # Members must know whom they are voting about.
            if not title.strip():
                title = f"Ask {member_name} to leave"
            elif member_name not in title:
                title = f"Ask {member_name} to leave: {title.strip()}"
    if kind == ProposalKind.change_pledges:
        pledges = payload.get("pledges") or {}
        if not pledges:
            errors["pledges"] = "Give at least one new pledge"
        for membership_id, amount in pledges.items():
            membership = session.get(Membership, int(membership_id))
            if membership is None or membership.cluster_id != cluster.id:
                errors["pledges"] = "Pledges can only change for members of this group"
            elif not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                errors["pledges"] = "Each new pledge must be more than £0 (in whole pence); a member who wants to pay nothing gives notice"
    if kind == ProposalKind.admit_member:
        errors["kind"] = "People ask to join from the group's page"
    if kind == ProposalKind.change_contract:
        errors["kind"] = "A broker proposes a change to the care from the contract's page"
    if errors:
        raise ValidationFailed(errors)
    # The same decision sent again (the browser's Back button, then "Put it to the vote"; or two members asking the
    # same thing) is the one already open: members would vote on one copy and not the other. Read under the group's lock.
    same = _same_open_decision(session, cluster.id, kind, title.strip(), description.strip(), payload)
    if same is not None:
        raise SameDecisionOpen(same)
    return new_proposal(session=session, actor=actor, cluster=cluster, kind=kind, title=title.strip(), description=description.strip(), payload=payload)


def _same_open_decision(session: Session, cluster_id: int, kind: ProposalKind, title: str, description: str, payload: dict) -> Proposal | None:
    """Return the group's open proposal of the same kind, title (any case), details and payload, if there is one."""
    for proposal in open_proposals(session=session, cluster_id=cluster_id, kind=kind):
        if (proposal.title.strip().casefold(), proposal.description.strip(), proposal.payload or {}) == (title.casefold(), description, payload):
            return proposal
    return None


def request_to_join(*, session: Session, actor: User, cluster_id: int, holder_id: int, pledge: int) -> Proposal:
    """Ask to join a cluster with a weekly pledge; the members vote on it."""
    membership = add_join_request(session=session, actor=actor, cluster_id=cluster_id, holder_id=holder_id, pledge=pledge)
    cluster = session.get(Cluster, membership.cluster_id)
    holder = session.get(Holder, membership.holder_id)
    proposal = new_proposal(
        session=session, actor=actor, cluster=cluster, kind=ProposalKind.admit_member, title=f"Let {holder.name} join",
        description=f"Pledging {pounds(pledge)} a week.", payload={"membership_id": membership.id},
    )
    if not eligible_voters(session, cluster):
        # A forming group with nobody in it yet: the first person in is admitted straight away.
        action_for(proposal.kind).apply(session=session, proposal=proposal, actor=actor)
        close_proposal(session=session, proposal=proposal, status=ProposalStatus.passed, outcome="Admitted as the first member.")
    return proposal


# --- voting and deciding ------------------------------------------------------------------------


def cast_vote(*, session: Session, actor: User, proposal_id: int, holder_id: int, choice: Choice) -> Proposal:
    """Record one member's vote (by them or their representative) and decide the proposal if it can be."""
    proposal, cluster = get_proposal(session=session, actor=actor, proposal_id=proposal_id)
    if actor.role not in (Role.holder, Role.representative):
        raise NotAllowed("Only members, or representatives they authorised, can vote.")
    holder = holder_for_actor(session=session, actor=actor, holder_id=holder_id, undone="the vote was not recorded")
    # Votes on one group take turns (group, then proposal: locks.py), so each vote counts every
    # vote committed before it and the deciding one is never missed, nor applied twice.
    cluster = lock_row(session, Cluster, cluster.id)
    proposal = lock_row(session, Proposal, proposal.id)
    # The vote may decide this proposal and then others its decision settles: the providers' hours before any of
    # them locks a holder (locks.py order).
    lock_provider_hours(session, proposal.council_id)
    if proposal.status != ProposalStatus.open or utcnow() > proposal.deadline:
        raise ProposalClosed("Voting on this proposal has closed.")
    if holder.id not in eligible_voters(session, cluster):
        raise NotAMember(f"{holder.name} is not a voting member of this group.")
    already = AlreadyVoted(f"{holder.name} has already voted on this.", field="holder_id")
    if session.exec(select(Vote.id).where(Vote.proposal_id == proposal.id, Vote.holder_id == holder.id)).first() is not None:
        raise already
    with insert_once(session, already):
        session.add(Vote(council_id=proposal.council_id, proposal_id=proposal.id, holder_id=holder.id, choice=Choice(choice), cast_by_id=actor.id))
    _decide_if_possible(session, proposal, actor, closed=False)
    _after_members_changed(session, proposal, actor)
    return proposal


def close_due_proposals(*, session: Session, actor: User, council_id: int, now: datetime | None = None) -> BatchResult:
    """Decide every open proposal of the council whose deadline has passed (a scheduled job)."""
    same_council(actor, council_id, what="council")
    now = now or utcnow()
    due_ids = list(
        session.exec(
            select(Proposal.id, Proposal.cluster_id).where(
                Proposal.council_id == council_id, Proposal.status == ProposalStatus.open, Proposal.deadline <= now
            )
        )
    )
    # Every group first, then every proposal, each in id order (locks.py), before any holder is
    # locked by applying one: a vote that holds one of these groups cannot deadlock with this run.
    lock_rows(session, Cluster, [cluster_id for _, cluster_id in due_ids])
    due = [p for p in lock_rows(session, Proposal, [proposal_id for proposal_id, _ in due_ids]) if p.status == ProposalStatus.open]
    # Then the providers' hours, before any holder: one proposal's pledges and another's contract change are
    # decided in proposal order here, and in another order elsewhere (a notice settling another group's votes).
    lock_provider_hours(session, council_id)
    result = BatchResult()
    for proposal in due:
        # One proposal that cannot be decided must not hold up the others.
        try:
            with session.begin_nested():
                _decide_if_possible(session, proposal, actor, closed=True)
                _after_members_changed(session, proposal, actor)
            result.done.append(proposal)
        except RECORD_ERRORS as error:
            result.failed.append(f"Proposal {proposal.id} ({proposal.title}): {failure_message(error)}")
    return result


def _after_members_changed(session: Session, proposal: Proposal, actor: User) -> None:
    """After a passed proposal that changed who may vote (someone let in or asked to leave), decide what that settled."""
    if proposal.status == ProposalStatus.passed and action_for(proposal.kind).changes_voters:
        _decide_settled_proposals(session, proposal.cluster_id, actor)


def _decide_settled_proposals(session: Session, cluster_id: int, actor: User) -> None:
    """Decide the group's open proposals whose result a change of voting members has made certain.

    Votes count only while the voter is a voting member: when someone starts notice or joins, a
    proposal can become certain without another vote, and perhaps with nobody left who could cast
    one. The caller holds the group's lock, so no vote on these proposals can run meanwhile.
    """
    now = utcnow()
    changed = True
    while changed:  # a decision's action may change the members again; each pass closes one proposal at most
        changed = False
        pending = session.exec(
            select(Proposal).where(Proposal.cluster_id == cluster_id, Proposal.status == ProposalStatus.open, Proposal.deadline > now)
            .order_by(Proposal.id).execution_options(populate_existing=True)
        ).all()
        for proposal in pending:
            _decide_if_possible(session, proposal, actor, closed=False)
            if proposal.status != ProposalStatus.open:
                changed = True
                break


def _no_longer_possible(session: Session, proposal: Proposal, action: ProposalAction) -> str | None:
    """Return why a passed proposal's action can no longer be carried out, or None if it still can."""
    cluster = session.get(Cluster, proposal.cluster_id)
    if cluster.status not in OPEN:
        return "the group is already closed."
    return action.no_longer_possible(session=session, proposal=proposal)


def _decide_if_possible(session: Session, proposal: Proposal, actor: User, *, closed: bool) -> None:
    result = count(session=session, proposal=proposal, closed=closed)
    if not result.decided:
        return
    # Looked up before anything changes: a kind nobody registered stops the decision loudly.
    action = action_for(proposal.kind)
    summary = f"{result.yes} yes, {result.no} no, {result.abstain} abstained of {plural(result.eligible, 'member')}"
    if result.passed:
        # Every holder whose pledge the action checks, in id order, before any check (locks.py):
        # two decisions sharing holders then take turns instead of deadlocking.
        lock_rows(session, Holder, action.holders_concerned(session=session, proposal=proposal))
        # What passed may have become impossible since it was proposed (the member left, the care was
        # contracted by another vote): then the votes stand and the proposal closes as no longer needed.
        reason = _no_longer_possible(session, proposal, action)
        if reason is None:
            try:
                # The action applies in the same transaction as the deciding vote.
                with session.begin_nested():
                    outcome = action.apply(session=session, proposal=proposal, actor=actor)
            except BrokerageError as error:
                reason = error.message
        if reason is None:
            close_proposal(session=session, proposal=proposal, status=ProposalStatus.passed, outcome=f"Passed ({summary}). {outcome}".strip())
            return
        action.ended_without_passing(session=session, proposal=proposal)
        close_proposal(session=session, proposal=proposal, status=ProposalStatus.lapsed, outcome=f"No longer needed ({summary}): {reason}")
        return
    reason = "not enough members voted" if not result.quorate else "not enough yes votes"
    action.ended_without_passing(session=session, proposal=proposal)
    close_proposal(session=session, proposal=proposal, status=ProposalStatus.rejected, outcome=f"Not passed: {reason} ({summary}).")


# --- leaving ------------------------------------------------------------------------------------


def give_notice(*, session: Session, actor: User, membership_id: int) -> Membership:
    """Give notice to leave a cluster (or withdraw a request to join); the pool share comes back at the end of the notice period."""
    membership = get_membership(session=session, actor=actor, membership_id=membership_id)
    holder_for_actor(session=session, actor=actor, holder_id=membership.holder_id, undone="no notice was given")
    # Under the group's lock, so a withdrawal and the vote admitting the same request take turns.
    lock_row(session, Cluster, membership.cluster_id)
    membership = fresh_row(session, Membership, membership.id)
    membership.changed_by_id, membership.changed_at = actor.id, utcnow()
    if membership.status == MembershipStatus.requested:
        membership.status = MembershipStatus(rules.move_membership(membership.status, "left"))
        session.add(membership)
        # The request's vote has nothing left to decide.
        for proposal in open_proposals(session=session, cluster_id=membership.cluster_id, kind=ProposalKind.admit_member):
            if proposal.payload.get("membership_id") == membership.id:
                close_proposal(session=session, proposal=proposal, status=ProposalStatus.lapsed,
                               outcome="No longer needed: withdrawn by the person who asked to join.")
        session.flush()
        return membership
    # The notice may settle several of the group's votes: the providers' hours before any holder (locks.py order).
    lock_provider_hours(session, membership.council_id)
    start_notice(session, membership, clock.today())
    if not close_if_everyone_left(session=session, cluster=session.get(Cluster, membership.cluster_id)):
        _decide_settled_proposals(session, membership.cluster_id, actor)
    return membership
