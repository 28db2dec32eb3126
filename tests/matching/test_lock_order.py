"""Sending a run beside decisions that give several providers' hours in another order never deadlocks (PostgreSQL).

Send covers several providers, and so does a batch of decisions; each locked its providers' rows in its own order
(send by id, the batch in proposal order, a match passing by inserting a contract for each part), so two of them
could each hold a provider the other waited for. The council's providers' hours are one lock now
(`brokerage.locks.lock_provider_hours`).
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from brokerage.accounts.models import User
from brokerage.clusters.models import Cluster, Proposal
from brokerage.clusters.rules import ProposalKind
from brokerage.contracts import changes
from brokerage.contracts.models import Contract
from brokerage.locks import lock_rows
from brokerage.matching import services
from brokerage.matching.models import DemandLine, MatchAssignment, MatchRun
from brokerage.matching.rules import AssignmentStatus
from brokerage.types import utcnow
from tests import factories as f
from tests.races import council_factory, new_council, race  # noqa: F401

pytestmark = pytest.mark.postgres_only


def _a_run_with_parts_from_two_providers(factory, *, changes_the_other_way: bool):
    """Return (broker id, run id, provider ids, change proposal ids): a run's group gets an hour from each of two
    providers; with `changes_the_other_way`, two other groups' contract changes give the second provider's hours, then the first's."""
    with factory() as session:
        council = new_council(session)
        session.flush()
        factory.councils.append(council.id)
        broker = f.UserFactory(session=session, council_id=council.id)
        providers = [f.ProviderFactory(session=session, council_id=council.id, slots=["mon_am", "thu_am"],
                                       slot_hours={"mon_am": 12, "thu_am": 12}, capacity_hours=None) for _ in range(2)]
        matched = f.ClusterFactory(session=session, council_id=council.id)
        session.flush()
        proposal_ids = []
        if changes_the_other_way:
            for provider in reversed(providers):
                cluster = f.ClusterFactory(session=session, council_id=council.id)
                session.flush()
                contract = Contract(council_id=council.id, provider_id=provider.id, cluster_id=cluster.id, service="home_care", hours_per_week=2,
                                    rate_pence=2_200, start_date=date(2026, 11, 2), member_shares={"1": 1}, slot_hours={"mon_am": 2})
                session.add(contract)
                session.flush()
                proposal = Proposal(council_id=council.id, cluster_id=cluster.id, kind=ProposalKind.change_contract, title="Change the times",
                                    deadline=utcnow() + timedelta(days=7),
                                    payload={"contract_id": contract.id, "changes": {"slot_hours": {"thu_am": 2}}, "was": {"slot_hours": {"mon_am": 2}}})
                session.add(proposal)
                session.flush()
                proposal_ids.append(proposal.id)
        run = MatchRun(council_id=council.id, lines=1, suppliers=2, demanded_hours=2, covered_hours=2)
        line = DemandLine(council_id=council.id, cluster_id=matched.id, service="home_care", hours=2, slot_hours={"thu_am": 2},
                          slots=["thu_am"], lat=51.5, lon=-0.05, max_rate_pence=2500)
        session.add_all([run, line])
        session.flush()
        for provider in providers:
            session.add(MatchAssignment(council_id=council.id, run_id=run.id, demand_line_id=line.id, cluster_id=matched.id, provider_id=provider.id,
                                        hours=1, solver_hours=1, rate_pence=2200, distance_km=1.0, explanation="Thursday morning (1 hour).",
                                        slot_hours={"thu_am": 1}, status=AssignmentStatus.proposed))
        session.commit()
        return broker.id, run.id, [p.id for p in providers], proposal_ids


def _send(broker_id, run_id):
    def job(session):
        time.sleep(0.2)  # the other transaction takes its first provider first
        return len(services.send_to_clusters(session=session, actor=session.get(User, broker_id), run_id=run_id))
    return job


def test_sending_beside_a_batch_of_changes_giving_its_providers_hours_in_the_other_order_does_not_deadlock(factory):
    broker_id, run_id, _, proposal_ids = _a_run_with_parts_from_two_providers(factory, changes_the_other_way=True)

    def close_due(session):
        # As governance.close_due_proposals: every group, every proposal, then each applied in proposal order.
        proposals = [session.get(Proposal, i) for i in proposal_ids]
        lock_rows(session, Cluster, [p.cluster_id for p in proposals])
        lock_rows(session, Proposal, proposal_ids)
        made = [changes.apply_change(session=session, proposal=proposals[0], actor=session.get(User, broker_id))]
        time.sleep(0.6)  # send meanwhile waits for what this holds
        made.append(changes.apply_change(session=session, proposal=proposals[1], actor=session.get(User, broker_id)))
        return made

    sent, made = race(factory, [_send(broker_id, run_id), close_due])
    assert made == ["The change to the care is made."] * 2 and sent == 1, (sent, made)


def test_sending_beside_a_match_passing_that_makes_contracts_with_its_providers_in_the_other_order_does_not_deadlock(factory):
    # A passed match makes a contract for each part (matching.decisions.contracts_from_match): each insert takes a
    # key-share lock on its provider's row, which locking that row for update waited for.
    broker_id, run_id, provider_ids, _ = _a_run_with_parts_from_two_providers(factory, changes_the_other_way=False)

    def contracts_from_a_match(session):
        cluster = f.ClusterFactory(session=session, council_id=session.get(MatchRun, run_id).council_id)
        session.flush()
        for provider_id in reversed(provider_ids):
            session.add(Contract(council_id=cluster.council_id, provider_id=provider_id, cluster_id=cluster.id, service="home_care", hours_per_week=1,
                                 rate_pence=2_200, start_date=date(2026, 11, 2), member_shares={"1": 1}, slot_hours={"mon_am": 1}))
            session.flush()
            time.sleep(0.6)  # send meanwhile locks what it locks
        return "made"

    sent, made = race(factory, [_send(broker_id, run_id), contracts_from_a_match])
    assert (sent, made) == (1, "made"), (sent, made)
