"""Community wealth's pure rules: local providers, the measures, shares, and suppression for the public report."""

from __future__ import annotations

import pytest

from brokerage.transparency.rules import (
    LocalRule, ProviderFacts, Figure, Sum, centre_of, is_local, measures_of, percent, share_tenths, suppress,
)

WHITECHAPEL = (51.5155, -0.0590)  # E1
STRATFORD = (51.5400, 0.0000)  # E15, about 4.9 km from E1
CROYDON = (51.3762, -0.0982)  # CR0, about 15.7 km from E1


# --- local providers --------------------------------------------------------------------------------


def test_a_provider_in_one_of_the_councils_districts_is_local_wherever_its_point_is():
    rule = LocalRule(districts=frozenset({"E1", "E2"}))
    assert is_local(rule, district="e1", lat=CROYDON[0], lon=CROYDON[1])
    assert is_local(rule, district=" E 2 ", lat=0.0, lon=0.0)
    assert not is_local(rule, district="E15", lat=WHITECHAPEL[0], lon=WHITECHAPEL[1])


def test_with_a_distance_a_provider_outside_the_districts_is_local_within_it_of_their_centre():
    rule = LocalRule(districts=frozenset({"E1"}), centre=WHITECHAPEL, distance_km=5.0)
    assert is_local(rule, district="E15", lat=STRATFORD[0], lon=STRATFORD[1])
    assert not is_local(rule, district="CR0", lat=CROYDON[0], lon=CROYDON[1])
    assert not is_local(LocalRule(districts=frozenset({"E1"}), centre=WHITECHAPEL, distance_km=4.0), district="E15", lat=STRATFORD[0], lon=STRATFORD[1])


def test_without_a_known_centre_the_distance_counts_nobody():
    rule = LocalRule(districts=frozenset({"E1"}), centre=None, distance_km=50.0)
    assert not rule.uses_distance
    assert not is_local(rule, district="E15", lat=STRATFORD[0], lon=STRATFORD[1])


def test_the_centre_is_the_mean_of_the_district_centres_each_district_counting_once():
    # E1 known from 3 places around (51.5, -0.06), E2 from 1 place at (51.6, 0.0): the centre lies half way, not 3/4 of the way.
    assert centre_of([(3 * 51.5, 3 * -0.06, 3), (51.6, 0.0, 1)]) == pytest.approx((51.55, -0.03))
    assert centre_of([]) is None
    assert centre_of([(0.0, 0.0, 0)]) is None


# --- the measures and shares ----------------------------------------------------------------------


def test_a_small_local_co_operative_counts_towards_each_of_its_measures():
    facts = ProviderFacts(kind="coop", local=True, staff_count=4, living_wage=True, ethical_care_charter=False)
    assert measures_of(facts) == {"local", "coop", "micro", "living_wage"}


def test_five_staff_is_micro_and_six_is_not():
    base = dict(kind="private", local=False, living_wage=False, ethical_care_charter=True)
    assert measures_of(ProviderFacts(staff_count=5, **base)) == {"micro", "ethical_care"}
    assert measures_of(ProviderFacts(staff_count=6, **base)) == {"ethical_care"}


@pytest.mark.parametrize("part, whole, tenths", [(1, 3, 333), (2, 3, 667), (1, 8, 125), (1, 16, 63), (0, 10, 0), (10, 10, 1000), (-1, 8, -125)])
def test_a_share_is_in_tenths_of_a_percent_rounded_half_away_from_zero(part, whole, tenths):
    assert share_tenths(part, whole) == tenths


def test_a_month_with_no_spend_has_no_share_rather_than_none_percent():
    assert share_tenths(0, 0) is None
    assert share_tenths(500, -100) is None
    assert percent(None) == "no spend"
    assert (percent(425), percent(0), percent(1000), percent(-5)) == ("42.5%", "0.0%", "100.0%", "−0.5%")


# --- suppression ---------------------------------------------------------------------------------


def row(parts: dict[str, tuple[int, int]], total_people: int | None = None) -> tuple[dict[str, Figure], list[Sum]]:
    """Return figures for parts that add up to a total: each part (pence, people) is its own atom."""
    figures = {key: Figure(pence=pence, people=people, atoms=frozenset({key})) for key, (pence, people) in parts.items()}
    total_people = total_people if total_people is not None else sum(people for _, people in parts.values())
    figures["total"] = Figure(pence=sum(p for p, _ in parts.values()), people=total_people, atoms=frozenset(parts))
    return figures, [Sum("total", tuple(parts))]


