"""Brokers register providers and personal assistants, who are matched only once their evidence is verified."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from brokerage import clock
from brokerage.accounts.models import Role
from brokerage.matching.services import vetted_provider_ids
from brokerage.providers.models import Provider, ProviderKind, VettingItem
from tests import factories as f


def registration(profile_form, **overrides) -> dict:
    data = profile_form(name="Fartun Abdi", kind="pa", postcode_district="e1", lat="51.52", lon="-0.06",
                        languages=["so", "en"], services=["home_care", "companionship"])
    data.update(overrides)
    return data


def expiry(days: int) -> dict:
    when = clock.today() + timedelta(days=days)
    return {"expires_on-day": str(when.day), "expires_on-month": str(when.month), "expires_on-year": str(when.year)}


def test_a_registered_provider_is_matched_only_once_evidence_is_added_and_verified(client, auth, world, session, profile_form):
    council = world.councils["a"]
    today = clock.today()
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.get("/providers/new").status_code == 200
    response = client.post("/providers/new", data=registration(profile_form))
    assert response.status_code == 302
    provider = session.exec(select(Provider).where(Provider.name == "Fartun Abdi")).one()
    assert (provider.council_id, provider.kind, provider.postcode_district) == (council.id, ProviderKind.pa, "E1")
    assert provider.languages == ["so", "en"] and provider.hourly_rate_pence == 2200
    assert response.headers["Location"].endswith(f"/providers/{provider.id}")
    assert provider.id not in vetted_provider_ids(session, council.id, today)
    assert "No DBS check yet" in client.get(f"/providers/{provider.id}").text

    for kind, reference in (("dbs", "001234567890"), ("insurance", "PL-2026-77")):
        added = client.post(f"/providers/{provider.id}/vetting", data={"kind": kind, "reference": reference, **expiry(200)})
        assert added.status_code == 302
    page = client.get(f"/providers/{provider.id}")
    assert "DBS check is waiting for a broker to verify it" in page.text and "Waiting for a broker" in page.text
    session.expire_all()
    assert provider.id not in vetted_provider_ids(session, council.id, today)  # unverified evidence does not count

    items = session.exec(select(VettingItem).where(VettingItem.provider_id == provider.id).order_by(VettingItem.id)).all()
    # Four eyes: the broker who added the evidence cannot verify it; a colleague does.
    checker = f.UserFactory(session=session, role=Role.broker, council_id=council.id, email="checker@example.org")
    session.commit()
    auth.sign_out()
    auth.sign_in(checker.email)
    assert client.post(f"/providers/vetting/{items[0].id}/verify").status_code == 302
    session.expire_all()
    assert provider.id not in vetted_provider_ids(session, council.id, today)  # insurance still waits
    assert client.post(f"/providers/vetting/{items[1].id}/verify").status_code == 302
    session.expire_all()
    assert provider.id in vetted_provider_ids(session, council.id, today)
    verified = session.get(VettingItem, items[0].id)
    assert verified.added_by_id == world.users["a"][Role.broker].id
    assert verified.checked_by_id == checker.id and verified.verified_at is not None
    assert "can be matched with groups and paid" in client.get(f"/providers/{provider.id}").text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the name"),
        ("kind", "franchise", "Choose the kind of provider"),
        ("postcode_district", "E1 6AN", "Enter the first half of the postcode, like E1 or LS6"),
        ("lat", "-0.06", "Enter a latitude in the UK, from 49 to 61"),
        ("lon", "west", "Enter the longitude as a number"),
        ("hourly_rate", "0.00", "Enter an hourly rate more than £0"),
    ],
)
def test_a_broker_is_told_what_to_fix_and_nothing_is_registered(client, auth, world, session, profile_form, field, value, message):
    auth.sign_in(world.users["a"][Role.broker].email)
    response = client.post("/providers/new", data=registration(profile_form, **{field: value}))
    assert response.status_code == 422
    assert f'id="{field}-error-1"' in response.text and message in response.text
    assert session.exec(select(Provider).where(Provider.name == "Fartun Abdi")).first() is None


@pytest.mark.parametrize("role", [Role.provider, Role.council_officer, Role.holder])
def test_only_brokers_register_providers(client, auth, world, session, profile_form, role):
    auth.sign_in(world.users["a"][role].email)
    assert client.get("/providers/new").status_code == 403
    assert client.post("/providers/new", data=registration(profile_form)).status_code == 403
    assert session.exec(select(Provider).where(Provider.name == "Fartun Abdi")).first() is None
