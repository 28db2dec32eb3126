"""A holder chooses who acts for them; a broker sets the weekly budget."""

from __future__ import annotations

from sqlmodel import select

from brokerage.accounts.models import Role, User
from brokerage.holders.models import Representation


def test_a_holder_authorises_a_representative_by_invitation_and_revokes_them(client, auth, world, session):
    from brokerage.mail.models import OutboxMessage

    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    import re

    page = client.get(f"/holders/{holder.id}").data.decode()
    assert re.search(r"<title>([^<]*)</title>", page).group(1) == f"{holder.name} – carepool"
    # The old form that authorised an existing account by its email address is gone: people are invited instead.
    assert client.post(f"/holders/{holder.id}/representatives", data={"email": "son@example.org"}).status_code == 404
    sent = client.post(f"/holders/{holder.id}/representatives/invite", data={"name": "Yusuf", "email": "son@example.org", "relationship": "son",
                                                                           "powers": ["money", "groups", "care"]})
    assert sent.status_code == 302
    auth.sign_out()
    body = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == "son@example.org")).one().body
    link = re.search(r"https?://\S+", body).group(0).split("localhost", 1)[1]
    assert client.post(link, data={"password": "a long passphrase for yusuf"}).status_code == 302
    assert client.get(f"/holders/{holder.id}").status_code == 200
    row = session.exec(select(Representation).join(User, User.id == Representation.representative_id).where(User.email == "son@example.org")).one()
    client.post("/sign-out")
    auth.sign_in(world.users["a"][Role.holder].email)
    # Stopping them is two steps: the first only opens a warning that says what it means (one press used to end it).
    page = client.get(f"/holders/{holder.id}").get_data(as_text=True)
    action = f'action="/holders/{holder.id}/representatives/{row.id}/revoke"'
    stop = next(part for part in page.split("<details")[1:] if action in part.split("</details>", 1)[0]).split("</details>", 1)[0]
    assert '<span class="govuk-details__summary-text">Stop ' in stop
    assert "will no longer be able to do anything for you" in stop and "a new invitation, which they must accept" in stop
    assert f'action="/holders/{holder.id}/representatives/{row.id}/revoke"' in stop and "Yes, stop " in stop
    assert client.post(f"/holders/{holder.id}/representatives/{row.id}/revoke").status_code == 302
    auth.sign_out()
    client.post("/sign-in", data={"email": "son@example.org", "password": "a long passphrase for yusuf"})
    assert client.get(f"/holders/{holder.id}").status_code == 404


def test_only_the_holder_chooses_their_representatives(client, auth, world):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.representative].email)
    assert client.post(f"/holders/{holder.id}/representatives/invite", data={"name": "X", "email": "x@example.org", "powers": ["money"]}).status_code == 403
    auth.sign_out()
    auth.sign_in(world.users["b"][Role.holder].email)
    assert client.post(f"/holders/{holder.id}/representatives/1/revoke").status_code == 404
    assert client.post(f"/holders/{holder.id}/representatives/invite", data={"name": "X", "email": "x@example.org", "powers": ["money"]}).status_code == 404


def test_a_broker_sets_the_weekly_budget_but_not_below_pledges(client, auth, world, session):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    low = client.post(f"/holders/{holder.id}/allocation", data={"allocation": "50"})
    assert low.status_code == 422 and "Lower the pledges first" in low.data.decode()
    assert client.post(f"/holders/{holder.id}/allocation", data={"allocation": "612.34"}).status_code == 302
    session.refresh(holder)
    assert holder.weekly_allocation_pence == 61_234
    assert "The weekly budget was changed." in client.get(f"/holders/{holder.id}").data.decode()
    assert client.post(f"/holders/{holder.id}/allocation", data={"allocation": "612.34"}).status_code == 302
    assert "Nothing was changed: the weekly budget is already that amount." in client.get(f"/holders/{holder.id}").data.decode()
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    assert client.post(f"/holders/{holder.id}/allocation", data={"allocation": "1"}).status_code == 403
    auth.sign_out()
    auth.sign_in(world.users["b"][Role.broker].email)
    assert client.post(f"/holders/{holder.id}/allocation", data={"allocation": "1"}).status_code == 404
