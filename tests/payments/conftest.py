"""Fixtures of the payment tests: the two-council world, signed in on an app that talks to the local Stripe server."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.payments.models import StripeEvent
from tests.conftest import Auth


@pytest.fixture()
def pay(stripe_client, world, session):
    """Return a helper bound to the Stripe-configured client: sign in as a role of council a or b."""

    class Pay:
        client = stripe_client
        auth = Auth(stripe_client)

        def sign_in(self, role: Role, council: str = "a"):
            assert self.auth.sign_in(world.users[council][role].email).status_code == 302
            return self.client

    return Pay()


def stored(session, event_id: str) -> StripeEvent | None:
    """Return the stored row of an event, as committed now."""
    session.expire_all()
    return session.exec(select(StripeEvent).where(StripeEvent.event_id == event_id)).first()
