"""Two brokers giving two proposed parts the same provider's last hours at once: one gets them, the other is told (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.errors import ValidationFailed
from brokerage.matching import parts
from brokerage.matching.models import DemandLine, MatchAssignment, MatchRun
from brokerage.matching.rules import AssignmentStatus
from tests import factories as f
from tests.races import council_factory, new_council, pause_after_select, race  # noqa: F401

pytestmark = pytest.mark.postgres_only


def _two_parts_with_one_provider(factory):
    """Return (broker ids, part ids): two groups' Monday morning care, 1 hour each from a provider with 4 hours then."""
    with factory() as session:
        council = new_council(session)
        session.flush()
        factory.councils.append(council.id)
        brokers = [f.UserFactory(session=session, council_id=council.id) for _ in range(2)]
        provider = f.ProviderFactory(session=session, council_id=council.id, slots=["mon_am"], slot_hours={"mon_am": 4}, capacity_hours=None)
        run = MatchRun(council_id=council.id, lines=2, suppliers=1, demanded_hours=6, covered_hours=2)
        session.add(run)
        session.flush()
        made = []
        for _ in range(2):
            cluster = f.ClusterFactory(session=session, council_id=council.id)
            session.flush()
            line = DemandLine(council_id=council.id, cluster_id=cluster.id, service="home_care", hours=3, slot_hours={"mon_am": 3},
                              slots=["mon_am"], lat=51.5, lon=-0.05, max_rate_pence=2500)
            session.add(line)
            session.flush()
            part = MatchAssignment(council_id=council.id, run_id=run.id, demand_line_id=line.id, cluster_id=cluster.id, provider_id=provider.id,
                                   hours=1, solver_hours=1, rate_pence=2200, distance_km=1.0, explanation="Monday morning (1 hour). Near.",
                                   slot_hours={"mon_am": 1}, status=AssignmentStatus.proposed)
            session.add(part)
            made.append(part)
        session.commit()
        return [b.id for b in brokers], [p.id for p in made]


@pytest.mark.parametrize("how", ["times", "hours"])
def test_two_brokers_raising_two_parts_into_a_providers_last_hours_at_once_do_not_both_get_them(factory, how):
    broker_ids, part_ids = _two_parts_with_one_provider(factory)

    def raise_part(index):
        def job(session):
            from brokerage.accounts.models import User

            # Each waits after reading the run's other parts: without the run's lock, both read 1 hour there and both give 3.
            pause_after_select(session, MatchAssignment.__table__, "run_id", 0.5)
            broker = session.get(User, broker_ids[index])
            if how == "times":
                return parts.change_times(session=session, actor=broker, assignment_id=part_ids[index], slot_hours={"mon_am": 3}).hours
            return parts.adjust(session=session, actor=broker, assignment_id=part_ids[index], hours=3).hours
        return job

    results = race(factory, [raise_part(0), raise_part(1)])
    assert sorted(type(r).__name__ for r in results) == ["ValidationFailed", "int"], results
    refused = next(r for r in results if isinstance(r, ValidationFailed))
    said = {"times": "Monday morning: enter no more than 1, what the group still needs then and Provider",
            "hours": "Only 1 hour a week fit at times the group asked for and Provider"}[how]
    assert said in str(refused.errors), refused.errors
    with factory() as session:
        given = session.exec(select(MatchAssignment).where(MatchAssignment.id.in_(part_ids))).all()
        assert sorted(p.slot_hours["mon_am"] for p in given) == [1, 3]  # 4 hours at most, never 6
