"""The improvement never loses coverage, never costs more, reaches the optimum on small instances
and bounds its own gap, repeatably."""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.optimize import Bounds, LinearConstraint, milp

from brokerage.matching import budget, fixed_charge, local_search, relaxation, solver
from brokerage.matching import improve as improve_module
from brokerage.matching.check import check_solution
from brokerage.matching.files import encode
from brokerage.matching.improve import improve, solve_within
from brokerage.matching.instance import parse_instance
from brokerage.matching.lagrangian import Lagrangian
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


# --- the mechanisms inside: cuts, the Lagrangian, local search, rounding, the fallback ------------


def _components_of(first):
    model = fixed_charge.model_of(first)
    return model, fixed_charge.components_of(model)


@settings(max_examples=30, deadline=None)
@given(instances(max_demand=6, max_supply=5))
def test_cut_rounds_and_the_lagrangian_stay_below_the_optimum(doc):
    first = first_answer(parse_instance(doc))
    model, components = _components_of(first)
    optimum = full_mip_optimum(first)
    flow = first.flow.astype(np.int64)
    lp, cut, lagrangian = [], [], []
    for arcs in components:
        total = int(flow[arcs].sum())
        relaxed = relaxation.StrongLP(model, arcs, total)
        relaxed.round(flow[relaxed.units])
        lp.append(relaxed.bound)
        for _ in range(10):
            added, _ = relaxed.round(flow[relaxed.units])
            if not added:
                break
        cut.append(relaxed.bound)
        _, hours, scaled = fixed_charge.flow_bound(model, arcs, with_flow=True)
        relaxed_l = Lagrangian(model, arcs, total, hours, scaled)
        for _ in range(60):
            relaxed_l.step(fixed_charge.sub_cost(model, arcs, flow[arcs], np.zeros(0, np.int64)))
        lagrangian.append(relaxed_l.bound)
    assert sum(cut) >= sum(lp) - 1e-6
    assert sum(cut) <= optimum + 1e-3
    assert sum(lagrangian) <= optimum + 1e-3


def test_cuts_raise_the_lp_bound_on_a_generated_instance(small_generated):
    first = first_answer(parse_instance(small_generated))
    model, components = _components_of(first)
    arcs = max(components, key=len)
    flow = first.flow.astype(np.int64)
    relaxed = relaxation.StrongLP(model, arcs, int(flow[arcs].sum()))
    relaxed.round(flow[relaxed.units])
    lp = relaxed.bound
    for _ in range(10):
        relaxed.round(flow[relaxed.units])
    assert relaxed.cuts > 0 and relaxed.bound > lp
    assert relaxed.bound <= fixed_charge.sub_cost(model, arcs, flow[arcs], np.zeros(0, np.int64))


@settings(max_examples=30, deadline=None)
@given(instances(max_demand=10, max_supply=6))
def test_local_search_keeps_every_line_s_hours_and_the_capacities_and_never_costs_more(doc):
    instance = parse_instance(doc)
    first = first_answer(instance)
    model, components = _components_of(first)
    flow = first.flow.astype(np.int64).copy()
    for arcs in components:
        local_search.LocalSearch(model, arcs, flow).run(budget.Budget(10**6))
    assert np.array_equal(np.bincount(model.line, weights=flow, minlength=len(model.hours)),
                          np.bincount(model.line, weights=first.flow, minlength=len(model.hours)))
    assert solver.objective_pence(first.network, flow) <= solver.objective_pence(first.network, first.flow) + 1e-6
    solution = solver.to_solution(replace(first, flow=flow))
    assert check_solution(instance, solution).problems == ()


def test_local_search_moves_a_line_to_the_supplier_its_neighbour_uses():
    # Two lines of one cluster. The one-pass answer sends one to s-2, cheaper by the hour but with
    # room for one line only; both with s-1 pay one cluster charge, not two, and cost less.
    doc = instance_of(
        [line(id="d-1", hours=10, cluster="k-1"), line(id="d-2", hours=10, cluster="k-1")],
        [supplier(id="s-1", capacity_hours=20, rate_pence=2000), supplier(id="s-2", capacity_hours=10, rate_pence=1800)],
    )
    first = first_answer(parse_instance(doc))
    assert len(np.unique(first.network.pairs.supply[first.flow > 0])) == 2
    model, components = _components_of(first)
    flow = first.flow.astype(np.int64).copy()
    for arcs in components:
        local_search.LocalSearch(model, arcs, flow).run(budget.Budget(10**6))
    assert len(np.unique(model.supplier[flow > 0])) == 1
    assert solver.objective_pence(first.network, flow) == pytest.approx(
        solver.objective_pence(first.network, first.flow) + 200 * 10 - solver.CLUSTER_CHARGE)


