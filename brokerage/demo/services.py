"""Load a realistic demo council by playing its last thirty weeks through the real services.

Thirty weeks ago Riverside brings its direct-payment holders and providers onto carepool; over the
next fortnight eight groups form, and two of them agree care with a co-operative and a charity; for
the last 27 weeks the weekly runs pay direct payments and collect pledges (so the previous calendar
quarter is always in the story). Each Monday the contracted providers' weeks are recorded and approved
(the Somali elders' by Amina, whom they chose to approve them), and each month a payment run pays them
through the local Stripe server (`history`). Along the way the
Bengali circle adds care from a CIC and then a personal assistant, a group closes, members give notice,
and new decisions open; the Urdu speakers ask for no care until the last days, so their pool shares
hold months of unspent pledges. The clock moves with the story (see `story`), so every date is when it happened.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from brokerage.accounts import services as accounts
from brokerage.accounts.models import Council, User
from brokerage.clusters.rules import period_of
from brokerage.demo import care, data, groups, history, money, paying, people
from brokerage.demo.story import StoryClock
from brokerage.mail.services import outbox_only

DEMO_PASSWORD_HINT = "The demo password is printed by `brokerage demo`; it is for local demo use only."


@dataclass
class DemoLogin:
    """A demo account to print."""

    role: str
    email: str
    name: str
    council: str


def load_demo(*, session: Session, password: str, stripe_config: Mapping, seed: int = 2026) -> list[DemoLogin]:
    """Load the demo councils and return the demo logins; do nothing if they are already there.

    `stripe_config` holds STRIPE_SECRET_KEY and STRIPE_API_BASE of the local Stripe server the providers are paid through.
    """
    if accounts.find_council(session=session, slug=data.DEMO_SLUG) is not None:
        return demo_logins(session=session)
    paying.local_stripe(stripe_config)  # refuse at once, before anything is written, without the local Stripe server
    rng = random.Random(seed)
    # The demo's addresses are made up: its mail stays in the outbox even where MAIL_SERVER is set.
    with StoryClock() as story, outbox_only():
        monday = story.this_monday  # of the real week: the story ends the day before it, and the review run is now
        start = monday - timedelta(weeks=data.STORY_WEEKS)
        story.at(start, 9)
        cast = people.open_councils(session=session)
        people.add_staff(session=session, cast=cast, password=password)
        people.register_holders(session=session, rng=rng, cast=cast)
        people.register_providers(session=session, rng=rng, cast=cast)
        groups.plan_members(cast)
        people.open_accounts(session=session, cast=cast, password=password, holder_ids=groups.holder_ids_with_logins(cast))
        people.add_other_council(session=session, cast=cast, password=password)
        story.later(hours=3)
        people.record_evidence(session=session, cast=cast, today=story.today)
        story.at(start + timedelta(days=1), 10)
        people.add_representative(session=session, cast=cast, password=password)
        people.record_consent(session=session, cast=cast)

        # Over a fortnight the eight groups form, two days apart, each voting in its members.
        for index, spec in enumerate(data.CLUSTERS):
            story.at(start + timedelta(days=3 + 2 * index), 10)
            groups.form_group(session=session, story=story, cast=cast, spec=spec)
        # That weekend the first groups agree their care; the weekly runs begin on Monday.
        weeks_back = data.HISTORY_WEEKS + 1
        history.agree_care(session=session, story=story, cast=cast, config=stripe_config, week=monday - timedelta(weeks=weeks_back), weeks_back=weeks_back)

        councils = [cast.council, cast.other]
        for weeks_back in range(data.HISTORY_WEEKS, 0, -1):
            week = monday - timedelta(weeks=weeks_back)
            story.at(week, 6)
            running = councils if weeks_back <= data.OTHER_COUNCIL_WEEKS else [cast.council]  # the other council joined later
            money.run_week(session=session, councils=running, period=period_of(week))
            history.pay_for_last_week(session=session, story=story, cast=cast, week=week)
            if weeks_back == data.HISTORY_WEEKS:
                # In their first week of care the Somali elders choose Amina to approve the co-operative's timesheets.
                story.at(week + timedelta(days=1), 11)
                groups.choose_an_approver(session=session, story=story, cast=cast)
            if history.is_monthly_run_due(week, weeks_back):
                history.monthly_run(session=session, story=story, cast=cast, config=stripe_config)
            history.agree_care(session=session, story=story, cast=cast, config=stripe_config, week=week, weeks_back=weeks_back)
            if weeks_back == 4:
                story.at(week + timedelta(days=3), 10)
                care.ask_for_domestic_help(session=session, cast=cast)
                story.at(week + timedelta(days=4), 9, 30)
                care.match_and_send(session=session, story=story, cast=cast, expected={groups.BENGALI: data.PROVIDER_WITH_LOGIN})
            if weeks_back == 3:
                story.at(week, 11)
                groups.raise_a_pledge(session=session, cast=cast)
                story.at(week, 12)
                nasima = care.vote_on_domestic_help(session=session, story=story, cast=cast, visits=data.CONTRACTED_VISITS)
                story.later(hours=20)
                paying.set_up_payments(session=session, cast=cast, config=stripe_config, provider=nasima.provider)
            if weeks_back == 2:
                # The personal assistant's first week was approved this morning: the council's payment run pays it.
                story.at(week + timedelta(days=1), 10)
                first_run = paying.prepare_run(session=session, cast=cast)
                story.at(week + timedelta(days=1), 15)
                paying.release_and_pay(session=session, story=story, cast=cast, run_id=first_run.id, config=stripe_config)
                story.at(week + timedelta(days=2), 10)
                groups.close_the_lunch_club(session=session, story=story, cast=cast)
            if weeks_back == 1:
                # Her second week is approved too, and this payment run waits for an officer to release it.
                story.at(week, 17)
                groups.give_notice(session=session, story=story, cast=cast)
                story.at(week + timedelta(days=1), 10)
                paying.prepare_run(session=session, cast=cast)

        story.at(monday - timedelta(days=4), 10)
        groups.ask_to_join_forming_groups(session=session, story=story, cast=cast)
        story.at(monday - timedelta(days=3), 10)
        groups.start_closing_vote(session=session, cast=cast)
        story.at(monday - timedelta(days=2), 10)
        groups.somali_decisions(session=session, story=story, cast=cast)
        story.at(monday - timedelta(days=1), 11)
        care.record_demand(session=session, story=story, cast=cast)
        # Last week's visits are recorded on Sunday evening; the timesheet is sent once the week is over (now),
        # and waits for the broker's approval.
        story.at(monday - timedelta(days=1), 18)
        waiting = paying.record_week(session=session, story=story, cast=cast, care=nasima, monday=monday - timedelta(weeks=1), submit=False)
        # So are the care co-operative's, which wait for Amina, the member the Somali elders chose to approve them.
        hooyo = cast.care[data.HISTORY_CARE[0].provider]
        for_amina = paying.record_week(session=session, story=story, cast=cast, care=hooyo, monday=monday - timedelta(weeks=1), submit=False)

        story.back_to_now()
        # This week's direct payments and pledges, which the weekly runs post on Monday morning.
        if money.week_run_by_now(monday):
            money.run_week(session=session, councils=councils, period=period_of(monday))
        paying.send_week(session=session, cast=cast, care=nasima, sheet_id=waiting.id)
        paying.send_week(session=session, cast=cast, care=hooyo, sheet_id=for_amina.id)
        people.invite_a_holder(session=session, cast=cast)
        people.invite_a_provider(session=session, cast=cast)
        care.run_for_review(session=session, cast=cast)
        money.review_surplus(session=session, councils=councils)
        money.seal_all(session=session, councils=councils)
    return demo_logins(session=session)


def demo_logins(*, session: Session) -> list[DemoLogin]:
    """Return the demo accounts to print, one line each."""
    rows = session.exec(select(User).where(User.email.in_(data.PRINTED)).order_by(User.council_id, User.role, User.id)).all()
    councils = {c.id: c.name for c in session.exec(select(Council))}
    return [DemoLogin(role=u.role.label, email=u.email, name=u.name, council=councils.get(u.council_id, "all councils")) for u in rows]
