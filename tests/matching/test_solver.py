"""The solver covers the most hours possible, then spends as documented, repeatably."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings

from brokerage.matching import solver
from brokerage.matching.check import check_solution
from brokerage.matching.files import encode
from brokerage.matching.instance import parse_instance
from brokerage.matching.rules import distance_km
from tests.matching.conftest import instance_of, line, supplier
from tests.matching.helpers import reference_max_flow
from tests.matching.strategies import instances


def as_json(solution) -> str:
    return encode(solution.to_dict(), ("assignments", "unmet"))


@settings(max_examples=80, deadline=None)
@given(instances())
def test_random_solutions_are_valid_maximal_and_repeatable(doc):
    instance = parse_instance(doc)
    solution = solver.solve(instance)
    report = check_solution(instance, solution)
    assert report.problems == ()
    assert solution.covered_hours == reference_max_flow(instance)
    given_by = {}
    for a in solution.assignments:
        given_by[a.supplier] = given_by.get(a.supplier, 0) + a.hours
    for s in instance.supply:
        assert given_by.get(s.id, 0) <= s.capacity_hours
    assert as_json(solver.solve(parse_instance(doc))) == as_json(solution)


def test_solves_the_format_example(spec_instance):
    solution = solver.solve(parse_instance(spec_instance))
    assert [(a.demand, a.supplier, a.hours) for a in solution.assignments] == [
        ("d-0001", "s-0001", 20)]
    assert solution.unmet == () and solution.covered_hours == 20


def test_cost_is_the_documented_objective_in_pounds(spec_instance):
    instance = parse_instance(spec_instance)
    km = round(distance_km(instance.demand[0], instance.supply[0]), 3)
    hourly = 2150 + solver.TRAVEL_PER_KM * km  # a co-op paying the Living Wage, with charter
    expected = 20 * hourly + solver.PAIR_CHARGE + solver.CLUSTER_CHARGE
    assert solver.solve(instance).cost == round(expected / 100, 2)


def two_suppliers_for_one_line():
    cheap_small = supplier(id="s-small", capacity_hours=10, rate_pence=2000)
    dearer_big = supplier(id="s-big", capacity_hours=30, rate_pence=2100)
    return parse_instance(instance_of([line(hours=20)], [cheap_small, dearer_big]))


def test_prefers_one_supplier_to_splitting_a_line_where_the_baseline_splits():
    instance = two_suppliers_for_one_line()
    ours = solver.solve(instance)
    base = solver.solve_baseline(instance)
    assert [(a.supplier, a.hours) for a in ours.assignments] == [("s-big", 20)]
    assert sorted((a.supplier, a.hours) for a in base.assignments) == [
        ("s-big", 10), ("s-small", 10)]
    assert ours.covered_hours == base.covered_hours == 20
    assert ours.cost < base.cost  # both are priced by the same documented objective


def test_keeps_the_current_supplier_when_others_are_no_better():
    suppliers = [supplier(id="s-a"), supplier(id="s-b"), supplier(id="s-c")]
    instance = parse_instance(instance_of([line(current_supplier="s-b")], suppliers))
    solution = solver.solve(instance)
    assert [a.supplier for a in solution.assignments] == ["s-b"]
    assert "current carer kept" in solution.assignments[0].explanation


def test_neighbours_in_a_cluster_share_a_carer():
    lines = [line(id="d-1", hours=8), line(id="d-2", hours=8)]
    # Equal in every way but the id, so only the cluster charge tells them apart.
    suppliers = [supplier(id="s-a", capacity_hours=8), supplier(id="s-b", capacity_hours=8),
                 supplier(id="s-c", capacity_hours=16)]
    solution = solver.solve(parse_instance(instance_of(lines, suppliers)))
    assert {a.supplier for a in solution.assignments} == {"s-c"}


def test_an_empty_instance_has_an_empty_solution():
    solution = solver.solve(parse_instance(instance_of([], [])))
    assert solution.assignments == () and solution.unmet == () and solution.covered_hours == 0


def test_splits_fewer_lines_than_the_baseline_at_the_same_coverage(small_generated):
    instance = parse_instance(small_generated)
    network = solver.build_network(instance)
    ours = solver.optimise(network)
    base = solver.optimise(network, baseline=True)
    assert ours.flow.sum() == base.flow.sum()

    def split_lines(matching):
        used = matching.flow > 0
        return int((np.bincount(network.pairs.demand[used]) > 1).sum())

    assert split_lines(ours) <= 0.75 * split_lines(base)


def two_towns(doc: dict) -> dict:
    """Return the instance plus a copy of it 200 km north, so the network has two parts."""
    far = copy.deepcopy(doc)
    for record in far["demand"] + far["supply"]:
        record["id"] = "far-" + record["id"]
        record["location"]["lat"] += 1.8
    for record in far["demand"]:
        record["cluster"] = "far-" + record["cluster"]
        if record["current_supplier"]:
            record["current_supplier"] = "far-" + record["current_supplier"]
    return instance_of(doc["demand"] + far["demand"], doc["supply"] + far["supply"])


def test_a_helper_process_gives_the_same_answer(small_generated, monkeypatch):
    instance = parse_instance(two_towns(small_generated))
    alone = as_json(solver.solve(instance))
    monkeypatch.setattr(solver, "CHUNK_ARCS", 1000)
    monkeypatch.setattr(solver, "PARALLEL_MIN_ARCS", 0)
    network = solver.build_network(instance)
    with solver.Helper() as helper:
        matching = solver.optimise(network, helper=helper)
    assert matching.helper_peak_kb > 0  # the helper really solved a part
    assert as_json(solver.to_solution(matching)) == alone


def test_solution_json_is_stable(small_generated):
    first = as_json(solver.solve(parse_instance(small_generated)))
    second = as_json(solver.solve(parse_instance(json.loads(json.dumps(small_generated)))))
    assert first == second
    assert json.loads(first)["format"] == "carepool-matching-solution/1"


@pytest.mark.parametrize("hours", [0, 1])
def test_lines_without_hours_left_are_not_unmet(hours):
    instance = parse_instance(instance_of([line(hours=hours)], [supplier()]))
    solution = solver.solve(instance)
    assert solution.unmet == () and solution.covered_hours == hours
