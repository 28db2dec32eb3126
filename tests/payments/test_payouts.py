"""Payouts from a provider's connected account to their bank are recorded; a failed one never becomes paid."""

from __future__ import annotations

from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.ledger.models import JournalEntry
from brokerage.payments.models import ConnectedPayout
from tests.payments.conftest import stored
from tests.stripe_support import deliver


def connected(pay, world, session):
    provider = world.records["a"]["provider"]
    client = pay.sign_in(Role.provider)
    client.post(f"/providers/{provider.id}/set-up-payments")
    session.refresh(provider)
    return client, provider


def payouts(session):
    session.expire_all()
    return session.exec(select(ConnectedPayout)).all()


def test_a_paid_payout_is_recorded_on_the_provider_with_no_ledger_entry(pay, world, session, stripe_server):
    client, provider = connected(pay, world, session)
    entries_before = len(session.exec(select(JournalEntry.id)).all())
    event = stripe_server.payout(provider.stripe_account_id, 12_345)
    deliver(client, event)
    [payout] = payouts(session)
    assert (payout.provider_id, payout.amount_pence, payout.status.value, payout.event_ids) == (provider.id, 12_345, "paid", [event["id"]])
    assert stored(session, event["id"]).council_id == world.councils["a"].id
    assert len(session.exec(select(JournalEntry.id)).all()) == entries_before


def test_a_paid_payout_may_fail_later_but_a_failed_one_never_becomes_paid(pay, world, session, stripe_server):
    client, provider = connected(pay, world, session)
    paid = stripe_server.payout(provider.stripe_account_id, 500)
    failed = dict(paid, id=paid["id"] + "f", type="payout.failed",
                  data={"object": dict(paid["data"]["object"], status="failed", failure_message="The bank account has been closed.")})
    deliver(client, paid)
    deliver(client, failed)
    [payout] = payouts(session)
    assert (payout.status.value, payout.failure_message) == ("failed", "The bank account has been closed.")
    late = dict(paid, id=paid["id"] + "late")
    deliver(client, late)
    assert payouts(session)[0].status.value == "failed"
    assert stored(session, late["id"]).outcome.endswith("already failed: no effect")


def test_a_payout_of_an_account_no_provider_has_has_no_effect(pay, world, session, stripe_server, stripe_sdk):
    account = stripe_sdk.v1.accounts.create(params={"type": "express"})
    event = stripe_server.payout(account.id, 500, status="failed")
    deliver(pay.client, event)
    assert payouts(session) == [] and stored(session, event["id"]).outcome == "no provider has this account: no effect"
