"""Months and quarters for the community-wealth figures: typed months, ready-made periods and complete quarters."""

from __future__ import annotations

from datetime import date

import pytest

from brokerage.transparency import periods


@pytest.mark.parametrize("text", ["April 2025", "apr 2025", "Apr. 2025", "4 2025", "04/2025", "2025-04", " 2025-4 "])
def test_a_month_can_be_typed_the_ways_people_write_it(text):
    assert periods.parse_month(text) == date(2025, 4, 1)


@pytest.mark.parametrize("text", ["", "13 2025", "2025-00", "Smarch 2025", "April", "2025", "١ ٢٠٢٥", "April 1999", "4 2025 extra"])
def test_anything_else_is_refused_with_an_example(text):
    with pytest.raises(ValueError, match="for example April 2025"):
        periods.parse_month(text)


def test_the_default_period_is_the_last_12_months_including_this_one():
    name, start, end = periods.presets(date(2026, 12, 9))[0]
    assert (name, start, end) == ("Last 12 months", date(2026, 1, 1), date(2026, 12, 1))


def test_last_quarter_and_the_financial_years_start_in_the_right_months():
    found = {name: (start, end) for name, start, end in periods.presets(date(2026, 2, 3))}
    assert found["Last quarter"] == (date(2025, 10, 1), date(2025, 12, 1))
    assert found["This financial year"] == (date(2025, 4, 1), date(2026, 2, 1))
    assert found["Last financial year"] == (date(2024, 4, 1), date(2025, 3, 1))


def test_a_period_must_be_in_order_not_in_the_future_and_at_most_36_months():
    today = date(2026, 12, 9)
    assert periods.check_period(date(2026, 1, 1), date(2026, 12, 1), today=today) == {}
    assert "end" in periods.check_period(date(2026, 6, 1), date(2026, 5, 1), today=today)
    assert "start" in periods.check_period(date(2027, 1, 1), date(2027, 2, 1), today=today)
    assert "end" in periods.check_period(date(2026, 1, 1), date(2027, 1, 1), today=today)
    assert periods.check_period(date(2024, 1, 1), date(2026, 12, 1), today=today) == {}
    assert periods.check_period(date(2023, 12, 1), date(2026, 12, 1), today=today) == {"end": "Choose a period of 36 months or fewer"}


def test_complete_quarters_end_before_the_quarter_of_today():
    assert periods.complete_quarters(date(2026, 4, 1), 3) == [date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1)]
    assert periods.quarter_name(date(2026, 1, 1)) == "January to March 2026"
    # Not "2026-Q4": the council's financial year would call October to December its Q3.
    assert periods.quarter_columns(date(2026, 10, 1)) == ["October to December 2026", "2026-10-01", "2026-12-31"]
    # The public report said "It covers April to June 2026 to July to September 2026".
    assert periods.quarters_span(date(2026, 4, 1), date(2026, 4, 1)) == "April to June 2026"
    assert periods.quarters_span(date(2026, 4, 1), date(2026, 7, 1)) == "2 quarters, from April 2026 to September 2026"
    assert periods.quarters_span(date(2024, 10, 1), date(2026, 7, 1)) == "8 quarters, from October 2024 to September 2026"
    assert periods.quarter_columns(date(2027, 1, 1)) == ["January to March 2027", "2027-01-01", "2027-03-31"]
    assert periods.short_quarter(date(2026, 4, 1)) == "Apr–Jun 2026"
