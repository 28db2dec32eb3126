"""Migration 0047: providers and sent sheets gain their earlier charter periods, empty, so nobody's travel pay changes (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import inspect, select

from brokerage.contracts.models import Contract
from brokerage.migrate import alembic_config, upgrade
from brokerage.providers.models import Provider
from brokerage.timesheets import pricing
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import TimesheetStatus
from tests import factories as f
from tests.migration_support import migrated


def test_every_row_starts_with_no_earlier_period_and_travel_terms_are_as_before(scratch_url):
    url = scratch_url
    with migrated(url, "head") as (engine, sessions):
        with sessions() as session:
            council = f.CouncilFactory(session=session)
            cluster = f.ClusterFactory(session=session, council_id=council.id)
            charters = [dict(ethical_care_charter=True), dict(ethical_care_charter=False),
                        dict(ethical_care_charter=True, charter_since=date(2026, 11, 2), charter_confirmed_on=date(2026, 11, 3)),
                        dict(ethical_care_charter=False, charter_since=date(2026, 11, 2), charter_until=date(2026, 11, 20),
                             charter_confirmed_on=date(2026, 11, 2)),
                        dict(ethical_care_charter=True, charter_since=date(2026, 11, 30))]
            providers = [f.ProviderFactory(session=session, council_id=council.id, **charter) for charter in charters]
            contract = Contract(council_id=council.id, provider_id=providers[2].id, cluster_id=cluster.id, service="home_care", hours_per_week=6,
                                rate_pence=2150, start_date=date(2026, 11, 2), member_shares={})
            session.add(contract)
            session.flush()
            sheet = Timesheet(council_id=council.id, contract_id=contract.id, provider_id=providers[2].id, cluster_id=cluster.id, week="2026-W49",
                              status=TimesheetStatus.submitted, travel_paid=True, travel_from=date(2026, 11, 3), rate_pence=2150)
            session.add(sheet)
            session.commit()
            before = [pricing.provider_travel(p) for p in providers]
            ids, sheet_id = [p.id for p in providers], sheet.id
        command.downgrade(alembic_config(url), "0046")
        with engine.connect() as connection:
            assert "charter_earlier" not in {c["name"] for c in inspect(connection).get_columns("provider")}
            assert "travel_earlier" not in {c["name"] for c in inspect(connection).get_columns("timesheet")}
        upgrade("head", url=url)
        with sessions() as session:
            after = {p.id: p for p in session.exec(select(Provider).where(Provider.id.in_(ids))).scalars()}
            assert [after[i].charter_earlier for i in ids] == [[]] * len(ids)
            assert [pricing.provider_travel(after[i]) for i in ids] == before
            sent = session.get(Timesheet, sheet_id)
            assert sent.travel_earlier == [] and pricing.sheet_travel(sent).from_day == date(2026, 11, 3)
