"""An application waiting for review, or refused, is never matched: one test for each place that picks providers for matching."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from brokerage import clock
from brokerage.accounts.models import Role, User
from brokerage.clusters.models import Proposal
from brokerage.clusters.rules import ProposalKind
from brokerage.matching import services
from brokerage.matching.decisions import contracts_from_match
from brokerage.matching.models import DemandLine, MatchAssignment, MatchRun
from brokerage.providers import applications
from brokerage.providers import services as providers
from brokerage.providers.rules import ProviderStatus
from brokerage.types import utcnow
from tests.providers.applying import apply_through_the_service


@pytest.fixture()
def vetted_applicant(session, places):
    """An application whose DBS check and insurance the applicant added and a broker verified, and a group asking for its care."""
    applied = apply_through_the_service(session)
    applicant = session.exec(select(User).where(User.provider_id == applied.provider.id)).one()
    broker = places.users["a"][Role.broker]
    for kind in ("dbs", "insurance"):
        item = providers.add_vetting(session=session, actor=applicant, provider_id=applied.provider.id, kind=kind, reference=f"{kind}-1",
                                     expires_on=clock.today() + timedelta(days=365))
        providers.verify_vetting(session=session, actor=broker, item_id=item.id)
    cluster = places.records["a"]["cluster"]
    holder = places.records["a"]["holder"]
    line = DemandLine(council_id=cluster.council_id, cluster_id=cluster.id, service="home_care", hours=6, slots=["mon_am"], languages=["en"],
                      lat=51.5203, lon=-0.0714, max_rate_pence=3000, shares={str(holder.id): 1})
    session.add(line)
    session.flush()
    return applied.provider, broker, line


def supply_ids(session, broker) -> set[str]:
    raw = services.build_instance(session=session, actor=broker, council_id=broker.council_id)
    return {s["id"] for s in raw["supply"]}


def refuse(session, broker, provider):
    applications.refuse(session=session, actor=broker, provider_id=provider.id, reason="Not enough experience yet")


@pytest.mark.parametrize("decision", ["pending", "refused"])
def test_the_instance_offers_no_application_that_is_not_approved(session, places, vetted_applicant, decision):
    provider, broker, _ = vetted_applicant
    if decision == "refused":
        refuse(session, broker, provider)
    offered = supply_ids(session, broker)
    assert f"s-{provider.id}" not in offered
    # The council's registered providers are still offered (approved by being registered, though not vetted here).
    assert {f"s-{places.records['a']['provider'].id}", f"s-{places.records['a']['other_provider'].id}"} <= offered


def test_the_instance_offers_an_application_once_approved(session, vetted_applicant):
    provider, broker, _ = vetted_applicant
    applications.approve(session=session, actor=broker, provider_id=provider.id)
    raw = services.build_instance(session=session, actor=broker, council_id=broker.council_id)
    offered = {s["id"]: s for s in raw["supply"]}
    assert offered[f"s-{provider.id}"]["vetted"] is True


@pytest.mark.parametrize("decision", ["pending", "refused"])
def test_a_vetted_application_is_not_counted_as_vetted(session, vetted_applicant, decision):
    provider, broker, _ = vetted_applicant
    if decision == "refused":
        refuse(session, broker, provider)
    assert provider.id not in services.vetted_provider_ids(session, broker.council_id, clock.today())
    assert applications.progress_of(session=session, actor=broker, provider=provider).state.valid


def test_an_approved_application_whose_evidence_is_verified_is_vetted(session, vetted_applicant):
    provider, broker, _ = vetted_applicant
    applications.approve(session=session, actor=broker, provider_id=provider.id)
    assert provider.id in services.vetted_provider_ids(session, broker.council_id, clock.today())


def test_an_approved_application_is_not_matched_until_its_evidence_is_verified(session, places):
    applied = apply_through_the_service(session)
    broker = places.users["a"][Role.broker]
    applications.approve(session=session, actor=broker, provider_id=applied.provider.id)
    assert applied.provider.id not in services.vetted_provider_ids(session, broker.council_id, clock.today())
    assert applications.progress_of(session=session, actor=broker, provider=applied.provider).steps == [
        "They add their DBS check.", "They add their insurance.",
    ]


def test_a_matching_run_gives_no_hours_to_an_application_until_it_is_approved(session, vetted_applicant):
    provider, broker, line = vetted_applicant
    before = services.run_matching(session=session, actor=broker, council_id=broker.council_id)
    assert before.covered_hours == 0
    assert not session.exec(select(MatchAssignment).where(MatchAssignment.run_id == before.id)).all()
    applications.approve(session=session, actor=broker, provider_id=provider.id)
    after = services.run_matching(session=session, actor=broker, council_id=broker.council_id)
    assigned = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == after.id)).all()
    assert after.covered_hours == line.hours and {a.provider_id for a in assigned} == {provider.id}


def test_a_passed_vote_makes_no_contract_with_an_application_that_is_not_approved(session, vetted_applicant):
    provider, broker, line = vetted_applicant
    run = MatchRun(council_id=line.council_id, lines=1, suppliers=1)
    session.add(run)
    session.flush()
    proposal = Proposal(council_id=line.council_id, cluster_id=line.cluster_id, kind=ProposalKind.accept_match, title="Accept care",
                        deadline=utcnow() + timedelta(days=7))
    session.add(proposal)
    session.flush()
    assignment = MatchAssignment(council_id=line.council_id, run_id=run.id, demand_line_id=line.id, cluster_id=line.cluster_id, provider_id=provider.id,
                                 hours=6, solver_hours=6, rate_pence=2100, distance_km=0.5, explanation="Near.", status="sent", proposal_id=proposal.id)
    session.add(assignment)
    session.flush()
    proposal.payload = {"run_id": run.id, "assignment_ids": [assignment.id]}
    session.add(proposal)
    session.flush()
    assert provider.status == ProviderStatus.pending_review
    assert contracts_from_match(session=session, actor=broker, proposal=proposal) == []
    assert assignment.status == "rejected" and "Not contracted" in assignment.explanation
