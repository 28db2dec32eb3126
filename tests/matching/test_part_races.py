"""Two brokers giving two proposed parts the same provider's last hours at once: one gets them, the other is told (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.errors import ValidationFailed
from brokerage.matching import parts
from brokerage.matching.models import DemandLine, MatchAssignment, MatchRun
from brokerage.matching.rules import AssignmentStatus
from tests import factories as f
from tests.races import council_factory, council_with_broker, new_council, pause_after_select, race  # noqa: F401

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
            "hours": "This part can have at most 1 hour a week: that is all that fits at times the group asked for and Provider"}[how]
    assert said in str(refused.errors), refused.errors
    with factory() as session:
        given = session.exec(select(MatchAssignment).where(MatchAssignment.id.in_(part_ids))).all()
        assert sorted(p.slot_hours["mon_am"] for p in given) == [1, 3]  # 4 hours at most, never 6


def _a_part_and_a_change_wanting_thursday_mornings(factory):
    """Return (broker id, run id, part id, proposal id): a provider with 8 hours on Thursday morning; one group's part of a run
    and another group's contract change each want 6 of them."""
    from datetime import date, timedelta

    from brokerage.clusters.models import Proposal
    from brokerage.clusters.rules import ProposalKind
    from brokerage.contracts.models import Contract
    from brokerage.types import utcnow

    with factory() as session:
        council, broker = council_with_broker(session, factory)
        provider = f.ProviderFactory(session=session, council_id=council.id, slots=["mon_am", "thu_am"], slot_hours={"mon_am": 12, "thu_am": 8},
                                     capacity_hours=None)
        changing, matched = f.ClusterFactory(session=session, council_id=council.id), f.ClusterFactory(session=session, council_id=council.id)
        session.flush()
        contract = Contract(council_id=council.id, provider_id=provider.id, cluster_id=changing.id, service="home_care", hours_per_week=6,
                            rate_pence=2_200, start_date=date(2026, 11, 2), member_shares={"1": 1}, slot_hours={"mon_am": 6})
        run = MatchRun(council_id=council.id, lines=1, suppliers=1, demanded_hours=6, covered_hours=6)
        session.add_all([contract, run])
        session.flush()
        change = Proposal(council_id=council.id, cluster_id=changing.id, kind=ProposalKind.change_contract, title="Change the times",
                          deadline=utcnow() + timedelta(days=7),
                          payload={"contract_id": contract.id, "changes": {"slot_hours": {"thu_am": 6}}, "was": {"slot_hours": {"mon_am": 6}}})
        line = DemandLine(council_id=council.id, cluster_id=matched.id, service="home_care", hours=6, slot_hours={"thu_am": 6},
                          slots=["thu_am"], lat=51.5, lon=-0.05, max_rate_pence=2500)
        session.add_all([change, line])
        session.flush()
        part = MatchAssignment(council_id=council.id, run_id=run.id, demand_line_id=line.id, cluster_id=matched.id, provider_id=provider.id,
                               hours=6, solver_hours=6, rate_pence=2200, distance_km=1.0, explanation="Thursday morning (6 hours). Near.",
                               slot_hours={"thu_am": 6}, status=AssignmentStatus.proposed)
        session.add(part)
        session.commit()
        return broker.id, run.id, part.id, change.id


@pytest.mark.parametrize("first", ["send", "change"])
def test_sending_a_run_while_a_contract_change_passes_never_gives_a_provider_more_hours_than_it_has(factory, first):
    import time

    from brokerage.accounts.models import User
    from brokerage.clusters.models import Proposal
    from brokerage.contracts import changes
    from brokerage.contracts.models import Contract
    from brokerage.errors import BrokerageError
    from brokerage.matching import services

    broker_id, run_id, part_id, change_id = _a_part_and_a_change_wanting_thursday_mornings(factory)

    def send(session):
        if first == "change":
            time.sleep(0.2)  # the change takes the providers' hours first
        # Waits after reading the council's care: without the providers' lock, the change finds 8 hours free too.
        pause_after_select(session, Contract.__table__, "council_id", 0.5)
        return len(services.send_to_clusters(session=session, actor=session.get(User, broker_id), run_id=run_id).proposals)

    def change(session):
        if first == "send":
            time.sleep(0.2)
        pause_after_select(session, Contract.__table__, "provider_id", 0.5)
        return changes.apply_change(session=session, proposal=session.get(Proposal, change_id), actor=session.get(User, broker_id))

    sent, changed = race(factory, [send, change])
    with factory() as session:
        part = session.get(MatchAssignment, part_id)
        contract = session.get(Contract, int(session.get(Proposal, change_id).payload["contract_id"]))
        given = contract.slot_hours.get("thu_am", 0) + (part.slot_hours["thu_am"] if part.status == AssignmentStatus.sent else 0)
    assert given <= 8, (sent, changed)  # 8 hours at most, never 12
    # The first went through; the second found the hours taken (the part held back, or the change refused).
    if first == "send":
        assert sent == 1 and isinstance(changed, BrokerageError), (sent, changed)
        assert "does not have these hours free beside its other care: it has 2 hours on Thursday morning" in changed.message
        assert part.status == AssignmentStatus.sent
    else:
        assert (sent, changed) == (0, "The change to the care is made."), (sent, changed)
        assert part.status == AssignmentStatus.proposed
