"""The cluster page's read model: members see what their group mates shared, staff see more and are logged, others see no one."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.system import system_actor
from brokerage.accounts.models import Role
from brokerage.audit.models import AccessLog
from brokerage.contracts.services import create_contract
from brokerage.holders.models import SensitiveDetail, SensitiveItem, Visibility
from brokerage.matching.models import DemandLine
from brokerage.pages.clusters import cluster_show
from tests import factories as f


@pytest.fixture()
def group(world, session):
    """Holder a's cluster with the neighbour as a fellow member who shared one item with groups and one with the broker."""
    records = world.records["a"]
    neighbour, cluster = records["other_holder"], records["cluster"]
    f.MembershipFactory(session=session, council_id=neighbour.council_id, cluster_id=cluster.id, holder_id=neighbour.id)
    for item, value, visibility in (("culture", "Somali", "clusters"), ("faith", "Muslim", "broker")):
        session.add(SensitiveDetail(council_id=neighbour.council_id, holder_id=neighbour.id, item=SensitiveItem(item), value=value,
                                    visibility=Visibility(visibility), consent_recorded_by_id=world.users["a"][Role.broker].id))
    line = DemandLine(council_id=cluster.council_id, cluster_id=cluster.id, service="home_care", hours=6, slots=["mon_am"], lat=51.5, lon=-0.06,
                      max_rate_pence=2400)
    session.add(line)
    session.flush()
    create_contract(session=session, actor=system_actor(session=session, council_id=cluster.council_id), council_id=cluster.council_id, provider_id=records["provider"].id, cluster_id=cluster.id,
                    demand_line_id=line.id, proposal_id=None, service="home_care", hours_per_week=6, rate_pence=2200,
                    start_date=line.created_at.date(), member_shares={str(records["holder"].id): 1, str(neighbour.id): 1})
    return cluster, neighbour


def test_a_member_sees_what_group_mates_shared_with_groups_and_the_groups_care(world, session, group):
    cluster, neighbour = group
    show = cluster_show(session=session, actor=world.users["a"][Role.holder], cluster_id=cluster.id)
    assert show.details == {neighbour.id: [("Culture", "Somali")]}
    # The world's own contract for this group comes first.
    assert [view.line.hours for view in show.demand] == [6] and [c.hours_per_week for c, _ in show.contracts] == [world.records["a"]["contract"].hours_per_week, 6]
    assert session.exec(select(AccessLog).where(AccessLog.holder_id == neighbour.id)).all() == []


def test_their_own_broker_sees_what_was_shared_with_the_broker_and_the_read_is_logged(world, session, group):
    cluster, neighbour = group
    neighbour.broker_id = world.users["a"][Role.broker].id
    show = cluster_show(session=session, actor=world.users["a"][Role.broker], cluster_id=cluster.id)
    assert show.details[neighbour.id] == [("Culture", "Somali"), ("Faith", "Muslim")]
    # Staff see each member's weekly pledge too, a read of their money (tests/audit/test_record_pages_log.py).
    assert sorted(session.exec(select(AccessLog.what).where(AccessLog.holder_id == neighbour.id)).all()) == [
        "special-category data", "weekly pledge in a group's list of members"]


def test_a_broker_who_does_not_look_after_them_sees_none_of_it_and_only_the_pledge_read_is_logged(world, session, group):
    cluster, neighbour = group
    neighbour.broker_id = f.UserFactory(session=session, role=Role.broker, council_id=neighbour.council_id).id
    show = cluster_show(session=session, actor=world.users["a"][Role.broker], cluster_id=cluster.id)
    assert neighbour.id not in show.details
    # Only their pledge was read: nothing special-category.
    assert session.exec(select(AccessLog.what).where(AccessLog.holder_id == neighbour.id)).all() == ["weekly pledge in a group's list of members"]


def test_someone_browsing_a_group_they_are_not_in_sees_no_members_details_care_or_contracts(world, session, group):
    cluster, _ = group
    browser = world.records["a"]["other_holder"]
    stranger = f.HolderFactory(session=session, council_id=browser.council_id)
    user = f.UserFactory(session=session, role=Role.holder, council_id=browser.council_id, holder_id=stranger.id)
    show = cluster_show(session=session, actor=user, cluster_id=cluster.id)
    assert show.page.members == [] and show.details == {} and show.demand == [] and show.contracts == []
