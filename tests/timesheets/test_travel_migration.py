"""Migration 0045: a sent sheet's travel pay is filled in from its visits at its fixed rate; its charter days stay empty (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, time

from alembic import command
from sqlalchemy import inspect, select

from brokerage.contracts.models import Contract
from brokerage.migrate import alembic_config, upgrade
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.rules import TimesheetStatus
from tests import factories as f
from tests.migration_support import migrated


def test_sent_sheets_get_their_travel_pay_and_drafts_and_unpaid_travel_do_not(scratch_url):
    url = scratch_url
    with migrated(url, "head") as (engine, sessions):
        with sessions() as session:
            council = f.CouncilFactory(session=session)
            cluster = f.ClusterFactory(session=session, council_id=council.id)
            holder = f.HolderFactory(session=session, council_id=council.id)
            provider = f.ProviderFactory(session=session, council_id=council.id)
            contract = Contract(council_id=council.id, provider_id=provider.id, cluster_id=cluster.id, service="home_care", hours_per_week=6,
                                rate_pence=2150, start_date=date(2026, 11, 2), member_shares={str(holder.id): 1})
            session.add(contract)
            session.flush()

            def sheet(week, status, travel_paid, rate):
                made = Timesheet(council_id=council.id, contract_id=contract.id, provider_id=provider.id, cluster_id=cluster.id, week=week,
                                 status=status, travel_paid=travel_paid, rate_pence=rate, submitted_at=None)
                session.add(made)
                session.flush()
                for day, travel in ((2, 45), (3, 20)):
                    session.add(Visit(council_id=council.id, timesheet_id=made.id, holder_id=holder.id, visit_date=date(2026, 11, day),
                                      start_time=time(9), minutes=60, travel_minutes=travel))
                return made

            # Sent with travel paid; sent without; a draft; sent before rates were kept on sheets.
            made = [sheet("2026-W45", TimesheetStatus.submitted, True, 2150), sheet("2026-W46", TimesheetStatus.rejected, False, 2150),
                    sheet("2026-W47", TimesheetStatus.draft, True, None), sheet("2026-W48", TimesheetStatus.submitted, True, None)]
            session.commit()
            ids = [s.id for s in made]
        command.downgrade(alembic_config(url), "0044")
        with engine.connect() as connection:
            assert "travel_pence" not in {c["name"] for c in inspect(connection).get_columns("timesheet")}
            assert "charter_since" not in {c["name"] for c in inspect(connection).get_columns("provider")}
        upgrade("head", url=url)
        with engine.connect() as connection:
            rows = {i: (pence, start) for i, pence, start in connection.execute(
                select(Timesheet.id, Timesheet.travel_pence, Timesheet.travel_from).where(Timesheet.id.in_(ids)))}
        # 65 travel minutes at £21.50 = £23.2916… → £23.29, rounded as rules.pay_for rounds.
        assert [rows[i] for i in ids] == [(2329, None), (0, None), (None, None), (None, None)]
