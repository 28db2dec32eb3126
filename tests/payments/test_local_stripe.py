"""The local Stripe server answers the real SDK like Stripe for Connect, transfers, top-ups and failures."""

from __future__ import annotations

import socket

import pytest
import stripe

from tests.stripe_support import payload_of, signature_header


def express_account(sdk, key="provider:1"):
    return sdk.v1.accounts.create(params={"type": "express", "country": "GB"}, options={"idempotency_key": key})


def test_it_listens_on_127_0_0_1_only(stripe_server):
    host, port = stripe_server.url.removeprefix("http://").split(":")
    assert host == "127.0.0.1"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        # Another local address of the loopback range is not served.
        assert probe.connect_ex(("127.0.0.2", int(port))) != 0


def test_an_express_account_starts_without_payouts_and_a_link_leads_to_onboarding(stripe_sdk):
    account = express_account(stripe_sdk)
    assert (account.object, account.type, account.payouts_enabled, account.details_submitted) == ("account", "express", False, False)
    assert account.requirements.currently_due
    link = stripe_sdk.v1.account_links.create(params={
        "account": account.id, "refresh_url": "http://127.0.0.1/r", "return_url": "http://127.0.0.1/back", "type": "account_onboarding"})
    assert link.object == "account_link" and link.url.startswith("http://127.0.0.1") and link.expires_at > link.created
    assert stripe_sdk.v1.accounts.retrieve(account.id).id == account.id
    assert [a.id for a in stripe_sdk.v1.accounts.list().data] == [account.id]


def test_the_same_idempotency_key_gives_the_same_account_and_other_params_are_refused(stripe_sdk):
    first = express_account(stripe_sdk, "provider:7")
    assert express_account(stripe_sdk, "provider:7").id == first.id
    with pytest.raises(stripe.IdempotencyError) as refused:
        stripe_sdk.v1.accounts.create(params={"type": "express", "country": "FR"}, options={"idempotency_key": "provider:7"})
    assert refused.value.http_status == 400
    assert len(stripe_sdk.v1.accounts.list().data) == 1


def test_completing_onboarding_enables_payouts_and_emits_account_updated(stripe_server, stripe_sdk):
    account = express_account(stripe_sdk)
    event = stripe_server.complete_onboarding(account.id)
    assert event["type"] == "account.updated" and event["account"] == account.id
    assert event["data"]["object"]["payouts_enabled"] is True
    assert stripe_sdk.v1.accounts.retrieve(account.id).payouts_enabled is True
    assert [e["id"] for e in stripe_server.events("account.updated")] == [event["id"]]


def test_a_transfer_needs_an_enabled_destination(stripe_server, stripe_sdk):
    account = express_account(stripe_sdk)
    with pytest.raises(stripe.InvalidRequestError, match="capabilities"):
        stripe_sdk.v1.transfers.create(params={"amount": 100, "currency": "gbp", "destination": account.id})
    with pytest.raises(stripe.InvalidRequestError, match="No such destination"):
        stripe_sdk.v1.transfers.create(params={"amount": 100, "currency": "gbp", "destination": "acct_missing"})


@pytest.fixture()
def paid_account(stripe_server, stripe_sdk):
    account = express_account(stripe_sdk)
    stripe_server.complete_onboarding(account.id)
    return account


def transfer(sdk, account, amount=1234, key="payrun:1:1", **params):
    return sdk.v1.transfers.create(
        params={"amount": amount, "currency": "gbp", "destination": account.id, "metadata": {"run": "1"}, "transfer_group": "payrun:1", **params},
        options={"idempotency_key": key})


def test_a_transfer_is_made_once_per_idempotency_key_with_its_balance_transaction(stripe_sdk, paid_account):
    first = transfer(stripe_sdk, paid_account)
    again = transfer(stripe_sdk, paid_account)
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        transfer(stripe_sdk, paid_account, amount=999)
    assert [t.id for t in stripe_sdk.v1.transfers.list(params={"destination": paid_account.id}).data] == [first.id]
    assert stripe_sdk.v1.transfers.list(params={"destination": "acct_other"}).data == []
    txns = stripe_sdk.v1.balance_transactions.list(params={"type": "transfer"}).data
    assert [(t.amount, t.source, t.id) for t in txns] == [(-1234, first.id, first.balance_transaction)]


def test_a_reversal_returns_money_with_a_transfer_refund_and_emits_transfer_reversed(stripe_server, stripe_sdk, paid_account):
    made = transfer(stripe_sdk, paid_account)
    reversal = stripe_sdk.v1.transfers.reversals.create(made.id, params={"amount": 234})
    assert (reversal.object, reversal.amount, reversal.transfer) == ("transfer_reversal", 234, made.id)
    after = stripe_sdk.v1.transfers.retrieve(made.id)
    assert (after.amount_reversed, after.reversed) == (234, False)
    assert [r.id for r in stripe_sdk.v1.transfers.reversals.list(made.id).data] == [reversal.id]
    refund = stripe_sdk.v1.balance_transactions.list(params={"type": "transfer_refund"}).data
    assert [(t.amount, t.source, t.reporting_category) for t in refund] == [(234, reversal.id, "transfer_reversal")]
    with pytest.raises(stripe.InvalidRequestError):
        stripe_sdk.v1.transfers.reversals.create(made.id, params={"amount": 1001})
    assert [e["type"] for e in stripe_server.events()][-2:] == ["transfer.created", "transfer.reversed"]


