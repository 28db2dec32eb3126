"""Vetting evidence: the provider or a broker adds it, only a broker verifies it, and expired evidence never counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from brokerage import clock
from brokerage.accounts.models import Role
from brokerage.matching.services import vetted_provider_ids
from brokerage.providers.models import VettingItem, VettingKind
from brokerage.types import utcnow
from tests import factories as f


def items_of(session, provider) -> list[VettingItem]:
    session.expire_all()
    return list(session.exec(select(VettingItem).where(VettingItem.provider_id == provider.id).order_by(VettingItem.id)))


def test_a_provider_adds_evidence_which_waits_for_a_broker(client, auth, world, session):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    response = client.post(f"/providers/{provider.id}/vetting", data={"kind": "dbs", "reference": " 0012 3456 ", "expires_on-day": "27",
                                                                     "expires_on-month": "March", "expires_on-year": str(utcnow().year + 2)})
    assert response.status_code == 302
    [item] = items_of(session, provider)
    assert (item.kind, item.reference, item.expires_on) == (VettingKind.dbs, "0012 3456", date(utcnow().year + 2, 3, 27))
    assert item.verified_at is None and item.checked_by_id is None
    page = client.get(f"/providers/{provider.id}")
    assert "Waiting for a broker" in page.text and "verify_vetting" not in page.text and "/verify" not in page.text


def test_an_expiry_date_can_be_given_as_one_iso_date(client, auth, world, session):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.broker].email)
    when = clock.today() + timedelta(days=90)
    assert client.post(f"/providers/{provider.id}/vetting", data={"kind": "insurance", "reference": "PL-1", "expires_on": when.isoformat()}).status_code == 302
    assert items_of(session, provider)[0].expires_on == when


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ({"expires_on": (clock.today() - timedelta(days=1)).isoformat()}, "The date the evidence runs out must be in the future"),
        ({"expires_on": clock.today().isoformat()}, "The date the evidence runs out must be in the future"),
        ({"expires_on-day": "31", "expires_on-month": "2", "expires_on-year": "2030"}, "The date must be a real date"),
        ({"expires_on-day": "1", "expires_on-year": "2030"}, "The date must include a month"),
        ({"expires_on-day": "1", "expires_on-month": "2", "expires_on-year": "30"}, "The year must include 4 numbers"),
        ({}, "Enter the date the evidence runs out"),
    ],
)
def test_a_bad_expiry_date_is_refused_beside_the_field_and_nothing_is_saved(client, auth, world, session, dates, message):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    response = client.post(f"/providers/{provider.id}/vetting", data={"kind": "dbs", "reference": "0012", **dates})
    assert response.status_code == 422
    assert 'id="expires_on-error-1"' in response.text and message in response.text and 'href="#expires_on"' in response.text
    assert items_of(session, provider) == []


def test_a_provider_cannot_verify_their_own_evidence(client, auth, world, session):
    provider = world.records["a"]["provider"]
    item = f.VettingFactory(session=session, council_id=provider.council_id, provider_id=provider.id, verified_at=None)
    session.commit()
    auth.sign_in(world.users["a"][Role.provider].email)
    assert client.post(f"/providers/vetting/{item.id}/verify").status_code == 403
    assert items_of(session, provider)[0].verified_at is None


def test_another_councils_broker_gets_404_and_nothing_changes(client, auth, world, session):
    foreign = world.records["b"]["provider"]
    item = f.VettingFactory(session=session, council_id=foreign.council_id, provider_id=foreign.id, verified_at=None)
    session.commit()
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.post(f"/providers/vetting/{item.id}/verify").status_code == 404
    assert client.post(f"/providers/vetting/{item.id + 1000}/verify").status_code == 404
    data = {"kind": "dbs", "reference": "X", "expires_on": (clock.today() + timedelta(days=30)).isoformat()}
    assert client.post(f"/providers/{foreign.id}/vetting", data=data).status_code == 404
    assert [i.verified_at for i in items_of(session, foreign)] == [None]


def test_a_provider_cannot_add_evidence_for_another_provider(client, auth, world, session):
    other = world.records["a"]["other_provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    data = {"kind": "dbs", "reference": "X", "expires_on": (clock.today() + timedelta(days=30)).isoformat()}
    assert client.post(f"/providers/{other.id}/vetting", data=data).status_code == 404
    assert items_of(session, other) == []


def test_expired_evidence_is_shown_as_expired_and_cannot_be_verified(client, auth, world, session):
    provider = world.records["a"]["provider"]
    today = clock.today()
    f.VettingFactory(session=session, council_id=provider.council_id, provider_id=provider.id, kind=VettingKind.insurance)
    stale = f.VettingFactory(session=session, council_id=provider.council_id, provider_id=provider.id, verified_at=None,
                             expires_on=today - timedelta(days=1))
    session.commit()
    auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get(f"/providers/{provider.id}")
    assert "Expired" in page.text and "No DBS check yet" not in page.text
    assert client.post(f"/providers/vetting/{stale.id}/verify").status_code == 409
    assert provider.id not in vetted_provider_ids(session, provider.council_id, today)
