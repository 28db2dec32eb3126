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
        # 2100 for 2030 was saved, and the evidence counted for 74 years.
        ({"expires_on-day": "1", "expires_on-month": "3", "expires_on-year": "2100"},
         "evidence is checked again at least every 5 years. Check the year"),
        ({"expires_on": (clock.today().replace(year=clock.today().year + 5, day=min(clock.today().day, 28)) + timedelta(days=1)).isoformat()},
         "evidence is checked again at least every 5 years. Check the year"),
        ({"expires_on-day": "31", "expires_on-month": "2", "expires_on-year": "2030"}, "Enter a real date, for example 27 3 2027"),
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


def test_evidence_may_run_out_five_years_from_today_and_not_a_day_later():
    from brokerage.providers.rules import expiry_problem

    today = date(2026, 12, 5)
    assert expiry_problem(date(2031, 12, 5), today=today) is None
    assert expiry_problem(date(2031, 12, 6), today=today) == (
        "Enter a date up to 5 December 2031: evidence is checked again at least every 5 years. Check the year")
    assert expiry_problem(date(2033, 2, 28), today=date(2028, 2, 29)) is None  # no 29 February in 2033
    assert expiry_problem(date(2033, 3, 1), today=date(2028, 2, 29)) is not None


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
    # The broker's dashboard names the evidence to chase in words, not codes.
    dashboard = client.get("/dashboard").text
    assert "Not yet checked by a broker: DBS check" in dashboard and "Missing: DBS check, insurance" in dashboard
    assert "INSURANCE" not in dashboard
    assert client.post(f"/providers/vetting/{stale.id}/verify").status_code == 409
    assert provider.id not in vetted_provider_ids(session, provider.council_id, today)


def _second_broker(session, world):
    return f.UserFactory(session=session, role=Role.broker, council_id=world.councils["a"].id, name="Bea Checker", email="bea@example.org")


def test_a_broker_cannot_verify_evidence_they_added_themselves(client, auth, world, session):
    provider = world.records["a"]["provider"]
    maker = world.users["a"][Role.broker]
    auth.sign_in(maker.email)
    assert client.post(f"/providers/{provider.id}/vetting", data={"kind": "insurance", "reference": "PL-2029", "expires_on": (clock.today() + timedelta(days=1000)).isoformat()}).status_code == 302
    [item] = items_of(session, provider)
    assert item.added_by_id == maker.id and item.verified_at is None
    page = client.get(f"/providers/{provider.id}").text
    assert "You added this, so a different broker must verify it." in page and f"/providers/vetting/{item.id}/verify" not in page

    refused = client.post(f"/providers/vetting/{item.id}/verify", follow_redirects=True)
    assert "so a different broker must check and verify it" in refused.text
    as_json = client.post(f"/providers/vetting/{item.id}/verify", headers={"Accept": "application/json"})
    assert as_json.status_code == 403 and "a different broker" in as_json.get_json()["error"]
    [item] = items_of(session, provider)
    assert item.verified_at is None and item.checked_by_id is None
    assert provider.id not in vetted_provider_ids(session, provider.council_id, clock.today())


def test_a_second_broker_verifies_and_the_page_says_who_added_and_who_verified_and_when(client, auth, world, session, freeze_clock):
    from datetime import datetime, timezone

    provider = world.records["a"]["provider"]
    maker = world.users["a"][Role.broker]
    checker = _second_broker(session, world)
    session.commit()
    freeze_clock(datetime(2026, 6, 1, 9, 15, tzinfo=timezone.utc))
    auth.sign_in(maker.email)
    client.post(f"/providers/{provider.id}/vetting", data={"kind": "dbs", "reference": "DBS-1", "expires_on": "2028-01-01"})
    auth.sign_out()

    freeze_clock(datetime(2026, 6, 2, 14, 0, tzinfo=timezone.utc))
    auth.sign_in(checker.email)
    [item] = items_of(session, provider)
    assert client.post(f"/providers/vetting/{item.id}/verify").status_code == 302
    [item] = items_of(session, provider)
    assert (item.added_by_id, item.checked_by_id) == (maker.id, checker.id)
    assert item.verified_at == datetime(2026, 6, 2, 14, 0, tzinfo=timezone.utc)
    page = client.get(f"/providers/{provider.id}").text
    assert f"Added by {maker.name} on 1 June 2026 at 10:15am." in page
    assert f"Verified by {checker.name} on 2 June 2026 at 3pm." in page


def test_evidence_a_provider_added_is_verified_by_any_broker(world, session):
    from brokerage.providers import services

    provider = world.records["a"]["provider"]
    item = services.add_vetting(session=session, actor=world.users["a"][Role.provider], provider_id=provider.id, kind="dbs",
                                reference="DBS-9", expires_on=clock.today() + timedelta(days=300))
    assert item.added_by_id == world.users["a"][Role.provider].id
    verified = services.verify_vetting(session=session, actor=world.users["a"][Role.broker], item_id=item.id)
    assert verified.verified_at is not None and verified.checked_by_id == world.users["a"][Role.broker].id
