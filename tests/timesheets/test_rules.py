"""The pure rules of timesheets: moves, weeks, visit checks, pay rounded half up, and the split by each allocation rule."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerage.contracts import rules as contract_rules
from brokerage.formatting import minutes_words, time_of_day, weekday_date
from brokerage.timesheets import rules
from brokerage.timesheets import travel as travel_words
from brokerage.timesheets.rules import CannotShare, Terms, VisitIn

MONDAY = date(2026, 11, 30)
TERMS = Terms(members=frozenset({1, 2, 3}), hours_per_week=10, min_visit_minutes=60, start_date=MONDAY, end_date=None)


def visit(holder=1, day=0, start=time(9), minutes=60, travel=0):
    return VisitIn(holder_id=holder, visit_date=date.fromordinal(MONDAY.toordinal() + day), start=start, minutes=minutes, travel_minutes=travel)


def problems(v, others=(), terms=TERMS, now=datetime(2026, 12, 9, 10, 0)):
    return rules.visit_problems(terms=terms, week="2026-W49", visit=v, others=list(others), now=now, names={1: "Amina Hassan"})


def test_a_sheet_goes_draft_submitted_then_approved_or_back_and_approved_is_final():
    assert rules.move_timesheet("draft", "submitted") == rules.TimesheetStatus.submitted
    assert rules.move_timesheet("rejected", "submitted") == rules.TimesheetStatus.submitted
    for target in ("draft", "submitted", "rejected"):
        with pytest.raises(rules.BadTimesheetMove, match="that is approved cannot become"):
            rules.move_timesheet("approved", target)
    with pytest.raises(rules.BadTimesheetMove):
        rules.move_timesheet("draft", "approved")


def test_weeks_are_canonical_iso_weeks():
    assert rules.week_monday("2026-W49") == MONDAY
    assert rules.week_of_day(date(2026, 12, 6)) == "2026-W49" and rules.week_of_day(date(2027, 1, 1)) == "2026-W53"
    assert rules.week_days("2026-W49")[-1] == date(2026, 12, 6)
    assert rules.weeks_between(date(2026, 11, 25), date(2026, 12, 7)) == ["2026-W50", "2026-W49", "2026-W48"]
    for bad in ("2026-W5", "2026W49", "２０２６-W49", "2026-W60", ""):
        with pytest.raises(ValueError):
            rules.week_monday(bad)


@pytest.mark.parametrize(("text", "expected"), [
    ("9:30", time(9, 30)), ("09:30", time(9, 30)), ("14:00", time(14)), ("9.30am", time(9, 30)), ("2pm", time(14)),
    ("12am", time(0)), ("12:15pm", time(12, 15)), (" 7:05 PM ", time(19, 5)),
])
def test_start_times_are_read_as_people_write_them(text, expected):
    assert rules.parse_start(text) == expected


@pytest.mark.parametrize("text", ["9", "25:00", "9:75", "13pm", "noonish", "", "٩:٣٠"])
def test_start_times_that_are_not_times_are_refused(text):
    with pytest.raises(ValueError):
        rules.parse_start(text)


def test_lengths_days_and_times_read_plainly():
    assert [minutes_words(m) for m in (45, 60, 90, 80, 600)] == ["45 minutes", "1 hour", "1 hour 30 minutes", "1 hour 20 minutes", "10 hours"]
    assert weekday_date(MONDAY) == "Monday 30 November 2026"
    assert [time_of_day(t) for t in (time(9, 30), time(12), time(0), time(14, 5))] == ["9:30am", "midday", "midnight", "2:05pm"]


def test_a_visit_within_the_contract_and_the_week_has_no_problems():
    assert problems(visit(minutes=60)) == {}


def test_a_short_visit_is_refused_by_the_contracts_own_term_citing_no_charter_the_provider_may_not_have_signed():
    assert problems(visit(minutes=45))["minutes"] == "A visit under this contract lasts at least 1 hour: the contract does not pay for rushed short visits"


def test_each_way_a_visit_breaks_the_rules_is_named_beside_its_field():
    assert set(problems(visit(holder=9))) == {"holder_id"}
    assert set(problems(visit(minutes=59))) == {"minutes"}
    assert set(problems(visit(day=7))) == {"visit_date"}
    assert set(problems(visit(day=-1))) == {"visit_date"}
    assert set(problems(visit(travel=-1))) == {"travel_minutes"}
    assert "has not come yet" in problems(visit(day=3), now=datetime(2026, 12, 2, 23, 59))["visit_date"]
    late = Terms(members=frozenset({1}), hours_per_week=10, min_visit_minutes=60, start_date=date(2026, 12, 2), end_date=None)
    assert "starts on Wednesday 2 December 2026" in problems(visit(day=1), terms=late)["visit_date"]
    ended = Terms(members=frozenset({1}), hours_per_week=10, min_visit_minutes=60, start_date=MONDAY, end_date=date(2026, 12, 1))
    assert "ended on Tuesday 1 December 2026" in problems(visit(day=2), terms=ended)["visit_date"]


def test_a_visit_after_a_leavers_last_day_is_refused():
    leaving = Terms(members=frozenset({1}), hours_per_week=10, min_visit_minutes=60, start_date=MONDAY, end_date=None,
                    last_days={1: date(2026, 12, 2)})
    assert problems(visit(day=2), terms=leaving) == {}  # their last day is still theirs
    refused = problems(visit(day=3), terms=leaving)["visit_date"]
    assert "left the group after Wednesday 2 December 2026" in refused and "not paid from the group's pool" in refused


def test_a_week_past_the_calendars_end_is_no_week():
    for week in ("9999-W52", "0000-W01", "2025-W53", "2026-W00"):
        with pytest.raises(ValueError):
            rules.week_days(week)
    assert rules.week_days("2020-W53")[0] == date(2020, 12, 28)


def test_the_weeks_hours_count_every_visit_and_stop_at_the_contracts_hours():
    others = [visit(day=d, minutes=180) for d in range(3)]
    assert problems(visit(day=4, minutes=60), others) == {}
    assert "would make the week's care 10 hours 1 minute" in problems(visit(day=4, minutes=61), others)["minutes"]


def test_pay_rounds_half_a_penny_up_and_less_down():
    assert rules.pay_for(60, 2150) == 2150
    assert rules.pay_for(1, 30) == 1  # 0.5p rounds up
    assert rules.pay_for(1, 29) == 0  # 0.483p rounds down
    assert rules.pay_for(80, 2150) == 2867  # 2866.67p
    assert rules.pay_for(0, 2150) == 0
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            rules.pay_for(bad, 2150)


@given(st.integers(0, 10_000), st.integers(0, 100_000))
def test_pay_is_the_exact_amount_rounded_half_up(minutes, rate):
    exact = minutes * rate / 60
    assert abs(rules.pay_for(minutes, rate) - exact) <= 0.5
    assert (rules.pay_for(minutes, rate) * 60 - minutes * rate) in range(-29, 31)  # half a penny (30) rounds up, less rounds down


def test_travel_counts_as_paid_time_only_under_the_charter_and_the_parts_add_up():
    visits = [visit(minutes=60, travel=40), visit(day=1, minutes=90, travel=40)]
    paid = rules.week_pay(visits=visits, rate_pence=2150, travel_paid=True)
    assert (paid.care_minutes, paid.travel_minutes, paid.paid_minutes, paid.total_pence) == (150, 80, 230, 8242)
    assert paid.travel_pence == 2867 and paid.care_pence + paid.travel_pence == paid.total_pence
    unpaid = rules.week_pay(visits=visits, rate_pence=2150, travel_paid=False)
    assert (unpaid.paid_minutes, unpaid.total_pence, unpaid.travel_pence) == (150, 5375, 0)
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=True, pay=paid) == (
        "Travel time is paid because Bridge Care has signed the Ethical Care Charter: 1 hour 20 minutes of travel at £21.50 an hour = £28.67."
    )
    assert "recorded but not paid" in travel_words.travel_sentence(provider_name="Bridge Care", charter=False, pay=unpaid)
    none = rules.week_pay(visits=[visit(minutes=60)], rate_pence=2150, travel_paid=True)
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=True, pay=none) == (
        "Travel time is paid because Bridge Care has signed the Ethical Care Charter: no travel is recorded this week."
    )
    # The provider reads their own sheet about "you", not about themselves by name.
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=True, pay=paid, to_provider=True).startswith(
        "Travel time is paid because you have signed the Ethical Care Charter: 1 hour 20 minutes")
    assert travel_words.travel_sentence(provider_name="Bridge Care", charter=False, pay=unpaid, to_provider=True) == (
        "Travel time is recorded but not paid: you have not signed the Ethical Care Charter (1 hour 20 minutes of travel this week)."
    )


def test_each_visits_pay_adds_up_to_the_weeks_total():
    visits = [visit(minutes=60), visit(day=1, minutes=60), visit(day=2, minutes=60)]
    assert rules.visit_pay(visits=visits, total_pence=100, travel_paid=False) == [34, 33, 33]


def test_the_split_follows_the_rule_with_largest_remainder():
    common = dict(members=[1, 2, 3], paid_minutes={1: 150, 2: 90}, pledges={1: 3000, 2: 2000, 3: 1000})
    assert rules.split_cost(total_pence=8600, rule="equal", **common) == {1: 2867, 2: 2867, 3: 2866}
    assert rules.split_cost(total_pence=8600, rule="by_hours", **common) == {1: 5375, 2: 3225}
    assert rules.split_cost(total_pence=8600, rule="by_pledge", **common) == {1: 4300, 2: 2867, 3: 1433}
    with pytest.raises(CannotShare, match="nobody"):
        rules.split_cost(total_pence=100, rule="equal", members=[], paid_minutes={}, pledges={})


def test_by_pledge_with_no_pledges_is_shared_equally_as_the_contract_page_says():
    # The one split rule (contracts.rules.weekly_parts): the contract and vote pages promise equal parts here.
    assert rules.split_cost(total_pence=100, rule="by_pledge", members=[1, 2, 3], paid_minutes={1: 60}, pledges={}) == {1: 34, 2: 33, 3: 33}
    assert contract_rules.weekly_parts(100, "by_pledge", {"1": 1, "2": 1, "3": 1}, {}) == {"1": 34, "2": 33, "3": 33}
    assert rules.split_cost(total_pence=100, rule="by_hours", members=[1], paid_minutes={}, pledges={}) == {1: 100}


@given(st.integers(1, 1_000_000), st.lists(st.integers(0, 600), min_size=1, max_size=6), st.sampled_from(["equal", "by_hours", "by_pledge"]))
def test_the_parts_always_sum_to_the_total(total, weights, rule):
    members = list(range(1, len(weights) + 1))
    values = dict(zip(members, weights))
    parts = rules.split_cost(total_pence=total, rule=rule, members=members, paid_minutes=values, pledges=values)
    assert sum(parts.values()) == total and all(part > 0 for part in parts.values())


def test_a_visit_is_in_the_time_of_day_it_starts_in_and_at_night_in_none():
    from types import SimpleNamespace

    from brokerage.timesheets.rules import outside_agreed_times, visit_slot

    tuesday = date(2026, 12, 1)
    assert [visit_slot(tuesday, time(h, m)) for h, m in ((5, 59), (6, 0), (11, 59), (12, 0), (16, 59), (17, 0), (21, 59), (22, 0))] == [
        None, "tue_am", "tue_am", "tue_pm", "tue_pm", "tue_eve", "tue_eve", None]
    visits = [SimpleNamespace(visit_date=tuesday, start_time=time(9)), SimpleNamespace(visit_date=tuesday, start_time=time(23, 30))]
    assert outside_agreed_times(visits, {"tue_am": 3}) == visits[1:]
    assert outside_agreed_times(visits, None) == [] and outside_agreed_times(visits, {}) == []


def test_a_visit_is_recorded_only_once_it_has_ended_even_on_the_same_day():
    wednesday_ten = datetime(2026, 12, 2, 10, 0)
    assert problems(visit(day=2, start=time(9), minutes=60), now=wednesday_ten) == {}  # ended at ten: it has happened
    later = problems(visit(day=2, start=time(9, 30), minutes=60), now=wednesday_ten)
    assert later == {"start": "Record a visit once it has happened: this one ends at 10:30am today"}
    assert "ends at 1am on Wednesday 2 December 2026" in problems(visit(day=1, start=time(23), minutes=120), now=datetime(2026, 12, 1, 23, 30))["start"]


def test_a_visit_ending_at_midnight_ends_with_its_own_day_not_tomorrow():
    # Sunday 6 December at 11pm for an hour, tried at 3:10am that Sunday: it ends at 00:00 on the 7th, "midnight tonight".
    late = problems(visit(day=6, start=time(23), minutes=60), now=datetime(2026, 12, 6, 3, 10))
    assert late == {"start": "Record a visit once it has happened: this one ends at midnight at the end of Sunday 6 December 2026"}
    assert "tomorrow" not in late["start"]


def test_a_late_visit_running_past_midnight_overlaps_an_early_visit_the_next_day():
    late = visit(day=0, start=time(23), minutes=120)  # Monday 11pm to Tuesday 1am
    early = visit(day=1, start=time(0, 30), minutes=60)
    assert "overlaps the visit to Amina Hassan at 11pm on Monday 30 November 2026" in problems(early, [late])["start"]
    assert problems(visit(day=1, start=time(1), minutes=60), [late]) == {}  # from the minute it ended


def booked(holder, day, start, minutes, member="Bob Jones"):
    return rules.Booked(visit=visit(holder=holder, day=day, start=start, minutes=minutes), member=member)


def test_one_carer_working_alone_cannot_be_at_two_visits_at_once_whoever_they_are_for():
    bob = booked(2, 0, time(9), 60)
    clash = rules.carers_problem(visit=visit(holder=1, start=time(9, 30)), booked=[bob], carers=1)
    assert clash == "This visit overlaps the visit to Bob Jones at 9am on Monday 30 November 2026: one carer working alone cannot be at two visits at once"
    assert rules.carers_problem(visit=visit(holder=1, start=time(10)), booked=[bob], carers=1) is None  # back to back is fine
    assert rules.carers_problem(visit=visit(holder=1, day=1, start=time(0, 15)), booked=[booked(2, 0, time(23), 120)], carers=1) is not None


def test_a_provider_with_more_carers_may_visit_as_many_people_at_once_as_it_has_carers():
    two = [booked(2, 0, time(9), 60), booked(3, 0, time(9), 60, member="Chen Li")]
    assert rules.carers_problem(visit=visit(start=time(9, 30)), booked=two[:1], carers=2) is None
    assert "2 carers cannot be at 3 visits at once" in rules.carers_problem(visit=visit(start=time(9, 30)), booked=two, carers=2)
    # Two visits that follow each other never need two carers at the same moment besides this one.
    one_after_another = [booked(2, 0, time(9), 60), booked(3, 0, time(10), 60, member="Chen Li")]
    assert rules.carers_problem(visit=visit(start=time(9, 30)), booked=one_after_another, carers=2) is None
    assert rules.carers_problem(visit=visit(start=time(9, 30)), booked=one_after_another, carers=1) is not None


def test_a_sheet_can_change_only_while_it_is_with_the_provider_and_says_why_not():
    status = rules.TimesheetStatus
    assert rules.why_fixed(status.draft) is None and rules.why_fixed(status.rejected) is None
    assert "sent for approval" in rules.why_fixed(status.submitted)
    assert "approved" in rules.why_fixed(status.approved) and "sent for approval" not in rules.why_fixed(status.approved)
    # Approved takes the week's cost from the pool; the provider is paid later, by a payment run.
    assert "paid" not in rules.why_fixed(status.approved).replace("payment", "")
