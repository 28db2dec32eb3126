"""Membership services other packages call: the weekly budget against pledges, and who shares a group."""

from __future__ import annotations

import pytest

from brokerage.clusters.membership import group_mate_ids, set_allocation
from brokerage.clusters.models import MembershipStatus
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from tests import factories as f


def test_a_budget_is_never_set_below_what_the_holder_pledges(session, people):
    holder = people.holders[0]
    group = f.ClusterFactory(session=session, council_id=people.council.id)
    f.MembershipFactory(session=session, council_id=people.council.id, cluster_id=group.id, holder_id=holder.id, weekly_pledge_pence=6_000)
    ended = f.ClusterFactory(session=session, council_id=people.council.id)
    f.MembershipFactory(session=session, council_id=people.council.id, cluster_id=ended.id, holder_id=holder.id, weekly_pledge_pence=9_000,
                        status=MembershipStatus.left)
    session.flush()
    with pytest.raises(ValidationFailed) as error:
        set_allocation(session=session, actor=people.broker, holder_id=holder.id, weekly_allocation_pence=5_999)
    assert error.value.errors["allocation"] == ["Member 0 pledges £60.00 a week to groups. Lower the pledges first."]
    assert set_allocation(session=session, actor=people.broker, holder_id=holder.id, weekly_allocation_pence=6_000).weekly_allocation_pence == 6_000


def test_only_a_broker_of_the_council_sets_a_budget_in_whole_pence(session, people, world):
    holder = people.holders[0]
    with pytest.raises(NotAllowed):
        set_allocation(session=session, actor=people.users[0], holder_id=holder.id, weekly_allocation_pence=1)
    with pytest.raises(NotFound):
        set_allocation(session=session, actor=world.users["a"][people.broker.role], holder_id=holder.id, weekly_allocation_pence=1)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValidationFailed):
            set_allocation(session=session, actor=people.broker, holder_id=holder.id, weekly_allocation_pence=bad)
    # A change obeys a new holder's rule: more than £0, at most £10,000 a week (£20,000 and £0 were taken).
    for bad, message in ((0, "Enter a weekly budget of more than £0"), (2_000_000, "Enter a weekly budget of £10,000 or less")):
        with pytest.raises(ValidationFailed) as refused:
            set_allocation(session=session, actor=people.broker, holder_id=holder.id, weekly_allocation_pence=bad)
        assert refused.value.errors["allocation"] == [message]


def test_group_mates_share_a_live_membership_and_include_the_holders_themselves(session, people):
    a, b, c, d, e = people.holders
    group = f.ClusterFactory(session=session, council_id=people.council.id)
    other = f.ClusterFactory(session=session, council_id=people.council.id)
    for holder, status in ((a, MembershipStatus.active), (b, MembershipStatus.leaving), (c, MembershipStatus.requested)):
        f.MembershipFactory(session=session, council_id=people.council.id, cluster_id=group.id, holder_id=holder.id, status=status)
    f.MembershipFactory(session=session, council_id=people.council.id, cluster_id=other.id, holder_id=d.id, status=MembershipStatus.admitted)
    f.MembershipFactory(session=session, council_id=people.council.id, cluster_id=other.id, holder_id=e.id, status=MembershipStatus.left)
    session.flush()
    assert group_mate_ids(session=session, holder_ids=[a.id]) == {a.id, b.id}
    assert group_mate_ids(session=session, holder_ids={c.id}) == set()
    assert group_mate_ids(session=session, holder_ids=[b.id, d.id]) == {a.id, b.id, d.id}
    assert group_mate_ids(session=session, holder_ids=[]) == set()
