"""The KD-tree pair builder finds exactly the pairs the scalar rules accept."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from brokerage.matching.instance import parse_instance
from brokerage.matching.pairs import feasible_pairs
from tests.matching.conftest import instance_of, line, supplier
from tests.matching.helpers import brute_force_pairs
from tests.matching.strategies import instances


def found(instance):
    pairs = feasible_pairs(instance)
    return list(zip(pairs.demand.tolist(), pairs.supply.tolist()))


@settings(max_examples=60, deadline=None)
@given(instances())
def test_pairs_match_brute_force_on_random_instances(doc):
    instance = parse_instance(doc)
    assert found(instance) == brute_force_pairs(instance)


def test_pairs_match_brute_force_on_a_generated_council(small_generated):
    instance = parse_instance(small_generated)
    assert found(instance) == brute_force_pairs(instance)


def test_a_radius_on_the_boundary_agrees_with_the_scalar_rule():
    from brokerage.matching.rules import distance_km

    probe = parse_instance(instance_of([line()], [supplier()]))
    exact = distance_km(probe.demand[0], probe.supply[0])
    for radius in (exact, exact - 1e-10, exact - 1e-8, exact + 1e-12):
        instance = parse_instance(instance_of([line()], [supplier(radius_km=radius)]))
        assert found(instance) == brute_force_pairs(instance)


def test_funnel_counts_say_where_candidates_were_lost():
    lines = [line(id="d-1", slots=["sun_eve"]), line(id="d-2"), line(id="d-3", max_rate_pence=100)]
    instance = parse_instance(instance_of(lines, [supplier(), supplier(id="s-2", vetted=False)]))
    pairs = feasible_pairs(instance)
    assert pairs.n_reach.tolist() == [1, 1, 1]  # the unvetted supplier never counts
    assert pairs.n_slots.tolist() == [0, 1, 1]
    assert pairs.n_feasible.tolist() == [0, 1, 0]
    assert pairs.cheapest_over_cap.tolist() == [-1, -1, 2150]
    assert np.all(pairs.distance_km < 1.1)
