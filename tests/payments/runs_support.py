"""A council ready for payment runs: staff, vetted providers with real connected accounts on the local
Stripe server, and money waiting in their payable accounts. Imported by the test_runs*, test_transfers*
and test_reconcile* files (`from tests.payments.runs_support import *` brings the fixtures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import stripe
from sqlmodel import select

from brokerage import clock
from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger import services as ledger
from brokerage.ledger.models import JournalEntry
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.providers.models import VettingKind
from tests import factories as f


@dataclass
class PayWorld:
    council: object
    other_council: object
    broker: object
    officer: object
    other_officer: object
    providers: list
    other_provider: object  # the other council's, with money waiting too
    provider_users: dict = field(default_factory=dict)

    def balance(self, session, code: str, council=None) -> int:
        council = council or self.council
        return ledger.balance(session=session, actor=system_actor(session=session, council_id=council.id), council_id=council.id, code=code)

    def payable(self, session, index: int) -> int:
        return self.balance(session, ledger_rules.payable_code(self.providers[index].id))

    def paid(self, session, index: int) -> int:
        return self.balance(session, ledger_rules.paid_code(self.providers[index].id))

    def clearing(self, session) -> int:
        return self.balance(session, ledger_rules.CLEARING_CODE)


def vet(session, provider, *, expires_on=None):
    """Give a provider verified DBS and insurance evidence."""
    for kind in (VettingKind.dbs, VettingKind.insurance):
        f.VettingFactory(session=session, council_id=provider.council_id, provider_id=provider.id, kind=kind,
                         expires_on=expires_on or clock.today() + timedelta(days=365))


def fund(session, provider, pence: int, key: str):
    """Put approved care money in a provider's payable account (as an approved timesheet would)."""
    actor = system_actor(session=session, council_id=provider.council_id)
    return ledger.post_entry(
        session=session, actor=actor, council_id=provider.council_id, kind="care_cost",
        postings=[(ledger_rules.funding_code(provider.council_id), -pence), (ledger_rules.payable_code(provider.id), pence)],
        idempotency_key=key, memo="Care approved (test)",
    )


def connected_account(sdk, server, name: str) -> str:
    """Make an express account on the local Stripe server and finish its onboarding; return its id."""
    account = sdk.v1.accounts.create(params={"type": "express", "country": "GB"}, options={"idempotency_key": f"acct:{name}"})
    server.complete_onboarding(account.id)
    return account.id


def make_world(session, sdk=None, server=None) -> PayWorld:
    """Two councils; the first with a broker, two officers and three paid-ready providers (1000p, 2500p, 700p waiting)."""
    council = f.CouncilFactory(session=session)
    other = f.CouncilFactory(session=session)
    broker = f.UserFactory(session=session, council_id=council.id, role=Role.broker)
    officer = f.UserFactory(session=session, council_id=council.id, role=Role.council_officer, name="Olive Officer")
    other_officer = f.UserFactory(session=session, council_id=council.id, role=Role.council_officer, name="Oscar Officer")
    providers = []
    for index, (name, amount) in enumerate((("Alder Care Co-op", 1000), ("Birch Home Help", 2500), ("Cedar PA", 700))):
        provider = f.ProviderFactory(session=session, council_id=council.id, name=name)
        provider.stripe_account_id = connected_account(sdk, server, f"{council.id}-{index}") if sdk else f"acct_test_{council.id}_{index}"
        provider.payouts_enabled = True
        vet(session, provider)
        fund(session, provider, amount, key=f"care:test:{provider.id}")
        providers.append(provider)
    other_provider = f.ProviderFactory(session=session, council_id=other.id, name="Elsewhere Care")
    other_provider.stripe_account_id, other_provider.payouts_enabled = "acct_elsewhere", True
    vet(session, other_provider)
    fund(session, other_provider, 900, key="care:test:elsewhere")
    session.flush()
    world = PayWorld(council, other, broker, officer, other_officer, providers, other_provider)
    for provider in providers:
        world.provider_users[provider.id] = f.UserFactory(session=session, council_id=council.id, role=Role.provider, provider_id=provider.id)
    session.flush()
    return world


@pytest.fixture()
def fast_retries(monkeypatch):
    """Make the SDK's retries of timeouts and 5xx wait milliseconds, not seconds (same keys, same number of tries)."""
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.001)
    monkeypatch.setattr(stripe._http_client.HTTPClient, "MAX_DELAY", 0.002)


@pytest.fixture()
def pw(session, stripe_sdk, stripe_server, fast_retries):
    """Return a council ready for payment runs, its providers onboarded on the local Stripe server."""
    return make_world(session, stripe_sdk, stripe_server)


def lines_of(session, run_id: int) -> list[PaymentLine]:
    session.expire_all()
    return list(session.exec(select(PaymentLine).where(PaymentLine.run_id == run_id).order_by(PaymentLine.provider_id)))


def run_of(session, run_id: int) -> PaymentRun:
    session.expire_all()
    return session.get(PaymentRun, run_id)


def payout_entries(session, council_id: int) -> list[JournalEntry]:
    return list(session.exec(select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.kind == "payout_sent")))


def transfers_at_stripe(sdk) -> list:
    return list(sdk.v1.transfers.list(params={"limit": 100}).auto_paging_iter())


def as_event(payload: dict) -> stripe.Event:
    """Return a stored event (a dict from the local server) as the stripe.Event a handler is given."""
    return stripe.Event.construct_from(payload, "sk_test_local")


def sign_in(client, user):
    from tests.factories import PASSWORD

    client.post("/sign-out")
    return client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
