"""The care and travel lines of a week's pay follow the rule the pages state, and add up to the total the ledger posts."""

from __future__ import annotations

from datetime import date, time

from hypothesis import given, settings, strategies as st

from brokerage.timesheets import rules
from brokerage.timesheets.rules import VisitIn, pay_for, week_pay


def one_visit(minutes: int, travel: int) -> list[VisitIn]:
    return [VisitIn(holder_id=1, visit_date=date(2026, 11, 30), start=time(9), minutes=minutes, travel_minutes=travel)]


def test_61_minutes_with_13_of_travel_at_22_50_are_priced_as_the_page_says():
    pay = week_pay(visits=one_visit(61, 13), rate_pence=2250, travel_paid=True)
    # The total is all 74 paid minutes priced once: 74 × 2250 / 60 = 2775 exactly; that is what the ledger posts.
    assert pay.total_pence == 2775 == pay_for(74, 2250)
    # Travel is its own 13 minutes priced the same way: 487.5p rounds up to 488p.
    assert pay.travel_pence == 488 == pay_for(13, 2250)
    # Care is the rest: 2287p, a penny under its 61 minutes priced alone (2287.5p rounds up to 2288p), as the page says it can be.
    assert pay.care_pence == 2287 and pay_for(61, 2250) == 2288
    assert "rounded once" in rules.PAY_RULE and "care is the rest of the total" in rules.PAY_RULE
    assert "can be a penny more or less than its own minutes priced alone" in rules.PAY_RULE


@settings(max_examples=500, deadline=None)
@given(care=st.integers(0, 24 * 60), travel=st.integers(0, 60), rate=st.integers(0, 20_000), paid=st.booleans())
def test_the_care_and_travel_lines_follow_the_stated_rule_and_add_up_to_the_total(care, travel, rate, paid):
    assert "rounded once" in rules.PAY_RULE and "care is the rest of the total" in rules.PAY_RULE  # the rule checked below is the one stated
    pay = week_pay(visits=one_visit(care, travel), rate_pence=rate, travel_paid=paid)
    paid_travel = travel if paid else 0
    assert pay.total_pence == pay_for(care + paid_travel, rate)  # all paid minutes, rounded once
    assert pay.travel_pence == pay_for(paid_travel, rate)  # travel priced alone by the same rule
    assert pay.care_pence + pay.travel_pence == pay.total_pence  # care is the rest
    assert abs(pay.care_pence - pay_for(care, rate)) <= 1  # at most a penny from care priced alone
    assert pay.care_pence >= 0 and pay.travel_pence >= 0


def test_the_stated_rule_is_shown_beside_every_split_of_care_and_travel():
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "templates"
    for name in ("timesheets/show.html", "timesheets/_waiting_table.html", "payments/remittance.html"):
        text = (templates / name).read_text()
        assert "pay_rule()" in text, name
        assert "rounded to the nearest penny (half a penny rounds up). Each visit" not in text, name
    assert rules.PAY_RULE.endswith(".")
