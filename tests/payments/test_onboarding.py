"""Setting up a provider's payments: one Express account, Stripe's link, and payouts only on Stripe's word."""

from __future__ import annotations

from urllib.parse import urlsplit

from brokerage.accounts.models import Role
from brokerage.payments.onboarding import account_key
from tests.payments.runs_support import vet
from tests.stripe_support import deliver


def set_up(client, provider):
    return client.post(f"/providers/{provider.id}/set-up-payments")


def test_a_provider_sets_up_payments_once_and_is_sent_to_stripes_link(pay, world, session, stripe_sdk):
    provider = world.records["a"]["provider"]
    client = pay.sign_in(Role.provider)
    page = client.get(f"/providers/{provider.id}").get_data(as_text=True)
    assert "Not set up" in page and "Set up payments" in page
    response = set_up(client, provider)
    assert response.status_code == 302
    link = response.headers["Location"]
    assert urlsplit(link).hostname == "127.0.0.1" and "/_config/onboarding/" in link
    session.refresh(provider)
    account_id = provider.stripe_account_id
    assert account_id.startswith("acct_") and provider.stripe_status == "details_needed" and provider.payouts_enabled is False
    account = stripe_sdk.v1.accounts.retrieve(account_id)
    assert account.type == "express" and account.metadata["provider"] == str(provider.id)
    # Again (the link expired, or the provider came back): the same account, a new link.
    assert set_up(client, provider).status_code == 302
    session.refresh(provider)
    assert provider.stripe_account_id == account_id
    assert [a.id for a in stripe_sdk.v1.accounts.list().data] == [account_id]
    assert "Details needed" in client.get(f"/providers/{provider.id}").get_data(as_text=True)


def test_a_broker_is_told_the_provider_gives_their_own_details(pay, world, session):
    # The provider's own words ("You go to Stripe ... to give your bank and identity details") are not the broker's.
    provider = world.records["a"]["provider"]
    page = pay.sign_in(Role.broker).get(f"/providers/{provider.id}").get_data(as_text=True).replace("&#39;", "'")
    assert "You go to Stripe" not in page and "give your bank" not in page
    assert f"{provider.name} can set up payments from their own page" in page
    assert f"Set up payments with {provider.name}" in page


def test_the_account_is_made_with_an_idempotency_key_naming_the_provider(pay, world, session, stripe_sdk):
    provider = world.records["a"]["provider"]
    made = stripe_sdk.v1.accounts.create(params={"type": "express", "country": "GB", "default_currency": "gbp",
                                                  "capabilities": {"transfers": {"requested": True}},
                                                  "metadata": {"council": str(provider.council_id), "provider": str(provider.id)}},
                                          options={"idempotency_key": account_key(provider.id)})
    set_up(pay.sign_in(Role.broker), provider)
    session.refresh(provider)
    assert provider.stripe_account_id == made.id


def test_returning_from_stripe_does_not_enable_payouts_only_account_updated_does(pay, world, session, stripe_server):
    provider = world.records["a"]["provider"]
    client = pay.sign_in(Role.provider)
    link = set_up(client, provider).headers["Location"]
    session.refresh(provider)
    # The provider finishes on Stripe's page and comes back: nothing changes until Stripe's event arrives.
    assert client.get(f"/providers/{provider.id}").status_code == 200
    session.refresh(provider)
    assert provider.payouts_enabled is False and link
    event = stripe_server.complete_onboarding(provider.stripe_account_id)
    assert deliver(client, event).status_code == 200
    session.refresh(provider)
    assert (provider.payouts_enabled, provider.stripe_status) == (True, "enabled")
    # Its vetting is not valid yet, so no run pays it: the box said "Can be paid" above "Vetting: Not valid".
    page = client.get(f"/providers/{provider.id}").get_data(as_text=True)
    assert "Stripe has checked the bank details. You will be paid once your vetting is valid" in page and "Can be paid" not in page
    staff = pay.sign_in(Role.broker).get(f"/providers/{provider.id}").get_data(as_text=True).replace("&#39;", "'")
    assert f"Stripe has checked the bank details. {provider.name} will be paid once their vetting is valid" in staff
    client = pay.sign_in(Role.provider)
    vet(session, provider)
    session.commit()
    page = client.get(f"/providers/{provider.id}").get_data(as_text=True)
    assert "Can be paid" in page and "Stripe has checked the details: you can be paid." in page


