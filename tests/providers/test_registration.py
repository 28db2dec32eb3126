"""Brokers register providers and personal assistants, who are matched only once their evidence is verified."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import delete, select

from brokerage import clock
from brokerage.accounts.models import Role
from brokerage.errors import NotAllowed
from brokerage.matching.services import vetted_provider_ids
from brokerage.places.models import PostcodeCentroid
from brokerage.providers.models import Provider, ProviderKind, VettingItem
from brokerage.providers.services import update_profile
from tests import factories as f


def registration(profile_form, **overrides) -> dict:
    # A personal assistant works alone: one member of staff, and the hours one person can work in a morning.
    data = profile_form(name="Fartun Abdi", kind="pa", postcode="e1 6an", staff_count="1", **{"slot_hours-mon_am": "6"},
                        languages=["so", "en"], services=["home_care", "companionship"])
    data.update(overrides)
    return data


def expiry(days: int) -> dict:
    when = clock.today() + timedelta(days=days)
    return {"expires_on-day": str(when.day), "expires_on-month": str(when.month), "expires_on-year": str(when.year)}


def test_a_registered_provider_is_matched_only_once_evidence_is_added_and_verified(client, auth, world, session, profile_form, places):
    council = world.councils["a"]
    today = clock.today()
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.get("/providers/new").status_code == 200
    response = client.post("/providers/new", data=registration(profile_form))
    assert response.status_code == 302
    provider = session.exec(select(Provider).where(Provider.name == "Fartun Abdi")).one()
    assert (provider.council_id, provider.kind, provider.postcode_district) == (council.id, ProviderKind.pa, "E1")
    assert (provider.postcode, provider.lat, provider.lon) == ("E1 6AN", 51.5203, -0.0714)  # placed by the postcode table
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
    # Valid vetting alone does not pay it: Stripe has to check its bank details too (the page said "and paid").
    page = client.get(f"/providers/{provider.id}").text
    assert "can be matched with groups, and paid once Stripe has checked the bank details" in page
    assert "can be matched with groups and paid" not in page
    provider.stripe_status, provider.payouts_enabled = "enabled", True
    session.commit()
    assert "can be matched with groups and paid." in client.get(f"/providers/{provider.id}").text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the name"),
        ("kind", "franchise", "Choose the kind of provider"),
        ("postcode", "", "Enter a full UK postcode, like E1 6AN"),
        ("postcode", "E1", "Enter a full UK postcode, like E1 6AN"),
        ("postcode", "51.5155, -0.059", "Enter a full UK postcode, like E1 6AN"),
        ("postcode", "e9 9zz", "We do not know where E9 9ZZ is. Check it is right. If it is, ask a carepool administrator to add it"),
        ("hourly_rate", "0.00", "Enter at least £12.71 an hour: no carer can be paid less than the National Living Wage"),
        ("hourly_rate", "-5", "Enter at least £12.71 an hour: no carer can be paid less than the National Living Wage"),
        ("hourly_rate", "2250", "Enter an hourly rate of £1,000.00 or less"),
    ],
)
def test_a_broker_is_told_what_to_fix_and_nothing_is_registered(client, auth, world, session, profile_form, places, field, value, message):
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


def test_a_postcode_not_in_the_table_is_placed_at_its_districts_centre(client, auth, world, session, profile_form, places):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.post("/providers/new", data=registration(profile_form, postcode="E2 7QB")).status_code == 302
    provider = session.exec(select(Provider).where(Provider.name == "Fartun Abdi")).one()
    assert (provider.postcode, provider.postcode_district, provider.lat, provider.lon) == ("E2 7QB", "E2", 51.5290, -0.0600)


def test_the_form_asks_for_a_postcode_and_never_a_latitude(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get("/providers/new").text
    assert 'name="postcode"' in page and "atitude" not in page and 'name="lat"' not in page and 'name="lon"' not in page


def test_a_broker_moves_a_provider_by_postcode_and_other_changes_never_look_it_up_again(client, auth, world, session, profile_form, places):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.broker].email)
    edit = profile_form(name=provider.name, kind=provider.kind.value, postcode="E1W 1LA")
    assert client.post(f"/providers/{provider.id}/edit", data=edit).status_code == 302
    session.refresh(provider)
    assert (provider.postcode, provider.postcode_district, provider.lat, provider.lon) == ("E1W 1LA", "E1W", 51.5067, -0.0712)
    assert "5 km from E1W 1LA" in client.get(f"/providers/{provider.id}").text
    # The postcode it has is kept without a lookup, even once the table no longer knows it.
    session.exec(delete(PostcodeCentroid))
    session.flush()
    assert client.post(f"/providers/{provider.id}/edit", data={**edit, "radius_km": "7"}).status_code == 302
    session.refresh(provider)
    assert (provider.radius_km, provider.postcode, provider.lat) == (7.0, "E1W 1LA", 51.5067)
    # A new one it does not know is refused beside the box, and nothing changes.
    refused = client.post(f"/providers/{provider.id}/edit", data={**edit, "radius_km": "9", "postcode": "E3 2SJ"})
    assert refused.status_code == 422 and "We do not know where E3 2SJ is" in refused.text and 'id="postcode-error-1"' in refused.text
    session.refresh(provider)
    assert (provider.radius_km, provider.postcode) == (7.0, "E1W 1LA")


def test_a_provider_cannot_move_itself(session, world, places):
    provider = world.records["a"]["provider"]
    with pytest.raises(NotAllowed) as refused:
        update_profile(session=session, actor=world.users["a"][Role.provider], provider_id=provider.id, services=["home_care"], languages=["en"],
                       staff_genders=["female"], capacity_hours=40, slots=["mon_am"], radius_km=5.0, hourly_rate_pence=2000,
                       living_wage=False, ethical_care_charter=False, postcode="E1 6AN")
    assert refused.value.field == "postcode"
