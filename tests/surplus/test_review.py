"""The daily review: one open flag per share with its amount, reason and notice date; closed, never deleted, when it no longer applies."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from brokerage.clusters.models import ClusterStatus, MembershipStatus
from brokerage.errors import NotFound
from brokerage.surplus import rules, services, settings
from brokerage.surplus.models import Clawback, SurplusFlag
from brokerage.surplus.review import review_council
from brokerage.surplus.rules import ClawbackStatus, FlagStatus, RuleKind
from tests.surplus.support import TODAY, WEEKLY, at, make_world, pledge_weeks, spend, twelve_weeks


@pytest.fixture()
def sw(session):
    return make_world(session)


def review(session, sw, freeze, day: date = TODAY, hour: int = 12):
    freeze(at(day, hour))
    return review_council(session=session, actor=sw.job, council_id=sw.council.id)


def flags(session, sw) -> list[SurplusFlag]:
    return list(session.exec(select(SurplusFlag).where(SurplusFlag.council_id == sw.council.id).order_by(SurplusFlag.id)))


def test_money_unspent_for_more_than_eight_weeks_is_flagged_with_the_amount_the_reason_and_the_notice_date(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    report = review(session, sw, freeze_clock)

    assert (report.opened, report.closed) == (1, 0)
    [flag] = flags(session, sw)
    assert (flag.cluster_id, flag.holder_id, flag.membership_id) == (sw.cluster.id, sw.holder.id, sw.membership.id)
    assert flag.status == FlagStatus.open and flag.rule == RuleKind.unspent_weeks
    assert flag.amount_pence == 8_000  # the four December pledges
    assert flag.reason == rules.unspent_reason(8_000, 8)
    assert (flag.raised_on, flag.clawback_from, flag.reviewed_on) == (TODAY, TODAY + timedelta(days=28), TODAY)


def test_a_share_with_nothing_old_enough_is_not_flagged(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    spend(session, sw, freeze_clock, date(2026, 2, 25), 8_000, "care-1")
    assert review(session, sw, freeze_clock).opened == 0
    assert flags(session, sw) == []


def test_reviewing_twice_on_a_day_changes_nothing_the_second_time(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    review(session, sw, freeze_clock)
    again = review(session, sw, freeze_clock, hour=18)
    assert (again.opened, again.updated, again.kept, again.closed) == (0, 0, 1, 0)
    assert len(flags(session, sw)) == 1


def test_the_amount_follows_each_review_and_the_dates_stay(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    review(session, sw, freeze_clock)
    # A week later, with nothing pledged or spent, another £20 pledge is more than eight weeks old.
    later = review(session, sw, freeze_clock, day=TODAY + timedelta(days=7))
    assert later.updated == 1
    [flag] = flags(session, sw)
    assert flag.amount_pence == 10_000 and flag.reason == rules.unspent_reason(10_000, 8)
    assert (flag.raised_on, flag.clawback_from, flag.reviewed_on) == (TODAY, TODAY + timedelta(days=28), TODAY + timedelta(days=7))


def test_a_flag_whose_money_was_spent_is_closed_by_the_next_review_and_kept(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    review(session, sw, freeze_clock)
    spend(session, sw, freeze_clock, TODAY + timedelta(days=1), 12_000, "care-2")

    report = review(session, sw, freeze_clock, day=TODAY + timedelta(days=1), hour=20)

    assert report.closed == 1
    [flag] = flags(session, sw)
    assert flag.status == FlagStatus.closed
    assert (flag.closed_on, flag.closed_reason) == (TODAY + timedelta(days=1), rules.NO_LONGER_UNSPENT)
    assert flag.amount_pence == 8_000  # what it was while open


def test_a_member_who_gives_notice_has_their_flag_closed_and_a_waiting_clawback_withdrawn(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    review(session, sw, freeze_clock)
    [flag] = flags(session, sw)
    freeze_clock(at(flag.clawback_from, 9))
    clawback = services.propose_clawback(session=session, actor=sw.officer, flag_id=flag.id, amount_pence=5_000, reason="Unspent")
    sw.membership.status = MembershipStatus.leaving  # as notice given; set here to keep the test to the review
    session.add(sw.membership)
    session.flush()

    report = review(session, sw, freeze_clock, day=flag.clawback_from)

    assert (report.closed, report.withdrawn) == (1, 1)
    session.refresh(flag)
    session.refresh(clawback)
    assert flag.status == FlagStatus.closed
    assert flag.closed_reason == "Amina Hassan is no longer an active member of Somali elders of Whitechapel, so the share goes back to them, not to the council."
    assert clawback.status == ClawbackStatus.cancelled and clawback.cancelled_by_id == sw.job.id
    assert clawback.decided_by_id is None and clawback.entry_id is None


def test_a_closing_group_closes_its_flags(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    review(session, sw, freeze_clock)
    sw.cluster.status = ClusterStatus.closing  # as a passed dissolve vote leaves it
    session.add(sw.cluster)
    session.flush()
    assert review(session, sw, freeze_clock, day=TODAY + timedelta(days=1)).closed == 1
    assert flags(session, sw)[0].status == FlagStatus.closed


def test_a_new_flag_after_a_closed_one_gets_new_notice(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    review(session, sw, freeze_clock)
    spend(session, sw, freeze_clock, TODAY + timedelta(days=1), 24_000, "care-all")
    review(session, sw, freeze_clock, day=TODAY + timedelta(days=1), hour=20)
    # Nine more weeks of pledges, none spent: money becomes old again.
    pledge_weeks(session, sw, freeze_clock, [TODAY + timedelta(weeks=i) for i in range(1, 10)])
    later = TODAY + timedelta(weeks=10)
    assert review(session, sw, freeze_clock, day=later).opened == 1
    closed, fresh = flags(session, sw)
    assert closed.status == FlagStatus.closed and fresh.status == FlagStatus.open
    assert (fresh.raised_on, fresh.clawback_from) == (later, later + timedelta(days=28))
    assert fresh.amount_pence == WEEKLY  # the pledge of 9 March, more than eight weeks before 11 May


def test_rule_b_flags_a_share_above_n_pledges_every_day_for_twelve_weeks(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)  # £240 by 23 February
    freeze_clock(at(TODAY, 9))
    settings.set_rule(session=session, actor=sw.officer, kind="above_pledges", weeks=8, multiple=4, notice_days=14)
    # Twelve weeks after the last pledge the share has held at least £240 all along: above 4 × £20.
    day = date(2026, 2, 23) + timedelta(weeks=12)
    review(session, sw, freeze_clock, day=day)
    [flag] = flags(session, sw)
    assert flag.rule == RuleKind.above_pledges
    assert flag.amount_pence == 24_000 - 4 * WEEKLY
    assert (flag.raised_on, flag.clawback_from) == (day, day + timedelta(days=14))
    assert "every day of the last 12 weeks" in flag.reason


def test_rule_b_does_not_flag_a_share_that_came_down_to_n_pledges_in_the_window(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    freeze_clock(at(TODAY, 9))
    settings.set_rule(session=session, actor=sw.officer, kind="above_pledges", weeks=8, multiple=4, notice_days=14)
    day = date(2026, 2, 23) + timedelta(weeks=12)
    spend(session, sw, freeze_clock, day - timedelta(days=30), 16_000, "care-dip")  # down to £80, exactly 4 pledges, once
    pledge_weeks(session, sw, freeze_clock, [day - timedelta(days=20)], amount=10_000)
    review(session, sw, freeze_clock, day=day)
    assert flags(session, sw) == []


def test_a_change_of_rule_closes_the_old_flag_and_raises_one_with_new_notice(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    review(session, sw, freeze_clock)
    day = date(2026, 2, 23) + timedelta(weeks=12)
    freeze_clock(at(day, 9))
    settings.set_rule(session=session, actor=sw.officer, kind="above_pledges", weeks=8, multiple=4, notice_days=28)
    report = review(session, sw, freeze_clock, day=day)
    assert (report.closed, report.opened) == (1, 1)
    old, new = flags(session, sw)
    assert (old.status, old.closed_reason) == (FlagStatus.closed, rules.RULE_CHANGED)
    assert (new.rule, new.raised_on, new.clawback_from) == (RuleKind.above_pledges, day, day + timedelta(days=28))


def test_the_flag_is_raised_on_the_date_in_england(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    # 11:30pm UTC on 31 May is already 1 June in England (British Summer Time).
    freeze_clock(datetime(2026, 5, 31, 23, 30, tzinfo=timezone.utc))
    review_council(session=session, actor=sw.job, council_id=sw.council.id)
    assert flags(session, sw)[0].raised_on == date(2026, 6, 1)


def test_an_officer_of_another_council_cannot_review_this_one(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    with pytest.raises(NotFound):
        review_council(session=session, actor=sw.other_officer, council_id=sw.council.id)
    assert flags(session, sw) == []


def test_a_council_without_a_rule_uses_its_surplus_weeks_and_28_days(session, sw, freeze_clock):
    sw.council.surplus_weeks = 10
    session.add(sw.council)
    session.flush()
    assert settings.rule_of(session=session, council_id=sw.council.id) == rules.RuleSettings(weeks=10)
    twelve_weeks(session, sw, freeze_clock)
    review(session, sw, freeze_clock)
    assert flags(session, sw)[0].amount_pence == 2 * WEEKLY  # only the pledges of 8 and 15 December are more than 10 weeks old


def test_no_clawback_row_is_ever_made_by_a_review(session, sw, freeze_clock):
    twelve_weeks(session, sw, freeze_clock)
    review(session, sw, freeze_clock)
    assert session.exec(select(Clawback)).all() == []
