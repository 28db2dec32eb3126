"""The hard constraints, one by one, and the distance they rest on."""

from __future__ import annotations

import math

import pytest

from brokerage.formatting import pounds
from brokerage.geo import EARTH_RADIUS_KM, haversine_km
from brokerage.matching.instance import parse_instance
from brokerage.matching.rules import can_serve, distance_km, hours_taken_out, whose_care_words, why_not
from tests.matching.conftest import instance_of, line, supplier


def pair(line_changes=None, supplier_changes=None):
    instance = parse_instance(instance_of([line(**(line_changes or {}))],
                                          [supplier(**(supplier_changes or {}))]))
    return instance.demand[0], instance.supply[0]


def test_haversine_gives_known_distances():
    assert haversine_km(51.5, -0.1, 51.5, -0.1) == 0.0
    assert haversine_km(0, 0, 0, 1) == pytest.approx(math.pi * EARTH_RADIUS_KM / 180, rel=1e-12)
    assert haversine_km(0, 0, 90, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM / 2, rel=1e-12)
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM, rel=1e-12)
    # London to Paris, about 343.5 km.
    assert haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=0.5)
    assert haversine_km(51.5, 0, 52.5, 1) == haversine_km(52.5, 1, 51.5, 0)


def test_the_format_example_pair_can_serve():
    demand, supply = pair()
    assert distance_km(demand, supply) == pytest.approx(1.0, abs=0.05)
    assert can_serve(demand, supply)
    assert why_not(demand, supply) == []


@pytest.mark.parametrize(("line_changes", "supplier_changes", "reason"), [
    ({"service": "respite"}, {}, "does not offer respite"),
    ({}, {"languages": ["en"]}, "does not speak Somali"),
    ({}, {"genders": ["male"]}, "has no female staff"),
    ({"slots": ["sun_eve"]}, {}, "is not available at any of the times needed"),
    ({}, {"radius_km": 0.5}, "km away, beyond its 0.5 km radius"),
    ({"max_rate_pence": 2100}, {}, "charges £21.50 an hour, more than the £21.00 the group will pay"),
    ({}, {"vetted": False}, "is not vetted"),
])
def test_each_hard_constraint_can_rule_a_supplier_out(line_changes, supplier_changes, reason):
    demand, supply = pair(line_changes, supplier_changes)
    assert not can_serve(demand, supply)
    reasons = why_not(demand, supply)
    assert len(reasons) == 1 and reason in reasons[0]


def test_language_only_binds_when_required_and_gender_only_when_asked():
    assert can_serve(*pair({"language_required": False}, {"languages": ["pl"]}))
    assert can_serve(*pair({"carer_gender": None}, {"genders": []}))
    assert not can_serve(*pair({"languages": [], "language_required": True}))


def test_a_rate_equal_to_the_cap_is_allowed():
    assert can_serve(*pair({"max_rate_pence": 2150}))


def test_distance_is_compared_with_a_tolerance_of_a_nanometre_of_a_kilometre():
    demand, supply = pair()
    exact = distance_km(demand, supply)
    assert can_serve(*pair({}, {"radius_km": exact}))
    assert can_serve(*pair({}, {"radius_km": exact - 0.5e-9}))
    assert not can_serve(*pair({}, {"radius_km": exact - 1e-8}))


def test_pounds_formats_pence_for_people():
    assert pounds(2150) == "£21.50" and pounds(5) == "£0.05" and pounds(123456) == "£1,234.56"


def test_pounds_puts_the_minus_sign_before_the_pound_sign():
    # The old copy in matching/rules.py floored the pounds: -150 came out as "£-2.50".
    assert pounds(-150) == "−£1.50" and pounds(-5) == "−£0.05" and pounds(-123456) == "−£1,234.56"
    assert pounds(-100) == "−£1.00" and pounds(0) == "£0.00"


