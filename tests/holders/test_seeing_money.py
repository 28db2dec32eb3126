"""The one rule for a person's own money (holders.services.money_seen_by): the person, their council's staff, and a representative with the money power."""

from __future__ import annotations

from brokerage.accounts.models import Role
from brokerage.holders.models import Power
from brokerage.holders.services import may_see_money, money_seen_by
from tests import factories as f


def test_the_person_staff_and_a_representative_with_the_money_power_see_the_persons_money(world, session):
    users, holder, neighbour = world.users["a"], world.records["a"]["holder"], world.records["a"]["other_holder"]
    for role in (Role.holder, Role.representative, Role.broker, Role.council_officer):
        assert may_see_money(session=session, actor=users[role], holder=holder), role
    assert not may_see_money(session=session, actor=users[Role.holder], holder=neighbour)
    assert not may_see_money(session=session, actor=users[Role.provider], holder=holder)
    assert not may_see_money(session=session, actor=world.users["b"][Role.broker], holder=holder)  # another council's broker
    assert money_seen_by(session=session, actor=users[Role.broker]) is None


def test_a_representative_without_the_money_power_does_not(world, session):
    rep, holder = world.users["a"][Role.representative], world.records["a"]["holder"]
    for others in ([Power.groups], [Power.care], [Power.groups, Power.care]):
        f.only_powers(session, representative=rep, holder=holder, powers=others)
        assert not may_see_money(session=session, actor=rep, holder=holder), others
        assert money_seen_by(session=session, actor=rep) == frozenset()
