"""The broker's workflow on the demo council: run, review, adjust, send, vote, contract, gap report."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from brokerage import clock
from brokerage.accounts.models import User
from brokerage.clusters import governance
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.clusters.rules import Choice, ProposalStatus
from brokerage.contracts.models import Contract
from brokerage.errors import NotFound, ValidationFailed
from brokerage.formatting import slot_hours_words
from brokerage.matching import demand, parts, services
from brokerage.matching.instance import parse_instance
from brokerage.matching.models import DemandLine, MatchAssignment, MatchGap, MatchRun
from brokerage.matching.rules import demand_slot_limit

from tests.demo_support import PASSWORD
from tests.matching.on_the_demo import app, demo  # noqa: F401 (fixtures)


def test_the_instance_built_from_the_database_is_valid_format_2_and_marks_lapsed_vetting(session, demo):
    council, broker = demo
    raw = services.build_instance(session=session, actor=broker, council_id=council.id)
    instance = parse_instance(raw)
    assert instance.format == 2 and len(instance.demand) == 6
    vetted = {s.id: s.vetted for s in instance.supply}
    assert vetted and not all(vetted.values())  # Docklands Reablement's DBS has expired


def test_a_run_covers_what_it_can_and_explains_every_gap(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    assert run.covered_hours == 44 and run.demanded_hours == 48
    data = services.review(session=session, actor=broker, run_id=run.id)
    assert all(a.explanation for parts in data["by_cluster"].values() for a in parts)
    assert [g.hours for g in data["gaps"]] == [4]
    assert "Somali-speaking" in data["gaps"][0].reason


def test_adjusting_hours_respects_the_line_and_the_providers_capacity(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    assignment = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id).order_by(MatchAssignment.id)).first()
    with pytest.raises(ValidationFailed) as error:
        parts.adjust(session=session, actor=broker, assignment_id=assignment.id, hours=assignment.hours + 50)
    assert "hours" in error.value.errors
    parts.adjust(session=session, actor=broker, assignment_id=assignment.id, hours=assignment.hours - 1)
    assert assignment.hours == assignment.solver_hours - 1 and assignment.edited_by_id == broker.id


def test_hours_a_broker_takes_out_are_not_covered_on_the_runs_list_the_run_page_and_the_gap_report_alike(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    part = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id, MatchAssignment.hours >= 3).order_by(MatchAssignment.id)).first()
    given, line_id = part.hours, part.demand_line_id

    def figures():
        review = services.review(session=session, actor=broker, run_id=run.id)
        gaps = services.gap_report(session=session, actor=broker)
        line_gap = sum(g.hours for g in review["gaps"] if g.demand_line_id == line_id)
        return run.covered_hours, review["covered"], run.demanded_hours - gaps["run"].covered_hours, sum(g.hours for g in review["gaps"]), line_gap

    assert figures() == (44, 44, 4, 4, 0)
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=given - 2)
    assert figures() == (42, 42, 6, 6, 2)
    gap = next(g for g in services.review(session=session, actor=broker, run_id=run.id)["gaps"] if g.demand_line_id == line_id)
    assert "taken out of the proposed match by the broker" in gap.reason
    if gap.slot_hours is not None:
        assert sum(gap.slot_hours.values()) == 2
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=0)
    assert figures() == (44 - given, 44 - given, 4 + given, 4 + given, given)
    assert re.search(r"(?<!\d)0 of \d+ hours? here", part.explanation), part.explanation  # not what it gave before
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=given)  # all put back: no gap is left for the line
    assert figures() == (44, 44, 4, 4, 0)


def test_the_gap_report_counts_hours_a_broker_took_out_apart_from_care_no_provider_could_give(client, session, demo):
    # It added them to the line's gap, so commissioning read a broker's choice as care nobody can provide.
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    before = services.gap_report(session=session, actor=broker)
    assert before["unprovided"] == 4 and before["taken_out"] == [] and sum(h for _, h in before["by_service"]) == 4
    part = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id, MatchAssignment.hours >= 3).order_by(MatchAssignment.id)).first()
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=part.hours - 2)
    after = services.gap_report(session=session, actor=broker)
    assert (after["unprovided"], after["by_service"], after["taken_out_hours"]) == (4, before["by_service"], 2)
    (taken,) = after["taken_out"]
    assert (taken.line.id, taken.taken_out, taken.unprovided) == (part.demand_line_id, 2, 0)
    assert part.demand_line_id not in {row.line.id for row in after["rows"]}
    assert all("broker" not in row.reason for row in after["rows"])
    session.flush()
    assert client.post("/sign-in", data={"email": broker.email, "password": PASSWORD}).status_code == 302
    page = client.get("/matching/gaps").get_data(as_text=True)
    assert "no provider could give 4 of the" in page and "Not counted here: 2 hours a week a broker took out" in page
    assert "Hours a broker took out of the proposed match" in page
    # Putting them back leaves nothing taken out.
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=part.solver_hours)
    assert services.gap_report(session=session, actor=broker)["taken_out"] == []


def _a_line_covered_in_part(session, council, broker):
    """Return (line, run): a line the first run covers with a part of 2 hours or more, asked since for as many hours on
    Sunday evenings as its members may have (more than anyone offers), and a new run, which covers it in part and leaves a real gap."""
    first = services.run_matching(session=session, actor=broker, council_id=council.id)
    covered = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == first.id, MatchAssignment.hours >= 2).order_by(MatchAssignment.id)).first()
    line = session.get(DemandLine, covered.demand_line_id)
    most, _ = demand_slot_limit(len(line.shares))
    demand.edit_demand_line(session=session, actor=broker, line_id=line.id, service=line.service, slot_hours={**line.slot_hours, "sun_eve": most},
                            languages=list(line.languages), language_required=line.language_required, carer_gender=line.carer_gender,
                            max_rate_pence=line.max_rate_pence, served=[int(h) for h in line.shares])
    return line, services.run_matching(session=session, actor=broker, council_id=council.id)


def test_the_note_about_hours_taken_out_says_how_many_and_goes_when_they_are_put_back(session, demo):
    # The note stayed on a line's gap after the broker put the hours back, and never said how many.
    council, broker = demo
    line, run = _a_line_covered_in_part(session, council, broker)
    gaps = {g.demand_line_id: g for g in session.exec(select(MatchGap).where(MatchGap.run_id == run.id))}
    part = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id, MatchAssignment.demand_line_id == line.id,
                                                      MatchAssignment.hours >= 2).order_by(MatchAssignment.id)).first()
    assert part is not None and line.id in gaps  # the run covers the line in part
    gap = gaps[part.demand_line_id]
    unmet, reason = gap.hours, gap.reason
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=part.hours - 2)
    assert (gap.hours, gap.reason) == (unmet + 2, f"{reason} 2 hours taken out of the proposed match by the broker.")
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=part.solver_hours - 1)
    assert (gap.hours, gap.reason) == (unmet + 1, f"{reason} 1 hour taken out of the proposed match by the broker.")
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=part.solver_hours)
    assert (gap.hours, gap.reason) == (unmet, reason)


def test_a_passed_vote_turns_the_groups_part_into_contracts(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    proposals = services.send_to_clusters(session=session, actor=broker, run_id=run.id).proposals
    assert proposals and all(p.kind.value == "accept_match" for p in proposals)
    proposal = next(p for p in proposals if "Hooyo" in p.title)
    cluster = session.get(Cluster, proposal.cluster_id)
    voters = session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.status == MembershipStatus.active)).all()
    for membership in voters:
        if proposal.status != ProposalStatus.open:
            break
        user = session.exec(select(User).where(User.holder_id == membership.holder_id)).first()
        governance.cast_vote(session=session, actor=user, proposal_id=proposal.id, holder_id=membership.holder_id, choice=Choice.yes)
    assert proposal.status == ProposalStatus.passed
    contracts = session.exec(select(Contract).where(Contract.proposal_id == proposal.id)).all()
    assert len(contracts) == 1
    contract = contracts[0]
    assert contract.hours_per_week == 14 and contract.rate_pence == 2150 and contract.min_visit_minutes >= 30
    assert {a.status for a in session.exec(select(MatchAssignment).where(MatchAssignment.proposal_id == proposal.id))} == {"accepted"}


def test_another_councils_broker_cannot_see_or_change_a_run(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    outsider = session.exec(select(User).where(User.email == "broker@northfield.example")).one()
    with pytest.raises(NotFound):
        services.review(session=session, actor=outsider, run_id=run.id)
    assignment = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id)).first()
    with pytest.raises(NotFound):
        parts.adjust(session=session, actor=outsider, assignment_id=assignment.id, hours=1)


def test_the_pages_run_review_adjust_send_and_report_gaps(client, session, demo):
    council, broker = demo
    client.post("/sign-in", data={"email": "broker@riverside.example", "password": PASSWORD})
    response = client.post("/matching/runs")
    assert response.status_code == 302 and "/matching/runs/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).data.decode()
    assert "44 of 48 hours covered" in page and "Speaks Somali (required)" in page
    run = session.exec(select(MatchRun).order_by(MatchRun.id.desc())).first()
    assignment = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id)).first()
    bad = client.post(f"/matching/assignments/{assignment.id}", data={"hours": "-3"})
    assert bad.status_code == 422 and "Enter the hours as 0 or more" in bad.data.decode()
    too_many = client.post(f"/matching/assignments/{assignment.id}", data={"hours": "99"})
    assert too_many.status_code == 422 and "asked for" in too_many.data.decode()
    assert client.post(f"/matching/runs/{run.id}/send").status_code == 302
    assert "Sent" in client.get(f"/matching/runs/{run.id}").data.decode()
    gaps = client.get("/matching/gaps").data.decode()
    assert "No vetted Somali-speaking provider" in gaps


def test_an_officer_can_review_but_not_run_matching(client, session, demo):
    client.post("/sign-in", data={"email": "officer@riverside.example", "password": PASSWORD})
    assert client.get("/matching/").status_code == 200
    assert client.post("/matching/runs").status_code == 403


def test_bad_demand_is_named_beside_the_field(client, session, demo):
    council, _ = demo
    client.post("/sign-in", data={"email": "broker@riverside.example", "password": PASSWORD})
    somali = session.exec(select(Cluster).where(Cluster.name.startswith("Somali"))).one()
    response = client.post("/matching/demand", data={"cluster_id": str(somali.id), "service": "home_care", "slot_hours-mon_am": "0", "max_rate": "x"})
    assert response.status_code == 422
    body = response.data.decode()
    assert "Enter the hours for at least one time of day" in body and "Enter an amount in pounds" in body
    late = client.post("/matching/demand", data={"cluster_id": str(somali.id), "service": "transport", "slot_hours-sat_eve": "41", "max_rate": "18"})
    assert late.status_code == 422 and '<a href="#slot_hours-sat_eve">Saturday evening hours must be a whole number from 0 to 40</a>' in late.data.decode()
    assert session.exec(select(DemandLine).where(DemandLine.service == "transport")).all() == []  # nothing was saved
    ok = client.post("/matching/demand", data={"cluster_id": str(somali.id), "service": "transport", "slot_hours-sat_am": "2", "max_rate": "18", "carer_gender": ""})
    assert ok.status_code == 302
    (line,) = session.exec(select(DemandLine).where(DemandLine.service == "transport")).all()
    assert (line.slot_hours, line.hours, line.slots) == ({"sat_am": 2}, 2, ["sat_am"])


def test_a_member_says_what_the_group_needs_and_whom_it_serves(client, session, demo):
    somali = session.exec(select(Cluster).where(Cluster.name.startswith("Somali"))).one()
    client.post("/sign-in", data={"email": "holder@riverside.example", "password": PASSWORD})
    amina = session.exec(select(User).where(User.email == "holder@riverside.example")).one()
    form = client.get(f"/matching/clusters/{somali.id}/demand")
    assert form.status_code == 200 and "Who is this care for" in form.data.decode() and "Send to the broker" in form.data.decode()
    # "Respite" and "Reablement" are said in plain words, in a hint the service box points to (a select showed no hint at all).
    assert '<div id="service-hint" class="govuk-hint">Respite is care that gives a family carer a break.' in form.data.decode()
    assert 'id="service" name="service" aria-describedby="service-hint"' in form.data.decode()
    bad = client.post(f"/matching/clusters/{somali.id}/demand", data={"service": "transport", "slot_hours-sat_am": "2", "max_rate": "18"})
    assert bad.status_code == 422 and "Choose the members this care is for" in bad.data.decode()
    ok = client.post(f"/matching/clusters/{somali.id}/demand", data={
        "service": "transport", "slot_hours-sat_am": "1", "slot_hours-sat_pm": "1", "max_rate": "18", "served": [str(amina.holder_id)], "carer_gender": "",
    })
    assert ok.status_code == 302
    line = session.exec(select(DemandLine).where(DemandLine.service == "transport")).one()
    assert line.shares == {str(amina.holder_id): 1}
    assert line.slot_hours == {"sat_am": 1, "sat_pm": 1}
    assert "2 hours a week of transport" in client.get(f"/clusters/{somali.id}").data.decode()


def test_a_broker_saying_what_a_group_needs_saves_it_rather_than_sending_it_to_themselves(client, session, demo):
    somali = session.exec(select(Cluster).where(Cluster.name.startswith("Somali"))).one()
    client.post("/sign-in", data={"email": "broker@riverside.example", "password": PASSWORD})
    page = client.get(f"/matching/clusters/{somali.id}/demand").data.decode()
    assert "Save what the group needs" in page and "Send to the broker" not in page and "The broker uses this" not in page


def test_a_forming_group_is_told_when_it_can_ask_for_care_not_given_a_form_it_cannot_send(client, session, demo):
    # The form showed an empty "Who is this care for" list, and sending it said "Choose the members this care is for".
    forming = session.exec(select(Cluster).where(Cluster.status == ClusterStatus.forming).order_by(Cluster.id)).first()
    client.post("/sign-in", data={"email": "broker@riverside.example", "password": PASSWORD})
    page = client.get(f"/matching/clusters/{forming.id}/demand").data.decode()
    assert "Care can be asked for once the group is active" in page and f"it starts when {forming.min_size} members have joined" in page
    assert "<form method=\"post\" novalidate>" not in page and "Save what the group needs" not in page


def test_contracted_and_sent_hours_are_not_matched_again(session, demo):
    council, broker = demo
    first = services.run_matching(session=session, actor=broker, council_id=council.id)
    services.send_to_clusters(session=session, actor=broker, run_id=first.id)
    second = services.run_matching(session=session, actor=broker, council_id=council.id)
    # Everything covered the first time is out to a vote, so only the uncovered hours are left to match.
    assert second.demanded_hours == first.demanded_hours - first.covered_hours
    assert second.covered_hours == 0


def test_a_provider_whose_vetting_lapsed_during_the_vote_gets_no_contract(session, demo):
    from datetime import timedelta

    from brokerage.matching.decisions import contracts_from_match
    from brokerage.matching.services import vetted_provider_ids

    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    proposal = next(p for p in services.send_to_clusters(session=session, actor=broker, run_id=run.id).proposals if "Hooyo" in p.title)
    assignment = session.exec(select(MatchAssignment).where(MatchAssignment.proposal_id == proposal.id)).one()
    # By the time the vote passes (years later here), every piece of the provider's evidence has run out.
    later = clock.today() + timedelta(days=3650)
    assert assignment.provider_id not in vetted_provider_ids(session, council.id, later)
    made = contracts_from_match(session=session, actor=broker, proposal=proposal, start=later)
    assert made == [] and assignment.status == "rejected" and "vetting lapsed" in assignment.explanation


def test_an_older_run_cannot_be_sent_or_changed_once_a_newer_one_exists(session, demo):
    from brokerage.errors import BrokerageError

    council, broker = demo
    old = services.run_matching(session=session, actor=broker, council_id=council.id)
    services.run_matching(session=session, actor=broker, council_id=council.id)
    with pytest.raises(BrokerageError, match="newer matching run"):
        services.send_to_clusters(session=session, actor=broker, run_id=old.id)
    assignment = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == old.id)).first()
    with pytest.raises(BrokerageError, match="newer one"):
        parts.adjust(session=session, actor=broker, assignment_id=assignment.id, hours=1)


def test_explanations_name_groups_not_file_ids(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    texts = [a.explanation for a in session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id))]
    assert not any("k-" in text for text in texts)


def test_a_match_whose_care_was_contracted_meanwhile_closes_as_no_longer_needed(session, demo):
    from brokerage.matching.models import DemandLine

    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    proposal = next(p for p in services.send_to_clusters(session=session, actor=broker, run_id=run.id).proposals if "Hooyo" in p.title)
    assignment = session.exec(select(MatchAssignment).where(MatchAssignment.proposal_id == proposal.id)).one()
    # The council contracted this care another way while the members were voting.
    line = session.get(DemandLine, assignment.demand_line_id)
    line.status = "contracted"
    session.add(line)
    voters = session.exec(select(Membership).where(Membership.cluster_id == proposal.cluster_id, Membership.status == MembershipStatus.active)).all()
    for membership in voters:
        if proposal.status != ProposalStatus.open:
            break
        user = session.exec(select(User).where(User.holder_id == membership.holder_id)).first()
        governance.cast_vote(session=session, actor=user, proposal_id=proposal.id, holder_id=membership.holder_id, choice=Choice.yes)
    assert proposal.status == ProposalStatus.lapsed
    assert proposal.outcome.endswith("this care was already contracted by another decision.")
    assert session.exec(select(Contract).where(Contract.proposal_id == proposal.id)).all() == []
    assert assignment.status == "rejected"


def test_a_contract_is_never_made_twice_for_care_already_contracted(session, demo):
    from brokerage.matching.models import DemandLine
    from brokerage.matching.decisions import contracts_from_match

    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    proposal = next(p for p in services.send_to_clusters(session=session, actor=broker, run_id=run.id).proposals if "Hooyo" in p.title)
    assignment = session.exec(select(MatchAssignment).where(MatchAssignment.proposal_id == proposal.id)).one()
    session.get(DemandLine, assignment.demand_line_id).status = "contracted"
    assert contracts_from_match(session=session, actor=broker, proposal=proposal) == []
    assert assignment.status == "rejected" and "already contracted" in assignment.explanation


def test_an_engine_error_in_a_request_answers_like_a_domain_error_not_a_500(app):
    from brokerage.matching.errors import BadStatusMove

    def refuse():
        raise BadStatusMove("This match has already been accepted.", field="run")

    app.add_url_rule("/test-only/refused-move", view_func=refuse)
    client = app.test_client()
    as_json = client.get("/test-only/refused-move", headers={"Accept": "application/json"})
    assert as_json.status_code == 409 and as_json.get_json() == {"error": "This match has already been accepted.", "field": "run"}
    page = client.get("/test-only/refused-move")
    assert page.status_code == 409 and "This match has already been accepted." in page.data.decode()


def test_asking_for_care_for_a_group_voting_on_closing_warns_that_the_care_would_end_with_it(client, session, demo):
    # The demo's Stratford Turkish families are voting on closing their group; the Somali group is not.
    from brokerage.clusters.models import Proposal
    from brokerage.clusters.rules import ProposalKind, ProposalStatus

    client.post("/sign-in", data={"email": "broker@riverside.example", "password": PASSWORD})
    turkish = session.exec(select(Cluster).where(Cluster.name == "Stratford Turkish families")).one()
    vote = session.exec(select(Proposal).where(Proposal.cluster_id == turkish.id, Proposal.kind == ProposalKind.dissolve,
                                               Proposal.status == ProposalStatus.open)).one()
    page = client.get(f"/matching/clusters/{turkish.id}/demand").data.decode()
    assert 'id="closing-vote"' in page and "If it closes, any care asked for now ends with it." in page
    assert f"/clusters/proposals/{vote.id}" in page
    somali = session.exec(select(Cluster).where(Cluster.name.startswith("Somali"))).one()
    assert 'id="closing-vote"' not in client.get(f"/matching/clusters/{somali.id}/demand").data.decode()
    # Care asked for anyway is matched, and the run's page says the same beside that group before it is sent.
    asked = client.post(f"/matching/clusters/{turkish.id}/demand", data={
        "service": "home_care", "slot_hours-mon_am": "3", "slot_hours-tue_am": "3", "max_rate": "30", "carer_gender": "",
        "served": [str(m.holder_id) for m in session.exec(select(Membership).where(Membership.cluster_id == turkish.id,
                                                                                 Membership.status == MembershipStatus.active))],
    })
    assert asked.status_code == 302
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    session.commit()
    review = client.get(f"/matching/runs/{run.id}").data.decode()
    assert f'id="closing-vote-{turkish.id}"' in review and "If it closes, care sent to it now ends with it." in review
    assert f'id="closing-vote-{somali.id}"' not in review


def test_a_gap_row_with_hours_taken_out_shows_the_times_no_provider_could_give_and_the_times_taken_out_apart(client, session, demo):
    # The line's gap kept both in one set of times, so the row showed no times at all.
    council, broker = demo
    line, run = _a_line_covered_in_part(session, council, broker)
    gap = session.exec(select(MatchGap).where(MatchGap.run_id == run.id, MatchGap.demand_line_id == line.id)).one()
    unmet = dict(gap.slot_hours)
    part = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id, MatchAssignment.demand_line_id == line.id,
                                                      MatchAssignment.hours >= 2).order_by(MatchAssignment.id)).first()
    solver_times = dict(part.slot_hours)
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=part.hours - 2)
    freed = {slot: hours - part.slot_hours.get(slot, 0) for slot, hours in solver_times.items() if hours > part.slot_hours.get(slot, 0)}
    session.flush()
    assert client.post("/sign-in", data={"email": broker.email, "password": PASSWORD}).status_code == 302
    page = client.get("/matching/gaps").get_data(as_text=True)
    gaps_table, taken_table = page.split('id="gaps-caption"', 1)[1].split('id="taken-out-caption"', 1)
    row = next(r for r in gaps_table.split("<tr")[1:] if f">{sum(unmet.values())}<" in r)
    assert f'<span class="govuk-body-s">{slot_hours_words(unmet)}</span>' in row  # {"sun_eve": 40} on the demo
    (taken,) = taken_table.split("<tr")[2:]
    assert f'<span class="govuk-body-s">{slot_hours_words(freed)}</span>' in taken and ">2<" in taken  # {"fri_pm": 2}
