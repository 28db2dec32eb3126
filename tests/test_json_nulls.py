"""Nullable JSON columns keep "nothing" as SQL NULL, not the JSON text `null`; migration 0040 turns old `null`s into NULL (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

import brokerage.models  # noqa: F401  (every table on the metadata)
from brokerage.clusters.models import Proposal
from brokerage.clusters.rules import ProposalKind
from brokerage.contracts.models import Contract
from brokerage.matching.models import DemandLine, MatchAssignment, MatchGap, MatchRun
from brokerage.migrate import upgrade
from brokerage.timesheets.models import Timesheet
from brokerage.types import utcnow
from tests import factories as f
from tests.migration_support import migrated

NULLABLE_JSON = {("contract", "slot_hours"), ("match_assignment", "slot_hours"), ("match_assignment", "solver_slot_hours"), ("match_gap", "slot_hours"),
                 ("timesheet", "parts")}
# Those there were before migration 0040 (its test writes its rows at 0039).
BEFORE_0040 = NULLABLE_JSON - {("match_assignment", "solver_slot_hours")}


def _nullable_json_columns():
    return [(table.name, column) for table in SQLModel.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, sa.JSON) and column.nullable]


def test_every_nullable_json_column_stores_none_as_sql_null():
    columns = _nullable_json_columns()
    assert {(table, column.name) for table, column in columns} == NULLABLE_JSON  # a new one is checked here too
    assert [(table, column.name) for table, column in columns if not column.type.none_as_null] == []


# Columns added after 0039 (by 0045, 0046 and 0047), left out of the rows the 0040 test writes at 0039.
LATER_COLUMNS = {"provider": {"charter_since", "charter_until", "charter_confirmed_on", "charter_confirmed_by_id", "charter_earlier"},
                 "timesheet": {"travel_from", "travel_until", "travel_pence", "travel_awaiting", "travel_earlier"}}


def _insert(session: Session, obj):
    """Insert a model's row with only the columns it had at 0039 (a later one keeps its default, NULL), and give it its id."""
    table = type(obj).__table__
    values = {c.name: getattr(obj, c.name) for c in table.columns
              if c.name not in LATER_COLUMNS.get(table.name, set()) and getattr(obj, c.name) is not None}
    obj.id = session.execute(sa.insert(table).values(values)).inserted_primary_key[0]
    return obj


def _rows(session: Session) -> dict[str, object]:
    """Make one row of each table with a nullable JSON column, each holding None there."""
    council = f.CouncilFactory(session=session)
    cluster = f.ClusterFactory(session=session, council_id=council.id)
    provider = _insert(session, f.ProviderFactory.build(council_id=council.id))
    line = DemandLine(council_id=council.id, cluster_id=cluster.id, service="home_care", hours=6, slots=["mon_am"], slot_hours={"mon_am": 6},
                      lat=51.5, lon=-0.05, max_rate_pence=2500)
    run = MatchRun(council_id=council.id)
    session.add_all([line, run])
    session.flush()
    proposal = Proposal(council_id=council.id, cluster_id=cluster.id, kind=ProposalKind.accept_match, title="Care", deadline=utcnow() + timedelta(days=7))
    session.add(proposal)
    session.flush()
    contract = Contract(council_id=council.id, provider_id=provider.id, cluster_id=cluster.id, demand_line_id=line.id, proposal_id=proposal.id,
                        service="home_care", hours_per_week=6, rate_pence=2000, start_date=date(2026, 11, 2), member_shares={"1": 1})
    session.add(contract)
    session.flush()
    # Only the columns a part had at 0039 (a later one is left to its default, NULL), so the 0040 test can write it too.
    assignment = session.execute(sa.insert(MatchAssignment.__table__).values(
        council_id=council.id, run_id=run.id, demand_line_id=line.id, cluster_id=cluster.id, provider_id=provider.id, hours=6, solver_hours=6,
        rate_pence=2000, distance_km=1.0, slot_hours=None, explanation="", status="proposed")).inserted_primary_key[0]
    rows = {
        "contract": contract,
        "match_assignment": SimpleNamespace(id=assignment),
        "match_gap": MatchGap(council_id=council.id, run_id=run.id, demand_line_id=line.id, hours=6, slot_hours=None, reason="Nobody near"),
    }
    session.add_all(row for row in rows.values() if not isinstance(row, SimpleNamespace))
    session.flush()
    rows["timesheet"] = _insert(session, Timesheet(council_id=council.id, contract_id=contract.id, provider_id=provider.id, cluster_id=cluster.id,
                                                   week="2026-W46"))
    session.flush()
    return rows


def _count(connection, table: str, column: str, where: str) -> int:
    return connection.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where.format(column=column)}")).scalar_one()


def test_a_none_is_found_by_is_null(session):
    _rows(session)
    connection = session.connection()
    for table, column in sorted(NULLABLE_JSON):
        assert _count(connection, table, column, "{column} IS NULL") == 1, table
        assert _count(connection, table, column, "CAST({column} AS TEXT) = 'null'") == 0, table


def test_migration_0040_turns_stored_json_nulls_into_sql_null(scratch_url):
    url = scratch_url
    with migrated(url, "0039") as (engine, sessions):
        with sessions() as session:
            rows = _rows(session)
            # As the code before 0040 wrote them: None as the JSON text null (plain JSON, not none_as_null).
            for table, column in sorted(BEFORE_0040 - {("contract", "slot_hours")}):
                old = sa.table(table, sa.column("id"), sa.column(column, sa.JSON))
                session.execute(old.update().where(old.c.id == rows[table].id).values({column: None}))
            kept = sa.table("match_gap", sa.column("id"), sa.column("slot_hours", sa.JSON))
            other = MatchGap(council_id=rows["match_gap"].council_id, run_id=rows["match_gap"].run_id, demand_line_id=rows["match_gap"].demand_line_id,
                             hours=2, slot_hours={"tue_pm": 2}, reason="Nobody free")
            session.add(other)
            session.commit()
            other_id = other.id
        with engine.connect() as connection:
            for table, column in sorted(BEFORE_0040 - {("contract", "slot_hours")}):
                assert _count(connection, table, column, "CAST({column} AS TEXT) = 'null'") == 1, table  # the old way is really there
        upgrade("head", url=url)
        with engine.connect() as connection:
            for table, column in sorted(NULLABLE_JSON):
                assert _count(connection, table, column, "CAST({column} AS TEXT) = 'null'") == 0, table
                assert _count(connection, table, column, "{column} IS NULL") == 1, table
            assert connection.execute(sa.select(kept.c.slot_hours).where(kept.c.id == other_id)).scalar_one() == {"tue_pm": 2}
