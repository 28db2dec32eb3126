"""The ledger's journal and accounts pages name people's wallets and shares with amounts: staff reading them log a read
of each person named on the page served, once per view."""

from __future__ import annotations

import functools

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.audit import rules
from brokerage.audit.models import AccessLog
from brokerage.ledger import pages, queries


def _log(session) -> list[tuple[int, int, str]]:
    session.expire_all()
    return sorted(session.exec(select(AccessLog.actor_id, AccessLog.holder_id, AccessLog.what)).all())


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
@pytest.mark.parametrize("address", ["/ledger/", "/ledger/accounts"])
def test_a_page_of_the_ledger_logs_a_read_of_each_person_it_names(client, auth, world, session, role, address):
    staff = world.users["a"][role]
    a = world.records["a"]
    auth.sign_in(staff.email)
    page = client.get(address)
    assert page.status_code == 200 and a["holder"].name in page.text and a["other_holder"].name in page.text
    expected = sorted([(staff.id, a["holder"].id, rules.LEDGER_PAGE), (staff.id, a["other_holder"].id, rules.LEDGER_PAGE)])
    assert _log(session) == expected
    assert client.get(address).status_code == 200
    assert _log(session) == sorted(expected * 2)


def test_only_the_people_on_the_page_served_are_logged(client, auth, world, session, monkeypatch):
    monkeypatch.setattr(pages, "list_entries", functools.partial(queries.list_entries, per_page=1))
    staff = world.users["a"][Role.broker]
    a = world.records["a"]
    auth.sign_in(staff.email)
    # Newest first: the other holder's direct payment is alone on the first page, the holder's on the second.
    assert client.get("/ledger/").status_code == 200
    assert _log(session) == [(staff.id, a["other_holder"].id, rules.LEDGER_PAGE)]
    assert client.get("/ledger/?page=2").status_code == 200
    assert _log(session) == sorted([(staff.id, a["other_holder"].id, rules.LEDGER_PAGE), (staff.id, a["holder"].id, rules.LEDGER_PAGE)])


def test_a_search_logs_each_person_found_or_shown_as_a_search_once(client, auth, world, session):
    staff = world.users["a"][Role.council_officer]
    holder = world.records["a"]["holder"]
    auth.sign_in(staff.email)
    assert client.get(f"/ledger/?account=holder:{holder.id}:wallet").status_code == 200
    assert _log(session) == [(staff.id, holder.id, rules.LEDGER_SEARCH)]


def test_a_refused_filter_lists_no_one_and_logs_no_one(client, auth, world, session):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.get("/ledger/?kind=no_such_kind").status_code == 422
    assert _log(session) == []


def test_the_person_sees_the_read_on_their_own_page_of_record_views(client, auth, world, session):
    broker = world.users["a"][Role.broker]
    holder = world.records["a"]["holder"]
    auth.sign_in(broker.email)
    client.get("/ledger/accounts")
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.holder].email)
    views = client.get(f"/holders/{holder.id}/record-views").get_data(as_text=True)
    assert broker.name in views and "Money, in a page of the council&#39;s accounts" in views
