"""A council with a group of three members, a provider under contract to them, and money in their pool shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import AllocationRule
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.services import post_entry
from tests import factories as f
from tests.races import councils_cleaned_up

# The week of Monday 30 November 2026; "now" is the Wednesday after it.
WEEK = "2026-W49"
MONDAY = date(2026, 11, 30)
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(name="factory")
def factory_at_now(engine, freeze_clock):
    """Return a committing session factory with the clock at NOW, and delete every council the test made afterwards.

    A race test module imports this (`from tests.timesheets.helpers import factory_at_now`) and asks for `factory`.
    """
    freeze_clock(NOW)
    yield from councils_cleaned_up(engine)


@dataclass
class Care:
    council: object
    cluster: object
    holders: list  # Amina Hassan, Bob Jones, Chen Li
    users: list  # their holder accounts
    provider: object
    provider_user: object
    other_provider_user: object
    broker: object
    officer: object
    outsider: object  # a holder of the same council in no group
    contract: object


def make_care(session, *, council=None, rule=AllocationRule.by_hours, charter=False, fund=(50_000, 50_000, 50_000), hours=10,
              rate=2150, end=None, pledges=(3000, 2000, 1000)) -> Care:
    """Add the council, group, provider and contract; put `fund` pence into each member's pool share."""
    council = council or f.CouncilFactory(session=session)
    names = ["Amina Hassan", "Bob Jones", "Chen Li"]
    holders = [f.HolderFactory(session=session, council_id=council.id, name=n) for n in names]
    users = [f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=h.id) for h in holders]
    cluster = f.ClusterFactory(session=session, council_id=council.id, name="Riverside neighbours")
    for holder, pledge in zip(holders, pledges):
        f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id, weekly_pledge_pence=pledge)
    provider = f.ProviderFactory(session=session, council_id=council.id, name="Bridge Care Co-op", ethical_care_charter=charter)
    other_provider = f.ProviderFactory(session=session, council_id=council.id, name="Other Care")
    provider_user = f.UserFactory(session=session, role=Role.provider, council_id=council.id, provider_id=provider.id)
    other_provider_user = f.UserFactory(session=session, role=Role.provider, council_id=council.id, provider_id=other_provider.id)
    broker = f.UserFactory(session=session, role=Role.broker, council_id=council.id)
    officer = f.UserFactory(session=session, role=Role.council_officer, council_id=council.id)
    lone = f.HolderFactory(session=session, council_id=council.id, name="Dee Lone")
    outsider = f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=lone.id)
    contract = Contract(council_id=council.id, provider_id=provider.id, cluster_id=cluster.id, service="home_care",
                        member_shares={str(h.id): 1 for h in holders}, hours_per_week=hours, rate_pence=rate, start_date=MONDAY,
                        end_date=end, allocation_rule=rule, min_visit_minutes=60)
    session.add(contract)
    session.flush()
    job = system_actor(session=session, council_id=council.id)
    for holder, amount in zip(holders, fund):
        if amount:
            post_entry(session=session, actor=job, council_id=council.id, kind="adjustment", memo="Pool share for the test",
                       postings=[(ledger_rules.funding_code(council.id), -amount), (ledger_rules.pool_code(cluster.id, holder.id), amount)],
                       idempotency_key=f"test-fund:{cluster.id}:{holder.id}")
    return Care(council, cluster, holders, users, provider, provider_user, other_provider_user, broker, officer, outsider, contract)


def visit(holder, day_offset=0, start=time(9, 0), minutes=60, travel=0) -> dict:
    """Return a visit's arguments for the services."""
    return {"holder_id": holder.id, "visit_date": date.fromordinal(MONDAY.toordinal() + day_offset), "start": start,
            "minutes": minutes, "travel_minutes": travel}


def care_entries(session, council_id: int) -> list:
    """Return the council's care_cost entries."""
    return list(session.exec(select(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.kind == "care_cost")))