def test_each_status_is_shown_in_plain_words(pay, world, session, stripe_server):
    provider = world.records["a"]["provider"]
    vet(session, provider)  # only a provider whose vetting is valid can be paid
    session.commit()
    client = pay.sign_in(Role.broker)
    set_up(client, provider)
    session.refresh(provider)
    steps = [
        (dict(details_submitted=True, currently_due=[]), "Waiting for Stripe", False),
        (dict(complete=True), "Can be paid", True),
        (dict(payouts_enabled=False, currently_due=["external_account"], disabled_reason="requirements.past_due"), "Payouts paused", False),
    ]
    for status, words, enabled in steps:
        deliver(client, stripe_server.set_account_status(provider.stripe_account_id, **status))
        session.refresh(provider)
        assert provider.payouts_enabled is enabled
        assert words in client.get(f"/providers/{provider.id}").get_data(as_text=True)


def test_an_older_account_updated_arriving_late_changes_nothing(pay, world, session, stripe_server):
    provider = world.records["a"]["provider"]
    client = pay.sign_in(Role.provider)
    set_up(client, provider)
    session.refresh(provider)
    older = stripe_server.set_account_status(provider.stripe_account_id, details_submitted=True, currently_due=[])
    newer = stripe_server.complete_onboarding(provider.stripe_account_id)
    older["created"] -= 60  # Stripe made it a minute before the newer one
    deliver(client, newer)
    deliver(client, older)
    session.refresh(provider)
    assert (provider.payouts_enabled, provider.stripe_status) == (True, "enabled")


def test_an_account_updated_for_an_unknown_account_has_no_effect(pay, world, session, stripe_server, stripe_sdk):
    from tests.payments.conftest import stored

    account = stripe_sdk.v1.accounts.create(params={"type": "express"})
    event = stripe_server.complete_onboarding(account.id)
    deliver(pay.client, event)
    assert stored(session, event["id"]).outcome == "no provider has this account: no effect"


def test_without_a_stripe_key_the_button_explains_and_the_post_refuses_gently(client, auth, world, session):
    provider = world.records["a"]["provider"]
    auth.sign_in(world.users["a"][Role.provider].email)
    page = client.get(f"/providers/{provider.id}").get_data(as_text=True)
    assert "Payments are not set up on this server yet" in page and "Set up payments</button>" not in page
    response = client.post(f"/providers/{provider.id}/set-up-payments")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/providers/{provider.id}#payments")
    assert "Payments are not set up on this server yet" in client.get(response.headers["Location"]).get_data(as_text=True)
    session.refresh(provider)
    assert provider.stripe_account_id is None


def test_only_the_provider_itself_or_a_broker_may_set_up_payments(pay, world, session):
    own, other = world.records["a"]["provider"], world.records["a"]["other_provider"]
    foreign = world.records["b"]["provider"]
    client = pay.sign_in(Role.provider)
    assert set_up(client, other).status_code == 404
    assert set_up(client, foreign).status_code == 404
    pay.auth.sign_out()
    client = pay.sign_in(Role.broker)
    assert set_up(client, foreign).status_code == 404
    pay.auth.sign_out()
    for role in (Role.council_officer, Role.holder):
        client = pay.sign_in(role)
        assert set_up(client, own).status_code == 403
        pay.auth.sign_out()
    for provider in (own, other, foreign):
        session.refresh(provider)
        assert provider.stripe_account_id is None


def test_stripe_being_down_is_a_plain_message_and_changes_nothing(db_url, connection, world, session):
    from tests.conftest import Auth, app_in_transaction

    app = app_in_transaction(db_url, connection, STRIPE_SECRET_KEY="sk_test_local", STRIPE_API_BASE="http://127.0.0.1:9")
    client = app.test_client()
    Auth(client).sign_in(world.users["a"][Role.provider].email)
    provider = world.records["a"]["provider"]
    response = set_up(client, provider)
    assert response.status_code == 302
    assert "Stripe could not start the set-up" in client.get(response.headers["Location"]).get_data(as_text=True)
    session.refresh(provider)
    assert provider.stripe_account_id is None
