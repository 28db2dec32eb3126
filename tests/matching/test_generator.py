"""Generated instances are valid, local, clustered and the same for the same seed."""

from __future__ import annotations

from collections import Counter

import pytest

from brokerage.matching.generator import generate
from brokerage.matching.instance import parse_instance
from brokerage.matching.rules import can_serve


def test_the_same_seed_gives_the_same_instance_and_another_seed_does_not():
    assert generate("S", 3) == generate("S", 3)
    assert generate("S", 3) != generate("S", 4)


def test_a_small_council_is_valid_clustered_and_local(small_generated):
    instance = parse_instance(small_generated)
    assert len(instance.demand) == 300 and len(instance.supply) == 400
    sizes = Counter(d.cluster for d in instance.demand)
    assert min(sizes.values()) >= 3 and max(sizes.values()) <= 8
    lats = [d.lat for d in instance.demand]
    assert max(lats) - min(lats) < 0.5  # one town, not the country
    assert {"so", "gu"} & {c for d in instance.demand for c in d.languages}


def test_most_current_suppliers_can_still_serve_their_line(small_generated):
    instance = parse_instance(small_generated)
    supply = {s.id: s for s in instance.supply}
    current = [d for d in instance.demand if d.current_supplier]
    assert len(current) > 60
    feasible = sum(can_serve(d, supply[d.current_supplier]) for d in current)
    assert feasible / len(current) > 0.8


def test_rates_radii_and_capacities_are_in_range(small_generated):
    instance = parse_instance(small_generated)
    assert all(1800 <= s.rate_pence <= 3000 for s in instance.supply)
    assert all(1.5 <= s.radius_km <= 15 for s in instance.supply)
    assert all(10 <= s.capacity_hours <= 300 for s in instance.supply)


def test_an_unknown_scale_is_refused():
    with pytest.raises(ValueError):
        generate("XL", 1)
