"""Hours per time of day: spreading weekly hours, taking care off, fitting a changed part, checking a form's hours, and the words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerage.formatting import slot_hours_words, when_words
from brokerage.slot_hours import at_most, fit, in_week_order, slot_hours_problems, spread_hours, take_earliest, total, without
from brokerage.vocabulary import SLOTS

HOME_CARE = ["fri_pm", "mon_am", "tue_am", "wed_am", "thu_am"]


def test_weekly_hours_spread_evenly_with_the_remainder_on_the_earliest_times():
    assert spread_hours(14, HOME_CARE) == {"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}
    assert list(spread_hours(14, HOME_CARE)) == ["mon_am", "tue_am", "wed_am", "thu_am", "fri_pm"]  # in the order of the week
    assert spread_hours(2, ["sat_am", "mon_pm", "sun_eve"]) == {"mon_pm": 1, "sat_am": 1}  # a time with no hours is no time
    assert spread_hours(0, ["mon_am"]) == {} and spread_hours(5, []) == {} and spread_hours(5, ["someday"]) == {}


def test_a_providers_capacity_spread_keeps_every_one_of_its_times():
    assert spread_hours(2, ["mon_am", "tue_am", "wed_am"], at_least_one=True) == {"mon_am": 1, "tue_am": 1, "wed_am": 1}
    assert spread_hours(0, ["sun_eve"], at_least_one=True) == {"sun_eve": 1}
    assert spread_hours(7, ["mon_am", "tue_am"], at_least_one=True) == {"mon_am": 4, "tue_am": 3}


@given(st.integers(0, 500), st.sets(st.sampled_from(SLOTS), min_size=1))
def test_a_spread_adds_up_to_the_weekly_hours_and_differs_by_one_hour_at_most(hours, slots):
    spread = spread_hours(hours, slots)
    assert total(spread) == hours and set(spread) <= slots
    if hours >= len(slots):
        assert max(spread.values()) - min(spread.values()) <= 1 and set(spread) == slots


def test_care_is_taken_off_slot_by_slot_and_never_below_nothing():
    week = {"mon_am": 3, "tue_am": 3, "fri_pm": 2}
    assert without(week, {"tue_am": 5, "sun_eve": 1}) == {"mon_am": 3, "fri_pm": 2}
    assert take_earliest(week, 4) == {"tue_am": 2, "fri_pm": 2}
    assert take_earliest(week, 0) == week and take_earliest(week, -3) == week
    assert at_most(week, 5) == {"mon_am": 3, "tue_am": 2} and at_most(week, 99) == week and at_most(week, 0) == {}


def test_a_part_changed_to_fewer_hours_keeps_its_earliest_times_and_to_more_grows_into_the_room():
    part = {"sat_am": 3, "sat_pm": 3, "sun_am": 2}
    assert fit(part, 4, {}) == {"sat_am": 3, "sat_pm": 1}
    assert fit(part, 10, {"sun_am": 1, "sun_pm": 5}) == {"sat_am": 3, "sat_pm": 3, "sun_am": 3, "sun_pm": 1}
    assert fit(part, 20, {"sun_pm": 5}) is None


def test_week_order_drops_empty_times_and_puts_monday_morning_first():
    assert list(in_week_order({"sun_eve": 1, "mon_pm": 0, "mon_am": 2})) == ["mon_am", "sun_eve"]
    assert in_week_order(None) == {}


@pytest.mark.parametrize(("value", "problem"), [
    ({"mon_am": 3}, None),
    ({"mon_am": 40, "mon_pm": 0}, None),
    ({}, "Enter the hours for at least one time of day"),
    (None, "Enter the hours for at least one time of day"),
    ({"mon_am": 0}, "Enter the hours for at least one time of day"),
    ({"mon_am": 41}, "Monday morning hours must be a whole number from 0 to 40"),
    ({"sun_eve": -1}, "Sunday evening hours must be a whole number from 0 to 40"),
    ({"sun_eve": 2.5}, "Sunday evening hours must be a whole number from 0 to 40"),
    ({"sun_eve": True}, "Sunday evening hours must be a whole number from 0 to 40"),
    ({"noon": 2}, "Enter hours only for the times of day on the form"),
    ({"mon_am": 40, "tue_am": 40, "wed_am": 40, "thu_am": 40, "fri_am": 40}, "The hours add up to 200 a week: enter no more than 168 in all"),
])
def test_a_forms_hours_per_time_of_day_are_checked(value, problem):
    assert slot_hours_problems(value, most=40, total_most=168) == problem


@pytest.mark.parametrize(("slot_hours", "words"), [
    ({"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}, "Monday to Thursday mornings, 3 hours each; Friday afternoon, 2 hours"),
    ({"mon_am": 3, "wed_am": 3}, "Monday and Wednesday mornings, 3 hours each"),
    ({"sun_eve": 1}, "Sunday evening, 1 hour"),
    ({"mon_am": 2, "tue_am": 2, "thu_am": 2, "fri_am": 2, "sat_am": 2}, "Monday, Tuesday and Thursday to Saturday mornings, 2 hours each"),
    ({}, "No times given"),
])
def test_hours_per_time_of_day_are_said_in_plain_words(slot_hours, words):
    assert slot_hours_words(slot_hours) == words


def test_when_says_hours_per_time_of_day_or_just_the_times():
    assert when_words({"sun_eve": 4}) == "Sunday evening, 4 hours"
    assert when_words(["sun_eve"]) == "Evenings on Sunday"
