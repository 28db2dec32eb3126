"""`match check` for format 2 (docs/matching-format-2.md, "Solution"): every rule, and its own max flow."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from brokerage.matching.check import broken_constraints, check_solution, max_flow_hours
from brokerage.matching.check_slots import max_flow_slot_hours
from brokerage.matching.errors import InstanceError
from brokerage.matching.instance import Assignment, Solution, Unmet, parse_instance, parse_solution
from brokerage.matching.solver import solve
from tests.matching.conftest import SPEC_INSTANCE, instance_of
from tests.matching.strategies import instances

# The example: a group needs 14 hours, Monday to Thursday mornings and Friday afternoon.
GROUP_NEEDS = {"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}


def line2(**changes) -> dict:
    """The format's example line in format 2 (14 h: Monday to Thursday mornings, Friday afternoon)."""
    record = copy.deepcopy(SPEC_INSTANCE["demand"][0])
    del record["hours"], record["slots"]
    record["slot_hours"] = dict(GROUP_NEEDS)
    record.update(changes)
    return record


def supplier2(**changes) -> dict:
    """The format's example supplier in format 2 (a co-op; of the group's times, only Tuesday morning)."""
    record = copy.deepcopy(SPEC_INSTANCE["supply"][0])
    del record["slots"]
    record["slot_hours"] = {"tue_am": 12, "sat_am": 8}
    record["capacity_hours"] = 30
    record.update(changes)
    return record


def instance2(demand: list[dict], supply: list[dict]) -> dict:
    return {"format": "carepool-matching/2", "demand": demand, "supply": supply}


def solution2(assignments, unmet=(), covered=None, cost=0.0) -> Solution:
    """A format 2 solution from (demand, supplier, slot_hours) and (demand, slot_hours) tuples."""
    made = tuple(Assignment(d, s, sum(h.values()), "x", dict(h)) for d, s, h in assignments)
    left = tuple(Unmet(d, sum(h.values()), "Nobody can come then.", dict(h)) for d, h in unmet)
    return Solution(made, left, sum(a.hours for a in made) if covered is None else covered, cost, format=2)


def problems(instance, solution) -> tuple[str, ...]:
    return check_solution(instance, solution).problems


def the_group_and_the_coop():
    return parse_instance(instance2([line2(id="d-1")], [supplier2(id="s-coop")]))


# --- the example --------------------------------------------------------------------

