"""Cancelling a top-up nobody has paid: Stripe cancels the PaymentIntent first, no money moves, and a payment
Stripe already has is never cancelled here. Also: a `charge.*` event names how a payment was made."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.ledger.models import JournalEntry
from brokerage.payments.models import TopUp
from tests.payments.test_topups import share, start
from tests.stripe_support import deliver


@pytest.fixture()
def started(pay, world, session, stripe_sdk):
    """A holder of council a starts a £25 top-up; return (client, top-up)."""
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    assert start(client, records["holder"], records["cluster"]).status_code == 302
    return client, session.exec(select(TopUp)).one()


def _fresh(session, top_up):
    session.expire_all()
    return session.get(TopUp, top_up.id)


def _page(client, top_up):
    return client.get(f"/top-ups/{top_up.id}").get_data(as_text=True).replace("&#39;", "'")


def _event(type_: str, obj: dict) -> dict:
    return {"id": f"evt_{type_.replace('.', '_')}_{obj['id']}", "object": "event", "type": type_, "created": int(time.time()),
            "api_version": "2025-01-27.acacia", "data": {"object": obj}}


def test_a_waiting_payment_can_be_cancelled_and_then_cannot_be_paid(started, world, session, stripe_sdk, stripe_server):
    client, top_up = started
    page = _page(client, top_up)
    assert 'action="/top-ups/%d/cancel"' % top_up.id in page and "Cancel this payment" in page
    response = client.post(f"/top-ups/{top_up.id}/cancel", follow_redirects=True)
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 200
    assert "The payment of £25.00 is cancelled. Nothing was taken, and it can no longer be paid." in page
    assert '<h1 class="govuk-heading-l">A payment that was cancelled</h1>' in page
    assert "Cancelled" in page and ", by you" in page and "Cancel this payment" not in page and "Pay by card" not in page
    assert "Can be paid by" not in page and 'href="/holders/%d/top-up">Add money again' % world.records["a"]["holder"].id in page
    found = _fresh(session, top_up)
    assert found.status.value == "cancelled" and found.cancelled_by_id == world.users["a"][Role.holder].id and found.cancelled_at
    # Stripe cancelled it first: it can no longer be paid there, and no money moved here.
    assert stripe_sdk.v1.payment_intents.retrieve(top_up.payment_intent_id).status == "canceled"
    with pytest.raises(Exception, match="400"):  # the control refuses: "This PaymentIntent's status is canceled"
        stripe_server.pay(top_up.payment_intent_id)
    assert share(session, world) == 0 and session.exec(select(JournalEntry).where(JournalEntry.kind == "topup")).all() == []
    # No longer "on its way" on the dashboard; still in the list of payments, as cancelled.
    assert f'href="/top-ups/{top_up.id}"' not in client.get("/dashboard").get_data(as_text=True)
    listed = client.get(f"/holders/{world.records['a']['holder'].id}/top-up").get_data(as_text=True)
    assert f'href="/top-ups/{top_up.id}">Cancelled' in listed
    # Pressing the button again (a second tab, a double click) changes nothing and says nothing went wrong.
    again = client.post(f"/top-ups/{top_up.id}/cancel", follow_redirects=True)
    assert again.status_code == 200 and "is cancelled" in again.get_data(as_text=True)
    assert _fresh(session, top_up).cancelled_at == found.cancelled_at


def test_a_failed_payment_can_be_cancelled_and_a_late_failure_event_changes_nothing(started, world, session, stripe_server):
    client, top_up = started
    [failed] = stripe_server.pay(top_up.payment_intent_id, succeed=False)
    assert client.post(f"/top-ups/{top_up.id}/cancel").status_code == 302
    assert _fresh(session, top_up).status.value == "cancelled"
    # The failure's event arrives after the cancel (webhooks come late): the top-up stays cancelled.
    deliver(client, failed)
    found = _fresh(session, top_up)
    assert found.status.value == "cancelled" and found.failure_message == ""


def test_a_payment_stripe_already_took_is_not_cancelled_and_still_reaches_the_pool(started, world, session, stripe_sdk, stripe_server):
    client, top_up = started
    # The person paid on Stripe's page; Stripe's event is still on its way here, so the top-up still waits.
    [succeeded] = stripe_server.pay(top_up.payment_intent_id)
    response = client.post(f"/top-ups/{top_up.id}/cancel", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This payment has already gone through, so it can no longer be cancelled." in page
    assert _fresh(session, top_up).status.value == "waiting" and _fresh(session, top_up).cancelled_at is None
    assert stripe_sdk.v1.payment_intents.retrieve(top_up.payment_intent_id).status == "succeeded"
    deliver(client, succeeded)
    assert _fresh(session, top_up).status.value == "succeeded" and share(session, world) == 2500
    # Once added, the button is gone, and a forged request is refused with the same words.
    assert "Cancel this payment" not in _page(client, top_up)
    refused = client.post(f"/top-ups/{top_up.id}/cancel", follow_redirects=True).get_data(as_text=True)
    assert "already gone through" in refused and _fresh(session, top_up).status.value == "succeeded"


def test_only_the_person_or_their_representative_may_cancel(started, pay, world, session, stripe_sdk):
    client, top_up = started
    pay.auth.sign_out()
    for role, council, status in ((Role.holder, "b", 404), (Role.representative, "b", 404), (Role.broker, "b", 403),
                                  (Role.broker, "a", 403), (Role.council_officer, "a", 403), (Role.provider, "a", 403)):
        assert pay.sign_in(role, council).post(f"/top-ups/{top_up.id}/cancel").status_code == status, (role, council)
        pay.auth.sign_out()
    assert _fresh(session, top_up).status.value == "waiting"
    assert "Cancel this payment" not in pay.sign_in(Role.broker).get(f"/top-ups/{top_up.id}").get_data(as_text=True)
    pay.auth.sign_out()
    representative = pay.sign_in(Role.representative)
    assert representative.post(f"/top-ups/{top_up.id}/cancel").status_code == 302
    found = _fresh(session, top_up)
    assert found.status.value == "cancelled" and found.cancelled_by_id == world.users["a"][Role.representative].id
    pay.auth.sign_out()
    # The person reads who cancelled it; staff read it too.
    rep_name = world.users["a"][Role.representative].name
    assert f", by {rep_name}" in _page(pay.sign_in(Role.holder), top_up)
    pay.auth.sign_out()
    assert f", by {rep_name}" in _page(pay.sign_in(Role.broker), top_up)


def test_a_cancel_made_on_stripe_cancels_the_top_up(started, world, session, stripe_sdk):
    client, top_up = started
    intent = stripe_sdk.v1.payment_intents.cancel(top_up.payment_intent_id)
    assert deliver(client, _event("payment_intent.canceled", intent.to_dict())).status_code == 200
    found = _fresh(session, top_up)
    assert found.status.value == "cancelled" and found.cancelled_by_id is None and found.cancelled_at
    assert ", on Stripe" in _page(client, top_up)
    # The download of everything held about the person says so too.
    data = client.get(f"/holders/{world.records['a']['holder'].id}/data.json")
    assert data.status_code == 200
    [row] = data.get_json()["top_ups"]
    assert row["status"] == "cancelled" and row["cancelled_at"] and row["cancelled_by"] is None
    assert f"Cancelled; cancelled {row['cancelled_at']} on Stripe;" in client.get(f"/holders/{world.records['a']['holder'].id}/data.csv").get_data(as_text=True)


def test_a_charge_event_names_how_a_payment_was_made_when_the_payment_intent_event_does_not(started, world, session, stripe_server):
    client, top_up = started
    [succeeded] = stripe_server.pay(top_up.payment_intent_id, method="bacs_debit")
    charge = dict(succeeded["data"]["object"]["latest_charge"])
    # Stripe API versions from 2022-11-15 send the PaymentIntent's charge as an id only: it names no way of paying.
    succeeded["data"]["object"]["latest_charge"] = charge["id"]
    succeeded["data"]["object"].pop("charges", None)
    deliver(client, succeeded)
    assert "Stripe did not tell us which" in _page(client, top_up)
    assert deliver(client, _event("charge.succeeded", charge)).status_code == 200
    page = _page(client, top_up)
    assert f'<dt class="govuk-summary-list__key">Paid by</dt>\n  <dd class="govuk-summary-list__value">Direct Debit</dd>' in page
    assert share(session, world) == 2500  # the charge's event moves no money
