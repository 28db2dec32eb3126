"""Reading providers, with the access rules applied."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import Session, select

from brokerage.access import same_council
from brokerage.accounts.models import Role, User
from brokerage.errors import NotFound
from brokerage.providers import rules
from brokerage.providers.models import Provider, VettingItem


def get_provider(*, session: Session, actor: User, provider_id: int) -> Provider:
    """Return a provider the actor may see: staff see their council's, a provider user only their own."""
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("There is no such provider.")
    same_council(actor, provider.council_id, what="provider")
    if actor.role in (Role.broker, Role.council_officer, Role.admin):
        return provider
    if actor.role == Role.provider and actor.provider_id == provider.id:
        return provider
    raise NotFound("There is no such provider.")


def vetting_of(*, session: Session, actor: User, provider: Provider) -> list[VettingItem]:
    """Return a provider's vetting evidence."""
    same_council(actor, provider.council_id, what="provider")
    return list(session.exec(select(VettingItem).where(VettingItem.provider_id == provider.id).order_by(VettingItem.kind)))


def list_providers(*, session: Session, actor: User) -> list[Provider]:
    """Return the providers of the actor's council, for staff."""
    if actor.role not in (Role.broker, Role.council_officer):
        raise NotFound("There is no such page.")
    return list(session.exec(select(Provider).where(Provider.council_id == actor.council_id).order_by(Provider.name)))


def vetting_summary(*, session: Session, council_id: int, today: date) -> dict[int, rules.VettingState]:
    """Return each provider's vetting state in a council."""
    providers = session.exec(select(Provider).where(Provider.council_id == council_id))
    items = session.exec(select(VettingItem).where(VettingItem.council_id == council_id))
    by_provider: dict[int, list[VettingItem]] = {}
    for item in items:
        by_provider.setdefault(item.provider_id, []).append(item)
    return {
        p.id: rules.vetting_state(
            [(i.kind.value, i.expires_on, i.verified_at is not None) for i in by_provider.get(p.id, [])], regulated="personal_care" in p.services, today=today
        )
        for p in providers
    }


def kind_counts(*, session: Session, council_id: int) -> dict[str, int]:
    """Count a council's providers by kind."""
    return dict(Counter(k.value for k in session.exec(select(Provider.kind).where(Provider.council_id == council_id))))
