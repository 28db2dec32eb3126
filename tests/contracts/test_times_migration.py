"""Migration 0039: a contract keeps the times agreed at its match, filled in from the accepted assignment; and back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

from alembic import command
from sqlalchemy import inspect, select

from brokerage.clusters.models import Proposal
from brokerage.clusters.rules import ProposalKind
from brokerage.contracts.models import Contract
from brokerage.matching.models import MatchAssignment
from brokerage.migrate import alembic_config, upgrade
from brokerage.types import utcnow
from tests.migration_support import TIMES, a_timed_line, migrated


def test_existing_contracts_get_the_times_of_the_assignment_their_vote_accepted_and_lose_them_going_back(scratch_url):
    url = scratch_url
    with migrated(url, "head") as (engine, sessions):
        with sessions() as session:
            council, cluster, (provider, other), line, run = a_timed_line(session, providers=2)
            proposal = Proposal(council_id=council.id, cluster_id=cluster.id, kind=ProposalKind.accept_match, title="Care",
                                deadline=utcnow() + timedelta(days=7))
            session.add(proposal)
            session.flush()

            def part(provider_id, status, times):
                return MatchAssignment(council_id=council.id, run_id=run.id, demand_line_id=line.id, cluster_id=cluster.id, provider_id=provider_id,
                                       hours=6, solver_hours=6, rate_pence=2000, distance_km=1.0, slot_hours=times, explanation="",
                                       status=status, proposal_id=proposal.id)

            session.add_all([part(provider.id, "accepted", TIMES), part(other.id, "accepted", None), part(other.id, "rejected", {"mon_am": 6})])

            def contract(provider_id, proposal_id):
                return Contract(council_id=council.id, provider_id=provider_id, cluster_id=cluster.id, demand_line_id=line.id, proposal_id=proposal_id,
                                service="home_care", hours_per_week=6, rate_pence=2000, start_date=date(2026, 11, 2), member_shares={"1": 1})

            # From the match with times; from a match made before times (its assignment has none); made with no vote behind it.
            made = [contract(provider.id, proposal.id), contract(other.id, proposal.id), contract(provider.id, None)]
            session.add_all(made)
            session.commit()
            ids = [c.id for c in made]
        command.downgrade(alembic_config(url), "0038")
        with engine.connect() as connection:
            assert "slot_hours" not in {c["name"] for c in inspect(connection).get_columns("contract")}
        upgrade("head", url=url)
        with engine.connect() as connection:
            times = dict(connection.execute(select(Contract.id, Contract.slot_hours).where(Contract.id.in_(ids))).all())
        assert [times[i] for i in ids] == [TIMES, None, None]
