"""The checker finds every way a solution can break the format's rules."""

from __future__ import annotations

from dataclasses import replace

from brokerage.matching.check import check_solution, max_flow_hours
from brokerage.matching.instance import Assignment, Unmet, parse_instance
from brokerage.matching.solver import solve
from tests.matching.conftest import instance_of, line, supplier
from tests.matching.helpers import reference_max_flow


def setting():
    """Two lines of 20 h and one 30 h supplier: 30 h can be covered, 10 h go unmet."""
    instance = parse_instance(instance_of(
        [line(id="d-1"), line(id="d-2")], [supplier(capacity_hours=30), supplier(id="s-far",
                                                                                 radius_km=0.1)]))
    return instance, solve(instance)


def problems(instance, solution):
    return check_solution(instance, solution).problems


def test_the_solvers_own_answer_passes_with_the_maximum_flow():
    instance, solution = setting()
    report = check_solution(instance, solution)
    assert report.ok and report.covered_hours == report.max_hours == 30
    assert max_flow_hours(instance) == reference_max_flow(instance) == 30


def test_rejects_going_over_a_suppliers_capacity():
    instance, _ = setting()
    bad = replace(solve(instance), assignments=(
        Assignment("d-1", "s-0001", 20, "x"), Assignment("d-2", "s-0001", 20, "x")),
        unmet=(), covered_hours=40)
    found = problems(instance, bad)
    assert "supplier s-0001: 40 h assigned, over its capacity of 30 h" in found
    assert "the assignments cover 40 h but the most possible is 30 h" in found


def test_rejects_an_infeasible_pair():
    instance, solution = setting()
    bad = replace(solution, assignments=solution.assignments[:-1] + (
        replace(solution.assignments[-1], supplier="s-far"),))
    assert any("infeasible, the supplier is" in p and "beyond its 0.1 km radius" in p
               for p in problems(instance, bad))


def test_rejects_a_wrong_covered_hours_and_too_few_hours():
    instance, solution = setting()
    assert "covered_hours is 31 but the assignments add up to 30" in problems(
        instance, replace(solution, covered_hours=31))
    fewer = replace(solution, assignments=(replace(solution.assignments[0], hours=1),)
                    + solution.assignments[1:], covered_hours=solution.covered_hours
                    - solution.assignments[0].hours + 1)
    assert any("but the most possible is 30 h" in p for p in problems(instance, fewer))


def test_rejects_hours_below_one_and_more_hours_than_a_line_needs():
    instance, solution = setting()
    zero = replace(solution, assignments=solution.assignments + (
        Assignment("d-1", "s-0001", 0, "x"),))
    assert "assignment d-1 -> s-0001: hours must be at least 1, not 0" in problems(instance, zero)
    greedy = replace(solution, assignments=(Assignment("d-1", "s-0001", 25, "x"),),
                     covered_hours=25)
    assert "demand d-1: 25 h assigned but only 20 h needed" in problems(instance, greedy)


def test_rejects_missing_wrong_and_extra_unmet_entries():
    instance, solution = setting()
    short = solution.unmet[0]
    assert any("is not listed" in p for p in problems(instance, replace(solution, unmet=())))
    wrong = replace(solution, unmet=(replace(short, hours=short.hours + 1),))
    assert any("says 11 h, but 10 h are left over" in p for p in problems(instance, wrong))
    blank = replace(solution, unmet=(replace(short, reason="  "),))
    assert any("the reason is empty" in p for p in problems(instance, blank))
    served = next(a.demand for a in solution.assignments if a.demand != short.demand)
    extra = replace(solution, unmet=solution.unmet + (Unmet(served, 1, "x"),))
    assert any(f"unmet {served}: listed, but the line has no hours left over" in p
               for p in problems(instance, extra))
    twice = replace(solution, unmet=solution.unmet * 2)
    assert any("listed 2 times" in p for p in problems(instance, twice))


def test_rejects_unknown_ids():
    instance, solution = setting()
    bad = replace(solution, assignments=solution.assignments + (
        Assignment("d-9", "s-9", 1, "x"),), unmet=solution.unmet + (Unmet("d-8", 1, "x"),))
    found = problems(instance, bad)
    assert "assignment d-9 -> s-9: no demand line has id d-9" in found
    assert "assignment d-9 -> s-9: no supplier has id s-9" in found
    assert "unmet d-8: no demand line has this id" in found
