"""Pure contract rules: visits of at least 30 minutes, and the allocation rules in plain English."""

from __future__ import annotations

import pytest

from brokerage.contracts import rules
from brokerage.contracts.rules import AllocationRule


@pytest.mark.parametrize("minutes", [30, 31, 60, 24 * 60])
def test_visits_of_thirty_minutes_or_more_are_allowed(minutes):
    rules.check_min_visit(minutes)


@pytest.mark.parametrize("minutes", [29, 15, 0, -30, 30.0, "30", True, None])
def test_shorter_visits_and_anything_but_whole_minutes_are_refused(minutes):
    with pytest.raises(ValueError):
        rules.check_min_visit(minutes)


def test_each_allocation_rule_has_a_plain_english_label():
    assert AllocationRule.equal.label == "Shared equally"
    assert AllocationRule.by_hours.label == "By hours each member uses"
    assert AllocationRule.by_pledge.label == "In proportion to pledges"