def test_a_passing_5xx_is_retried_by_the_sdk_with_the_same_key_and_pays_once(stripe_server, stripe_sdk, paid_account):
    stripe_server.fail_next_transfer(status=500, count=2)
    made = transfer(stripe_sdk, paid_account)
    assert [t.id for t in stripe_sdk.v1.transfers.list().data] == [made.id]


def test_a_lost_answer_is_retried_and_gets_the_transfer_already_made(stripe_server, stripe_sdk, paid_account):
    stripe_server.fail_next_transfer(mode="lost_response")
    made = transfer(stripe_sdk, paid_account)
    assert [t.id for t in stripe_sdk.v1.transfers.list().data] == [made.id]


def test_a_4xx_fault_carries_stripes_message_and_makes_nothing(stripe_server, stripe_sdk, paid_account):
    stripe_server.fail_next_transfer(status=400, message="You have insufficient funds in your Stripe account.", code="balance_insufficient")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        transfer(stripe_sdk, paid_account)
    assert (refused.value.code, refused.value.user_message) == ("balance_insufficient", "You have insufficient funds in your Stripe account.")
    assert stripe_sdk.v1.transfers.list().data == []


def test_a_delay_trips_a_short_client_timeout(stripe_server, paid_account):
    impatient = stripe.StripeClient("sk_test_local", base_addresses={"api": stripe_server.url}, max_network_retries=0,
                                    http_client=stripe.RequestsClient(timeout=0.3))
    stripe_server.fail_next_transfer(mode="delay", seconds=1)
    with pytest.raises(stripe.APIConnectionError):
        transfer(impatient, paid_account)


@pytest.mark.parametrize("method", ["card", "bacs_debit"])
def test_a_payment_intent_paid_by_card_or_bacs_sends_payment_intent_succeeded(stripe_server, stripe_sdk, method):
    intent = stripe_sdk.v1.payment_intents.create(params={
        "amount": 2500, "currency": "gbp", "payment_method_types": ["card", "bacs_debit"], "metadata": {"holder": "2"}})
    assert intent.payment_method_types == ["card", "bacs_debit"] and intent.status == "requires_payment_method"
    events = stripe_server.pay(intent.id, method=method)
    assert [e["type"] for e in events] == ["payment_intent.succeeded"]
    assert events[0]["data"]["object"]["metadata"] == {"holder": "2"}
    assert stripe_sdk.v1.payment_intents.retrieve(intent.id).status == "succeeded"


@pytest.mark.parametrize("method", ["card", "bacs_debit"])
def test_a_failed_payment_sends_payment_failed(stripe_server, stripe_sdk, method):
    intent = stripe_sdk.v1.payment_intents.create(params={"amount": 2500, "currency": "gbp", "payment_method_types": [method]})
    assert [e["type"] for e in stripe_server.pay(intent.id, method=method, succeed=False)] == ["payment_intent.payment_failed"]


def test_an_unknown_payment_method_type_is_refused(stripe_sdk):
    with pytest.raises(stripe.InvalidRequestError):
        stripe_sdk.v1.payment_intents.create(params={"amount": 2500, "currency": "gbp", "payment_method_types": ["ideal"]})


def test_a_refund_sends_charge_refunded(stripe_server, stripe_sdk):
    intent = stripe_sdk.v1.payment_intents.create(params={"amount": 700, "currency": "gbp", "payment_method_types": ["card"]})
    stripe_server.pay(intent.id)
    stripe_sdk.v1.refunds.create(params={"payment_intent": intent.id, "amount": 200})
    [event] = stripe_server.events("charge.refunded")
    assert (event["data"]["object"]["amount_refunded"], event["data"]["object"]["payment_intent"]) == (200, intent.id)


def test_a_connected_account_payout_event_names_the_account(stripe_server, paid_account):
    event = stripe_server.payout(paid_account.id, 1000, status="failed")
    assert (event["type"], event["account"], event["data"]["object"]["object"]) == ("payout.failed", paid_account.id, "payout")


def test_flushing_forgets_objects_events_keys_and_faults(stripe_server, stripe_sdk, paid_account):
    stripe_server.fail_next_transfer(status=400)
    stripe_server.flush()
    assert stripe_server.events() == [] and stripe_sdk.v1.accounts.list().data == []
    account = express_account(stripe_sdk)  # the same key as before the flush makes a new account
    assert account.id != paid_account.id


def test_the_signature_helper_signs_like_stripe(stripe_server, stripe_sdk):
    event = stripe_server.complete_onboarding(express_account(stripe_sdk).id)
    payload = payload_of(event)
    parsed = stripe.Webhook.construct_event(payload, signature_header(payload), "whsec_test")
    assert parsed.id == event["id"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature_header(payload, secret="whsec_other"), "whsec_test")
