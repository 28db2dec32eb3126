"""The service's own matching runs use format 2: hours per time of day from the database, and the times of what comes back (issue 14)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.clusters.models import Cluster
from brokerage.contracts.models import Contract
from brokerage.demo import data
from brokerage.errors import ValidationFailed
from brokerage.matching import parts, services
from brokerage.matching.instance import parse_instance
from brokerage.matching.models import DemandLine, MatchAssignment, MatchGap, MatchRun
from brokerage.matching.rules import AssignmentStatus
from brokerage.providers.models import Provider
from brokerage.providers.services import provider_slot_hours
from tests.demo_support import PASSWORD
from tests.matching.on_the_demo import app, demo  # noqa: F401 (fixtures)

SOMALI = "Somali elders of Whitechapel"
HOME_CARE = {"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}


def _provider(session, name: str) -> Provider:
    return session.exec(select(Provider).where(Provider.name == name)).one()


def _line(session, group: str, service: str) -> DemandLine:
    cluster = session.exec(select(Cluster).where(Cluster.name == group)).one()
    return session.exec(select(DemandLine).where(DemandLine.cluster_id == cluster.id, DemandLine.service == service)).one()


def _supply(raw: dict, provider: Provider) -> dict:
    return next(s for s in raw["supply"] if s["id"] == f"s-{provider.id}")


def test_a_run_solves_a_format_2_instance_of_each_lines_hours_per_time_of_day(session, demo, monkeypatch):
    council, broker = demo
    solved = []
    from brokerage.matching import improve

    real_solve = improve.solve_within
    monkeypatch.setattr(improve, "solve_within", lambda instance, **kwargs: solved.append(instance) or real_solve(instance, **kwargs))
    services.run_matching(session=session, actor=broker, council_id=council.id)
    (instance,) = solved
    assert instance.format == 2
    home_care = _line(session, SOMALI, "home_care")
    line = next(d for d in instance.demand if d.id == f"d-{home_care.id}")
    assert (line.slot_hours, line.hours, line.slots) == (HOME_CARE, 14, ("mon_am", "tue_am", "wed_am", "thu_am", "fri_pm"))
    respite = next(s for s in instance.supply if s.id == f"s-{_provider(session, 'Stratford Respite Co-op').id}")
    assert respite.slot_hours == data.PROVIDER_HOURS["Stratford Respite Co-op"] and respite.capped is False  # no weekly cap of its own


def test_care_already_contracted_comes_off_the_times_it_takes(session, demo):
    council, broker = demo
    raw = services.build_instance(session=session, actor=broker, council_id=council.id)
    assert raw["format"] == "carepool-matching/2" and parse_instance(raw).format == 2
    # Hooyo gives the Somali elders personal care on Tuesday mornings and Thursday afternoons, 3 hours each (the demo's history).
    hooyo = _supply(raw, _provider(session, "Hooyo Care Co-operative"))
    offered = data.PROVIDER_HOURS["Hooyo Care Co-operative"]
    assert hooyo["slot_hours"] == {**offered, "tue_am": offered["tue_am"] - 3, "thu_pm": offered["thu_pm"] - 3}
    assert hooyo["capacity_hours"] == 120 - 6
    # Nasima's contract takes Tuesday and Thursday mornings and Saturday afternoon, 2 hours each: her mornings are then full.
    nasima = _provider(session, data.PROVIDER_WITH_LOGIN)
    free = _supply(raw, nasima)
    assert free["slot_hours"] == {"mon_am": 2, "tue_pm": 3, "wed_am": 2, "thu_pm": 3, "fri_am": 2, "sat_pm": 1}
    assert free["capacity_hours"] == nasima.capacity_hours - 6
    # Her contract, made when the group's vote passed, keeps those times itself (its page says when the care happens).
    (contract,) = session.exec(select(Contract).where(Contract.provider_id == nasima.id)).all()
    assert contract.slot_hours == {"tue_am": 2, "thu_am": 2, "sat_pm": 2}
    # The contracted line is not asked for again.
    contracted = _line(session, "Bengali women's care circle", "domestic")
    assert f"d-{contracted.id}" not in {d["id"] for d in raw["demand"]}


def test_care_out_to_a_vote_comes_off_the_line_and_the_provider_in_its_times(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    hooyo = _provider(session, "Hooyo Care Co-operative")
    part = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id, MatchAssignment.provider_id == hooyo.id)).one()
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=11)  # the broker keeps Monday to Thursday mornings only
    assert part.slot_hours == {"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 2}
    services.send_to_clusters(session=session, actor=broker, run_id=run.id)
    raw = services.build_instance(session=session, actor=broker, council_id=council.id)
    home_care = next(d for d in raw["demand"] if d["id"] == f"d-{part.demand_line_id}")
    assert home_care["slot_hours"] == {"thu_am": 1, "fri_pm": 2}  # what the vote does not cover is still wanted
    free = _supply(raw, hooyo)["slot_hours"]
    offered = data.PROVIDER_HOURS["Hooyo Care Co-operative"]
    assert (free["mon_am"], free["tue_am"], free["thu_am"], free["fri_pm"]) == (offered["mon_am"] - 3, offered["tue_am"] - 3 - 3, offered["thu_am"] - 2, offered["fri_pm"])


def test_a_contract_whose_times_are_not_known_comes_off_the_lines_earliest_times_and_the_providers_week(session, demo):
    council, broker = demo
    home_care = _line(session, SOMALI, "home_care")
    stratford = _provider(session, "Stratford Respite Co-op")
    # A contract made by hand, as before times were kept: no match behind it says when.
    session.add(Contract(council_id=council.id, provider_id=stratford.id, cluster_id=home_care.cluster_id, demand_line_id=home_care.id,
                         service="home_care", hours_per_week=5, rate_pence=2000, start_date=home_care.created_at.date(),
                         member_shares=home_care.shares))
    session.flush()
    raw = services.build_instance(session=session, actor=broker, council_id=council.id)
    line = next(d for d in raw["demand"] if d["id"] == f"d-{home_care.id}")
    assert line["slot_hours"] == {"tue_am": 1, "wed_am": 3, "thu_am": 3, "fri_pm": 2}
    free = _supply(raw, stratford)
    # Stratford has no weekly cap of its own: it now has one, its week less the contract's hours.
    assert free["slot_hours"] == data.PROVIDER_HOURS["Stratford Respite Co-op"]
    assert free["capacity_hours"] == sum(data.PROVIDER_HOURS["Stratford Respite Co-op"].values()) - 5


def test_a_run_keeps_the_times_of_each_proposed_part_and_of_each_gap(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    parts = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id)).all()
    # Needs the format 2 solver (brokerage.matching.solver): it fills each assignment's and gap's slot hours.
    assert parts and all(a.slot_hours and sum(a.slot_hours.values()) == a.hours for a in parts)
    home_care = _line(session, SOMALI, "home_care")
    assert next(a for a in parts if a.demand_line_id == home_care.id).slot_hours == HOME_CARE
    (gap,) = session.exec(select(MatchGap).where(MatchGap.run_id == run.id)).all()
    assert (gap.hours, gap.slot_hours) == (4, {"sun_eve": 4})


def test_the_review_page_and_the_vote_say_when_the_provider_comes(client, session, demo):
    council, broker = demo
    client.post("/sign-in", data={"email": "broker@riverside.example", "password": PASSWORD})
    run = session.exec(select(MatchRun).where(MatchRun.council_id == council.id).order_by(MatchRun.id.desc())).first()
    page = client.get(f"/matching/runs/{run.id}").get_data(as_text=True)
    assert "When: Monday to Thursday mornings, 3 hours each; Friday afternoon, 2 hours" in page
    assert "Sunday evening, 4 hours" in page  # the gap's times
    gaps = client.get("/matching/gaps").get_data(as_text=True)
    assert "Sunday evening, 4 hours" in gaps


def test_lowering_a_part_takes_hours_off_its_latest_times_and_raising_it_fits_them_where_both_have_room(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    respite = _line(session, "Bow carers' respite group", "respite")
    part = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id, MatchAssignment.demand_line_id == respite.id)).one()
    assert part.slot_hours == {"sat_am": 3, "sat_pm": 3, "sun_am": 2}
    assert part.explanation.startswith("Saturday and Sunday mornings and Saturday afternoons (8 hours). ")
    rest = part.explanation.split(". ", 1)[1]
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=4)
    assert (part.hours, part.slot_hours) == (4, {"sat_am": 3, "sat_pm": 1})
    # The explanation names the times the part now has, not the solver's.
    assert part.explanation == f"Saturday mornings and Saturday afternoons (4 hours). {rest[:-1]}; 4 of 8 hours here; 4 hours not covered."
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=7)
    assert (part.hours, part.slot_hours) == (7, {"sat_am": 3, "sat_pm": 3, "sun_am": 1})
    assert part.explanation == f"Saturday and Sunday mornings and Saturday afternoons (7 hours). {rest[:-1]}; 7 of 8 hours here; 1 hour not covered."
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=0)
    assert (part.hours, part.slot_hours) == (0, {})
    # Taken to nothing, it names no times; given hours again, it names the times it has now (it kept 7 hours' once).
    assert part.explanation == f"{rest[:-1]}; 0 of 8 hours here; 8 hours not covered."
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=5)
    assert (part.hours, part.slot_hours) == (5, {"sat_am": 3, "sat_pm": 2})
    assert part.explanation == f"Saturday mornings and Saturday afternoons (5 hours). {rest[:-1]}; 5 of 8 hours here; 3 hours not covered."


def test_raising_a_part_beyond_the_times_both_have_is_refused(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    urdu = _line(session, "Urdu speakers' home help", "domestic")
    part = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id, MatchAssignment.demand_line_id == urdu.id)).one()
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=3)
    urdu.slot_hours, urdu.hours = {"mon_pm": 2, "wed_pm": 2, "fri_pm": 2, "sun_eve": 4}, 10  # as if the group asked for a Sunday evening too
    with pytest.raises(ValidationFailed) as refused:
        parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=8)
    assert refused.value.errors["hours"] == ["This part can have at most 6 hours a week: that is all that fits at times the group asked for "
                                             "and Bilal Iqbal (PA) can work. You asked for 8 hours"]
    assert (part.hours, part.slot_hours) == (3, {"mon_pm": 2, "wed_pm": 1})


def test_a_run_of_format_1_assignments_keeps_working_without_times(session, demo):
    council, broker = demo
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    part = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id).order_by(MatchAssignment.id)).first()
    part.slot_hours = None  # as a run stored before times were matched
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=part.hours - 1)
    assert part.slot_hours is None and part.status == AssignmentStatus.proposed


def _respite_part(session, broker, council):
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    respite = _line(session, "Bow carers' respite group", "respite")
    part = session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run.id, MatchAssignment.demand_line_id == respite.id)).one()
    assert part.slot_hours == {"sat_am": 3, "sat_pm": 3, "sun_am": 2}
    return run, respite, part


def _contract(session, council, provider: Provider, line: DemandLine, slot_hours: dict, *, for_line: bool = False) -> Contract:
    contract = Contract(council_id=council.id, provider_id=provider.id, cluster_id=line.cluster_id, demand_line_id=line.id if for_line else None,
                        service=line.service, hours_per_week=sum(slot_hours.values()), rate_pence=2000, start_date=line.created_at.date(),
                        member_shares=line.shares, slot_hours=slot_hours)
    session.add(contract)
    session.flush()
    return contract


def test_raising_a_part_never_gives_it_hours_its_provider_already_gives_under_a_contract(session, demo):
    # Raising a part fitted it into the provider's profile hours, not what care already agreed leaves free:
    # the part below took Saturday afternoon and Sunday morning hours that a contract already fills.
    council, broker = demo
    run, respite, part = _respite_part(session, broker, council)
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=4)
    assert part.slot_hours == {"sat_am": 3, "sat_pm": 1}
    stratford = session.get(Provider, part.provider_id)
    offered = provider_slot_hours(stratford)
    _contract(session, council, stratford, respite, {"sat_pm": offered["sat_pm"] - 1, "sun_am": offered["sun_am"]})  # another group's care
    with pytest.raises(ValidationFailed) as refused:
        parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=8)
    assert refused.value.errors["hours"] == [f"This part can have at most 4 hours a week: that is all that fits at times the group asked for "
                                             f"and {stratford.name} can work. You asked for 8 hours"]
    assert (part.hours, part.slot_hours) == (4, {"sat_am": 3, "sat_pm": 1})


def test_raising_a_part_never_gives_a_line_more_than_it_still_wants_beside_care_already_agreed(session, demo):
    council, broker = demo
    run, respite, part = _respite_part(session, broker, council)
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=5)
    other = _provider(session, "Docklands Reablement Ltd")
    _contract(session, council, other, respite, {"sun_am": 2, "sat_pm": 1}, for_line=True)  # 3 of the line's 8 hours agreed since the run
    with pytest.raises(ValidationFailed) as refused:
        parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=6)
    assert refused.value.errors["hours"] == ["This part can have at most 5 hours a week: the group asked for 8 hours a week of respite, "
                                             "and 3 hours of it are already with providers. You asked for 6 hours"]
    assert part.hours == 5
    parts.adjust(session=session, actor=broker, assignment_id=part.id, hours=4)  # lowering is always allowed
    assert part.slot_hours == {"sat_am": 3, "sat_pm": 1}
