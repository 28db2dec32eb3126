"""A passed proposal whose action can no longer be done keeps its votes and closes as "no longer needed", with the reason."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from brokerage.clusters import governance
from brokerage.clusters.membership import settle_leavers
from brokerage.clusters.models import ClusterStatus, MembershipStatus, Vote
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.types import utcnow
from tests.clusters.test_services import found, join, membership
from tests.clusters.test_views import sign_in


def four_members(session, people):
    cluster = found(session, people)
    for index, voters in ((1, [0]), (2, [0, 1]), (3, [0, 1, 2])):
        assert join(session, people, cluster, index, voters=voters).status == ProposalStatus.passed
    assert cluster.status == ClusterStatus.active
    return cluster


def vote(session, people, proposal, *voters, choice=Choice.yes):
    for index in voters:
        governance.cast_vote(session=session, actor=people.users[index], proposal_id=proposal.id, holder_id=people.holders[index].id, choice=choice)


def ask_to_leave(session, people, cluster, index, title="Missed every meeting"):
    return governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.remove_member,
                            title=title, payload={"membership_id": membership(session, cluster, people.holders[index]).id})


def votes_on(session, proposal) -> int:
    return session.exec(select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal.id)).one()


def test_the_deciding_vote_on_a_second_removal_is_kept_and_closes_it_as_no_longer_needed(session, people):
    cluster = four_members(session, people)
    first, second = ask_to_leave(session, people, cluster, 3), ask_to_leave(session, people, cluster, 3, "Never pays")
    vote(session, people, first, 0, 1, 2)
    assert first.status == ProposalStatus.passed
    assert membership(session, cluster, people.holders[3]).status == MembershipStatus.leaving
    vote(session, people, second, 0, 1)
    assert second.status == ProposalStatus.lapsed and second.decided_at is not None
    assert second.outcome == "No longer needed (2 yes, 0 no, 0 abstained of 3 members): Member 3 has already given notice to leave."
    assert votes_on(session, second) == 2


def test_a_second_removal_left_to_its_deadline_closes_once_and_warns_no_more(session, people):
    cluster = four_members(session, people)
    first, second = ask_to_leave(session, people, cluster, 3), ask_to_leave(session, people, cluster, 3, "Never pays")
    vote(session, people, second, 0)
    vote(session, people, second, 1, choice=Choice.abstain)
    vote(session, people, first, 0, 1, 2)
    # 1 yes and 1 abstention of the 3 voting members: the third could still make it a tie.
    assert second.status == ProposalStatus.open
    later = utcnow() + timedelta(days=15)
    result = governance.close_due_proposals(session=session, actor=people.job, council_id=people.council.id, now=later)
    assert result.failed == [] and result.done == [second]
    assert second.status == ProposalStatus.lapsed and "Member 3 has already given notice to leave." in second.outcome
    again = governance.close_due_proposals(session=session, actor=people.job, council_id=people.council.id, now=later + timedelta(days=1))
    assert again.done == [] and again.failed == []


def test_removing_a_member_who_has_already_left_is_no_longer_needed(session, people):
    cluster = four_members(session, people)
    proposal = ask_to_leave(session, people, cluster, 3)
    leaving = membership(session, cluster, people.holders[3])
    governance.give_notice(session=session, actor=people.users[3], membership_id=leaving.id)
    settle_leavers(session=session, actor=people.job, council_id=people.council.id, today=leaving.leaves_on + timedelta(days=1))
    assert leaving.status == MembershipStatus.left
    vote(session, people, proposal, 0, 1)
    assert proposal.status == ProposalStatus.lapsed and proposal.outcome.endswith("Member 3 has already left the group.")


def test_new_pledges_for_a_member_now_leaving_are_no_longer_needed(session, people):
    cluster = four_members(session, people)
    target = membership(session, cluster, people.holders[3])
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.change_pledges,
                                title="Pledge more", payload={"pledges": {str(target.id): 9_000}})
    governance.give_notice(session=session, actor=people.users[3], membership_id=target.id)
    vote(session, people, proposal, 0, 1)
    assert proposal.status == ProposalStatus.lapsed
    assert proposal.outcome.endswith("Member 3 is leaving or has left the group, so their pledge cannot change.")
    assert target.weekly_pledge_pence == 5_000


def test_new_pledges_beyond_a_lowered_budget_are_no_longer_needed(session, people):
    cluster = four_members(session, people)
    target = membership(session, cluster, people.holders[2])
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.change_pledges,
                                title="Pledge more", payload={"pledges": {str(target.id): 9_000}})
    people.holders[2].weekly_allocation_pence = 6_000
    session.add(people.holders[2])
    vote(session, people, proposal, 0, 1, 3)
    assert proposal.status == ProposalStatus.lapsed and votes_on(session, proposal) == 3
    assert proposal.outcome.endswith("Member 2's new pledge would be more than their weekly budget allows.")
    assert target.weekly_pledge_pence == 5_000


def test_admitting_someone_whose_pledge_no_longer_fits_their_budget_is_no_longer_needed(session, people):
    cluster = found(session, people, min_size=2)
    request = join(session, people, cluster, 1, pledge=15_000)
    people.holders[1].weekly_allocation_pence = 10_000
    session.add(people.holders[1])
    vote(session, people, request, 0)
    assert request.status == ProposalStatus.lapsed and votes_on(session, request) == 1
    assert request.outcome.endswith("Member 1's pledge is now more than their weekly budget allows.")
    assert membership(session, cluster, people.holders[1]).status == MembershipStatus.left


def test_admitting_someone_to_a_group_that_has_filled_up_is_no_longer_needed(session, people):
    cluster = found(session, people, min_size=2)
    cluster.max_size = 2
    waiting = join(session, people, cluster, 2)
    join(session, people, cluster, 1, voters=[0])
    vote(session, people, waiting, 0, 1)
    assert waiting.status == ProposalStatus.lapsed and waiting.outcome.endswith("the group is full (2 members).")
    assert membership(session, cluster, people.holders[2]).status == MembershipStatus.left


def test_a_withdrawn_request_to_join_is_no_longer_needed(session, people):
    cluster = found(session, people, min_size=2)
    request = join(session, people, cluster, 1)
    governance.give_notice(session=session, actor=people.users[1], membership_id=membership(session, cluster, people.holders[1]).id)
    assert request.status == ProposalStatus.lapsed and request.outcome == "No longer needed: withdrawn by the person who asked to join."


def test_closing_a_group_twice_is_no_longer_needed(session, people):
    cluster = four_members(session, people)
    first = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.dissolve, title="Close the group")
    second = governance.propose(session=session, actor=people.users[1], cluster_id=cluster.id, kind=ProposalKind.dissolve, title="Wind up")
    vote(session, people, second, 0)
    vote(session, people, first, 0, 1, 2)
    assert first.status == ProposalStatus.passed and cluster.status == ClusterStatus.closed
    assert second.status == ProposalStatus.lapsed and second.outcome == "No longer needed: the group was closed."
    assert votes_on(session, second) == 1


def test_the_pages_show_a_proposal_that_is_no_longer_needed_and_why(client, session, people):
    cluster = four_members(session, people)
    first, second = ask_to_leave(session, people, cluster, 3), ask_to_leave(session, people, cluster, 3, "Never pays")
    vote(session, people, first, 0, 1, 2)
    vote(session, people, second, 0)
    session.commit()
    sign_in(client, people.users[1])
    response = client.post(f"/clusters/proposals/{second.id}", data={"holder_id": str(people.holders[1].id), "choice": "yes"}, follow_redirects=True)
    body = response.data.decode()
    assert response.status_code == 200 and "Your vote has been counted." in body
    assert "No longer needed" in body and "Member 3 has already given notice to leave." in body
    session.refresh(second)
    assert second.status == ProposalStatus.lapsed and votes_on(session, second) == 2
    page = client.get(f"/clusters/{cluster.id}").data.decode()
    assert "No longer needed" in page and "Member 3 has already given notice to leave." in page


def test_a_proposal_made_certain_by_someone_leaving_is_decided_at_once(session, people):
    cluster = four_members(session, people)
    tea = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.free_text, title="Tea on Fridays")
    vote(session, people, tea, 0, 1)
    assert tea.status == ProposalStatus.open  # 2 of 4: members 2 and 3 could still vote it down
    vote(session, people, ask_to_leave(session, people, cluster, 3), 0, 1, 2)
    # Member 3 is on notice and no longer votes: 2 yes of 3 cannot be overturned by member 2 alone.
    assert tea.status == ProposalStatus.passed and tea.outcome.startswith("Passed (2 yes, 0 no, 0 abstained of 3 members)")


def test_a_proposal_nobody_left_could_vote_on_is_decided_when_the_last_other_voter_gives_notice(session, people):
    cluster = four_members(session, people)
    tea = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.free_text, title="Tea on Fridays")
    vote(session, people, tea, 0)
    for index in (1, 2, 3):
        assert tea.status == ProposalStatus.open
        governance.give_notice(session=session, actor=people.users[index], membership_id=membership(session, cluster, people.holders[index]).id)
    assert tea.status == ProposalStatus.passed and "1 yes, 0 no, 0 abstained of 1 member)" in tea.outcome


def test_the_proposal_page_says_a_leavers_vote_is_not_counted(client, session, people):
    cluster = four_members(session, people)
    tea = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.free_text, title="Tea on Fridays")
    vote(session, people, tea, 3)
    governance.give_notice(session=session, actor=people.users[3], membership_id=membership(session, cluster, people.holders[3]).id)
    session.commit()
    sign_in(client, people.users[0])
    page = client.get(f"/clusters/proposals/{tea.id}").data.decode()
    assert "(not counted: they are leaving the group)" in page and "0 yes, 0 no, 0 abstained, of 3 members who can vote" in page
