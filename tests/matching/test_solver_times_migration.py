"""Migration 0042: a proposed part keeps the solver's times, filled in for parts no broker has changed; and back (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select

from brokerage.matching.models import MatchAssignment
from brokerage.migrate import alembic_config, upgrade
from tests import factories as f
from tests.migration_support import TIMES, a_timed_line, migrated


def test_parts_no_broker_changed_get_their_times_as_the_solvers_and_changed_ones_get_none(scratch_url):
    url = scratch_url
    with migrated(url, "head") as (engine, sessions):
        with sessions() as session:
            council, cluster, (provider,), line, run = a_timed_line(session)
            broker = f.UserFactory(session=session, council_id=council.id)

            def part(hours, times, edited_by_id=None):
                return MatchAssignment(council_id=council.id, run_id=run.id, demand_line_id=line.id, cluster_id=cluster.id, provider_id=provider.id,
                                       hours=hours, solver_hours=6, rate_pence=2000, distance_km=1.0, slot_hours=times, explanation="",
                                       edited_by_id=edited_by_id)

            # As the solver left it; lowered by a broker; changed and put back by a broker; from a run made before times.
            made = [part(6, TIMES), part(4, {"tue_am": 2, "thu_am": 2}, broker.id), part(6, {"tue_am": 2, "thu_am": 2, "sat_pm": 2}, broker.id),
                    part(6, None)]
            session.add_all(made)
            session.commit()
            ids = [a.id for a in made]
        command.downgrade(alembic_config(url), "0041")
        with engine.connect() as connection:
            assert "solver_slot_hours" not in {c["name"] for c in inspect(connection).get_columns("match_assignment")}
        upgrade("head", url=url)
        with engine.connect() as connection:
            times = dict(connection.execute(select(MatchAssignment.id, MatchAssignment.solver_slot_hours).where(MatchAssignment.id.in_(ids))).all())
        assert [times[i] for i in ids] == [TIMES, None, None, None]
