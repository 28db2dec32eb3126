"""Stripe in tests: one local Stripe server per run (brokerage.payments.local_stripe), apps pointed at it,
and webhook deliveries signed the way Stripe signs them.

Fixtures (loaded by tests/conftest.py through `pytest_plugins`):
- `stripe_server`: the run's server (a LocalStripe handle: url, flush(), complete_onboarding(),
  fail_next_transfer(), pay(), payout(), events()), flushed before each test that uses it.
- `stripe_app`, `stripe_client`: an app (and its test client) like `app`, configured with
  STRIPE_SECRET_KEY="sk_test_local", STRIPE_API_BASE=<server url>, STRIPE_WEBHOOK_SECRET="whsec_test".
- `stripe_sdk`: a StripeClient on the server, as the app builds it (brokerage.payments.gateway.client).
Helpers: `signature_header(payload, ...)` and `deliver(client, event, ...)` post an event to /stripe/webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from brokerage.payments import gateway

SECRET_KEY = "sk_test_local"
WEBHOOK_SECRET = "whsec_test"
WEBHOOK_PATH = "/stripe/webhook"


def stripe_config(url: str) -> dict:
    """Return the app settings that point the real SDK at the local server."""
    return {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": url, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture(scope="session")
def _stripe_server_for_run():
    """Start the local Stripe server once per test run (127.0.0.1, a free port)."""
    # localstripe is a dev dependency: the server module is imported only where a test needs it.
    from brokerage.payments import local_stripe

    server = local_stripe.start()
    yield server
    server.stop()


@pytest.fixture()
def stripe_server(_stripe_server_for_run):
    """Return the run's local Stripe server, emptied for this test."""
    _stripe_server_for_run.flush()
    return _stripe_server_for_run


@pytest.fixture()
def stripe_app(db_url, connection, stripe_server):
    """Return an app like `app`, talking to the local Stripe server, with the test webhook secret."""
    # conftest's helper is shared by every app fixture; imported here so conftest can load this plugin first.
    from tests.conftest import app_in_transaction

    return app_in_transaction(db_url, connection, **stripe_config(stripe_server.url))


@pytest.fixture()
def stripe_client(stripe_app):
    """Return a test client of `stripe_app`."""
    return stripe_app.test_client()


@pytest.fixture()
def stripe_sdk(stripe_server):
    """Return a StripeClient on the local server, built the way the app builds it."""
    return gateway.client(stripe_config(stripe_server.url))


def signature_header(payload: bytes | str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Return a Stripe-Signature header for `payload`: t=<time>,v1=HMAC-SHA256(secret, f"{t}.{payload}")."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def payload_of(event: dict) -> bytes:
    """Return an event's JSON body as Stripe sends it."""
    return json.dumps(event, indent=2, sort_keys=True).encode("utf-8")


def deliver(client, event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, header: str | None = None):
    """POST `event` to the app's webhook, signed like Stripe (or with `header` as given); return the response."""
    payload = payload_of(event)
    signature = header if header is not None else signature_header(payload, secret=secret, timestamp=timestamp)
    return client.post(WEBHOOK_PATH, data=payload, headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