def test_a_figure_about_four_people_is_hidden_and_one_about_five_is_shown():
    figures = {"four": Figure(100, 4), "five": Figure(100, 5), "none": Figure(0, 0)}
    assert suppress(figures) == {"four"}


def test_a_hidden_part_cannot_be_worked_out_from_the_total_and_the_parts_shown():
    figures, sums = row({"coop": (4_000, 4), "cic": (9_000, 7), "charity": (30_000, 20), "private": (50_000, 40)})
    hidden = suppress(figures, sums)
    # The co-op (4 people) is hidden, and so is the next smallest, so the total minus what is shown is two figures' sum.
    assert hidden == {"coop", "cic"}
    shown = sum(figures[key].pence for key in ("charity", "private"))
    assert figures["total"].pence - shown != figures["coop"].pence


def test_two_small_hidden_parts_together_still_about_fewer_than_five_people_hide_another():
    figures, sums = row({"coop": (4_000, 2), "cic": (2_000, 2), "charity": (30_000, 20), "private": (50_000, 40)})
    assert suppress(figures, sums) == {"coop", "cic", "charity"}


def test_a_part_that_is_the_whole_total_hides_the_total_too():
    figures, sums = row({"coop": (4_000, 3), "cic": (0, 0), "charity": (0, 0)})
    assert suppress(figures, sums) == {"coop", "total"}


def test_a_row_with_nothing_small_hides_nothing():
    figures, sums = row({"coop": (4_000, 5), "cic": (0, 0), "charity": (30_000, 20)})
    assert suppress(figures, sums) == set()


def test_an_unpublished_remainder_about_three_people_hides_the_figure_that_would_give_it_away():
    # "local" is shown as a share of the total; the spend that is not local is about 3 people, and total minus local would show it.
    figures = {
        "total": Figure(10_000, 30, frozenset({"a", "b"})),
        "local": Figure(9_000, 27, frozenset({"a"})),
        "not:local": Figure(1_000, 3, frozenset({"b"}), published=False),
    }
    assert suppress(figures, [Sum("total", ("local", "not:local"))]) == {"local"}


def test_a_hidden_figure_cannot_be_worked_out_from_another_table_either():
    # Personal assistants (3 people) are hidden among the kinds; micro-providers are assistants plus micro-enterprises,
    # so "micro" minus "micro-enterprises" would give the assistants away unless one of those is hidden too.
    atoms = {"pa": 3, "micro_provider": 12, "coop": 40}
    figures = {
        "spent": Figure(100_000, 55, frozenset(atoms)),
        "kind:pa": Figure(3_000, 3, frozenset({"pa"})),
        "kind:micro_provider": Figure(12_000, 12, frozenset({"micro_provider"})),
        "kind:coop": Figure(85_000, 40, frozenset({"coop"})),
        "micro": Figure(15_000, 15, frozenset({"pa", "micro_provider"})),
        "not:micro": Figure(85_000, 40, frozenset({"coop"}), published=False),
    }
    sums = [Sum("spent", ("kind:pa", "kind:micro_provider", "kind:coop")), Sum("spent", ("micro", "not:micro"))]
    hidden = suppress(figures, sums, atoms=atoms)
    assert "kind:pa" in hidden
    assert "kind:micro_provider" in hidden or "micro" in hidden
    assert not _recoverable(figures, hidden, "kind:pa")


def test_a_small_group_that_is_no_figure_of_its_own_cannot_be_worked_out():
    # Two figures differing by exactly one small group (atom "x", 2 people): one of them must go.
    figures = {
        "big": Figure(20_000, 30, frozenset({"x", "y"})),
        "bigger": Figure(21_000, 32, frozenset({"x", "y", "z"})),
    }
    hidden = suppress(figures, [], atoms={"x": 20, "y": 10, "z": 2})
    assert hidden == {"big"}


def _recoverable(figures: dict[str, Figure], hidden, key: str) -> bool:
    """Tell, by brute force over small integer combinations, whether shown figures add and subtract to the hidden one's atoms."""
    import itertools

    shown = [k for k in figures if k not in hidden and figures[k].published]
    atoms = sorted({a for f in figures.values() for a in f.atoms})
    target = [1 if a in figures[key].atoms else 0 for a in atoms]
    for coefficients in itertools.product((-1, 0, 1), repeat=len(shown)):
        total = [sum(c * (1 if a in figures[k].atoms else 0) for c, k in zip(coefficients, shown)) for a in atoms]
        if total == target:
            return True
    return False
