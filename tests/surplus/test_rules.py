"""The surplus rules without a database: worked examples (the same as docs/surplus.md), the first-in-first-out
reading of rule A checked against a step-by-step simulation, and the statuses' transition tables."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerage.surplus import rules
from brokerage.surplus.errors import BadClawbackMove, BadFlagMove
from brokerage.surplus.rules import ClawbackStatus, FlagStatus, RuleKind, RuleSettings

TODAY = date(2026, 3, 2)  # a Monday
MONDAYS = [date(2025, 12, 8) + timedelta(weeks=i) for i in range(12)]  # 8 December 2025 to 23 February 2026
PLEDGES = [(day, 2_000) for day in MONDAYS]  # £20 a week


def test_twelve_unspent_pledges_leave_the_four_oldest_unspent_for_more_than_eight_weeks():
    # The last 8 weeks (5 January to 2 March) brought £160; the four December pledges, £80, are older.
    assert rules.unspent_for_weeks(balance=24_000, movements=PLEDGES, today=TODAY, weeks=8) == 8_000


def test_care_paid_from_the_share_takes_the_oldest_money_first():
    spent_100 = PLEDGES + [(date(2026, 2, 20), -10_000)]
    spent_50 = PLEDGES + [(date(2026, 2, 20), -5_000)]
    assert rules.unspent_for_weeks(balance=14_000, movements=spent_100, today=TODAY, weeks=8) == 0
    assert rules.unspent_for_weeks(balance=19_000, movements=spent_50, today=TODAY, weeks=8) == 3_000


def test_a_pledge_exactly_n_weeks_old_is_not_yet_more_than_n_weeks_old():
    # Collected eight Mondays ago: still recent today, unspent for more than eight weeks from tomorrow.
    movements = [(TODAY - timedelta(weeks=8), 2_000)]
    assert rules.unspent_for_weeks(balance=2_000, movements=movements, today=TODAY, weeks=8) == 0
    assert rules.unspent_for_weeks(balance=2_000, movements=movements, today=TODAY + timedelta(days=1), weeks=8) == 2_000


def test_a_penny_that_came_in_recently_is_recent():
    assert rules.unspent_for_weeks(balance=2_001, movements=[(TODAY - timedelta(days=60), 2_000), (TODAY, 1)], today=TODAY, weeks=8) == 2_000


def test_money_from_before_the_movements_counts_as_old():
    # The opening balance (before the first day read) is older than anything in the movements.
    assert rules.unspent_for_weeks(balance=5_000, movements=[(TODAY, 1_000)], today=TODAY, weeks=1) == 4_000


def test_a_balance_above_eight_pledges_every_day_for_twelve_weeks_flags_the_part_above():
    # £20 a week pledged, so 8 weeks of pledges is £160; the share never went below £180 and holds £200 now.
    assert rules.above_pledges(balance=20_000, lowest=18_000, weekly_pledge=2_000, multiple=8) == 4_000


def test_a_balance_that_once_came_down_to_eight_pledges_is_not_flagged():
    assert rules.above_pledges(balance=20_000, lowest=16_000, weekly_pledge=2_000, multiple=8) == 0
    assert rules.above_pledges(balance=20_000, lowest=15_999, weekly_pledge=2_000, multiple=8) == 0


def test_the_lowest_balance_counts_the_opening_balance_and_every_movement():
    assert rules.lowest_balance(5_000, [2_000, -6_000, 1_000]) == 1_000
    assert rules.lowest_balance(5_000, []) == 5_000
    assert rules.lowest_balance(0, [2_000]) == 0  # a share opened inside the window never held more than nothing all along


def test_assess_applies_the_councils_rule_and_says_why():
    rule_a = RuleSettings()
    found = rules.assess(settings=rule_a, today=TODAY, opening=0, movements=PLEDGES, weekly_pledge=2_000)
    assert found.amount == 8_000
    assert found.reason.startswith("£80.00 of this share came in more than 8 weeks ago and has not been spent on care.")

    rule_b = RuleSettings(kind=RuleKind.above_pledges, multiple=4)
    found = rules.assess(settings=rule_b, today=TODAY, opening=12_000, movements=[(TODAY - timedelta(days=3), 2_000)], weekly_pledge=2_000)
    assert found.amount == 14_000 - 8_000
    assert "more than £80.00 (4 weeks of the £20.00 weekly pledge) on every day of the last 12 weeks" in found.reason


def test_assess_finds_nothing_in_an_empty_or_young_share():
    young = [(TODAY - timedelta(days=10), 2_000)]
    for settings in (RuleSettings(), RuleSettings(kind=RuleKind.above_pledges)):
        assert rules.assess(settings=settings, today=TODAY, opening=0, movements=[], weekly_pledge=2_000) is None
        assert rules.assess(settings=settings, today=TODAY, opening=0, movements=young, weekly_pledge=0) is None


def test_a_single_old_penny_is_flagged():
    found = rules.assess(settings=RuleSettings(), today=TODAY, opening=1, movements=[], weekly_pledge=2_000)
    assert found == rules.Assessment(1, rules.unspent_reason(1, 8))


def test_the_reasons_say_the_amount_the_rule_and_its_numbers_in_full():
    assert rules.unspent_reason(8_000, 1) == (
        "£80.00 of this share came in more than 1 week ago and has not been spent on care. "
        "The council's rule is that money left unspent for more than 1 week can be taken back."
    )
    assert rules.above_pledges_reason(4_000, 2_000, 8) == (
        "This share has held more than £160.00 (8 weeks of the £20.00 weekly pledge) on every day of the last 12 weeks. "
        "The council's rule is that the part above that, £40.00, can be taken back."
    )
    assert rules.above_pledges_reason(3_000, 0, 1) == (
        "This member pledges nothing each week now, and the share has held money on every day of the last 12 weeks. "
        "The council's rule is that money above 1 week of pledges can be taken back: here that is all £30.00."
    )
    found = rules.assess(settings=RuleSettings(kind=RuleKind.above_pledges, multiple=2), today=TODAY, opening=10_000, movements=[],
                         weekly_pledge=2_000)
    assert found == rules.Assessment(6_000, rules.above_pledges_reason(6_000, 2_000, 2))


def test_a_member_who_pledges_nothing_is_told_so_in_the_reason():
    found = rules.assess(settings=RuleSettings(kind=RuleKind.above_pledges), today=TODAY, opening=3_000, movements=[], weekly_pledge=0)
    assert found.amount == 3_000
    assert "pledges nothing each week now" in found.reason


def test_the_days_read_cover_the_rules_window():
    assert rules.first_day_needed(RuleSettings(weeks=8), TODAY) == TODAY - timedelta(days=56)
    assert rules.first_day_needed(RuleSettings(kind=RuleKind.above_pledges), TODAY) == TODAY - timedelta(days=83)


def test_the_earliest_clawback_is_the_notice_after_the_flag():
    assert rules.clawback_from(date(2026, 3, 2), 28) == date(2026, 3, 30)
    assert rules.notice_problem(today=date(2026, 3, 29), from_day=date(2026, 3, 30)).endswith("from 30 March 2026, not before.")
    assert rules.notice_problem(today=date(2026, 3, 30), from_day=date(2026, 3, 30)) is None


@pytest.mark.parametrize(("amount", "problem"), [
    (None, "Enter the amount to take back, like 25 or 25.50"), (0, "Enter an amount of at least 1p"),
    (-5, "Enter an amount of at least 1p"), (8_001, "Enter no more than the unspent amount, £80.00"), (8_000, None), (1, None),
])
def test_an_amount_to_take_back_is_between_a_penny_and_the_unspent_amount(amount, problem):
    assert rules.amount_problem(amount, 8_000) == problem


def test_a_clawback_needs_a_reason_of_at_most_500_characters():
    assert rules.reason_problem("  ") == "Say why the council is taking this money back"
    assert rules.reason_problem(None) == "Say why the council is taking this money back"
    assert rules.reason_problem("x" * 500) is None
    assert rules.reason_problem("x" * 501) == "Use 500 characters or fewer"
    assert rules.reason_problem("Unspent since the summer") is None


def test_the_settings_are_checked_field_by_field():
    assert rules.check_settings(kind="unspent_weeks", weeks=8, multiple=8, notice_days=28) == {}
    assert rules.check_settings(kind="unspent_weeks", weeks=1, multiple=1, notice_days=7) == {}
    assert rules.check_settings(kind="above_pledges", weeks=52, multiple=52, notice_days=365) == {}
    assert rules.check_settings(kind="sometimes", weeks=0, multiple=53, notice_days=6) == {
        "kind": "Choose which rule the council uses",
        "weeks": "Enter the number of weeks between 1 and 52",
        "multiple": "Enter the number of weeks of pledges between 1 and 52",
        "notice_days": "Enter the days of clawback notice between 7 and 365",
    }
    assert rules.check_settings(kind="above_pledges", weeks="8", multiple=True, notice_days="28") == {
        "weeks": "Enter the number of weeks as a whole number",
        "multiple": "Enter the number of weeks of pledges as a whole number",
        "notice_days": "Enter the days of clawback notice as a whole number",
    }


def test_only_the_chosen_rules_number_is_needed_and_the_other_if_given_is_still_checked():
    # "Enter the number of weeks of pledges" stopped an officer saving rule A with rule B's box empty.
    assert rules.check_settings(kind="unspent_weeks", weeks=8, multiple=None, notice_days=28) == {}
    assert rules.check_settings(kind="above_pledges", weeks=None, multiple=6, notice_days=28) == {}
    assert rules.check_settings(kind="unspent_weeks", weeks=None, multiple=6, notice_days=28) == {"weeks": "Enter the number of weeks as a whole number"}
    assert rules.check_settings(kind="above_pledges", weeks=8, multiple=None, notice_days=28) == {
        "multiple": "Enter the number of weeks of pledges as a whole number",
    }
    assert rules.check_settings(kind="unspent_weeks", weeks=8, multiple=99, notice_days=28) == {
        "multiple": "Enter the number of weeks of pledges between 1 and 52",
    }


def test_a_rule_describes_itself_with_right_plurals():
    assert RuleSettings(weeks=1, notice_days=7).describe() == (
        "Money in a member's share that has not been spent for more than 1 week is flagged, "
        "and could be taken back 7 days after the flag at the earliest."
    )
    assert RuleSettings(kind=RuleKind.above_pledges, multiple=4, notice_days=1).describe() == (
        "A member's share that stays above 4 weeks of their pledges on every day for 12 weeks is flagged; "
        "the part above that could be taken back 1 day after the flag at the earliest."
    )


# --- rule A is first-in-first-out ageing, exactly ------------------------------------------------


def fifo_unspent(opening: int, movements: list[tuple[date, int]], today: date, weeks: int) -> int:
    """Age the share lot by lot: money in adds a lot, money out takes from the oldest lots first."""
    lots = [[date.min, opening]] if opening else []
    for day, amount in movements:
        if amount > 0:
            lots.append([day, amount])
            continue
        owed = -amount
        while owed:
            taken = min(owed, lots[0][1])
            lots[0][1] -= taken
            owed -= taken
            if not lots[0][1]:
                lots.pop(0)
    return sum(amount for day, amount in lots if (today - day).days > 7 * weeks)


@st.composite
def shares(draw):
    """A share's opening balance and its movements in day order, never overdrawn (as the ledger keeps it)."""
    opening = draw(st.integers(0, 50_000))
    balance = opening
    movements = []
    for day in sorted(draw(st.lists(st.integers(0, 200), max_size=30))):
        amount = draw(st.integers(-balance, 20_000).filter(lambda a: a != 0)) if balance else draw(st.integers(1, 20_000))
        balance += amount
        movements.append((date(2026, 1, 1) + timedelta(days=day), amount))
    return opening, movements, balance


