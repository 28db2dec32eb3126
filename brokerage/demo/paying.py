"""The demo's money reaching carers: the contracted provider sets up payments, records its visits each
week, the broker (or the member a group chose) approves the timesheets, and payment runs pay it through
the local Stripe server.

Every step goes through the product's own services. Stripe is the local Stripe-compatible server
(`brokerage payments local-stripe`, which `make demo` starts): the demo finishes the provider's
onboarding with the server's controls, as the provider would on Stripe's pages, and fetches the
events Stripe sent while nobody was listening (`payments.webhooks.catch_up`), as the service does
after missing webhooks.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from urllib.parse import urlsplit

from collections.abc import Mapping
from sqlmodel import Session

from brokerage.accounts.system import system_actor
from brokerage.clusters.rules import period_of
from brokerage.demo import data
from brokerage.demo.story import Care, Cast, StoryClock, StoryError
from brokerage.errors import ConfigError
from brokerage.payments import gateway, onboarding, runs, transfers, webhooks
from brokerage.payments.local_controls import Controls
from brokerage.payments.run_models import PaymentRun
from brokerage.providers.models import Provider
from brokerage.timesheets import approval, approvers, sheets
from brokerage.timesheets.models import Timesheet

TRAVEL_MINUTES = 15  # each visit's travel, paid where the provider keeps the Ethical Care Charter


def local_stripe(config: Mapping) -> Controls:
    """Return the controls of the local Stripe server the settings point at; refuse any other Stripe (ConfigError)."""
    base = config.get("STRIPE_API_BASE") or ""
    if not config.get("STRIPE_SECRET_KEY") or urlsplit(base).hostname not in ("127.0.0.1", "localhost"):
        raise ConfigError(
            "The demo pays its providers through the local Stripe server: run `make demo` with no STRIPE_SECRET_KEY set, "
            "or start `brokerage payments local-stripe` and point STRIPE_API_BASE at it."
        )
    return Controls(base)


def catch_up(*, session: Session, config: Mapping) -> None:
    """Store and process the events the local Stripe server sent while no web server was listening."""
    for event_id in webhooks.catch_up(session=session, client=gateway.client(config)):
        webhooks.process_event(session=session, event_id=event_id)


def set_up_payments(*, session: Session, cast: Cast, config: Mapping, provider: Provider) -> None:
    """A newly contracted provider sets up payments and finishes Stripe's onboarding; Stripe's event enables payouts."""
    controls = local_stripe(config)
    onboarding.start_onboarding(session=session, actor=cast.provider_logins[provider.id], provider_id=provider.id,
                                config=config, return_url=f"http://127.0.0.1:5000/providers/{provider.id}")
    controls.complete_onboarding(provider.stripe_account_id)
    catch_up(session=session, config=config)
    session.refresh(provider)
    if not provider.payouts_enabled:
        raise StoryError(f"{provider.name} was meant to be able to receive payouts once Stripe said so")


def weeks_of_care(care: Care, monday: date) -> int:
    """Return how many weeks this Monday is after the contract's first whole week (-1 for a week it starts in after Monday)."""
    start = care.contract.start_date
    return (monday - (start + timedelta(days=-start.weekday() % 7))).days // 7


def week_visits(care: Care, monday: date) -> list[tuple[date, time, int]]:
    """Return the days, starts and minutes of a contract's visits in the week from this Monday (a week of care), from the day it starts."""
    if weeks_of_care(care, monday) % care.every:
        return []
    days = [(monday + timedelta(days=weekday), start, minutes) for weekday, start, minutes in care.visits]
    return [visit for visit in days if visit[0] >= care.contract.start_date]


def record_week(*, session: Session, story: StoryClock, cast: Cast, care: Care, monday: date, submit: bool = True) -> Timesheet:
    """The provider records the week's visits (each member in turn, week after week) and sends the timesheet."""
    contract, provider = care.contract, care.provider
    actor = cast.provider_logins[provider.id]
    sheet = sheets.start_sheet(session=session, actor=actor, contract_id=contract.id, week=period_of(monday))
    members = sorted(int(holder) for holder in contract.member_shares)
    travel = TRAVEL_MINUTES if provider.ethical_care_charter else 0
    turn = weeks_of_care(care, monday) // care.every * len(care.visits)  # who is visited moves on each week of care
    for index, (day, start, minutes) in enumerate(week_visits(care, monday)):
        story.later(minutes=5)
        sheets.add_visit(session=session, actor=actor, timesheet_id=sheet.id, holder_id=members[(turn + index) % len(members)],
                         visit_date=day, start=start, minutes=minutes, travel_minutes=travel)
    if submit:
        story.later(minutes=10)
        sheet = sheets.submit(session=session, actor=actor, timesheet_id=sheet.id)
    return sheet


def send_week(*, session: Session, cast: Cast, care: Care, sheet_id: int) -> Timesheet:
    """The provider sends a week's timesheet, once the week is over."""
    return sheets.submit(session=session, actor=cast.provider_logins[care.provider.id], timesheet_id=sheet_id)


def approve(*, session: Session, sheet_id: int, cast: Cast) -> None:
    """The member the group chose approves a timesheet, or the broker where it chose nobody: the members' parts move from
    their pool shares to what the provider is owed."""
    chosen = approvers.approver_of(session=session, cluster_id=session.get(Timesheet, sheet_id).cluster_id)
    actor = cast.accounts[chosen.id] if chosen is not None else cast.user(data.BROKER[0])
    approval.approve(session=session, actor=actor, timesheet_id=sheet_id)


def prepare_run(*, session: Session, cast: Cast) -> PaymentRun:
    """The broker prepares a payment run of everything approved and not yet paid."""
    return runs.prepare_run(session=session, actor=cast.user(data.BROKER[0]))


def release_and_pay(*, session: Session, story: StoryClock, cast: Cast, run_id: int, config: Mapping) -> None:
    """An officer (not the broker who prepared it) releases the run; it pays through Stripe and Stripe confirms."""
    runs.release_run(session=session, actor=cast.user(data.OFFICER[0]), run_id=run_id)
    story.later(minutes=2)
    # The run's job, step by step in the demo's one transaction (the job commits each step on its own).
    council_id = cast.council.id
    client = gateway.client(config)
    token = f"demo-run-{run_id}"
    for line_id in transfers.claim_run(session=session, actor=system_actor(session=session, council_id=council_id), run_id=run_id, token=token) or []:
        sending = transfers.mark_sending(session=session, actor=system_actor(session=session, council_id=council_id), line_id=line_id)
        if sending is not None:
            transfers.record_sent(session=session, line_id=line_id, transfer_id=transfers.send_transfer(client, sending).id)
    status = transfers.finish_run(session=session, run_id=run_id, token=token)
    story.later(minutes=1)
    catch_up(session=session, config=config)
    if status != "paid":
        raise StoryError(f"payment run {run_id} was meant to pay everyone, but it is {status}")
