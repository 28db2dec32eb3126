"""The demo's months of care: the care groups agreed early in the story, each week of care recorded and
approved on the Monday after it, and the council's monthly payment runs.

Each contract comes from a matching run the group voted through (`care`); every Monday each provider
that gave care last week sends its timesheet and the broker (or the member its group chose) approves
it, which pays the week from the members' pool shares; on the first Monday of a month the broker
prepares a payment run of everything approved and an officer releases it, paid through the local
Stripe server (`paying`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from sqlmodel import Session

from brokerage.demo import care, data, paying
from brokerage.demo.story import Cast, StoryClock

# Monthly payment runs pay the history; the last three weeks keep their own story (see `services`).
LAST_MONTHLY_RUN_WEEKS_BACK = 4


def agree_care(*, session: Session, story: StoryClock, cast: Cast, config: Mapping, week: date, weeks_back: int) -> None:
    """On Saturday the groups ask for the care they agreed this week (if any) and the broker matches it; on Sunday they vote it through.

    Once a contract is made its provider sets up payments with Stripe, so the monthly runs can pay it.
    """
    agreed = [item for item in data.HISTORY_CARE if item.weeks_back == weeks_back]
    if not agreed:
        return
    story.at(week + timedelta(days=5), 10)
    for item in agreed:
        story.later(minutes=15)
        care.ask(session=session, cast=cast, wish=item.wish)
    story.later(minutes=30)
    care.match_and_send(session=session, story=story, cast=cast, expected={item.wish[0]: item.provider for item in agreed})
    story.at(week + timedelta(days=6), 10)
    for item in agreed:
        made = care.vote_on_the_match(session=session, story=story, cast=cast, group=item.wish[0], provider=item.provider,
                                      visits=item.visits, every=item.every, hours_between=2)
        story.later(minutes=45)
        paying.set_up_payments(session=session, cast=cast, config=config, provider=made.provider)


def pay_for_last_week(*, session: Session, story: StoryClock, cast: Cast, week: date) -> None:
    """On Monday morning every contracted provider sends last week's timesheet; the broker, or the member its group chose, approves each."""
    story.at(week, 8)
    last_monday = week - timedelta(weeks=1)
    sent = [paying.record_week(session=session, story=story, cast=cast, care=agreed, monday=last_monday)
            for agreed in cast.care.values() if paying.week_visits(agreed, last_monday)]
    for sheet in sent:
        story.later(minutes=10)
        paying.approve(session=session, sheet_id=sheet.id, cast=cast)


def is_monthly_run_due(week: date, weeks_back: int) -> bool:
    """Tell whether this Monday is the first of its month, in the weeks the monthly runs pay (once something is approved)."""
    return week.day <= 7 and LAST_MONTHLY_RUN_WEEKS_BACK <= weeks_back < data.HISTORY_WEEKS


def monthly_run(*, session: Session, story: StoryClock, cast: Cast, config: Mapping) -> None:
    """The broker prepares a payment run of everything approved and not yet paid; an officer releases it within the hour."""
    story.later(minutes=30)
    run = paying.prepare_run(session=session, cast=cast)
    story.later(hours=1)
    paying.release_and_pay(session=session, story=story, cast=cast, run_id=run.id, config=config)
