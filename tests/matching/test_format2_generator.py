"""`generate(..., format=2)`: hours spread over times of day, realistic, repeatable; format 1 unchanged."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from brokerage.matching.check import broken_constraints
from brokerage.matching.files import encode
from brokerage.matching.generator import VISIT_MAX, generate
from brokerage.matching.instance import parse_instance
from brokerage.matching.vocabulary import SLOTS


@pytest.fixture(scope="module")
def format_2() -> dict:
    return generate("S", 7, format=2)


def test_format_1_is_the_same_as_before_format_2_existed():
    # The bytes `generate --scale S --seed 7` wrote before format 2: format 2 draws from a
    # generator of its own, so format 1 does not move. Change this only on purpose.
    text = encode(generate("S", 7), ("demand", "supply"))
    assert hashlib.sha256(text.encode()).hexdigest() == "69622faaa171b0f7f03e0f1da1c53ca3199c0d67c4fcdd8a88f4c7f7b16bbee7"
    assert generate("S", 7, format=1) == generate("S", 7)


def test_the_same_seed_gives_the_same_format_2_instance(format_2):
    assert generate("S", 7, format=2) == format_2
    assert generate("S", 8, format=2) != format_2


def test_it_parses_as_format_2_and_writes_back_the_same(format_2):
    assert format_2["format"] == "carepool-matching/2"
    instance = parse_instance(format_2)
    assert instance.format == 2 and len(instance.demand) == 300 and len(instance.supply) == 400
    assert instance.to_dict() == format_2
    assert list(format_2["demand"][0]) == ["id", "cluster", "service", "slot_hours", "languages", "language_required",
                                           "carer_gender", "location", "max_rate_pence", "current_supplier"]
    assert list(format_2["supply"][0])[:5] == ["id", "kind", "services", "slot_hours", "capacity_hours"]


def test_each_lines_weekly_hours_are_spread_over_its_times_of_day(format_2):
    same_seed = generate("S", 7)
    for old, new in zip(same_seed["demand"], format_2["demand"]):
        hours = new["slot_hours"]
        assert sum(hours.values()) == old["hours"]  # the same people need the same hours
        assert list(hours) == [s for s in SLOTS if s in hours]  # week order
        assert all(1 <= h <= VISIT_MAX for h in hours.values())
        # Times are kept, some dropped when there are fewer hours than times, added when too few.
        if len(old["slots"]) <= old["hours"] and old["hours"] <= VISIT_MAX * len(old["slots"]):
            assert set(hours) == set(old["slots"])
    spread = Counter(len(d["slot_hours"]) for d in format_2["demand"])
    assert spread[1] < 60 and sum(n for k, n in spread.items() if k >= 3) > 150


def test_suppliers_hours_are_spread_over_the_times_they_work(format_2):
    instance = parse_instance(format_2)
    for old, new in zip(generate("S", 7)["supply"], format_2["supply"]):
        assert set(new["slot_hours"]) == set(old["slots"])
        assert all(h >= 1 for h in new["slot_hours"].values())
    people = [s for s in instance.supply if s.kind == "pa"]
    assert people and all(s.capped and all(2 <= h <= VISIT_MAX for h in s.slot_hours.values()) for s in people)
    assert all(s.capped for s in instance.supply if s.kind == "micro_provider")
    agencies = [s for s in instance.supply if s.kind in ("coop", "cic", "charity", "private")]
    uncapped = [s for s in agencies if not s.capped]
    assert 0.25 < len(uncapped) / len(agencies) < 0.75
    assert all(s.capacity_hours == sum(s.slot_hours.values()) for s in uncapped)
    # A cap that never binds is no cap: every capped supplier can offer at least its cap in slots.
    assert all(s.capacity_hours <= sum(s.slot_hours.values()) for s in instance.supply if s.capped)
    assert any(s.capacity_hours < sum(s.slot_hours.values()) for s in instance.supply if s.capped)


def test_most_current_suppliers_can_still_serve_their_line_in_format_2(format_2):
    instance = parse_instance(format_2)
    supply = {s.id: s for s in instance.supply}
    current = [d for d in instance.demand if d.current_supplier]
    assert len(current) > 60
    feasible = sum(not broken_constraints(d, supply[d.current_supplier]) for d in current)
    assert feasible / len(current) > 0.8


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="format must be 1 or 2"):
        generate("S", 1, format=3)
