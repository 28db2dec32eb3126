"""A passed match's contract serves the members still in the group: one who left while the request waited is not copied in."""

from __future__ import annotations

from sqlmodel import select

from brokerage.clusters.models import Membership, MembershipStatus
from brokerage.matching import services
from brokerage.matching.decisions import contracts_from_match
from brokerage.matching.models import DemandLine, MatchAssignment
from tests.matching.on_the_demo import app, demo  # noqa: F401 (fixtures)


def _hooyo_match(session, demo):  # noqa: F811
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    proposal = next(p for p in services.send_to_clusters(session=session, actor=broker, run_id=run.id).proposals if "Hooyo" in p.title)
    assignment = session.exec(select(MatchAssignment).where(MatchAssignment.proposal_id == proposal.id)).one()
    return broker, proposal, assignment, session.get(DemandLine, assignment.demand_line_id)


def _leave(session, cluster_id, holder_ids, status=MembershipStatus.left):
    for membership in session.exec(select(Membership).where(Membership.cluster_id == cluster_id, Membership.holder_id.in_(holder_ids))):
        membership.status = status
        session.add(membership)
    session.flush()


def test_a_member_who_left_while_the_group_voted_is_not_in_the_contract(session, demo):  # noqa: F811
    # The contract copied the request's members, a leaver too: had they rejoined, they would have shared this care's cost.
    broker, proposal, assignment, line = _hooyo_match(session, demo)
    members = sorted(line.shares, key=int)
    assert len(members) >= 2
    gone = int(members[0])
    _leave(session, proposal.cluster_id, [gone])
    [contract] = contracts_from_match(session=session, actor=broker, proposal=proposal)
    assert set(contract.member_shares) == set(members) - {str(gone)}
    assert all(contract.member_shares[m] == line.shares[m] for m in contract.member_shares)


def test_a_member_on_notice_is_still_in_the_contract_until_they_go(session, demo):  # noqa: F811
    broker, proposal, assignment, line = _hooyo_match(session, demo)
    leaving = int(sorted(line.shares, key=int)[0])
    _leave(session, proposal.cluster_id, [leaving], status=MembershipStatus.leaving)
    [contract] = contracts_from_match(session=session, actor=broker, proposal=proposal)
    assert set(contract.member_shares) == set(line.shares)


def test_when_everyone_the_care_was_for_has_left_no_contract_is_made(session, demo):  # noqa: F811
    broker, proposal, assignment, line = _hooyo_match(session, demo)
    _leave(session, proposal.cluster_id, [int(m) for m in line.shares])
    assert contracts_from_match(session=session, actor=broker, proposal=proposal) == []
    assert assignment.status == "rejected" and "everyone this care was for has left the group" in assignment.explanation