def test_the_group_gets_only_the_coops_tuesday_morning():
    instance = the_group_and_the_coop()
    assert max_flow_slot_hours(instance) == 3
    right = solution2([("d-1", "s-coop", {"tue_am": 3})],
                      [("d-1", {"mon_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2})])
    report = check_solution(instance, right)
    assert report.ok, report.problems
    assert report.covered_hours == report.max_hours == 3


def test_all_14_hours_from_the_coop_are_refused_though_format_1_would_allow_them():
    instance = the_group_and_the_coop()
    # Format 1's rule 4: one shared time of day made the co-op suitable for all 14 hours.
    as_format_1 = parse_instance(instance_of(
        [{**{k: v for k, v in line2(id="d-1").items() if k != "slot_hours"}, "hours": 14,
          "slots": list(GROUP_NEEDS)}],
        [{**{k: v for k, v in supplier2(id="s-coop").items() if k != "slot_hours"}, "slots": ["tue_am", "sat_am"]}]))
    assert max_flow_hours(as_format_1) == 14
    format_1 = Solution((Assignment("d-1", "s-coop", 14, "x"),), (), 14, 0.0)
    assert check_solution(as_format_1, format_1).ok

    spread = solution2([("d-1", "s-coop", GROUP_NEEDS)])
    found = problems(instance, spread)
    for slot in ("mon_am", "wed_am", "thu_am"):
        assert (f"assignment d-1 -> s-coop: 3 h on {slot}, which is not one of the pair's common slots "
                "(the supplier has no hours then)") in found
    assert ("assignment d-1 -> s-coop: 2 h on fri_pm, which is not one of the pair's common slots "
            "(the supplier has no hours then)") in found
    assert "the assignments cover 14 h but the most possible is 3 h" in found

    on_tuesday = solution2([("d-1", "s-coop", {"tue_am": 14})])
    found = problems(instance, on_tuesday)
    assert "demand d-1: 14 h assigned on tue_am but only 3 h needed then" in found
    assert "the assignments cover 14 h but the most possible is 3 h" in found


# --- a valid hand-made solution, and each rule broken in turn -------------------------------

def town():
    """The group (14 h), a pair of needs at the weekend, the co-op, a capped PA and an uncapped agency.

    The most that can be covered is 15 h: the co-op's Tuesday morning (3 h), 8 h of the PA's
    Monday, Wednesday, Thursday mornings and Friday afternoon (its week is capped at 8), and the
    weekend line's Saturday morning (co-op) and Sunday afternoon (agency), 2 h each.
    """
    return parse_instance(instance2(
        [line2(id="d-1"), line2(id="d-2", slot_hours={"sat_am": 2, "sun_pm": 2, "sun_eve": 0})],
        [supplier2(id="s-coop"),
         supplier2(id="s-pa", kind="pa", slot_hours={"mon_am": 4, "wed_am": 4, "thu_am": 4, "fri_pm": 2},
                   capacity_hours=8),
         supplier2(id="s-agency", kind="private", slot_hours={"sun_pm": 5, "mon_am": 0}, capacity_hours=None)]))


def valid_town_solution() -> Solution:
    return solution2(
        [("d-1", "s-coop", {"tue_am": 3}), ("d-1", "s-pa", {"mon_am": 3, "wed_am": 3, "fri_pm": 2}),
         ("d-2", "s-coop", {"sat_am": 2}), ("d-2", "s-agency", {"sun_pm": 2})],
        [("d-1", {"thu_am": 3})])


def test_a_valid_hand_made_solution_passes():
    instance = town()
    report = check_solution(instance, valid_town_solution())
    assert report.ok, report.problems
    assert report.covered_hours == report.max_hours == 15


def test_a_solution_read_from_its_file_passes():
    doc = valid_town_solution().to_dict()
    assert doc["format"] == "carepool-matching-solution/2"
    assert check_solution(town(), parse_solution(doc)).ok


def test_rejects_hours_in_a_slot_the_supplier_lacks():
    moved = solution2(
        [("d-1", "s-coop", {"mon_am": 3}), ("d-1", "s-pa", {"tue_am": 3, "wed_am": 3, "fri_pm": 2}),
         ("d-2", "s-coop", {"sat_am": 2}), ("d-2", "s-agency", {"sun_pm": 2})],
        [("d-1", {"thu_am": 3})])
    found = problems(town(), moved)
    assert ("assignment d-1 -> s-coop: 3 h on mon_am, which is not one of the pair's common slots "
            "(the supplier has no hours then)") in found
    assert ("assignment d-1 -> s-pa: 3 h on tue_am, which is not one of the pair's common slots "
            "(the supplier has no hours then)") in found


def test_rejects_hours_in_a_slot_the_line_lacks():
    extra = solution2([("d-2", "s-coop", {"sat_am": 2, "tue_am": 1})])
    found = problems(town(), extra)
    assert ("assignment d-2 -> s-coop: 1 h on tue_am, which is not one of the pair's common slots "
            "(the line needs no hours then)") in found
    # A slot both lack, given as 0 in the instance, is named with both.
    both = solution2([("d-2", "s-agency", {"mon_am": 1, "sun_pm": 2})])
    assert ("assignment d-2 -> s-agency: 1 h on mon_am, which is not one of the pair's common slots "
            "(the line needs no hours and the supplier has no hours then)") in problems(town(), both)


def test_rejects_more_than_a_lines_hours_in_a_slot():
    greedy = solution2([("d-1", "s-coop", {"tue_am": 2}), ("d-1", "s-pa", {"mon_am": 4, "wed_am": 2})])
    assert "demand d-1: 4 h assigned on mon_am but only 3 h needed then" in problems(town(), greedy)


def test_rejects_more_than_a_suppliers_hours_in_a_slot():
    instance = parse_instance(instance2(
        [line2(id="d-1", slot_hours={"tue_am": 3}), line2(id="d-2", slot_hours={"tue_am": 3})],
        [supplier2(id="s-coop", slot_hours={"tue_am": 4}, capacity_hours=None)]))
    assert max_flow_slot_hours(instance) == 4
    over = solution2([("d-1", "s-coop", {"tue_am": 3}), ("d-2", "s-coop", {"tue_am": 3})])
    found = problems(instance, over)
    assert "supplier s-coop: 6 h assigned on tue_am, over its 4 h then" in found
    assert "the assignments cover 6 h but the most possible is 4 h" in found
    # The supplier has no weekly cap (null), so nothing is said about its week.
    assert not any("weekly cap" in p for p in found)


def test_rejects_more_than_a_suppliers_weekly_cap():
    over = solution2(
        [("d-1", "s-coop", {"tue_am": 3}), ("d-1", "s-pa", {"mon_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}),
         ("d-2", "s-coop", {"sat_am": 2}), ("d-2", "s-agency", {"sun_pm": 2})])
    found = problems(town(), over)
    assert "supplier s-pa: 11 h assigned, over its weekly cap of 8 h (capacity_hours)" in found
    assert "the assignments cover 18 h but the most possible is 15 h" in found
    assert not any("on mon_am" in p or "s-agency" in p for p in found)


def test_rejects_covering_less_than_the_maximum_flow():
    fewer = solution2(
        [("d-1", "s-coop", {"tue_am": 3}), ("d-1", "s-pa", {"mon_am": 3, "wed_am": 3}),
         ("d-2", "s-coop", {"sat_am": 2}), ("d-2", "s-agency", {"sun_pm": 2})],
        [("d-1", {"thu_am": 3, "fri_pm": 2})])
    assert problems(town(), fewer) == ("the assignments cover 13 h but the most possible is 15 h",)


def test_rejects_a_wrong_covered_hours_and_hours_that_are_not_the_slots_sum():
    solution = valid_town_solution()
    assert "covered_hours is 16 but the assignments add up to 15" in problems(town(), replace(solution, covered_hours=16))
    first = solution.assignments[0]
    bad = replace(solution, assignments=(replace(first, hours=4),) + solution.assignments[1:], covered_hours=16)
    found = problems(town(), bad)
    assert "assignment d-1 -> s-coop: hours is 4 but its slot_hours add up to 3" in found


def test_rejects_an_empty_slot_hours_and_values_below_one():
    solution = valid_town_solution()
    empty = replace(solution, assignments=solution.assignments + (Assignment("d-2", "s-pa", 0, "x", {}),))
    assert ("assignment d-2 -> s-pa: slot_hours is empty; an assignment needs hours in at least one slot"
            in problems(town(), empty))
    none = replace(solution, assignments=solution.assignments + (Assignment("d-2", "s-pa", 0, "x"),))
    assert any("slot_hours is empty" in p for p in problems(town(), none))
    zero = replace(solution, assignments=(replace(solution.assignments[0], slot_hours={"tue_am": 3, "sat_am": 0}),)
                   + solution.assignments[1:])
    assert "assignment d-1 -> s-coop: slot_hours.sat_am must be an integer of at least 1, not 0" in problems(town(), zero)


def test_rejects_a_pair_that_breaks_a_hard_constraint():
    instance = parse_instance(instance2([line2(id="d-1")], [supplier2(id="s-coop", languages=["en"])]))
    assert broken_constraints(instance.demand[0], instance.supply[0]) == [
        "shares no language with the line, which requires one (constraint 2)"]
    found = problems(instance, solution2([("d-1", "s-coop", {"tue_am": 3})], [("d-1", {"mon_am": 3, "wed_am": 3,
                                                                                       "thu_am": 3, "fri_pm": 2})]))
    assert "assignment d-1 -> s-coop: infeasible, the supplier shares no language with the line, which requires one (constraint 2)" in found
    assert "the assignments cover 3 h but the most possible is 0 h" in found


def test_rule_4_is_a_slot_where_both_have_hours():
    # The co-op lists the group's slots, but with 0 hours in each: no common slot, no pair.
    zero = {slot: 0 for slot in GROUP_NEEDS} | {"sat_am": 8}
    instance = parse_instance(instance2([line2(id="d-1")], [supplier2(id="s-coop", slot_hours=zero)]))
    assert broken_constraints(instance.demand[0], instance.supply[0]) == [
        "has no hours in any slot the line needs hours in (constraint 4)"]
    assert max_flow_slot_hours(instance) == 0


def test_rejects_a_pair_assigned_twice():
    twice = solution2(
        [("d-1", "s-coop", {"tue_am": 3}), ("d-1", "s-pa", {"mon_am": 3, "wed_am": 3}), ("d-1", "s-pa", {"fri_pm": 2}),
         ("d-2", "s-coop", {"sat_am": 2}), ("d-2", "s-agency", {"sun_pm": 2})],
        [("d-1", {"thu_am": 3})])
    assert problems(town(), twice) == ("assignment d-1 -> s-pa: the pair is assigned 2 times (at most once)",)


def test_rejects_missing_wrong_and_extra_unmet_entries():
    solution = valid_town_solution()
    short = solution.unmet[0]
    assert problems(town(), replace(solution, unmet=())) == (
        "unmet: line d-1 has 3 h left over but is not listed",)
    wrong_slot = replace(solution, unmet=(replace(short, slot_hours={"fri_pm": 3}),))
    assert problems(town(), wrong_slot) == (
        "unmet d-1: slot_hours.thu_am says 0 h, but 3 h are left over then",
        "unmet d-1: slot_hours.fri_pm says 3 h, but 0 h are left over then")
    wrong_hours = replace(solution, unmet=(replace(short, hours=4),))
    assert problems(town(), wrong_hours) == (
        "unmet d-1: says 4 h, but 3 h are left over", "unmet d-1: hours is 4 but its slot_hours add up to 3")
    served = replace(solution, unmet=solution.unmet + (Unmet("d-2", 1, "x", {"sun_pm": 1}),))
    assert problems(town(), served) == ("unmet d-2: listed, but the line has no hours left over",)
    assert problems(town(), replace(solution, unmet=solution.unmet * 2)) == ("unmet d-1: listed 2 times",)
    blank = replace(solution, unmet=(replace(short, reason=" "),))
    assert problems(town(), blank) == ("unmet d-1: the reason is empty",)
    unknown = replace(solution, unmet=solution.unmet + (Unmet("d-9", 1, "x", {"mon_am": 1}),))
    assert problems(town(), unknown) == ("unmet d-9: no demand line has this id",)


def test_rejects_unknown_ids():
    solution = valid_town_solution()
    bad = replace(solution, assignments=solution.assignments + (Assignment("d-9", "s-9", 1, "x", {"mon_am": 1}),),
                  covered_hours=16)
    found = problems(town(), bad)
    assert "assignment d-9 -> s-9: no demand line has id d-9" in found
    assert "assignment d-9 -> s-9: no supplier has id s-9" in found


@pytest.mark.parametrize("which", ["format 1 solution", "format 2 solution"])
def test_mixing_formats_is_bad_input(which):
    format_1 = parse_instance(instance_of([], []))
    if which == "format 1 solution":
        instance, solution = town(), Solution((), (), 0, 0.0)
    else:
        instance, solution = format_1, valid_town_solution()
    with pytest.raises(InstanceError, match=r"^format: the solution is in format \d but the instance is in format \d;"):
        check_solution(instance, solution)


# --- the check's own maximum flow over the slot network -------------------------------------

def test_max_flow_on_small_hand_instances():
    def flow(demand, supply):
        return max_flow_slot_hours(parse_instance(instance2(demand, supply)))

    # Two lines want Monday morning; the supplier has 5 h then.
    two = [line2(id="d-1", slot_hours={"mon_am": 4}), line2(id="d-2", slot_hours={"mon_am": 4})]
    assert flow(two, [supplier2(slot_hours={"mon_am": 5}, capacity_hours=None)]) == 5
    # The weekly cap binds across slots; null means the slots' own sum.
    both = [line2(slot_hours={"mon_am": 4, "tue_am": 4})]
    assert flow(both, [supplier2(slot_hours={"mon_am": 4, "tue_am": 4}, capacity_hours=5)]) == 5
    assert flow(both, [supplier2(slot_hours={"mon_am": 4, "tue_am": 4}, capacity_hours=None)]) == 8
    assert flow(both, [supplier2(slot_hours={"mon_am": 4, "tue_am": 4}, capacity_hours=0)]) == 0
    # Hours go only where both sides have them: 10 h on Monday cannot serve Tuesday.
    split = [supplier2(id="s-1", slot_hours={"mon_am": 10}), supplier2(id="s-2", slot_hours={"tue_am": 1})]
    assert flow(both, split) == 5
    # A line only one supplier can serve (language) must get it; the other line goes elsewhere.
    rivals = [line2(id="d-so", slot_hours={"mon_am": 3}),
              line2(id="d-en", slot_hours={"mon_am": 3}, languages=["en"])]
    pair = [supplier2(id="s-so", slot_hours={"mon_am": 3}), supplier2(id="s-en", slot_hours={"mon_am": 3}, languages=["en"])]
    assert flow(rivals, pair) == 6
    # Out of reach, or nothing in common: nothing.
    assert flow(both, [supplier2(slot_hours={"mon_am": 4}, radius_km=0.1)]) == 0
    assert flow([line2(slot_hours={})], [supplier2()]) == 0
    assert flow([], [supplier2()]) == 0 and flow(both, []) == 0


def test_max_flow_keeps_the_sum_in_64_bits():
    # 3,000 lines of 1,000,000 h and 3,000 uncapped suppliers of as much: 3e9 h, past 2**31.
    lines = [line2(id=f"d-{i}", slot_hours={"mon_am": 1_000_000}) for i in range(3000)]
    suppliers = [supplier2(id=f"s-{i}", slot_hours={"mon_am": 1_000_000}, capacity_hours=None, radius_km=0.0001,
                           location=lines[i]["location"] | {"lat": 50 + i / 1000}) for i in range(3000)]
    for i in range(3000):
        lines[i]["location"] = {"lat": 50 + i / 1000, "lon": lines[i]["location"]["lon"]}
    assert max_flow_slot_hours(parse_instance(instance2(lines, suppliers))) == 3_000_000_000


def reference_slot_flow(instance) -> int:
    """The largest cover as a linear programme over (pair, common slot) hours, tried pair by pair."""
    variables = []  # (line index, supplier index, slot)
    for i, d in enumerate(instance.demand):
        for j, s in enumerate(instance.supply):
            if broken_constraints(d, s):
                continue
            for slot, need in (d.slot_hours or {}).items():
                if need > 0 and (s.slot_hours or {}).get(slot, 0) > 0:
                    variables.append((i, j, slot))
    if not variables:
        return 0
    rows, bounds = [], []
    for i, d in enumerate(instance.demand):
        for slot, need in d.slot_hours.items():
            rows.append([v[0] == i and v[2] == slot for v in variables]), bounds.append(need)
    for j, s in enumerate(instance.supply):
        for slot, offer in s.slot_hours.items():
            rows.append([v[1] == j and v[2] == slot for v in variables]), bounds.append(offer)
        if s.capped:
            rows.append([v[1] == j for v in variables]), bounds.append(s.capacity_hours)
    result = linprog(-np.ones(len(variables)), A_ub=np.array(rows, dtype=float), b_ub=bounds,
                     bounds=(0, None), method="highs")
    return int(round(-result.fun))


@st.composite
def format_2_instances(draw) -> dict:
    """Small random format 2 instances: the format 1 strategy's records with hours per slot."""
    doc = draw(instances(max_demand=6, max_supply=5))
    hours = st.integers(0, 6)
    for record in doc["demand"]:
        del record["hours"]
        record["slot_hours"] = {slot: draw(hours) for slot in record.pop("slots")}
    for record in doc["supply"]:
        record["slot_hours"] = {slot: draw(st.integers(0, 12)) for slot in record.pop("slots")}
        record["capacity_hours"] = draw(st.none() | st.integers(0, 25))
    return instance2(doc["demand"], doc["supply"])


@settings(max_examples=80, deadline=None)
@given(format_2_instances())
def test_the_checks_max_flow_is_the_linear_programmes_optimum(doc):
    instance = parse_instance(doc)
    assert max_flow_slot_hours(instance) == reference_slot_flow(instance)


# --- waits on the solver (the lead's format 2 solve) ----------------------------------------

@settings(max_examples=40, deadline=None)
@given(format_2_instances())
def test_the_solvers_format_2_answer_passes_the_check(doc):
    instance = parse_instance(doc)
    solution = solve(instance)
    assert solution.format == 2
    report = check_solution(instance, solution)
    assert report.ok, report.problems


def test_the_formats_own_example_solution_is_valid_for_its_example_instance():
    # docs/matching-format-2.md: the instance and the solution as written there.
    instance = parse_instance(instance2(
        [line2(slot_hours={"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2})],
        [supplier2(slot_hours={"mon_am": 12, "tue_am": 12, "fri_pm": 8}, capacity_hours=30)]))
    solution = parse_solution({
        "format": "carepool-matching-solution/2",
        "assignments": [{"demand": "d-0001", "supplier": "s-0001", "hours": 8,
                         "slot_hours": {"mon_am": 3, "tue_am": 3, "fri_pm": 2},
                         "explanation": "Monday, Tuesday mornings and Friday afternoons. Speaks Somali (required), …"}],
        "unmet": [{"demand": "d-0001", "hours": 6, "slot_hours": {"wed_am": 3, "thu_am": 3},
                   "reason": "Nobody who can come on Wednesday and Thursday mornings speaks Somali within reach."}],
        "covered_hours": 8, "cost": 512.4})
    report = check_solution(instance, solution)
    assert report.ok, report.problems
    assert report.max_hours == 8
