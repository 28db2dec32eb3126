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


# --- the weekly split ------------------------------------------------------------------------------

from datetime import date  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from brokerage.contracts.rules import ContractStatus  # noqa: E402


def test_an_equal_split_gives_everyone_the_same_and_the_odd_pennies_to_the_first():
    assert rules.weekly_parts(26_400, "equal", {"12": 1, "15": 3}, {}) == {"12": 13_200, "15": 13_200}
    assert rules.weekly_parts(100, AllocationRule.equal, {"1": 5, "2": 1, "3": 1}, {}) == {"1": 34, "2": 33, "3": 33}


def test_a_split_by_hours_follows_each_members_share_of_the_hours():
    assert rules.weekly_parts(30_000, "by_hours", {"12": 1, "15": 2}, {"12": 999, "15": 1}) == {"12": 10_000, "15": 20_000}


def test_a_split_by_pledge_follows_each_members_pledge_to_the_group():
    parts = rules.weekly_parts(26_400, "by_pledge", {"12": 1, "15": 1}, {"12": 3_000, "15": 1_000})
    assert parts == {"12": 19_800, "15": 6_600}
    assert not rules.pledges_all_zero("by_pledge", {"12": 1, "15": 1}, {"12": 3_000, "15": 0})


def test_a_member_with_no_pledge_pays_nothing_by_pledge():
    assert rules.weekly_parts(1_000, "by_pledge", {"1": 1, "2": 1}, {"1": 500}) == {"1": 1_000, "2": 0}


def test_a_split_by_pledge_when_nobody_pledges_falls_back_to_equal_and_says_so():
    shares, pledges = {"12": 1, "15": 3}, {"12": 0, "15": 0}
    assert rules.weekly_parts(1_001, "by_pledge", shares, pledges) == {"12": 501, "15": 500}
    assert rules.pledges_all_zero("by_pledge", shares, pledges)
    assert not rules.pledges_all_zero("equal", shares, pledges)


def test_pledges_of_people_the_contract_does_not_serve_do_not_count():
    assert rules.weekly_parts(900, "by_pledge", {"1": 1, "2": 1}, {"1": 100, "2": 200, "3": 100_000}) == {"1": 300, "2": 600}


def test_a_split_with_nobody_to_pay_is_refused():
    with pytest.raises(ValueError):
        rules.weekly_parts(100, "equal", {}, {})


@given(
    total=st.integers(min_value=0, max_value=10_000_000),
    rule=st.sampled_from(list(AllocationRule)),
    members=st.dictionaries(st.integers(min_value=1, max_value=10_000).map(str), st.tuples(st.integers(1, 40), st.integers(0, 100_000)), min_size=1, max_size=12),
)
def test_the_parts_always_add_up_to_the_weekly_cost_exactly(total, rule, members):
    shares = {m: s for m, (s, _) in members.items()}
    pledges = {m: p for m, (_, p) in members.items()}
    parts = rules.weekly_parts(total, rule, shares, pledges)
    assert set(parts) == set(shares)
    assert sum(parts.values()) == total
    assert all(part >= 0 for part in parts.values())
    assert parts == rules.weekly_parts(total, rule, dict(reversed(list(shares.items()))), pledges)  # the same every time


def test_the_weekly_cost_is_hours_times_the_rate_in_pence():
    assert rules.weekly_cost(12, 2_200) == 26_400


# --- notice and ending -----------------------------------------------------------------------------

TODAY = date(2026, 12, 1)


def test_a_contract_may_end_no_sooner_than_the_notice_period_from_today():
    assert rules.earliest_end(TODAY, 4) == date(2026, 12, 29)
    assert rules.end_date_problem(date(2026, 12, 29), today=TODAY, notice_weeks=4, start_date=date(2026, 1, 5)) is None
    problem = rules.end_date_problem(date(2026, 12, 28), today=TODAY, notice_weeks=4, start_date=date(2026, 1, 5))
    assert problem == "Ending needs 4 weeks' notice: choose 29 December 2026 or later"
    assert rules.end_date_problem(date(2026, 12, 1), today=TODAY, notice_weeks=0, start_date=date(2026, 1, 5)) is None


