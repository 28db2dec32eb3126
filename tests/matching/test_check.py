"""The checker finds every way a solution can break the format's rules."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings

from brokerage.matching import pairs as pairs_module
from brokerage.matching.check import (broken_constraints, check_solution, max_flow_hours,
                                      spec_distance_km, spec_pairs)
from brokerage.matching.instance import Assignment, Unmet, parse_instance
from brokerage.matching.solver import solve
from tests.matching.conftest import instance_of, line, supplier
from tests.matching.helpers import brute_force_pairs, reference_max_flow
from tests.matching.strategies import instances


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


# --- the check is independent of the solver's pair-finding ----------------------------------

def spec_pair_list(instance):
    lines, suppliers = spec_pairs(instance)
    return sorted(zip(lines.tolist(), suppliers.tolist()))


def scalar_pairs(instance):
    """Every pair the format's seven constraints accept, tried one by one with the check's own test."""
    return sorted((i, j) for i, d in enumerate(instance.demand)
                  for j, s in enumerate(instance.supply) if not broken_constraints(d, s))


@settings(max_examples=60, deadline=None)
@given(instances())
def test_the_checks_own_pairs_are_the_formats_pairs(doc):
    instance = parse_instance(doc)
    assert spec_pair_list(instance) == scalar_pairs(instance) == sorted(brute_force_pairs(instance))
    assert max_flow_hours(instance) == reference_max_flow(instance)


def test_the_checks_pairs_on_a_generated_council(small_generated):
    instance = parse_instance(small_generated)
    assert spec_pair_list(instance) == scalar_pairs(instance)


def test_the_checks_radius_is_the_formats_haversine_with_its_tolerance():
    probe = parse_instance(instance_of([line()], [supplier()]))
    d, s = probe.demand[0], probe.supply[0]
    exact = spec_distance_km(d.lat, d.lon, s.lat, s.lon)
    assert abs(exact - 2 * 6371.0088 * math.asin(math.sqrt(
        math.sin(math.radians(s.lat - d.lat) / 2) ** 2 + math.cos(math.radians(d.lat))
        * math.cos(math.radians(s.lat)) * math.sin(math.radians(s.lon - d.lon) / 2) ** 2))) < 1e-12
    for radius, inside in ((exact, True), (exact - 0.9e-9, True), (exact - 1.1e-9, False)):
        instance = parse_instance(instance_of([line()], [supplier(radius_km=radius)]))
        assert (spec_pair_list(instance) == [(0, 0)]) is inside
        assert (not broken_constraints(instance.demand[0], instance.supply[0])) is inside


def dropping_the_last_pair(real):
    """A broken pair-finder: it loses the last supplier it finds within reach of any line."""
    def broken(tables, only=None):
        lines, suppliers, chords = real(tables, only)
        return lines[:-1], suppliers[:-1], chords[:-1]
    return broken


def measuring_every_distance_as_zero(real):
    """A broken pair-finder: every vetted supplier seems to be at each line's door."""
    def broken(tables, only=None):
        vetted = np.flatnonzero(tables.s_vetted)
        lines = np.repeat(np.arange(len(tables.d_hours)) if only is None else only, len(vetted))
        suppliers = np.tile(vetted, len(tables.d_hours) if only is None else len(only))
        offers = np.array([tables.d_service[d] in tables.s_services[s]
                           for d, s in zip(lines.tolist(), suppliers.tolist())], dtype=bool)
        return lines[offers], suppliers[offers], np.zeros(int(offers.sum()))
    return broken


@pytest.mark.parametrize("breakage", [dropping_the_last_pair, measuring_every_distance_as_zero])
def test_a_broken_pair_finder_makes_solve_wrong_and_check_catches_it(monkeypatch, breakage):
    # Two lines; the cheap supplier s-0 is too far for both, s-1 can serve both.
    instance = parse_instance(instance_of(
        [line(id="d-1", hours=10), line(id="d-2", hours=10)],
        [supplier(id="s-0", radius_km=0.1, capacity_hours=40, rate_pence=1000),
         supplier(id="s-1", capacity_hours=20)]))
    honest = solve(instance)
    assert check_solution(instance, honest).ok and honest.covered_hours == 20
    monkeypatch.setattr(pairs_module, "_reach_candidates",
                        breakage(pairs_module._reach_candidates))
    wrong = solve(instance)
    assert content_of(wrong) != content_of(honest)
    report = check_solution(instance, wrong)
    assert not report.ok and report.max_hours == 20
    assert any("the most possible is 20 h" in p or "infeasible" in p for p in report.problems)


def content_of(solution):
    return sorted((a.demand, a.supplier, a.hours) for a in solution.assignments)
