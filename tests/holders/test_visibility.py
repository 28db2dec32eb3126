"""Who sees which culture, faith and heritage details, and that every staff read is logged."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.audit.models import AccessLog
from brokerage.clusters.models import MembershipStatus
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.holders.services import details_visible_to as _details_visible_to
from brokerage.clusters.members import visible_holder_ids
from brokerage.holders.services import get_profile, update_profile
from brokerage.clusters.membership import group_mate_ids
from tests import factories as f


def details_visible_to(*, session, actor, holder_ids, context):
    """Ask as the group page does: with the group mates of whoever the actor acts for."""
    mates = group_mate_ids(session=session, holder_ids=visible_holder_ids(session=session, actor=actor))
    return _details_visible_to(session=session, actor=actor, holder_ids=holder_ids, group_mate_ids=mates, context=context)


@pytest.fixture()
def shared(world, session, share):
    """Make the neighbour a fellow member of holder a's cluster, with one item at each visibility."""
    neighbour = world.records["a"]["other_holder"]
    f.MembershipFactory(session=session, council_id=neighbour.council_id, cluster_id=world.records["a"]["cluster"].id, holder_id=neighbour.id)
    neighbour_user = f.UserFactory(session=session, role=Role.holder, council_id=neighbour.council_id, holder_id=neighbour.id)
    share(neighbour, "culture", "Somali", "clusters", by=neighbour_user)
    share(neighbour, "faith", "Muslim", "broker", by=neighbour_user)
    share(neighbour, "heritage", "Hidden", "nobody", by=neighbour_user)
    session.flush()
    return neighbour


def logged(session, holder_id):
    return session.exec(select(AccessLog.what).where(AccessLog.holder_id == holder_id)).all()


def test_fellow_members_see_only_what_was_shared_with_groups(world, session, shared):
    holder_user = world.users["a"][Role.holder]
    assert details_visible_to(session=session, actor=holder_user, holder_ids=[shared.id], context="cluster") == {shared.id: [("Culture", "Somali")]}
    assert logged(session, shared.id) == []  # members are not staff


def test_a_representative_sees_what_the_group_mates_of_their_holder_shared(world, session, shared):
    rep = world.users["a"][Role.representative]
    assert details_visible_to(session=session, actor=rep, holder_ids=[shared.id], context="cluster") == {shared.id: [("Culture", "Somali")]}


@pytest.mark.parametrize("status", [MembershipStatus.requested, MembershipStatus.left])
def test_holders_who_do_not_share_a_live_group_see_nothing(world, session, share, status):
    neighbour = world.records["a"]["other_holder"]
    share(neighbour, "culture", "Somali", "clusters", by=world.users["a"][Role.holder])
    f.MembershipFactory(session=session, council_id=neighbour.council_id, cluster_id=world.records["a"]["cluster"].id, holder_id=neighbour.id, status=status)
    assert details_visible_to(session=session, actor=world.users["a"][Role.holder], holder_ids=[neighbour.id], context="cluster") == {}


def test_holders_cannot_ask_for_what_was_shared_with_the_broker(world, session, shared):
    with pytest.raises(NotAllowed):
        details_visible_to(session=session, actor=world.users["a"][Role.holder], holder_ids=[shared.id], context="broker")
    with pytest.raises(NotAllowed):
        details_visible_to(session=session, actor=world.users["a"][Role.provider], holder_ids=[shared.id], context="cluster")


def test_the_holders_broker_sees_items_for_the_broker_and_for_groups_and_each_read_is_logged(world, session, shared):
    broker = world.users["a"][Role.broker]
    shared.broker_id = broker.id
    session.add(shared)
    found = details_visible_to(session=session, actor=broker, holder_ids=[shared.id, world.records["a"]["holder"].id], context="broker")
    assert found == {shared.id: [("Culture", "Somali"), ("Faith", "Muslim")]}
    assert session.exec(select(AccessLog.what, AccessLog.actor_id).where(AccessLog.holder_id == shared.id)).all() == [("special-category data", broker.id)]
    assert logged(session, world.records["a"]["holder"].id) == []  # nothing returned, nothing read