@given(shares(), st.integers(0, 260), st.integers(1, 12))
def test_the_unspent_amount_is_what_first_in_first_out_ageing_leaves(share, today_offset, weeks):
    opening, movements, balance = share
    today = date(2026, 1, 1) + timedelta(days=today_offset)
    past = [(day, amount) for day, amount in movements if day <= today]
    held = opening + sum(amount for _, amount in past)
    assert rules.unspent_for_weeks(balance=held, movements=past, today=today, weeks=weeks) == fifo_unspent(opening, past, today, weeks)


# --- statuses -------------------------------------------------------------------------------


def test_a_proposed_clawback_is_approved_rejected_or_withdrawn_once():
    for target in ("approved", "rejected", "cancelled"):
        assert rules.move_clawback(ClawbackStatus.proposed, target) == ClawbackStatus(target)
        for later in ClawbackStatus:
            with pytest.raises(BadClawbackMove, match=f"that is {target} cannot become {later.value}"):
                rules.move_clawback(target, later)
    assert rules.decided_problem(ClawbackStatus.approved) == (
        "This clawback is already decided (approved: the money was taken back), so nothing more was done.")
    assert rules.decided_problem("rejected") == "This clawback is already decided (rejected: nothing was taken back), so nothing more was done."
    assert rules.decided_problem("cancelled").startswith("This clawback is already decided (withdrawn: nothing was taken back)")
    assert rules.decided_problem(ClawbackStatus.proposed) is None and rules.decided_problem("proposed") is None


def test_an_unknown_status_is_refused_by_name():
    with pytest.raises(BadClawbackMove, match="that is lost cannot become approved"):
        rules.move_clawback("lost", "approved")
    with pytest.raises(BadFlagMove, match="that is lost cannot become closed"):
        rules.move_flag("lost", "closed")


def test_a_closed_flag_stays_closed():
    assert rules.move_flag(FlagStatus.open, FlagStatus.closed) == FlagStatus.closed
    with pytest.raises(BadFlagMove):
        rules.move_flag(FlagStatus.closed, FlagStatus.open)
    with pytest.raises(BadFlagMove):
        rules.move_flag(FlagStatus.open, FlagStatus.open)
