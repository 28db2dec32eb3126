"""The benchmark's exact solve (brokerage.matching.exact) agrees with MIPs written in the tests, in both formats."""

from __future__ import annotations

import math

from hypothesis import given, settings

from brokerage.matching import solver
from brokerage.matching.exact import solve_whole
from brokerage.matching.instance import parse_instance
from tests.matching.conftest import instance_of, line, supplier
from tests.matching.strategies import instances
from tests.matching.test_format2_improve import _seeded_instance, exact_optimum_pence
from tests.matching.test_improve import first_answer, full_mip_optimum


@settings(max_examples=15, deadline=None)
@given(instances(max_demand=6, max_supply=5))
def test_on_small_format_1_instances_it_proves_the_full_mips_optimum(doc):
    first = first_answer(parse_instance(doc))
    run = solve_whole(first, seconds=30)
    optimum = full_mip_optimum(first)
    assert run.optimal
    assert math.isclose(run.cost_pence, optimum, rel_tol=1e-6, abs_tol=1e-3)
    assert run.lower_bound_pence <= optimum + 1e-3


def test_on_small_format_2_instances_it_proves_the_slot_mips_optimum():
    for seed in range(6):
        first = solver.optimise(solver.build_network(_seeded_instance(seed)))
        run = solve_whole(first, seconds=30)
        optimum = exact_optimum_pence(first.network)
        assert run.optimal, seed
        assert math.isclose(run.cost_pence, optimum, rel_tol=1e-6, abs_tol=1e-3), seed
        assert run.lower_bound_pence <= optimum + 1e-3, seed


def test_it_counts_a_line_as_split_only_when_more_than_one_provider_serves_it():
    # 10 hours, and no provider can give more than 6: covering them all takes two providers.
    split = first_answer(parse_instance(instance_of([line(hours=10)], [supplier(capacity_hours=6), supplier(id="s-0002", capacity_hours=6)])))
    assert solve_whole(split, seconds=30).split_lines == 1
    # 4 hours, and either provider could give them all: the optimum does not split.
    whole = first_answer(parse_instance(instance_of([line(hours=4)], [supplier(capacity_hours=6), supplier(id="s-0002", capacity_hours=6)])))
    assert solve_whole(whole, seconds=30).split_lines == 0


def test_the_bench_gives_a_bound_highs_had_no_time_to_prove_as_null_not_infinity():
    import json

    from brokerage.matching.exact import ExactRun
    from brokerage_bench.match import exact_figures

    unproven = exact_figures(ExactRun(None, float("-inf"), False, None), 1.0, 1234.5)
    assert unproven["exact_lower_bound"] is None and unproven["gap_to_exact_bound_pct"] is None
    assert "Infinity" not in json.dumps(unproven)
    proven = exact_figures(ExactRun(123_000.0, 120_000.0, False, 3), 1.0, 1234.5)
    assert (proven["exact_lower_bound"], proven["exact_cost"], proven["gap_to_exact_bound_pct"]) == (1200.0, 1230.0, 2.795)
