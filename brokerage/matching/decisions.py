"""The care match a group votes on ("accept a match"): what a passed one does, why it may no longer be
possible, and what a rejected one ends.

`CARE_MATCH` is registered as the accept_match proposal action in `brokerage.wiring.connect_domains()`;
clusters decides the vote and calls it without knowing matching. Contracts are made through the
contracts service.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from brokerage import clock
from brokerage.accounts.models import User
from brokerage.clusters.actions import ProposalAction
from brokerage.clusters.members import live_members_by_group
from brokerage.clusters.models import Proposal
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import AllocationRule
from brokerage.contracts.services import contracted_hours, create_contract
from brokerage.formatting import plural
from brokerage.matching.models import DemandLine, MatchAssignment
from brokerage.matching.rules import AssignmentStatus, DemandLineStatus, move_assignment, move_demand_line
from brokerage.matching.services import vetted_provider_ids


def contracts_from_match(*, session: Session, actor: User, proposal: Proposal, start: date | None = None) -> list[Contract]:
    """Create the contracts of a passed 'accept a match' proposal (called in the deciding vote's transaction)."""
    start = start or clock.today()
    # Vetting may have lapsed while the members voted: a lapsed provider gets no contract.
    vetted = vetted_provider_ids(session, proposal.council_id, start)
    # The hours already contracted for each request, read once; this vote's contracts are added as they are made.
    contracted, _ = contracted_hours(session=session, council_id=proposal.council_id)
    # Who is in the group now (members on notice pay until their last day): a member who left while the
    # request waited is not copied into its contract, or they would share its cost if they ever rejoined.
    live = live_members_by_group(session=session, cluster_ids=[proposal.cluster_id])[proposal.cluster_id]
    made = []
    for assignment_id in proposal.payload.get("assignment_ids", []):
        assignment = session.get(MatchAssignment, int(assignment_id))
        if assignment is None or assignment.proposal_id != proposal.id or assignment.status != AssignmentStatus.sent:
            continue
        if assignment.provider_id not in vetted:
            assignment.status = move_assignment(assignment.status, AssignmentStatus.rejected)
            assignment.explanation += " Not contracted: the provider's vetting lapsed before the vote."
            session.add(assignment)
            continue
        line = session.get(DemandLine, assignment.demand_line_id)
        if line.status == DemandLineStatus.withdrawn:
            # The broker withdrew the request while the members voted: nobody asks for this care any more.
            assignment.status = move_assignment(assignment.status, AssignmentStatus.rejected)
            assignment.explanation += " Not contracted: the request for this care was withdrawn."
            session.add(assignment)
            continue
        if line.status != DemandLineStatus.open:
            # Another vote contracted this care first: a second contract would pay for it twice.
            assignment.status = move_assignment(assignment.status, AssignmentStatus.rejected)
            assignment.explanation += " Not contracted: this care was already contracted."
            session.add(assignment)
            continue
        shares = staying_shares(line.shares, live)
        if not shares:
            assignment.status = move_assignment(assignment.status, AssignmentStatus.rejected)
            assignment.explanation += " Not contracted: everyone this care was for has left the group."
            session.add(assignment)
            continue
        contract = create_contract(
            session=session, actor=actor, council_id=proposal.council_id, provider_id=assignment.provider_id, cluster_id=assignment.cluster_id,
            demand_line_id=line.id, proposal_id=proposal.id, service=line.service, hours_per_week=assignment.hours,
            rate_pence=assignment.rate_pence, start_date=start, min_visit_minutes=60,
            # The rule the members saw on the vote page (brokerage.pages.proposals); by hours unless the proposal names another.
            allocation_rule=AllocationRule(proposal.payload.get("allocation_rule", AllocationRule.by_hours.value)),
            member_shares=shares, slot_hours=assignment.slot_hours,
        )
        assignment.status = move_assignment(assignment.status, AssignmentStatus.accepted)
        session.add(assignment)
        made.append(contract)
        session.flush()
        # Contracts alone say the line is done: a part of it with another provider, still sent (later in this
        # vote, or in another), would otherwise count as done too, and be refused as "already contracted".
        contracted[line.id] = contracted.get(line.id, 0) + contract.hours_per_week
        if contracted[line.id] >= line.hours:
            line.status = move_demand_line(line.status, DemandLineStatus.contracted)
            session.add(line)
    session.flush()
    return made


def staying_shares(shares: dict, live: dict[int, date | None]) -> dict[str, int]:
    """Return a request's shares of the hours ({holder id: share}) less the members no longer in the group."""
    return {str(holder): share for holder, share in shares.items() if int(holder) in live}


def match_no_longer_possible(*, session: Session, proposal: Proposal) -> str | None:
    """Return why none of a match proposal's care can still be contracted, or None if some can."""
    waiting = [
        assignment for assignment_id in proposal.payload.get("assignment_ids", [])
        if (assignment := session.get(MatchAssignment, int(assignment_id))) is not None
        and assignment.proposal_id == proposal.id and assignment.status == AssignmentStatus.sent
    ]
    if not waiting:
        return "the care in this match was withdrawn or changed since it was sent."
    statuses = {session.get(DemandLine, a.demand_line_id).status for a in waiting}
    if statuses == {DemandLineStatus.withdrawn}:
        return "the broker withdrew the request for this care while the members voted."
    if statuses == {DemandLineStatus.contracted}:
        return "this care was already contracted by another decision."
    if DemandLineStatus.open not in statuses:
        return "the requests for this care were withdrawn or already contracted by another decision."
    return None


def reject_match(*, session: Session, proposal: Proposal) -> None:
    """Mark a rejected proposal's assignments as rejected."""
    for assignment_id in proposal.payload.get("assignment_ids", []):
        assignment = session.get(MatchAssignment, int(assignment_id))
        if assignment is not None and assignment.proposal_id == proposal.id:
            # Already rejected (its provider's vetting lapsed, say) stays rejected; anything else was sent.
            if assignment.status != AssignmentStatus.rejected:
                assignment.status = move_assignment(assignment.status, AssignmentStatus.rejected)
                session.add(assignment)
    session.flush()


# A match proposal made by hand, with no matching run behind it, names no assignments: passing it
# asks the broker to draw up the contract, and there is nothing to check or reject.


def accept_match(*, session: Session, proposal: Proposal, actor: User) -> str:
    """Carry out a passed care match: make its contracts; return what happened in one sentence."""
    if proposal.payload.get("assignment_ids"):
        made = contracts_from_match(session=session, proposal=proposal, actor=actor)
        return f"The match is accepted: {plural(len(made), 'contract')} made."
    return "The match is accepted; the broker will draw up the contract."


def _match_impossible(*, session: Session, proposal: Proposal) -> str | None:
    if proposal.payload.get("assignment_ids"):
        return match_no_longer_possible(session=session, proposal=proposal)
    return None


def _match_ended(*, session: Session, proposal: Proposal) -> None:
    if proposal.payload.get("assignment_ids"):
        reject_match(session=session, proposal=proposal)


CARE_MATCH = ProposalAction(apply=accept_match, no_longer_possible=_match_impossible, ended_without_passing=_match_ended)
