"""Paying a top-up on its page: Stripe's Payment Element against real Stripe, the buttons against the local server.

The app here talks to the local Stripe server; `as_real_stripe` makes the page treat it as Stripe itself
(the SDK still reaches the local server, so the PaymentIntent and its client secret are real ones).
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.ledger.models import JournalEntry
from brokerage.payments import views
from brokerage.payments.models import StripeEvent, TopUp
from tests.payments.test_topups import share, start
from tests.stripe_support import deliver

PUBLISHABLE = "pk_test_carepool0123456789"
STRIPE_JS = '<script src="https://js.stripe.com/v3/"></script>'


@pytest.fixture()
def started(pay, world, session, stripe_sdk):
    """A holder of council a starts a £25 top-up; return (client, top-up, PaymentIntent)."""
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    assert start(client, records["holder"], records["cluster"]).status_code == 302
    top_up = session.exec(select(TopUp)).one()
    return client, top_up, stripe_sdk.v1.payment_intents.retrieve(top_up.payment_intent_id)


@pytest.fixture()
def as_real_stripe(monkeypatch, stripe_app):
    """Give the app a publishable key and make it take the local server for Stripe itself."""
    monkeypatch.setattr(views, "_is_local", lambda url: False)
    stripe_app.config["STRIPE_PUBLISHABLE_KEY"] = PUBLISHABLE


def csp(response) -> dict[str, str]:
    parts = [p.strip() for p in response.headers["Content-Security-Policy"].split(";") if p.strip()]
    return {p.split()[0]: p for p in parts}


def test_the_holder_gets_the_payment_element_with_their_client_secret(started, as_real_stripe):
    client, top_up, intent = started
    assert intent.client_secret and intent.payment_method_types == ["card", "bacs_debit"]
    response = client.get(f"/top-ups/{top_up.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="payment-element"' in page and f'data-client-secret="{intent.client_secret}"' in page
    assert f'data-publishable-key="{PUBLISHABLE}"' in page
    assert f'data-return-url="http://localhost/top-ups/{top_up.id}"' in page
    assert STRIPE_JS in page and 'src="/static/top-up-payment.js"' in page
    assert "JavaScript turned on" in page and 'aria-live="polite"' in page
    assert "Pay (test server)" not in page and "<script>" not in page
    policy = csp(response)
    assert "https://js.stripe.com" in policy["script-src"].split() and "'self'" in policy["script-src"].split()
    assert "https://js.stripe.com" in policy["frame-src"].split() and "https://hooks.stripe.com" in policy["frame-src"].split()
    assert "https://api.stripe.com" in policy["connect-src"].split()
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert policy["form-action"].startswith("form-action 'self'")


def test_the_representative_gets_it_too(started, pay, as_real_stripe):
    _, top_up, intent = started
    pay.auth.sign_out()
    page = pay.sign_in(Role.representative).get(f"/top-ups/{top_up.id}").get_data(as_text=True)
    assert f'data-client-secret="{intent.client_secret}"' in page


@pytest.mark.parametrize(("role", "council", "status"), [(Role.broker, "a", 200), (Role.council_officer, "a", 200),
                                                         (Role.holder, "b", 404), (Role.representative, "b", 404)])
def test_nobody_else_gets_the_client_secret_or_stripe_js(started, pay, as_real_stripe, role, council, status):
    _, top_up, intent = started
    pay.auth.sign_out()
    response = pay.sign_in(role, council).get(f"/top-ups/{top_up.id}")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert intent.client_secret not in page and "js.stripe.com" not in page
    assert "js.stripe.com" not in response.headers["Content-Security-Policy"]


def test_other_pages_do_not_allow_stripe_js(started, world, as_real_stripe):
    client, top_up, _ = started
    holder_id = world.records["a"]["holder"].id
    for path in (f"/holders/{holder_id}/top-up", f"/holders/{holder_id}/statement", "/"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        policy = response.headers["Content-Security-Policy"]
        assert "js.stripe.com" not in policy and "api.stripe.com" not in policy, path


def test_without_a_publishable_key_the_page_says_plainly_that_payments_are_not_set_up(started, monkeypatch, stripe_app):
    client, top_up, intent = started
    monkeypatch.setattr(views, "_is_local", lambda url: False)
    stripe_app.config["STRIPE_PUBLISHABLE_KEY"] = None
    response = client.get(f"/top-ups/{top_up.id}")
    page = response.get_data(as_text=True)
    assert "Card and Direct Debit payments are not set up on this server yet" in page
    assert intent.client_secret not in page and 'id="payment-element"' not in page and "Pay (test server)" not in page
    assert "js.stripe.com" not in response.headers["Content-Security-Policy"]


def test_without_a_publishable_key_no_new_top_up_can_start(pay, world, session, monkeypatch, stripe_app, stripe_sdk):
    monkeypatch.setattr(views, "_is_local", lambda url: False)
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    page = client.get(f"/holders/{records['holder'].id}/top-up").get_data(as_text=True)
    assert "Payments are not set up on this server yet" in page
    response = client.post(f"/holders/{records['holder'].id}/top-up",
                           data={"cluster": str(records["cluster"].id), "amount": "25", "method": "card", "form_key": "abc"})
    assert response.status_code == 409
    assert session.exec(select(TopUp)).all() == [] and stripe_sdk.v1.payment_intents.list().data == []


def test_on_the_local_server_the_test_buttons_stay_and_no_stripe_js_loads(started, stripe_app):
    client, top_up, intent = started
    stripe_app.config["STRIPE_PUBLISHABLE_KEY"] = PUBLISHABLE
    response = client.get(f"/top-ups/{top_up.id}")
    page = response.get_data(as_text=True)
    assert "Pay (test server)" in page and "Pay by card" in page and "Try a payment that fails" in page
    assert 'id="payment-element"' not in page and intent.client_secret not in page
    assert "js.stripe.com" not in response.headers["Content-Security-Policy"]


def test_coming_back_from_stripe_changes_nothing_only_the_webhook_adds_the_money(started, world, session, stripe_server, as_real_stripe):
    client, top_up, intent = started
    [succeeded] = stripe_server.pay(intent.id, method="card")
    before = session.exec(select(JournalEntry.id)).all()
    response = client.get(f"/top-ups/{top_up.id}?payment_intent={intent.id}"
                          f"&payment_intent_client_secret={intent.client_secret}&redirect_status=succeeded")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "add the money to the pool as soon as Stripe confirms it" in page
    assert 'id="payment-element"' not in page and intent.client_secret not in page
    session.expire_all()
    assert session.exec(select(JournalEntry.id)).all() == before and share(session, world) == 0
    assert session.exec(select(StripeEvent)).all() == []
    assert session.get(TopUp, top_up.id).status.value == "waiting"
    deliver(client, succeeded)
    assert share(session, world) == 2500


def test_a_forged_return_for_an_unpaid_top_up_adds_nothing_and_the_form_stays(started, world, session, as_real_stripe):
    client, top_up, intent = started
    before = session.exec(select(JournalEntry.id)).all()
    page = client.get(f"/top-ups/{top_up.id}?payment_intent={intent.id}&redirect_status=succeeded").get_data(as_text=True)
    assert "as soon as Stripe confirms it" in page
    session.expire_all()
    assert session.exec(select(JournalEntry.id)).all() == before and share(session, world) == 0
    assert session.get(TopUp, top_up.id).status.value == "waiting"


def test_a_failed_return_says_so_and_offers_the_form_again(started, as_real_stripe):
    client, top_up, intent = started
    page = client.get(f"/top-ups/{top_up.id}?payment_intent={intent.id}&redirect_status=failed").get_data(as_text=True)
    assert "The payment did not go through, so nothing was taken" in page
    assert f'data-client-secret="{intent.client_secret}"' in page


def test_an_unknown_return_status_is_ignored(started, as_real_stripe):
    client, top_up, _ = started
    page = client.get(f"/top-ups/{top_up.id}?redirect_status=%3Cscript%3E").get_data(as_text=True)
    assert "as soon as Stripe confirms it" not in page and "&lt;script&gt;" not in page and "<script>" not in page
