"""Group rules hold when requests race on PostgreSQL: size, one first member, pledges, one decision, one vote each."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from brokerage.accounts.models import Role, User
from brokerage.clusters import governance
from brokerage.clusters.membership import set_allocation, set_pledge
from brokerage.clusters.errors import AlreadyVoted, PledgeTooHigh, ProposalClosed
from brokerage.clusters.models import ClusterStatus, Membership, MembershipStatus, Proposal, Vote
from brokerage.clusters.rules import Choice, ProposalKind, ProposalStatus
from brokerage.errors import ValidationFailed
from brokerage.holders.models import Holder
from tests import factories as f
from tests.races import council_factory, new_council, pause_after_select, race  # noqa: F401  (council_factory is the `factory` fixture)

pytestmark = pytest.mark.postgres_only

TRIALS = 6
LIVE = (MembershipStatus.admitted, MembershipStatus.active, MembershipStatus.leaving)


def holders_with_accounts(session, council, count: int, allocation: int = 20_000):
    """Add holders who each have a sign-in account; return (holders, users)."""
    holders = [f.HolderFactory(session=session, council_id=council.id, weekly_allocation_pence=allocation) for _ in range(count)]
    users = [f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=h.id) for h in holders]
    return holders, users


def group_voting_on(session, factory, members: int, title: str):
    """Add a council with an active group of `members` holders and one open proposal; return (holders, users, proposal)."""
    council = new_council(session)
    factory.councils.append(council.id)
    holders, users = holders_with_accounts(session, council, members)
    cluster = f.ClusterFactory(session=session, council_id=council.id, max_size=6)
    for holder in holders:
        f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id, weekly_pledge_pence=1_000)
    proposal = governance.propose(session=session, actor=users[0], cluster_id=cluster.id, kind=ProposalKind.free_text, title=title)
    return holders, users, proposal


def as_user(session, user_id: int) -> User:
    return session.get(User, user_id)


def live_members(session, cluster_id: int) -> int:
    return session.execute(
        select(func.count()).select_from(Membership).where(Membership.cluster_id == cluster_id, Membership.status.in_(LIVE))
    ).scalar_one()


def test_two_deciding_votes_at_once_never_take_a_group_over_its_size(factory):
    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            holders, users = holders_with_accounts(session, council, 4)
            cluster = f.ClusterFactory(session=session, council_id=council.id, min_size=2, max_size=3, status=ClusterStatus.active)
            for holder in holders[:2]:
                f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id)
            asks = [governance.request_to_join(session=session, actor=users[i], cluster_id=cluster.id, holder_id=holders[i].id, pledge=1_000) for i in (2, 3)]
            # The second member's yes leaves each request one yes-vote from passing.
            for ask in asks:
                governance.cast_vote(session=session, actor=users[1], proposal_id=ask.id, holder_id=holders[1].id, choice=Choice.yes)
            session.commit()
            voter, voter_holder, cluster_id, ask_ids = users[0].id, holders[0].id, cluster.id, [a.id for a in asks]

        def deciding_vote(proposal_id):
            return lambda s: governance.cast_vote(session=s, actor=as_user(s, voter), proposal_id=proposal_id, holder_id=voter_holder, choice=Choice.yes).status

        results = race(factory, [deciding_vote(i) for i in ask_ids])
        assert all(not isinstance(r, Exception) for r in results), results
        with factory() as session:
            assert live_members(session, cluster_id) == 3
            decided = sorted((session.get(Proposal, i).status.value, session.get(Proposal, i).outcome) for i in ask_ids)
            assert [status for status, _ in decided] == ["lapsed", "passed"]
            assert decided[0][1].endswith("the group is full (3 members).")


def test_many_people_asking_to_join_an_empty_group_at_once_admit_one_first_member(factory):
    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            holders, users = holders_with_accounts(session, council, 6)
            cluster = f.ClusterFactory(session=session, council_id=council.id, name="No founder yet", kinds=["goal"], status=ClusterStatus.forming)
            session.commit()
            cluster_id, people = cluster.id, [(u.id, h.id) for u, h in zip(users, holders)]

        def join(user_id, holder_id):
            return lambda s: governance.request_to_join(session=s, actor=as_user(s, user_id), cluster_id=cluster_id, holder_id=holder_id, pledge=1_000).status

        results = race(factory, [join(u, h) for u, h in people])
        assert all(not isinstance(r, Exception) for r in results), results
        assert sorted(r.value for r in results) == ["open"] * 5 + ["passed"]
        with factory() as session:
            assert live_members(session, cluster_id) == 1
            requested = session.execute(
                select(func.count()).select_from(Membership).where(Membership.cluster_id == cluster_id, Membership.status == MembershipStatus.requested)
            ).scalar_one()
            assert requested == 5


def pledged(session, holder_id: int) -> int:
    return session.execute(
        select(func.coalesce(func.sum(Membership.weekly_pledge_pence), 0)).where(
            Membership.holder_id == holder_id, Membership.status != MembershipStatus.left
        )
    ).scalar_one()


def test_two_pledges_at_once_never_add_up_to_more_than_the_budget(factory):
    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            (holder,), (user,) = holders_with_accounts(session, council, 1, allocation=40_000)
            memberships = []
            for _ in range(2):
                cluster = f.ClusterFactory(session=session, council_id=council.id)
                memberships.append(f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id, weekly_pledge_pence=0))
            session.commit()
            user_id, holder_id, membership_ids = user.id, holder.id, [m.id for m in memberships]

        def pledge_all(membership_id):
            return lambda s: set_pledge(session=s, actor=as_user(s, user_id), membership_id=membership_id, pledge=40_000).weekly_pledge_pence

        results = race(factory, [pledge_all(m) for m in membership_ids])
        assert sorted(type(r).__name__ for r in results) == ["PledgeTooHigh", "int"], results
        with factory() as session:
            assert pledged(session, holder_id) == 40_000


def test_two_requests_to_join_at_once_never_pledge_more_than_the_budget(factory):
    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            (holder,), (user,) = holders_with_accounts(session, council, 1, allocation=40_000)
            others, _ = holders_with_accounts(session, council, 2)
            clusters = []
            for other in others:
                cluster = f.ClusterFactory(session=session, council_id=council.id)
                f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=other.id)
                clusters.append(cluster.id)
            session.commit()
            user_id, holder_id = user.id, holder.id

        def join(cluster_id):
            return lambda s: governance.request_to_join(session=s, actor=as_user(s, user_id), cluster_id=cluster_id, holder_id=holder_id, pledge=30_000).id

        results = race(factory, [join(c) for c in clusters])
        assert sum(isinstance(r, PledgeTooHigh) for r in results) == 1, results
        with factory() as session:
            assert pledged(session, holder_id) == 30_000


def test_a_lower_budget_and_a_higher_pledge_at_once_never_leave_pledges_above_the_budget(factory):
    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            (holder,), (user,) = holders_with_accounts(session, council, 1, allocation=40_000)
            broker = f.UserFactory(session=session, role=Role.broker, council_id=council.id)
            cluster = f.ClusterFactory(session=session, council_id=council.id)
            membership = f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id, weekly_pledge_pence=0)
            session.commit()
            user_id, broker_id, holder_id, membership_id = user.id, broker.id, holder.id, membership.id

        results = race(factory, [
            lambda s: set_pledge(session=s, actor=as_user(s, user_id), membership_id=membership_id, pledge=40_000).weekly_pledge_pence,
            lambda s: set_allocation(session=s, actor=as_user(s, broker_id), holder_id=holder_id, weekly_allocation_pence=100).weekly_allocation_pence,
        ])
        # Whichever came second was refused, with its own plain message.
        assert sum(isinstance(r, (PledgeTooHigh, ValidationFailed)) for r in results) == 1, results
        with factory() as session:
            allocation = session.get(Holder, holder_id).weekly_allocation_pence
            assert pledged(session, holder_id) <= allocation


def test_every_member_voting_yes_at_once_decides_the_proposal_exactly_once(factory):
    for _ in range(TRIALS):
        with factory() as session:
            holders, users, proposal = group_voting_on(session, factory, 4, "Afternoon visits")
            session.commit()
            proposal_id, voters = proposal.id, [(u.id, h.id) for u, h in zip(users, holders)]

        def vote(user_id, holder_id):
            return lambda s: governance.cast_vote(session=s, actor=as_user(s, user_id), proposal_id=proposal_id, holder_id=holder_id, choice=Choice.yes).status

        results = race(factory, [vote(u, h) for u, h in voters])
        # Three yes votes of four decide it; a fourth arriving after that is told voting has closed.
        assert all(not isinstance(r, Exception) or isinstance(r, ProposalClosed) for r in results), results
        with factory() as session:
            decided = session.get(Proposal, proposal_id)
            assert decided.status == ProposalStatus.passed and decided.decided_at is not None
            votes = session.execute(select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal_id)).scalar_one()
            assert votes == sum(not isinstance(r, Exception) for r in results) >= 3


def test_a_deciding_vote_applying_new_pledges_and_a_raise_elsewhere_at_once_stay_within_the_budget(factory):
    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            holders, users = holders_with_accounts(session, council, 3, allocation=20_000)
            cluster = f.ClusterFactory(session=session, council_id=council.id, max_size=6)
            members = [f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=h.id, weekly_pledge_pence=1_000) for h in holders]
            other = f.ClusterFactory(session=session, council_id=council.id)
            elsewhere = f.MembershipFactory(session=session, council_id=council.id, cluster_id=other.id, holder_id=holders[0].id, weekly_pledge_pence=0)
            proposal = governance.propose(session=session, actor=users[0], cluster_id=cluster.id, kind=ProposalKind.change_pledges,
                                        title="Pledge £150 each", payload={"pledges": {str(m.id): 15_000 for m in members}})
            governance.cast_vote(session=session, actor=users[1], proposal_id=proposal.id, holder_id=holders[1].id, choice=Choice.yes)
            session.commit()
            ids = dict(proposal=proposal.id, elsewhere=elsewhere.id, holder=holders[0].id, user=users[0].id, voter=users[2].id, voter_holder=holders[2].id)

        # The deciding yes vote applies the new pledges while the first holder raises their pledge in another group.
        def deciding_vote(s):
            # Hold the vote open just after it read the holder's pledges, so the raise runs meanwhile.
            pause_after_select(s, Membership.__table__, "holder_id", 0.4)
            return governance.cast_vote(session=s, actor=as_user(s, ids["voter"]), proposal_id=ids["proposal"], holder_id=ids["voter_holder"], choice=Choice.yes).status

        def raise_pledge(s):
            time.sleep(0.1)
            return set_pledge(session=s, actor=as_user(s, ids["user"]), membership_id=ids["elsewhere"], pledge=10_000).weekly_pledge_pence

        results = race(factory, [deciding_vote, raise_pledge])
        assert all(not isinstance(r, Exception) or isinstance(r, (PledgeTooHigh, ProposalClosed)) for r in results), results
        with factory() as session:
            # Either the new pledges passed first and the other group's raise was refused, or the
            # raise came first and the deciding vote could not apply them: never both.
            assert pledged(session, ids["holder"]) <= 20_000


def test_one_member_voting_twice_at_once_counts_once_and_the_other_is_told_plainly(factory):
    for _ in range(TRIALS):
        with factory() as session:
            holders, users, proposal = group_voting_on(session, factory, 3, "Morning visits")
            session.commit()
            proposal_id, user_id, holder_id = proposal.id, users[0].id, holders[0].id

        results = race(factory, [
            lambda s: governance.cast_vote(session=s, actor=as_user(s, user_id), proposal_id=proposal_id, holder_id=holder_id, choice=Choice.yes).id,
        ] * 2)
        assert sum(isinstance(r, AlreadyVoted) for r in results) == 1, results
        with factory() as session:
            assert session.execute(select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal_id)).scalar_one() == 1