@settings(max_examples=20, deadline=None)
@given(instances(max_demand=8, max_supply=6))
def test_rounding_the_lp_keeps_the_coverage(doc):
    first = first_answer(parse_instance(doc))
    model, components = _components_of(first)
    flow = first.flow.astype(np.int64)
    for arcs in components:
        total = int(flow[arcs].sum())
        relaxed = relaxation.StrongLP(model, arcs, total)
        relaxed.round(None)
        hours = fixed_charge.round_relaxed(model, arcs, relaxed.x, total)
        if hours is None:
            continue
        assert int(hours.sum()) == total
        assert (hours <= model.capacity[arcs]).all() and (hours >= 0).all()
        assert (np.bincount(model.line[arcs], weights=hours, minlength=len(model.hours)) <= model.hours).all()
        assert (np.bincount(model.supplier[arcs], weights=hours, minlength=len(model.supplier_capacity))
                <= model.supplier_capacity).all()


def test_without_scipy_s_highs_bindings_the_improvement_still_works(small_generated, monkeypatch):
    monkeypatch.setattr(fixed_charge, "highs_bindings", None)
    monkeypatch.setattr(relaxation, "highs_bindings", None)
    instance = parse_instance(small_generated)
    first = first_answer(instance)
    result = improve(first, time_limit=1)
    solution = solver.to_solution(result.matching)
    assert check_solution(instance, solution).problems == ()
    assert result.lower_bound_pence <= result.cost_pence <= result.first_cost_pence + 1e-6


def test_format_1_rounds_the_lagrangian_s_first_guess_even_when_its_share_pays_for_no_steps(small_generated):
    """As before format 2's guard: a small budget (a council's 1 s) still gets the rounded guess and its local search."""
    from unittest.mock import patch

    first = first_answer(parse_instance(small_generated))
    with patch.object(improve_module, "LP_MAX_ARCS", 0), patch.object(improve_module, "lagrange_work", lambda *a, **k: 10**9), \
            patch.object(improve_module, "Lagrangian", wraps=Lagrangian) as built, \
            patch.object(improve_module._Search, "round_guess", autospec=True, side_effect=improve_module._Search.round_guess) as rounded:
        outcome = improve(first, time_limit=1)
    assert built.call_count == rounded.call_count >= 1
    assert outcome.cost_pence <= outcome.first_cost_pence + 1e-6


def _fine_flow_bound(model, arcs) -> float:
    """The flow bound at costs scaled by 10**6, not 100: within a millionth of a penny an hour below its exact value."""
    cap = model.capacity[arcs]
    g_ids, g_of = np.unique(model.group[arcs], return_inverse=True)
    g_sup = np.zeros(len(g_ids), np.int64)
    g_sup[g_of] = model.supplier[arcs]
    g_cap = np.minimum(np.bincount(g_of, weights=cap), model.supplier_capacity[g_sup])
    per_hour = model.cost[arcs] + solver.PAIR_CHARGE / np.maximum(cap, 1) + solver.CLUSTER_CHARGE / np.maximum(g_cap[g_of], 1)
    scaled = np.floor(per_hour * 10**6).astype(np.int64)
    units = model.units_of(arcs)
    _, cost = fixed_charge._min_cost_flow(model, arcs, scaled[np.searchsorted(arcs, model.unit_pair[units])])
    return cost / 10**6


@pytest.mark.parametrize("file_format", [1, 2])
@pytest.mark.parametrize("seed", [3, 7])
def test_the_flow_bound_read_off_the_first_answer_is_at_most_the_exact_flow_bound_and_close_to_it(file_format, seed):
    from brokerage.matching.generator import generate

    first = first_answer(parse_instance(generate("S", seed, format=file_format)))
    assert first.amortised_optimal
    model = fixed_charge.model_of(first)
    unit_flow = first.flow if model.slots is None else first.slot_flow
    costs = solver.amortised_costs(first.network)
    for arcs in fixed_charge.components_of(model):
        bound, hours, scaled = fixed_charge.first_answer_bound(model, arcs, unit_flow, costs)
        exact = _fine_flow_bound(model, arcs)
        total = int(hours.sum())
        assert bound <= exact + total * 1e-6  # valid: never above the flow bound's exact value
        assert bound >= exact - total / 100 - 1e-6 * (1 + total) - total * 1e-6  # and at most a hundredth of a penny an hour below
        assert np.array_equal(hours, unit_flow[model.units_of(arcs)]) and np.array_equal(scaled, costs[arcs])


