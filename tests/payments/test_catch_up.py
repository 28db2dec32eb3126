"""Missed webhooks: events fetched from Stripe's API are stored once and have their effect once."""

from __future__ import annotations

from brokerage.accounts.models import Role
from brokerage.payments import webhooks
from tests.payments.conftest import stored
from tests.stripe_support import deliver


def test_an_event_that_never_arrived_is_fetched_processed_and_not_fetched_again(pay, world, session, stripe_server, stripe_sdk, stripe_app):
    provider = world.records["a"]["provider"]
    client = pay.sign_in(Role.provider)
    assert client.post(f"/providers/{provider.id}/set-up-payments").status_code == 302
    session.refresh(provider)
    missed = stripe_server.complete_onboarding(provider.stripe_account_id)  # never delivered to /stripe/webhook
    assert stored(session, missed["id"]) is None
    new = webhooks.catch_up(session=session, client=stripe_sdk)
    assert missed["id"] in new
    for event_id in new:
        webhooks.process_event(session=session, event_id=event_id)
    session.refresh(provider)
    assert (provider.payouts_enabled, provider.stripe_status) == (True, "enabled")
    assert webhooks.catch_up(session=session, client=stripe_sdk) == []
    # The webhook delivering it late changes nothing.
    assert deliver(client, missed).status_code == 200
    assert stored(session, missed["id"]).outcome


def test_the_catch_up_command_processes_missed_events_and_refuses_bad_input(pay, world, session, stripe_server, stripe_app):
    provider = world.records["a"]["provider"]
    client = pay.sign_in(Role.provider)
    assert client.post(f"/providers/{provider.id}/set-up-payments").status_code == 302
    session.refresh(provider)
    missed = stripe_server.complete_onboarding(provider.stripe_account_id)
    runner = stripe_app.test_cli_runner()
    result = runner.invoke(args=["payments", "catch-up"])
    assert result.exit_code == 0, result.output
    assert f"{missed['id']}: " in result.output and "stored and processed" in result.output
    session.refresh(provider)
    assert provider.payouts_enabled is True
    again = runner.invoke(args=["payments", "catch-up"])
    assert again.exit_code == 0 and "0 missed events" in again.output
    bad = runner.invoke(args=["payments", "catch-up", "--since", "31/12/2026"])
    assert bad.exit_code == 2
