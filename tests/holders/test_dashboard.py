"""A holder's dashboard lists the decisions waiting for their vote and names their broker with a way to reach them (issue 12)."""

from __future__ import annotations

from html import unescape

from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.clusters import governance
from brokerage.clusters.rules import Choice
from brokerage.holders.models import Holder
from tests import factories as f


def _dashboard(client, auth, email) -> str:
    auth.sign_in(email)
    page = client.get("/dashboard")
    assert page.status_code == 200
    return unescape(page.get_data(as_text=True))


def test_a_holder_sees_the_decisions_waiting_for_their_vote_until_they_vote(app, client, auth, world, session):
    a = world.records["a"]
    holder = world.users["a"][Role.holder]
    page = _dashboard(client, auth, holder.email)
    assert "Decisions waiting for your vote" in page
    assert f'href="/clusters/proposals/{a["proposal"].id}">Afternoon visits</a>' in page
    assert "Private" not in page  # the neighbour's group decides that, not them
    assert f"/clusters/proposals/{world.records['b']['proposal'].id}" not in page
    governance.cast_vote(session=session, actor=holder, proposal_id=a["proposal"].id, holder_id=a["holder"].id, choice=Choice.yes)
    session.commit()
    assert "Decisions waiting for your vote" not in unescape(client.get("/dashboard").get_data(as_text=True))


def test_a_representative_sees_whose_vote_each_decision_waits_for(app, client, auth, world):
    page = _dashboard(client, auth, world.users["a"][Role.representative].email)
    assert "Decisions waiting for a vote" in page and "Afternoon visits" in page and "Holder a's vote in Cluster a" in page


def test_the_dashboard_names_the_holders_broker_with_their_email(app, client, auth, world, session):
    broker = world.users["a"][Role.broker]
    holder = session.get(Holder, world.records["a"]["holder"].id)
    holder.broker_id = broker.id
    session.add(holder)
    session.commit()
    page = _dashboard(client, auth, world.users["a"][Role.holder].email)
    assert "Your broker" in page and f"{broker.name} is your broker" in page and f'href="mailto:{broker.email}"' in page
    auth.sign_out()
    rep = _dashboard(client, auth, world.users["a"][Role.representative].email)
    assert f"Their broker: {broker.name}" in rep and f'href="mailto:{broker.email}"' in rep


def test_without_a_named_broker_the_dashboard_lists_the_councils_brokers(app, client, auth, world, session):
    second = f.UserFactory(session=session, role=Role.broker, council_id=world.councils["a"].id, name="Second Broker", email="second@example.org")
    f.UserFactory(session=session, role=Role.broker, council_id=world.councils["a"].id, name="Gone Broker", email="gone@example.org",
                  is_active_account=False)
    session.commit()
    page = _dashboard(client, auth, world.users["a"][Role.holder].email)
    assert "Your council's brokers" in page and 'href="mailto:second@example.org"' in page
    assert f'href="mailto:{world.users["a"][Role.broker].email}"' in page
    assert "Gone Broker" not in page and world.users["b"][Role.broker].email not in page
    assert second.name in page


def test_a_broker_names_a_holders_broker_from_their_record(app, client, auth, world, session):
    holder_id = world.records["a"]["holder"].id
    broker = world.users["a"][Role.broker]
    auth.sign_in(broker.email)
    assert "Save their broker" in client.get(f"/holders/{holder_id}").get_data(as_text=True)
    assert client.post(f"/holders/{holder_id}/broker", data={"broker_id": str(broker.id)}).status_code == 302
    assert session.exec(select(Holder.broker_id).where(Holder.id == holder_id)).one() == broker.id
    assert "Their broker was saved." in client.get(f"/holders/{holder_id}").get_data(as_text=True)
    assert client.post(f"/holders/{holder_id}/broker", data={"broker_id": str(broker.id)}).status_code == 302
    assert "Nothing was changed: that is already their broker." in client.get(f"/holders/{holder_id}").get_data(as_text=True)
    # Another council's broker is not in the list: refused beside the field, nothing changes.
    refused = client.post(f"/holders/{holder_id}/broker", data={"broker_id": str(world.users["b"][Role.broker].id)})
    assert refused.status_code == 422 and "Choose a broker from the list" in refused.get_data(as_text=True)
    assert client.post(f"/holders/{holder_id}/broker", data={"broker_id": "not a number"}).status_code == 422
    assert session.exec(select(Holder.broker_id).where(Holder.id == holder_id)).one() == broker.id
    assert client.post(f"/holders/{holder_id}/broker", data={"broker_id": ""}).status_code == 302
    assert session.exec(select(Holder.broker_id).where(Holder.id == holder_id)).one() is None


def test_only_a_broker_of_the_council_names_a_holders_broker(app, client, auth, world, session):
    holder_id = world.records["a"]["holder"].id
    broker_id = str(world.users["a"][Role.broker].id)
    for role in (Role.holder, Role.representative, Role.council_officer, Role.provider):
        auth.sign_in(world.users["a"][role].email)
        assert client.post(f"/holders/{holder_id}/broker", data={"broker_id": broker_id}).status_code == 403, role
        auth.sign_out()
    auth.sign_in(world.users["b"][Role.broker].email)
    assert client.post(f"/holders/{holder_id}/broker", data={"broker_id": str(world.users["b"][Role.broker].id)}).status_code == 404
    assert session.exec(select(Holder.broker_id).where(Holder.id == holder_id)).one() is None


def test_a_stopped_representative_reads_who_stopped_them_and_when(app, client, auth, world, session, freeze_clock):
    from datetime import datetime, timezone

    from brokerage.holders import services as holders
    from brokerage.holders.models import Representation

    a = world.records["a"]
    holder_user, rep = world.users["a"][Role.holder], world.users["a"][Role.representative]
    freeze_clock(datetime(2026, 12, 6, 3, 10, tzinfo=timezone.utc))
    row = session.exec(select(Representation).where(Representation.representative_id == rep.id)).one()
    holders.revoke_representative(session=session, actor=holder_user, holder_id=a["holder"].id, representation_id=row.id)
    session.commit()
    page = _dashboard(client, auth, rep.email)
    assert f"{a['holder'].name} stopped you acting for them on 6 December 2026." in page
    assert "broker to record it" not in page and "Nobody has" not in page


def test_a_representative_nobody_asked_yet_is_told_to_ask_for_the_persons_invitation(app, client, auth, world, session):
    rep = f.UserFactory(session=session, role=Role.representative, council_id=world.users["a"][Role.holder].council_id, email="new-rep@example.org")
    session.commit()
    page = _dashboard(client, auth, rep.email)
    assert "Nobody has asked you to act for them yet. Ask the person you help to invite you from their page." in page
    assert "broker" not in page.split("<main", 1)[1]
