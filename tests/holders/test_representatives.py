"""A holder chooses who acts for them; a broker sets the weekly budget."""

from __future__ import annotations

from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.holders.models import Representation
from tests import factories as f


def test_a_holder_authorises_and_revokes_a_representative(client, auth, world, session):
    holder = world.records["a"]["holder"]
    new_rep = f.UserFactory(session=session, role=Role.representative, council_id=world.councils["a"].id, email="son@example.org")
    session.commit()
    auth.sign_in(world.users["a"][Role.holder].email)
    bad = client.post(f"/holders/{holder.id}/representatives", data={"email": "nobody@example.org", "relationship": ""})
    assert bad.status_code == 422 and "There is no representative account with this email address" in bad.data.decode()
    import re

    page = client.get(f"/holders/{holder.id}").data.decode()
    assert re.search(r"<title>([^<]*)</title>", page).group(1) == f"{holder.name} – carepool"
    assert client.post(f"/holders/{holder.id}/representatives", data={"email": "son@example.org", "relationship": "son"}).status_code == 302
    row = session.exec(select(Representation).where(Representation.representative_id == new_rep.id)).one()
    auth.sign_out()
    auth.sign_in("son@example.org")
    assert client.get(f"/holders/{holder.id}").status_code == 200
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.holder].email)
    assert client.post(f"/holders/{holder.id}/representatives/{row.id}/revoke").status_code == 302
    auth.sign_out()
    auth.sign_in("son@example.org")
    assert client.get(f"/holders/{holder.id}").status_code == 404


def test_only_the_holder_chooses_their_representatives(client, auth, world):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.representative].email)
    assert client.post(f"/holders/{holder.id}/representatives", data={"email": "x@example.org"}).status_code == 403
    auth.sign_out()
    auth.sign_in(world.users["b"][Role.holder].email)
    assert client.post(f"/holders/{holder.id}/representatives/1/revoke").status_code == 404


def test_a_representative_of_another_council_cannot_be_authorised(client, auth, world):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    response = client.post(f"/holders/{holder.id}/representatives", data={"email": world.users["b"][Role.representative].email})
    assert response.status_code == 422


def test_a_broker_sets_the_weekly_budget_but_not_below_pledges(client, auth, world, session):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    low = client.post(f"/holders/{holder.id}/allocation", data={"allocation": "50"})
    assert low.status_code == 422 and "Lower the pledges first" in low.data.decode()
    assert client.post(f"/holders/{holder.id}/allocation", data={"allocation": "612.34"}).status_code == 302
    session.refresh(holder)
    assert holder.weekly_allocation_pence == 61_234
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    assert client.post(f"/holders/{holder.id}/allocation", data={"allocation": "1"}).status_code == 403
    auth.sign_out()
    auth.sign_in(world.users["b"][Role.broker].email)
    assert client.post(f"/holders/{holder.id}/allocation", data={"allocation": "1"}).status_code == 404