def test_an_officer_sees_only_what_was_shared_with_the_broker_never_what_was_shared_with_groups(world, session, shared):
    officer = world.users["a"][Role.council_officer]
    assert details_visible_to(session=session, actor=officer, holder_ids=[shared.id], context="broker") == {shared.id: [("Faith", "Muslim")]}
    assert details_visible_to(session=session, actor=officer, holder_ids=[shared.id], context="cluster") == {}
    assert session.exec(select(AccessLog.actor_id).where(AccessLog.holder_id == shared.id)).all() == [officer.id]


def test_another_broker_of_the_council_sees_nothing_the_holder_shared(world, session, shared):
    """ "My broker" and "People in my groups" name the holder's own broker; a colleague is neither."""
    colleague = world.users["a"][Role.broker]
    shared.broker_id = f.UserFactory(session=session, role=Role.broker, council_id=shared.council_id).id
    session.add(shared)
    for context in ("broker", "cluster"):
        assert details_visible_to(session=session, actor=colleague, holder_ids=[shared.id], context=context) == {}
    assert logged(session, shared.id) == []


def test_without_group_mates_a_holder_sees_nothing(world, session, shared):
    assert _details_visible_to(session=session, actor=world.users["a"][Role.holder], holder_ids=[shared.id], context="cluster") == {}


def test_staff_in_the_cluster_context_see_only_items_shared_with_groups_and_are_logged(world, session, shared):
    shared.broker_id = world.users["a"][Role.broker].id
    session.add(shared)
    found = details_visible_to(session=session, actor=world.users["a"][Role.broker], holder_ids=[shared.id], context="cluster")
    assert found == {shared.id: [("Culture", "Somali")]}
    assert logged(session, shared.id) == ["special-category data"]


def test_items_for_nobody_are_never_returned_and_other_councils_see_nothing(world, session, shared):
    shared.broker_id = world.users["a"][Role.broker].id
    session.add(shared)
    for actor, context in [(world.users["a"][Role.broker], "broker"), (world.users["a"][Role.holder], "cluster")]:
        values = [v for pairs in details_visible_to(session=session, actor=actor, holder_ids=[shared.id], context=context).values() for _, v in pairs]
        assert "Hidden" not in values
    assert details_visible_to(session=session, actor=world.users["b"][Role.broker], holder_ids=[shared.id], context="broker") == {}
    assert details_visible_to(session=session, actor=world.users["b"][Role.holder], holder_ids=[shared.id], context="cluster") == {}
    assert logged(session, shared.id) == ["special-category data"]  # only council A's broker read it


def test_the_holder_and_their_representative_read_every_item_through_their_profile(world, session, share):
    holder = world.records["a"]["holder"]
    share(holder, "heritage", "Hidden", "nobody", by=world.users["a"][Role.holder])
    for role in (Role.holder, Role.representative):
        _, details = get_profile(session=session, actor=world.users["a"][role], holder_id=holder.id)
        assert [d.value for d in details.values()] == ["Hidden"]
    with pytest.raises(NotAllowed):
        get_profile(session=session, actor=world.users["a"][Role.broker], holder_id=holder.id)
    with pytest.raises(NotFound):
        get_profile(session=session, actor=world.users["b"][Role.holder], holder_id=holder.id)


def test_the_service_refuses_bad_values_before_changing_anything(world, session):
    holder = world.records["a"]["holder"]
    with pytest.raises(ValidationFailed) as caught:
        update_profile(session=session, actor=world.users["a"][Role.holder], holder_id=holder.id, languages=["en", "zz"], care_needs=["respite"],
                       goals="ok", sensitive={"faith": ("x" * 121, "broker"), "culture": ("Somali", "everyone")})
    assert set(caught.value.errors) == {"languages", "faith", "culture_visibility"}
    session.refresh(holder)
    assert holder.care_needs == ["home_care"] and holder.goals == ""
    with pytest.raises(NotAllowed):
        update_profile(session=session, actor=world.users["a"][Role.council_officer], holder_id=holder.id, languages=[], care_needs=[], goals="")
