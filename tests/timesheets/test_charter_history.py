"""A charter given up and ticked again on a later day keeps its earlier confirmed period: a draft's travel on those days stays paid."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from brokerage.providers import charter
from brokerage.timesheets import approval, pages, queries, sheets
from brokerage.timesheets.rules import pay_for
from tests import factories as f
from tests.timesheets.helpers import make_care, visit
from tests.timesheets.test_travel import _app, set_charter  # noqa: F401 (_app: set_charter runs in the application, as mail needs)

WEEK = "2026-W50"  # Monday 7 to Sunday 13 December 2026


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 12, day, hour, 0, tzinfo=timezone.utc)


def kept_twice(session, freeze_clock, *, confirm_again=True):
    """Tick and confirm on Monday 7 December, give up on Tuesday 8, tick again on Thursday 10 (a broker confirms it that day)."""
    freeze_clock(at(7))
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    charter.confirm_charter(session=session, actor=care.broker, provider_id=care.provider.id)
    freeze_clock(at(8))
    set_charter(session, care, False)
    freeze_clock(at(10))
    set_charter(session, care, True)
    if confirm_again:
        charter.confirm_charter(session=session, actor=care.broker, provider_id=care.provider.id)
    freeze_clock(at(12, 20))
    sheet = sheets.start_sheet(session=session, actor=care.provider_user, contract_id=care.contract.id, week=WEEK)
    # Monday 7 (kept), Wednesday 9 (given up) and Friday 11 December (kept again): 60 care and 30 travel minutes each.
    for offset in (7, 9, 11):
        sheets.add_visit(session=session, actor=care.provider_user, timesheet_id=sheet.id, **visit(care.holders[0], offset, start=time(9), minutes=60, travel=30))
    return care, sheet


def test_a_draft_pays_travel_in_both_confirmed_periods_and_none_between(session, freeze_clock):
    care, sheet = kept_twice(session, freeze_clock)
    page = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert [row.travel_paid for row in page.visits] == [True, False, True]
    assert (page.pay.paid_travel_minutes, page.pay.travel_pence, page.pay.total_pence) == (60, pay_for(60, 2150), pay_for(240, 2150))
    assert care.provider.charter_earlier == [["2026-12-07", "2026-12-08"]]
    assert page.travel == ("Travel time is paid because you kept the Ethical Care Charter from Monday 7 December 2026 to Tuesday 8 December 2026 "
                           "and since Thursday 10 December 2026: 1 hour of travel at £21.50 an hour = £21.50. 30 minutes of travel is not paid: "
                           "it was on days outside the times the Ethical Care Charter was kept and confirmed, from Monday 7 December 2026 to "
                           "Tuesday 8 December 2026 and since Thursday 10 December 2026.")


def test_the_sent_sheet_keeps_both_periods_and_approval_pays_them(session, freeze_clock):
    care, sheet = kept_twice(session, freeze_clock)
    freeze_clock(at(14))
    sent = sheets.submit(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert (sent.travel_from, sent.travel_until, sent.travel_earlier) == (date(2026, 12, 10), None, [["2026-12-07", "2026-12-08"]])
    # Given up again after it was sent: the sheet's pay was fixed when it was sent.
    set_charter(session, care, False)
    approved = approval.approve(session=session, actor=care.broker, timesheet_id=sent.id)
    assert (approved.travel_pence, approved.total_pence) == (pay_for(60, 2150), pay_for(240, 2150))
    [item] = queries.approved_sheets(session=session, provider_id=care.provider.id)
    travel = queries.sent_travel(item, care.provider, to_provider=False)
    assert len(travel.unpaid_visit_ids) == 1 and "from Monday 7 December 2026 to Tuesday 8 December 2026 and since" in travel.words


def test_while_the_new_tick_waits_for_a_broker_the_earlier_period_stays_paid_and_the_words_say_it_waits(session, freeze_clock):
    care, sheet = kept_twice(session, freeze_clock, confirm_again=False)
    page = pages.sheet_page(session=session, actor=care.provider_user, timesheet_id=sheet.id)
    assert [row.travel_paid for row in page.visits] == [True, False, False]
    assert page.pay.travel_pence == pay_for(30, 2150)
    assert page.travel.startswith("Travel time is paid because you kept the Ethical Care Charter from Monday 7 December 2026 to Tuesday 8 December 2026: ")
    assert page.travel.endswith("A broker has not yet confirmed that you keep the Ethical Care Charter again, so travel after that is not paid yet.")
    assert care.provider in charter.unconfirmed_charters(session=session, actor=care.broker)


def test_a_period_never_confirmed_is_not_kept_when_ticked_again(session, freeze_clock):
    freeze_clock(at(7))
    care = make_care(session, charter=False)
    set_charter(session, care, True)
    freeze_clock(at(8))
    set_charter(session, care, False)
    freeze_clock(at(10))
    set_charter(session, care, True)
    assert care.provider.charter_earlier == []


def test_a_charter_ticked_before_days_were_kept_keeps_every_day_up_to_its_giving_up(session, freeze_clock):
    freeze_clock(at(8))
    care = make_care(session, charter=True)
    set_charter(session, care, False)
    freeze_clock(at(10))
    set_charter(session, care, True)
    assert care.provider.charter_earlier == [[None, "2026-12-08"]]


def test_the_provider_page_says_the_earlier_period_stays_paid_while_the_new_tick_waits(client, session, freeze_clock):
    care, _ = kept_twice(session, freeze_clock, confirm_again=False)
    session.commit()
    assert client.post("/sign-in", data={"email": care.broker.email, "password": f.PASSWORD}).status_code == 302
    shown = " ".join(client.get(f"/providers/{care.provider.id}").text.split())
    assert ("Yes, since Thursday 10 December 2026: waiting for a broker to confirm it. Travel time is not paid until then "
            "(travel on the days it was kept and confirmed before stays paid).") in shown
