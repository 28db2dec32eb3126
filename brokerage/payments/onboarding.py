"""Stripe Connect onboarding: a provider's Express connected account, its onboarding link, and the
`account.updated` events that alone decide whether the provider can be paid."""

from __future__ import annotations

from datetime import datetime, timezone

import stripe
from sqlmodel import Session, select

from brokerage.access import get_or_404
from brokerage.accounts.models import Role, User
from brokerage.errors import BrokerageError, ConfigError, NotAllowed, NotFound
from brokerage.locks import lock_row
from brokerage.payments import gateway
from brokerage.payments.rules import SetupStatus, setup_status
from brokerage.providers.models import Provider


class PaymentsNotSetUp(BrokerageError):
    """This server has no Stripe key, so nothing can be sent to Stripe."""

    status = 409
    title = "Payments are not set up"


class StripeUnavailable(BrokerageError):
    """Stripe refused or could not be reached; nothing was changed."""

    status = 502
    title = "Stripe did not answer"


def account_key(provider_id: int) -> str:
    """Name the one connected account of a provider (the Stripe idempotency key of its creation)."""
    return f"provider:{provider_id}:connected-account"


def stripe_client(config: dict) -> stripe.StripeClient:
    """Return the Stripe client, or raise PaymentsNotSetUp when this server has no Stripe key."""
    try:
        return gateway.client(config)
    except ConfigError:
        raise PaymentsNotSetUp("Payments are not set up on this server yet, so payment details cannot be set up. "
                               "Ask the council's administrator.") from None


def _provider_for(session: Session, actor: User, provider_id: int) -> Provider:
    provider = get_or_404(session, actor, Provider, provider_id, what="provider")
    if actor.role == Role.provider and actor.provider_id != provider.id:
        raise NotFound()
    if actor.role not in (Role.provider, Role.broker):
        raise NotAllowed("Only the provider or a broker can set up payments.")
    return provider


def start_onboarding(*, session: Session, actor: User, provider_id: int, config: dict, return_url: str) -> str:
    """Make the provider's connected account (once) and return a fresh onboarding link's URL.

    Raises PaymentsNotSetUp without a Stripe key, StripeUnavailable when Stripe refuses or is unreachable.
    """
    provider = _provider_for(session, actor, provider_id)
    client = stripe_client(config)
    provider = lock_row(session, Provider, provider.id)
    try:
        if not provider.stripe_account_id:
            account = client.v1.accounts.create(
                params={"type": "express", "country": "GB", "default_currency": "gbp", "capabilities": {"transfers": {"requested": True}},
                        "metadata": {"council": str(provider.council_id), "provider": str(provider.id)}},
                options={"idempotency_key": account_key(provider.id)},
            )
            provider.stripe_account_id = account.id
            if provider.stripe_status == SetupStatus.none.value:
                provider.stripe_status = SetupStatus.details_needed.value
            session.flush()
        link = client.v1.account_links.create(params={
            "account": provider.stripe_account_id, "refresh_url": return_url, "return_url": return_url, "type": "account_onboarding"})
    except stripe.StripeError as error:
        raise StripeUnavailable(f"Stripe could not start the set-up: {error.user_message or 'no answer'}. Nothing was changed; try again.") from None
    return link.url


def on_account_updated(*, session: Session, event: stripe.Event) -> str:
    """Record what Stripe says about a connected account: payouts are enabled only when it says so."""
    account = event.data.object.to_dict()
    provider = session.exec(select(Provider).where(Provider.stripe_account_id == account["id"])).first()
    if provider is None:
        return "no provider has this account: no effect"
    provider = lock_row(session, Provider, provider.id)
    made = datetime.fromtimestamp(event.created, timezone.utc)
    if provider.stripe_event_at is not None and made < provider.stripe_event_at:
        return "older than the status already recorded: no effect"
    status = setup_status(account, provider.stripe_status)
    provider.stripe_status = status.value
    provider.payouts_enabled = bool(account.get("payouts_enabled"))
    provider.stripe_event_at = made
    session.flush()
    return f"provider {provider.id}: {status.value}, payouts {'enabled' if provider.payouts_enabled else 'not enabled'}"


def account_of(*, session: Session, account_id: str) -> Provider | None:
    """Return the provider whose connected account this is, or None."""
    return session.exec(select(Provider).where(Provider.stripe_account_id == account_id)).first()
