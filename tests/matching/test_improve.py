"""The improvement never loses coverage, never costs more, reaches the optimum on small instances
and bounds its own gap, repeatably."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.optimize import Bounds, LinearConstraint, milp

from brokerage.matching import improve as improve_module
from brokerage.matching import solver
from brokerage.matching.check import check_solution
from brokerage.matching.files import encode
from brokerage.matching.improve import improve, solve_within
from brokerage.matching.instance import parse_instance
from tests.matching.conftest import instance_of, line, supplier
from tests.matching.helpers import reference_max_flow
from tests.matching.strategies import instances


def first_answer(instance):
    return solver.optimise(solver.build_network(instance))


def full_mip_optimum(matching) -> float:
    """Return the optimum (pence) of the documented objective at maximum coverage, by one MIP.

    Written apart from `improve`: big-M links only, every (cluster, supplier) charge on its own
    binary, and the objective taken term by term from the solver's documented pieces.
    """
    network = matching.network
    p, t = network.pairs, network.tables
    n = len(p)
    if n == 0:
        return 0.0
    hourly = solver.hourly_cost(network)
    moving = solver.continuity_at_stake(network)[p.demand] & ~solver.keeps_current(network)
    c_x = hourly + moving * solver.CONTINUITY_CHARGE / np.maximum(t.d_hours[p.demand], 1)
    keys = sorted({(int(t.d_cluster[d]), int(s)) for d, s in zip(p.demand, p.supply)})
    group = {k: i for i, k in enumerate(keys)}
    m = len(keys)
    big = float(t.d_hours.max(initial=0) + 1)
    rows, lo, hi = [], [], []

    def row(coefs: dict[int, float], low: float, high: float) -> None:
        vec = np.zeros(2 * n + m)
        for j, v in coefs.items():
            vec[j] += v
        rows.append(vec), lo.append(low), hi.append(high)

    for d in range(len(t.d_hours)):
        row({a: 1.0 for a in np.flatnonzero(p.demand == d)}, 0, float(t.d_hours[d]))
    for s in range(len(t.s_capacity)):
        row({a: 1.0 for a in np.flatnonzero(p.supply == s)}, 0, float(t.s_capacity[s]))
    flow = float(reference_max_flow(network.instance))
    row({a: 1.0 for a in range(n)}, flow, flow)
    for a in range(n):
        row({a: 1.0, n + a: -big}, -np.inf, 0)
        row({n + a: 1.0, 2 * n + group[(int(t.d_cluster[p.demand[a]]), int(p.supply[a]))]: -1.0}, -np.inf, 0)
    c = np.r_[c_x, np.full(n, float(solver.PAIR_CHARGE)), np.full(m, float(solver.CLUSTER_CHARGE))]
    res = milp(c, integrality=np.ones(2 * n + m), bounds=Bounds(0, np.r_[np.full(n, big), np.ones(n + m)]),
               constraints=LinearConstraint(np.array(rows), lo, hi))
    assert res.status == 0
    return float(res.fun)


@settings(max_examples=40, deadline=None)
@given(instances(max_demand=6, max_supply=5))
def test_small_instances_reach_the_full_mip_optimum(doc):
    instance = parse_instance(doc)
    first = first_answer(instance)
    result = improve(first, time_limit=1)
    flow = result.matching.flow
    assert int(flow.sum()) == reference_max_flow(instance)
    assert result.cost_pence <= result.first_cost_pence + 1e-6
    assert result.lower_bound_pence <= result.cost_pence + 1e-6
    assert result.optimal
    assert result.cost_pence == pytest.approx(full_mip_optimum(first), rel=1e-9, abs=1e-6)
    solution = solver.to_solution(result.matching)
    assert check_solution(instance, solution).problems == ()


@settings(max_examples=15, deadline=None)
@given(instances(max_demand=14, max_supply=8))
def test_neighbourhood_search_keeps_coverage_and_never_costs_more(doc):
    instance = parse_instance(doc)
    first = first_answer(instance)
    with pytest.MonkeyPatch.context() as mp:
        # Nothing solved whole: every component goes through small neighbourhoods.
        mp.setattr(improve_module, "EXACT_MAX_ARCS", 0)
        mp.setattr(improve_module, "LNS_MAX_ARCS", 8)
        result = improve(first, time_limit=2)
    solution = solver.to_solution(result.matching)
    assert solution.covered_hours == reference_max_flow(instance)
    assert check_solution(instance, solution).problems == ()
    assert result.cost_pence <= result.first_cost_pence + 1e-6
    assert result.lower_bound_pence <= result.cost_pence + 1e-6
    assert solution.cost == round(result.cost_pence / 100, 2)


def test_a_zero_time_limit_keeps_the_first_answer_and_still_bounds_it(small_generated):
    instance = parse_instance(small_generated)
    first = first_answer(instance)
    result = improve(first, time_limit=0)
    assert np.array_equal(result.matching.flow, first.flow)
    assert 0 < result.lower_bound_pence <= result.cost_pence == result.first_cost_pence


@pytest.fixture(scope="module")
def solved_twice(small_generated):
    instance = parse_instance(small_generated)
    runs = [solve_within(instance, time_limit=2) for _ in range(2)]
    return instance, runs


def test_the_same_instance_and_time_limit_give_the_same_answer(solved_twice):
    _, [(a, ra), (b, rb)] = solved_twice
    assert encode(a.to_dict(), ("assignments", "unmet")) == encode(b.to_dict(), ("assignments", "unmet"))
    assert ra.lower_bound_pence == rb.lower_bound_pence


def test_a_generated_instance_improves_and_stays_valid(solved_twice):
    instance, [(solution, result), _] = solved_twice
    assert check_solution(instance, solution).problems == ()
    assert result.cost_pence < result.first_cost_pence
    assert result.lower_bound_pence <= result.cost_pence
    assert 0 <= result.gap_pct < 100


def test_solve_with_a_time_limit_matches_solve_within(spec_instance):
    instance = parse_instance(spec_instance)
    solution = solver.solve(instance, time_limit=1)
    again, _ = solve_within(instance, time_limit=1)
    assert solution == again
