"""Staff lists that name people with their money log a read of each person named, once per view: the list of budget
holders (weekly allocations) and the list of top-ups."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.audit import rules
from brokerage.audit.models import AccessLog
from brokerage.holders.models import Holder
from brokerage.payments.models import TopUp


def _log(session) -> list[tuple[int, int, str]]:
    session.expire_all()
    return sorted(session.exec(select(AccessLog.actor_id, AccessLog.holder_id, AccessLog.what)).all())


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
def test_the_list_of_budget_holders_logs_a_read_of_each_ones_allocation(client, auth, world, session, role):
    staff = world.users["a"][role]
    council_id = world.councils["a"].id
    holders = session.exec(select(Holder.id).where(Holder.council_id == council_id)).all()
    auth.sign_in(staff.email)
    assert client.get("/holders/").status_code == 200
    expected = sorted((staff.id, holder_id, rules.ALLOCATION_LIST) for holder_id in holders)
    assert len(expected) >= 2 and _log(session) == expected
    client.get("/holders/")
    assert _log(session) == sorted(expected * 2)


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
def test_the_list_of_top_ups_logs_a_read_of_each_member_once(client, auth, world, session, role):
    a = world.records["a"]
    for key, holder in (("one", a["holder"]), ("two", a["holder"]), ("three", a["other_holder"])):
        session.add(TopUp(council_id=world.councils["a"].id, holder_id=holder.id, cluster_id=a["cluster"].id, payment_intent_id=f"pi_{key}",
                          amount_pence=500, methods=["card"]))
    session.commit()
    staff = world.users["a"][role]
    auth.sign_in(staff.email)
    page = client.get("/top-ups")
    assert page.status_code == 200 and a["holder"].name in page.text
    assert _log(session) == sorted([(staff.id, a["holder"].id, rules.TOP_UP_LIST), (staff.id, a["other_holder"].id, rules.TOP_UP_LIST)])


def test_no_top_ups_log_nothing(client, auth, world, session):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.get("/top-ups").status_code == 200
    assert _log(session) == []


@pytest.mark.parametrize("role", [Role.broker, Role.holder, Role.provider])
def test_dashboards_without_peoples_money_log_nothing(client, auth, world, session, role):
    auth.sign_in(world.users["a"][role].email)
    assert client.get("/dashboard").status_code == 200
    assert _log(session) == []
