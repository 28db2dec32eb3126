"""Payouts from providers' connected accounts to their banks (`payout.paid`, `payout.failed`).

These move the provider's own money, from their Stripe balance to their bank: our ledger already
counted it as the provider's when the transfer reached their account (payment runs post that), so a
payout is recorded for the provider's page and for staff, with no ledger entry. A failed payout is
between the provider, their bank and Stripe; the money stays in the provider's Stripe balance.
"""

from __future__ import annotations

import stripe
from sqlmodel import Session, select

from brokerage.access import STAFF, get_or_404
from brokerage.accounts.models import Role, User
from brokerage.errors import NotAllowed, NotFound
from brokerage.locks import lock_row
from brokerage.payments.models import ConnectedPayout
from brokerage.payments.onboarding import account_of
from brokerage.payments.rules import PAYOUT_MOVES, PayoutStatus, move_payout
from brokerage.providers.models import Provider
from brokerage.types import utcnow


def on_payout(*, session: Session, event: stripe.Event) -> str:
    """Record a connected account's payout as paid or failed; a paid payout may fail later, never the reverse."""
    raw = event.to_dict()
    account = raw.get("account")
    if not account:
        return "a payout of the platform's own balance: no effect"
    provider = account_of(session=session, account_id=account)
    if provider is None:
        return "no provider has this account: no effect"
    payout = raw["data"]["object"]
    target = PayoutStatus.paid if event.type == "payout.paid" else PayoutStatus.failed
    found = session.exec(select(ConnectedPayout.id).where(ConnectedPayout.payout_id == payout["id"])).first()
    if found is None:
        row = ConnectedPayout(council_id=provider.council_id, provider_id=provider.id, payout_id=payout["id"], amount_pence=int(payout["amount"]),
                              currency=str(payout["currency"]), status=target, arrival_date=payout.get("arrival_date"),
                              failure_message=(payout.get("failure_message") or "")[:500], event_ids=[event.id])
        session.add(row)
        session.flush()
        return f"provider {provider.id}: payout {payout['id']} {target.value}"
    row = lock_row(session, ConnectedPayout, found)
    if row.status == target or target.value not in PAYOUT_MOVES[row.status.value]:
        return f"payout {payout['id']} is already {row.status.value}: no effect"
    row.status = move_payout(row.status, target)
    row.failure_message = (payout.get("failure_message") or "")[:500]
    row.event_ids = [*row.event_ids, event.id]
    row.updated_at = utcnow()
    return f"provider {provider.id}: payout {payout['id']} {target.value}"


def payouts_of(*, session: Session, actor: User, provider_id: int) -> list[ConnectedPayout]:
    """Return a provider's bank payouts, newest first, for the provider or council staff."""
    provider = get_or_404(session, actor, Provider, provider_id, what="provider")
    if actor.role == Role.provider and actor.provider_id != provider.id:
        raise NotFound()
    if actor.role != Role.provider and actor.role not in STAFF:
        raise NotAllowed("Only the provider or council staff can see its payouts.")
    return list(session.exec(select(ConnectedPayout).where(ConnectedPayout.provider_id == provider.id)
                             .order_by(ConnectedPayout.updated_at.desc(), ConnectedPayout.id.desc())))
