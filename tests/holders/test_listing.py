"""Staff find budget holders by part of a name or postcode district, 50 a page; only the page shown is logged as read.

The list once showed every holder of the council on one page and logged a read of each one's weekly allocation
on every view: a council of thousands of holders wrote thousands of access-log rows a view, and a broker
looking for one person scrolled through them all.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.audit import rules
from brokerage.audit.models import AccessLog
from brokerage.holders.listing import PER_PAGE
from brokerage.holders.models import Holder
from tests import factories as f


def _logged(session) -> list[int]:
    session.expire_all()
    return sorted(session.exec(select(AccessLog.holder_id).where(AccessLog.what == rules.ALLOCATION_LIST)).all())


def _names(text: str) -> list[str]:
    return re.findall(r'href="/holders/\d+">([^<]+)</a>', text)


@pytest.fixture()
def many(world, session):
    """Sixty more holders in council A (names "Person 00" to "Person 59", in LS6 from 40 on) and one in council B."""
    council = world.councils["a"]
    made = [f.HolderFactory(session=session, council_id=council.id, name=f"Person {i:02d}", postcode_district="LS6" if i >= 40 else "E1")
            for i in range(60)]
    f.HolderFactory(session=session, council_id=world.councils["b"].id, name="Person of council B")
    session.flush()
    return made


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
def test_the_list_shows_fifty_a_page_in_order_of_name_and_logs_only_those_shown(client, auth, world, session, many, role):
    auth.sign_in(world.users["a"][role].email)
    everyone = session.exec(select(Holder.id, Holder.name).where(Holder.council_id == world.councils["a"].id)).all()
    in_order = [name for _, name in sorted(everyone, key=lambda row: (row[1].casefold(), row[0]))]
    first = client.get("/holders/")
    assert first.status_code == 200
    assert _names(first.text) == in_order[:PER_PAGE]
    assert f"{len(everyone)} budget holders, showing 1 to {PER_PAGE}, in order of name." in first.text
    assert 'rel="next"' in first.text and "Page 1 of 2" in first.text and "Person of council B" not in first.text
    shown = {holder_id for holder_id, name in everyone if name in in_order[:PER_PAGE]}
    assert _logged(session) == sorted(shown)
    last = client.get("/holders/?page=2")
    assert _names(last.text) == in_order[PER_PAGE:] and 'rel="prev"' in last.text and 'rel="next"' not in last.text
    # A page past the end, from an old link, shows the last page.
    assert _names(client.get("/holders/?page=40").text) == in_order[PER_PAGE:]


def test_a_broker_finds_holders_by_part_of_a_name_or_a_district_in_any_case(client, auth, world, session, many):
    auth.sign_in(world.users["a"][Role.broker].email)
    found = client.get("/holders/?q=person 0")
    assert _names(found.text) == [f"Person 0{i}" for i in range(10)] and "10 budget holders, in order of name." in found.text
    assert _logged(session) == sorted(h.id for h in many[:10])
    assert _names(client.get("/holders/?q=ls6").text) == [f"Person {i}" for i in range(40, 60)]
    f.HolderFactory(session=session, council_id=world.councils["a"].id, name="Özlem Yılmaz")
    session.flush()
    assert _names(client.get("/holders/?q=%C3%96ZLEM").text) == ["Özlem Yılmaz"]  # "ÖZLEM": case is ignored beyond ASCII
    # Another council's holder is never found, and a % means itself.
    nobody = client.get("/holders/?q=council B")
    assert nobody.status_code == 200 and _names(nobody.text) == [] and "Nobody matches this search." in nobody.text
    assert _names(client.get("/holders/?q=%25").text) == []


@pytest.mark.parametrize("query, field, message", [
    ("q=" + "a" * 121, "filter-q-error", "Enter at most 120 characters"),
    ("page=two", None, "Enter a page number of 1 or more"),
])
def test_a_search_that_cannot_be_read_is_explained_lists_nobody_and_logs_nothing(client, auth, world, session, many, query, field, message):
    auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get(f"/holders/?{query}")
    assert page.status_code == 422 and message in page.text and "Nobody is listed until the search above is put right." in page.text
    assert _names(page.text) == [] and _logged(session) == []
    if field:
        assert f'id="{field}"' in page.text and 'aria-invalid="true"' in page.text


@pytest.mark.parametrize("role", [Role.holder, Role.provider, Role.representative, Role.admin])
def test_only_brokers_and_officers_have_the_list(client, auth, world, role):
    auth.sign_in(world.users["a"][role].email if role != Role.admin else world.admin.email)
    assert client.get("/holders/?q=Person").status_code == 403
