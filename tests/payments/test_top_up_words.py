"""What the top-up pages say: why a member's group takes no money, how a payment was made, and what the dashboard calls it."""

from __future__ import annotations

import html

from brokerage.accounts.models import Role
from brokerage.clusters.models import MembershipStatus
from tests import factories as f


def _page(client, holder_id) -> str:
    return html.unescape(client.get(f"/holders/{holder_id}/top-up").get_data(as_text=True))


def _set_status(session, membership, status: str) -> None:
    membership = session.get(type(membership), membership.id)
    membership.status = MembershipStatus(status)
    session.add(membership)
    session.commit()


def test_a_representative_is_told_the_holder_is_leaving_the_group_not_that_they_are_in_none(pay, world, session):
    records = world.records["a"]
    _set_status(session, records["membership"], "leaving")
    page = _page(pay.sign_in(Role.representative), records["holder"].id)
    assert "not a member of a group yet" not in page
    assert f"Holder a is leaving {records['cluster'].name}, so money cannot be added to its pool." in page
    assert 'name="amount"' not in page  # no group takes money, so there is no form


def test_the_holder_leaving_two_groups_reads_both_and_their_pools(pay, world, session):
    records = world.records["a"]
    council = world.councils["a"]
    _set_status(session, records["membership"], "leaving")
    other = f.ClusterFactory(session=session, council_id=council.id, name="Allotment friends")
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=other.id, holder_id=records["holder"].id, status=MembershipStatus.leaving)
    session.commit()
    page = _page(pay.sign_in(Role.holder), records["holder"].id)
    assert "You are leaving Allotment friends and Cluster a, so money cannot be added to their pools." in page
    assert "not a member of a group yet" not in page


def test_a_member_waiting_to_be_let_in_is_told_so_beside_the_groups_that_take_money(pay, world, session):
    records = world.records["a"]
    council = world.councils["a"]
    other = f.ClusterFactory(session=session, council_id=council.id, name="Allotment friends")
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=other.id, holder_id=records["holder"].id, status=MembershipStatus.requested)
    session.commit()
    page = _page(pay.sign_in(Role.holder), records["holder"].id)
    assert "You have asked to join Allotment friends. Money can be added to its pool once you are let in." in page
    assert 'name="amount"' in page  # Cluster a still takes money


def test_someone_who_has_left_every_group_is_still_told_they_are_in_none(pay, world, session):
    records = world.records["a"]
    _set_status(session, records["membership"], "left")
    page = _page(pay.sign_in(Role.holder), records["holder"].id)
    assert "You are not a member of a group yet, so there is no pool to add money to." in page
