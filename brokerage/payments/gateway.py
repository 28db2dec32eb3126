"""The one way the product talks to Stripe: a `StripeClient` built from the app's settings.

`STRIPE_SECRET_KEY` is the platform's secret key. `STRIPE_API_BASE`, when set, points the real SDK at a
Stripe-compatible server (the local one the demo and the tests start on 127.0.0.1); unset, it is Stripe.
"""

from __future__ import annotations

import stripe

from brokerage.errors import ConfigError

# Stripe's own advice: retry network errors and 5xx with the same idempotency key. Our keys name the
# business event (see ledger.kinds), so a retry can never pay twice.
NETWORK_RETRIES = 3


def client(config: dict) -> stripe.StripeClient:
    """Return a StripeClient for the app's settings, or raise ConfigError when no key is set."""
    key = config.get("STRIPE_SECRET_KEY")
    if not key:
        raise ConfigError("STRIPE_SECRET_KEY is not set, so nothing can be sent to Stripe.")
    base = config.get("STRIPE_API_BASE")
    addresses = {"api": base, "connect": base, "files": base} if base else None
    return stripe.StripeClient(key, base_addresses=addresses, max_network_retries=NETWORK_RETRIES)
