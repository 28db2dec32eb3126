"""The spend reports' pure rules: months and quarters in England, reading a period, and naming things."""

from __future__ import annotations

from datetime import date

import pytest

from brokerage.spending import rules
from brokerage.spending.rules import Period

TODAY = date(2026, 5, 20)


def test_quarters_are_three_month_blocks_named_by_their_months():
    assert rules.this_quarter(TODAY) == Period(date(2026, 4, 1), date(2026, 6, 1))
    assert rules.last_quarter(TODAY) == Period(date(2026, 1, 1), date(2026, 3, 1))
    assert rules.last_quarter(date(2026, 2, 3)) == Period(date(2025, 10, 1), date(2025, 12, 1))
    assert rules.last_quarter(TODAY).label == "January to March 2026"


def test_the_last_12_months_end_with_this_one():
    period = rules.last_12_months(TODAY)
    assert period == Period(date(2025, 6, 1), date(2026, 5, 1))
    assert len(period.months) == 12 and period.label == "June 2025 to May 2026"
    assert Period(date(2026, 3, 1), date(2026, 3, 1)).label == "March 2026"


def test_months_are_counted_across_years():
    assert rules.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert rules.add_months(date(2025, 11, 1), 14) == date(2027, 1, 1)
    assert rules.month_span(date(2025, 11, 1), date(2026, 2, 1)) == 4
    assert rules.months_of(date(2026, 3, 1), date(2026, 2, 1)) == []


def test_no_boxes_mean_the_last_12_months():
    assert rules.read_period({}, today=TODAY) == (rules.last_12_months(TODAY), {})


@pytest.mark.parametrize(("boxes", "side", "words"), [
    ({"from_month": "0", "from_year": "2026", "to_month": "5", "to_year": "2026"}, "from", "start month"),
    ({"from_month": "2", "from_year": "2026", "to_month": "5", "to_year": "2028"}, "to", "end year"),
    ({"from_month": "2", "from_year": "1999", "to_month": "5", "to_year": "2026"}, "from", "start year"),
    ({"from_month": "2", "from_year": "２０２６", "to_month": "5", "to_year": "2026"}, "from", "start year"),
    ({"to_month": "5", "to_year": "2026"}, "from", "starts"),
    ({"from_month": "5", "from_year": "2026", "to_month": "4", "to_year": "2026"}, "to", "same month as the start or after"),
])
def test_a_period_that_cannot_be_read_names_the_box(boxes, side, words):
    period, errors = rules.read_period(boxes, today=TODAY)
    assert period is None and list(errors) == [side] and words in errors[side][0]


def test_a_period_may_not_start_after_this_month_but_may_end_after_it():
    period, errors = rules.read_period({"from_month": "6", "from_year": "2026", "to_month": "6", "to_year": "2026"}, today=TODAY)
    assert period is None and errors == {"from": ["The first month must be this month or earlier"]}
    period, errors = rules.read_period({"from_month": "5", "from_year": "2026", "to_month": "6", "to_year": "2026"}, today=TODAY)
    assert errors == {} and period == rules.Period(date(2026, 5, 1), date(2026, 6, 1))  # "this quarter" still ends in June


def test_months_may_be_typed_as_names_or_numbers():
    period, errors = rules.read_period({"from_month": "Sept", "from_year": "2025", "to_month": "03", "to_year": "2026"}, today=TODAY)
    assert errors == {} and period == Period(date(2025, 9, 1), date(2026, 3, 1))


def test_names_are_words_never_codes():
    assert rules.share_label("Amina Hassan", "Somali elders of Whitechapel") == "Amina Hassan's share of Somali elders of Whitechapel"
    # One kind of apostrophe, as in the name itself (tester R6-10: "Margaret O'Brien’s" broke a search for "O'Brien's").
    assert rules.share_label("Margaret O'Brien", "Bow carers' respite group") == "Margaret O'Brien's share of Bow carers' respite group"
    assert rules.ownership_label("coop") == "Care co-operative"
    assert rules.ownership_label(None) == "Provider not recorded"
    assert rules.service_label("home_care") == "Home care"
    assert rules.service_label(None) == "Service not recorded"


def test_shares_are_rounded_to_a_tenth_and_money_is_written_for_spreadsheets():
    assert rules.percent(1, 3) == "33.3%" and rules.percent(2, 3) == "66.7%" and rules.percent(0, 0) == "–"
    assert rules.csv_pounds(123_456) == "1234.56" and rules.csv_pounds(-5) == "-0.05" and rules.csv_pounds(0) == "0.00"


def test_the_csv_file_is_named_after_the_council_breakdown_and_period():
    name = rules.csv_filename(council_slug="tower-hamlets", dimension=rules.Dimension.ownership, period=rules.last_quarter(TODAY))
    assert name == "pooled-spend-tower-hamlets-by-kinds-of-provider-2026-01-to-2026-03.csv"


def test_every_kind_of_entry_on_a_pool_share_counts_once():
    counted = rules.POOLED_IN + rules.SPENT + rules.RETURNED_TO_MEMBERS + rules.RETURNED_TO_COUNCIL
    assert len(set(counted)) == len(counted)
    assert "adjustment" not in counted and "reversal" not in counted  # a reversal counts under the kind it reverses


def test_a_period_not_over_yet_closes_with_what_is_unspent_now():
    period = Period(date(2026, 10, 1), date(2026, 12, 1))
    assert rules.unspent_label(period, date(2026, 12, 4)) == "Unspent now"
    assert rules.unspent_label(period, date(2027, 1, 1)) == "Unspent at the end of December 2026"
    assert rules.unspent_label(period, None) == "Unspent at the end of December 2026"  # no day given: the period's end
    assert rules.unspent_label(Period(date(2027, 1, 1), date(2027, 1, 1)), date(2026, 12, 4)) == "Unspent now"
