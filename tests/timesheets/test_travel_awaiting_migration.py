"""Migration 0046: a sheet already sent while the provider's own charter tick waited for a broker is marked so (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from alembic import command
from sqlalchemy import inspect, select

from brokerage.contracts.models import Contract
from brokerage.migrate import alembic_config, upgrade
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import TimesheetStatus
from tests import factories as f
from tests.migration_support import migrated

# Sent on Monday 7 December 2026, late in the evening in London.
SENT = datetime(2026, 12, 7, 23, 0, tzinfo=timezone.utc)


def test_sheets_sent_while_the_tick_waited_are_marked_and_no_other_sheet_is(scratch_url):
    url = scratch_url
    with migrated(url, "head") as (engine, sessions):
        with sessions() as session:
            council = f.CouncilFactory(session=session)
            cluster = f.ClusterFactory(session=session, council_id=council.id)
            holder = f.HolderFactory(session=session, council_id=council.id)

            def provider(**charter):
                return f.ProviderFactory(session=session, council_id=council.id, **charter)

            def sheet(made, status=TimesheetStatus.submitted, travel_paid=False, sent_at=SENT):
                contract = Contract(council_id=council.id, provider_id=made.id, cluster_id=cluster.id, service="home_care", hours_per_week=6,
                                    rate_pence=2150, start_date=date(2026, 11, 2), member_shares={str(holder.id): 1})
                session.add(contract)
                session.flush()
                row = Timesheet(council_id=council.id, contract_id=contract.id, provider_id=made.id, cluster_id=cluster.id, week="2026-W49",
                                status=status, travel_paid=travel_paid, rate_pence=2150, submitted_at=sent_at)
                session.add(row)
                session.flush()
                return row.id

            waiting = provider(ethical_care_charter=True, charter_since=date(2026, 11, 30))
            confirmed_later = provider(ethical_care_charter=True, charter_since=date(2026, 11, 30), charter_confirmed_on=date(2026, 12, 8))
            ticked_later = provider(ethical_care_charter=True, charter_since=date(2026, 12, 8))
            given_up_before = provider(ethical_care_charter=False, charter_since=date(2026, 11, 2), charter_until=date(2026, 11, 20))
            legacy = provider(ethical_care_charter=True)
            never = provider(ethical_care_charter=False)
            marked = [sheet(waiting), sheet(confirmed_later)]
            # A draft and a sheet sent back are priced again when sent; the others had no waiting tick when sent.
            unmarked = [sheet(waiting, status=TimesheetStatus.draft, sent_at=None), sheet(waiting, status=TimesheetStatus.rejected),
                        sheet(ticked_later), sheet(given_up_before),
                        sheet(legacy, travel_paid=True), sheet(never)]
            session.commit()
        command.downgrade(alembic_config(url), "0045")
        with engine.connect() as connection:
            assert "travel_awaiting" not in {c["name"] for c in inspect(connection).get_columns("timesheet")}
        upgrade("head", url=url)
        with engine.connect() as connection:
            rows = dict(connection.execute(select(Timesheet.id, Timesheet.travel_awaiting).where(Timesheet.id.in_(marked + unmarked))).all())
        assert [rows[i] for i in marked] == [True, True]
        assert [rows[i] for i in unmarked] == [False] * len(unmarked)