def test_an_edit_keeps_at_least_the_committed_hours_at_each_time_of_day_that_care_covers():
    from brokerage.matching.rules import edit_problems

    committed = {"mon_am": 3, "tue_am": 3}
    moved = {"slot_hours": [{"mon_am": 3, "tue_am": 3}, {"mon_eve": 3, "tue_eve": 3}]}  # the same 6 hours, other times
    problem = edit_problems(moved, committed=6, contracted=0, committed_slots=committed)["slot_hours"]
    assert problem.startswith("Care at these times is already arranged or out to the group's vote: Monday and Tuesday mornings")
    fewer = {"slot_hours": [{"mon_am": 3, "tue_am": 3}, {"mon_am": 3, "tue_am": 2, "wed_am": 1}]}
    assert "Tuesday morning, 3 hours" in edit_problems(fewer, committed=6, contracted=6, committed_slots=committed)["slot_hours"]
    assert "already arranged:" in edit_problems(fewer, committed=6, contracted=6, committed_slots=committed)["slot_hours"]
    more = {"slot_hours": [{"mon_am": 3, "tue_am": 3}, {"mon_am": 4, "tue_am": 3, "mon_eve": 2}]}
    assert edit_problems(more, committed=6, contracted=0, committed_slots=committed) == {}
    # Care whose times are not known (older contracts) keeps only the total.
    assert edit_problems(moved, committed=6, contracted=0, committed_slots=None) == {}
    assert edit_problems(moved, committed=0, contracted=0, committed_slots=committed) == {}


def test_hours_taken_out_are_found_time_by_time_so_hours_added_at_another_time_do_not_hide_them():
    gap = {"mon_am": 2, "sun_eve": 3}  # 2 taken out on Monday morning; 3 no provider could give on Sunday evening
    # One part lost 2 hours on Monday morning; another gained 1 on Sunday evening (covering 1 hour of the real gap).
    parts = [(6, 4, {"mon_am": 3, "tue_am": 3}, {"mon_am": 1, "tue_am": 3}), (2, 3, {"sat_am": 2}, {"sat_am": 2, "sun_eve": 1})]
    assert hours_taken_out(5, gap, parts) == (2, {"mon_am": 2})
    # Put back at the same time, nothing is taken out.
    assert hours_taken_out(3, {"sun_eve": 3}, [(6, 6, {"mon_am": 3, "tue_am": 3}, {"mon_am": 3, "tue_am": 3})]) == (0, {})
    # Never more than the gap at that time.
    assert hours_taken_out(1, {"mon_am": 1}, [(6, 4, {"mon_am": 3, "tue_am": 3}, {"mon_am": 1, "tue_am": 3})]) == (1, {"mon_am": 1})


def test_hours_taken_out_without_the_solvers_times_count_hours_only_and_say_no_times():
    # A part a broker changed before the solver's times were kept, or a run made before times were matched.
    assert hours_taken_out(5, {"mon_am": 2, "sun_eve": 3}, [(6, 4, None, {"mon_am": 1, "tue_am": 3})]) == (2, None)
    assert hours_taken_out(5, None, [(6, 4, None, None), (2, 3, None, None)]) == (1, None)
    assert hours_taken_out(1, None, [(6, 2, None, None)]) == (1, None)


def test_whose_care_is_said_with_its_service_and_times_and_in_short_when_there_are_several():
    somali = ("Riverside Somali group", "home_care", {"mon_am": 3})
    bow = ("Bow carers", "respite", {"sat_am": 2, "sun_am": 2})
    assert whose_care_words([somali]) == "home care for Riverside Somali group on Monday mornings (3 hours)"
    # A plural name is not made a possessive ("Bow carers's respite").
    assert whose_care_words([somali, bow]) == ("home care for Riverside Somali group on Monday mornings (3 hours) and "
                                               "respite for Bow carers on Saturday and Sunday mornings (4 hours)")
    more = [somali, bow, ("Bow carers", "companionship", {"mon_pm": 1}), ("Poplar group", "home_care", {"tue_am": 2})]
    assert whose_care_words(more) == ("home care for Riverside Somali group on Monday mornings (3 hours), "
                                      "respite for Bow carers on Saturday and Sunday mornings (4 hours) and other care of 2 groups (3 hours)")


def test_hours_taken_out_time_by_time_are_never_more_than_the_gap():
    # A part moved to a time outside the gap: 3 hours came off Tuesday, but the gap holds only 2 hours.
    from brokerage.matching.rules import hours_taken_out

    assert hours_taken_out(2, {"mon_am": 2, "tue_am": 3}, [(3, 3, {"tue_am": 3}, {"wed_am": 3})]) == (2, {"tue_am": 2})
