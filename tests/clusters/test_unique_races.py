"""A second copy of a vote or a join request, inserted by a racing request, is a clear 409 on both databases."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.clusters.errors import AlreadyJoined, AlreadyVoted

from brokerage.clusters.models import Membership, MembershipStatus, Vote
from brokerage.clusters.rules import Choice, ProposalKind
from brokerage.clusters import governance
from tests import factories as f
from tests.clusters.test_views import sign_in
from tests.races import row_appears_after_check


def active_group(session, people, members=3):
    cluster = f.ClusterFactory(session=session, council_id=people.council.id, max_size=6)
    for holder in people.holders[:members]:
        f.MembershipFactory(session=session, council_id=people.council.id, cluster_id=cluster.id, holder_id=holder.id, weekly_pledge_pence=1_000)
    return cluster


def test_a_vote_counted_by_a_racing_request_answers_409_with_a_plain_message(client, people, session):
    cluster = active_group(session, people)
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.free_text, title="Visits at ten")
    session.commit()
    sign_in(client, people.users[0])
    holder = people.holders[0]
    racing_vote = Vote(council_id=people.council.id, proposal_id=proposal.id, holder_id=holder.id, choice=Choice.yes, cast_by_id=people.users[0].id)
    with row_appears_after_check(racing_vote, ("proposal_id", "holder_id")) as inserted:
        response = client.post(f"/clusters/proposals/{proposal.id}", data={"holder_id": str(holder.id), "choice": "yes"})
    assert inserted, "the racing vote was never inserted"
    assert response.status_code == 409
    assert f"{holder.name} has already voted on this." in response.data.decode()


def test_cast_vote_refuses_the_copy_a_racing_request_inserted_and_keeps_one_vote(people, session):
    cluster = active_group(session, people)
    proposal = governance.propose(session=session, actor=people.users[0], cluster_id=cluster.id, kind=ProposalKind.free_text, title="Visits at ten")
    holder = people.holders[0]
    racing_vote = Vote(council_id=people.council.id, proposal_id=proposal.id, holder_id=holder.id, choice=Choice.no, cast_by_id=people.users[0].id)
    with row_appears_after_check(racing_vote, ("proposal_id", "holder_id")) as inserted:
        with pytest.raises(AlreadyVoted) as refused:
            governance.cast_vote(session=session, actor=people.users[0], proposal_id=proposal.id, holder_id=holder.id, choice=Choice.yes)
    assert inserted and refused.value.status == 409
    assert [v.choice for v in session.exec(select(Vote).where(Vote.proposal_id == proposal.id))] == [Choice.no]


def test_a_join_request_made_by_a_racing_request_answers_409_with_a_plain_message(client, people, session):
    cluster = active_group(session, people, members=2)
    session.commit()
    holder = people.holders[2]
    sign_in(client, people.users[2])
    racing_request = Membership(council_id=people.council.id, cluster_id=cluster.id, holder_id=holder.id, status=MembershipStatus.requested,
                                weekly_pledge_pence=1_000)
    with row_appears_after_check(racing_request, ("cluster_id", "holder_id")) as inserted:
        response = client.post(f"/clusters/{cluster.id}/join", data={"join-holder_id": str(holder.id), "join-pledge": "10"})
    assert inserted, "the racing request was never inserted"
    assert response.status_code == 409
    assert f"{holder.name} has already asked to join or is a member." in response.data.decode()


def test_request_to_join_refuses_the_copy_a_racing_request_inserted_and_keeps_one(people, session):
    cluster = active_group(session, people, members=2)
    holder = people.holders[2]
    racing_request = Membership(council_id=people.council.id, cluster_id=cluster.id, holder_id=holder.id, status=MembershipStatus.requested,
                                weekly_pledge_pence=1_000)
    with row_appears_after_check(racing_request, ("cluster_id", "holder_id")) as inserted:
        with pytest.raises(AlreadyJoined) as refused:
            governance.request_to_join(session=session, actor=people.users[2], cluster_id=cluster.id, holder_id=holder.id, pledge=2_000)
    assert inserted and refused.value.status == 409
    rows = session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.holder_id == holder.id)).all()
    assert [r.weekly_pledge_pence for r in rows] == [1_000]
