"""Travel terms over several periods the charter was kept and confirmed: pure rules and their words, no database."""

from __future__ import annotations

from datetime import date, time

from brokerage.timesheets.rules import Pay, TravelTerms, VisitIn, travel_terms, week_pay
from brokerage.timesheets.travel import charter_days, charter_kept, travel_note, travel_sentence

NOV = {n: date(2026, 11, n) for n in range(1, 31)}


def visit_on(day: date, travel: int = 30) -> VisitIn:
    return VisitIn(holder_id=1, visit_date=day, start=time(9), minutes=60, travel_minutes=travel)


def test_a_day_in_any_period_is_covered_and_a_day_between_them_is_not():
    terms = TravelTerms(paid=True, from_day=NOV[6], earlier=((NOV[2], NOV[4]),))
    assert [terms.covers(NOV[n]) for n in (1, 2, 4, 5, 6, 30)] == [False, True, True, False, True, True]


def test_earlier_periods_stay_paid_when_the_charter_is_not_kept_now():
    terms = TravelTerms(paid=False, earlier=((None, NOV[3]), (NOV[10], NOV[12])))
    assert [terms.covers(NOV[n]) for n in (1, 3, 4, 10, 12, 13)] == [True, True, False, True, True, False]


def test_the_new_period_is_paid_once_confirmed_and_the_earlier_one_as_before():
    terms = travel_terms(charter=True, since=NOV[6], until=None, confirmed=NOV[9], earlier=[(NOV[2], NOV[4])])
    assert (terms.paid, terms.from_day, terms.until_day, terms.earlier) == (True, NOV[9], None, ((NOV[2], NOV[4]),))
    assert [terms.covers(NOV[n]) for n in (2, 5, 6, 8, 9)] == [True, False, False, False, True]


def test_a_tick_waiting_for_a_broker_leaves_the_last_confirmed_period_as_the_one_paid():
    terms = travel_terms(charter=True, since=NOV[6], until=None, confirmed=None, earlier=[(NOV[2], NOV[4])])
    assert (terms.paid, terms.from_day, terms.until_day, terms.earlier, terms.awaiting) == (True, NOV[2], NOV[4], (), True)
    assert not terms.covers(NOV[6])


def test_one_period_is_unchanged_by_having_no_earlier_ones():
    assert travel_terms(charter=True, since=NOV[2], until=None, confirmed=NOV[2]) == TravelTerms(paid=True, from_day=NOV[2])
    assert travel_terms(charter=True, since=NOV[2], until=None) == TravelTerms(paid=False, awaiting=True)


def test_a_week_pays_travel_only_on_days_in_a_period():
    terms = TravelTerms(paid=True, from_day=NOV[6], earlier=((NOV[2], NOV[4]),))
    pay = week_pay(visits=[visit_on(NOV[2]), visit_on(NOV[5]), visit_on(NOV[6])], rate_pence=1200, travel_paid=terms)
    assert (pay.travel_minutes, pay.paid_travel_minutes, pay.travel_pence, pay.total_pence) == (90, 60, 1200, 4800)


def test_within_a_week_keeps_only_the_earlier_periods_that_touch_it():
    terms = TravelTerms(paid=True, from_day=NOV[20], earlier=((None, NOV[1]), (NOV[9], NOV[10]), (NOV[12], NOV[13])))
    assert terms.within(NOV[9], NOV[15]).earlier == ((NOV[9], NOV[10]), (NOV[12], NOV[13]))
    assert terms.within(NOV[2], NOV[8]).earlier == ()


def test_several_periods_are_named_in_order_in_the_words():
    terms = TravelTerms(paid=True, from_day=NOV[6], earlier=((NOV[2], NOV[4]),))
    assert charter_kept(terms, provider_name="Bridge Care", to_provider=False) == (
        "Bridge Care kept the Ethical Care Charter from Monday 2 November 2026 to Wednesday 4 November 2026 and since Friday 6 November 2026")
    older = TravelTerms(paid=True, from_day=NOV[9], until_day=NOV[9], earlier=((None, NOV[3]), (NOV[5], NOV[6])))
    assert charter_days(older) == ("outside the times the Ethical Care Charter was kept and confirmed, until Tuesday 3 November 2026, "
                                   "from Thursday 5 November 2026 to Friday 6 November 2026 and on Monday 9 November 2026")


def test_a_week_with_no_travel_in_any_period_says_which_periods_were_paid():
    terms = TravelTerms(paid=True, from_day=NOV[6], earlier=((NOV[2], NOV[4]),))
    pay = week_pay(visits=[visit_on(NOV[5])], rate_pence=1200, travel_paid=terms)
    assert travel_sentence(provider_name="Bridge Care", charter=terms, pay=pay, to_provider=True) == (
        "Travel time is not paid on this timesheet: the 30 minutes of travel was on days outside the times the Ethical Care Charter "
        "was kept and confirmed, from Monday 2 November 2026 to Wednesday 4 November 2026 and since Friday 6 November 2026.")


def test_a_sheet_sent_while_a_new_tick_waited_says_so_in_the_past_and_its_note_is_not_unpaid():
    terms = TravelTerms(paid=True, from_day=NOV[2], until_day=NOV[4], awaiting=True)
    pay = Pay(care_minutes=60, travel_minutes=0, travel_paid=True, rate_pence=1200, total_pence=1200, travel_pence=0)
    assert travel_sentence(provider_name="Bridge Care", charter=terms, pay=pay, sent=True) == (
        "Travel time is paid because Bridge Care kept the Ethical Care Charter from Monday 2 November 2026 to Wednesday 4 November 2026: "
        "no travel is recorded this week. When it was sent, a broker had not yet confirmed that Bridge Care keeps the Ethical Care Charter "
        "again, so travel after that is not paid yet.")
    assert travel_note(travel_paid=True, awaiting=True) is None


def test_periods_that_meet_or_touch_read_as_one():
    same_day = TravelTerms(paid=True, from_day=NOV[4], earlier=((NOV[2], NOV[4]),))
    next_day = TravelTerms(paid=True, from_day=NOV[10], until_day=NOV[12], earlier=((None, NOV[3]), (NOV[4], NOV[6])))
    assert charter_kept(same_day, provider_name="Bridge Care", to_provider=True) == "you have kept the Ethical Care Charter since Monday 2 November 2026"
    assert charter_days(next_day) == ("outside the times the Ethical Care Charter was kept and confirmed, until Friday 6 November 2026 "
                                      "and from Tuesday 10 November 2026 to Thursday 12 November 2026")