def test_improve_reads_format_2_s_flow_bound_off_a_first_answer_and_solves_it_for_any_other_flow():
    from brokerage.matching.generator import generate

    first = first_answer(parse_instance(generate("S", 7, format=2)))
    never = AssertionError("the flow bound was solved again")
    with patch.object(improve_module, "flow_bound", side_effect=never):
        result = improve(first, time_limit=0)
    with patch.object(improve_module, "flow_bound", wraps=fixed_charge.flow_bound) as solving:
        solved = improve(replace(first, amortised_flow=None), time_limit=0)
    assert solving.call_count == result.components
    assert 0 < result.lower_bound_pence <= result.cost_pence
    assert abs(result.lower_bound_pence - solved.lower_bound_pence) <= first.flow.sum() / 100
    # An improved matching is no longer that min-cost flow: improving it again solves the bound.
    assert not improve(first, time_limit=0.05).matching.amortised_optimal
    assert not solver.optimise(first.network, baseline=True).amortised_optimal


def test_a_matching_made_from_the_first_answer_with_other_hours_is_not_trusted_with_its_flow_bound():
    from brokerage.matching.generator import generate

    first = first_answer(parse_instance(generate("S", 7, format=2)))
    assert first.amortised_optimal
    # The same hours in new arrays are trusted no more than other hours: only optimise's own arrays are.
    for changed in (replace(first, slot_flow=first.slot_flow.copy()), replace(first, flow=first.flow.copy())):
        assert not changed.amortised_optimal
        with patch.object(improve_module, "flow_bound", wraps=fixed_charge.flow_bound) as solving:
            improve(changed, time_limit=0)
        assert solving.call_count > 0


def test_format_1_still_solves_its_flow_bounds(small_generated):
    first = first_answer(parse_instance(small_generated))
    assert first.amortised_optimal
    with patch.object(improve_module, "flow_bound", wraps=fixed_charge.flow_bound) as solving:
        result = improve(first, time_limit=0)
    assert solving.call_count == result.components


def test_a_mip_given_a_work_limit_stops_near_it_and_the_same_way_every_time(small_generated):
    # The whole of this instance's one big component: unlimited, HiGHS spends over 20,000 work units
    # (about 20 s) on it, far past any budget it is given.
    first = first_answer(parse_instance(small_generated))
    model, components = _components_of(first)
    arcs = max(components, key=len)
    flow = first.flow.astype(np.int64)
    runs = [fixed_charge.solve_exact(model, arcs, flow, fixed_charge.closed_all(model, arcs), 200, 2000, work_limit=1000)
            for _ in range(2)]
    (_, _, dual, nodes, work), again = runs[0], runs[1]
    assert fixed_charge.SOLVE_WORK < work <= 1500
    assert (again[2], again[3], again[4]) == (dual, nodes, work)


def test_cut_rounds_stop_when_the_share_left_cannot_pay_for_the_next_solve(small_generated):
    first = first_answer(parse_instance(small_generated))
    model, components = _components_of(first)
    arcs = max(components, key=len)

    def cut_rounds(units: int) -> list[int]:
        """Run the cut rounds on the biggest component with this share; return each round's work."""
        flow = first.flow.astype(np.int64).copy()
        search = improve_module._Search(model, flow, flow, fixed_charge.line_points(first.network))
        cost = fixed_charge.sub_cost(model, arcs, flow[arcs], np.zeros(0, np.int64))
        works, original = [], relaxation.StrongLP.round

        def counted(relaxed, *args, **kwargs):
            added, work = original(relaxed, *args, **kwargs)
            works.append(work)
            return added, work

        with patch.object(relaxation.StrongLP, "round", autospec=True, side_effect=counted):
            bound, _ = improve_module._cut_rounds(model, arcs, flow, -np.inf, cost, budget.Budget(units), search)
        assert np.isfinite(bound)
        return works

    rounds = cut_rounds(10**6)
    assert len(rounds) >= 2  # cuts pay on this component
    # Enough for the first round and a little more, not for the warm solve after it.
    assert len(cut_rounds(rounds[0] + 1)) == 1