def test_a_contract_cannot_end_before_it_starts():
    problem = rules.end_date_problem(date(2027, 1, 10), today=TODAY, notice_weeks=4, start_date=date(2027, 2, 1))
    assert problem == "The care starts on 1 February 2027; choose an end date after that"


def test_an_ending_contract_has_ended_once_its_last_day_has_passed():
    assert rules.status_on("ending", date(2026, 12, 1), TODAY) == ContractStatus.ending
    assert rules.status_on("ending", date(2026, 11, 30), TODAY) == ContractStatus.ended
    assert rules.status_on("active", None, TODAY) == ContractStatus.active
    assert rules.status_on(ContractStatus.ended, date(2026, 11, 30), TODAY) == ContractStatus.ended


def test_a_contract_goes_from_active_to_ending_to_ended_and_never_back():
    assert rules.move_contract("active", "ending") == ContractStatus.ending
    assert rules.move_contract("ending", "ended") == ContractStatus.ended
    for current, target in (("active", "ended"), ("ended", "active"), ("ending", "active"), ("ended", "ending")):
        with pytest.raises(rules.BadContractMove):
            rules.move_contract(current, target)


def test_each_status_reads_in_plain_english():
    assert [s.label for s in ContractStatus] == ["In place", "Ending: notice given", "Ended"]


@pytest.mark.parametrize(("hours", "rate", "fields"), [
    (0, None, {"hours_per_week"}), (-1, None, {"hours_per_week"}), (None, 0, {"hourly_rate"}), (0, 0, {"hours_per_week", "hourly_rate"}),
    (True, None, {"hours_per_week"}), (10, 2_000, set()), (None, None, set()),
])
def test_new_hours_and_rates_must_be_more_than_nothing(hours, rate, fields):
    assert set(rules.change_problems(hours_per_week=hours, rate_pence=rate)) == fields


# --- the days and times --------------------------------------------------------------------------


@pytest.mark.parametrize(("times", "hours", "problem"), [
    ({"mon_am": 6, "thu_pm": 6}, 12, None),
    ({"mon_am": 168}, 168, None),
    ({"mon_am": 6, "thu_pm": 4}, 12, "The times add up to 10 hours a week, not the 12 hours a week of the care"),
    ({"mon_am": 1}, 2, "The times add up to 1 hour a week, not the 2 hours a week of the care"),
    ({"mon_am": 6, "thu_pm": 4}, None, None),  # the hours are wrong themselves: the sum is not checked
    ({"mon_am": 169}, 169, "Monday morning hours must be a whole number from 0 to 168"),
    ({"mon_am": 2.5}, 12, "Monday morning hours must be a whole number from 0 to 168"),
    ({"mon_am": "12"}, 12, "Monday morning hours must be a whole number from 0 to 168"),
    ({"mon_am": True}, 1, "Monday morning hours must be a whole number from 0 to 168"),
    ({"elevenses": 12}, 12, "Enter hours only for the times of day on the form"),
    ({}, 12, "Enter the hours for at least one time of day"),
    ({"mon_am": 0}, 12, "Enter the hours for at least one time of day"),
    (["mon_am"], 12, "Enter the hours for at least one time of day"),
])
def test_a_contracts_times_are_whole_hours_in_real_times_of_day_adding_up_to_its_hours(times, hours, problem):
    assert rules.times_problem(times, hours_per_week=hours) == problem


def test_a_wrong_sum_of_times_says_what_to_do_when_asked():
    assert rules.times_problem({"mon_am": 3}, hours_per_week=4, remedy="Make them match") == (
        "The times add up to 3 hours a week, not the 4 hours a week of the care. Make them match")
    assert rules.times_problem({"mon_am": 169}, hours_per_week=4, remedy="Make them match").endswith("from 0 to 168")
