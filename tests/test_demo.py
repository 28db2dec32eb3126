"""Loading the demo: the command, loading twice, under a frozen clock, and what Stripe keeps of it (what it holds: tests/test_demo_story.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import func, select

from brokerage.accounts.models import Council, User
from brokerage.clusters.models import Membership, MembershipStatus
from brokerage.demo.data import HISTORY_WEEKS
from brokerage.demo.services import load_demo
from brokerage.providers.models import Provider, ProviderKind

PASSWORD = "demo password for tests"


def demo_in(app, session):
    """Load the demo in the app's context: it invites people through the real services, whose links are built from the app's routes."""
    with app.app_context():
        return load_demo(session=session, password=PASSWORD, stripe_config=app.config)


@pytest.fixture()
def app(stripe_app):
    """The demo pays its providers through the local Stripe server, so its app talks to the test one."""
    return stripe_app


def test_loading_the_demo_twice_adds_nothing(app, session):
    demo_in(app, session)
    users = session.exec(select(func.count()).select_from(User)).one()
    demo_in(app, session)
    assert session.exec(select(func.count()).select_from(User)).one() == users


def test_the_demo_command_prints_the_logins(runner, app):
    app.config["ENV_MODE"] = "development"
    result = runner.invoke(args=["demo", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "broker@riverside.example" in result.output and PASSWORD in result.output


def test_the_demo_command_without_the_local_stripe_server_says_so_in_one_line(db_url, connection):
    from tests.conftest import app_in_transaction

    plain = app_in_transaction(db_url, connection, ENV_MODE="development")  # no STRIPE_* settings
    result = plain.test_cli_runner().invoke(args=["demo", "--password", PASSWORD])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "local Stripe server" in result.output


def test_the_demo_command_refuses_production(runner, app):
    app.config["ENV_MODE"] = "production"
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 2


# --- the demo happens through the product's own services ------------------------------------------


def _riverside(session):
    return session.exec(select(Council).where(Council.slug == "riverside")).one()


def test_the_story_happened_months_ago_and_the_clock_is_given_back(app, session):
    from brokerage import clock
    from brokerage.ledger.models import JournalEntry

    real_now = clock.now
    demo_in(app, session)
    assert clock.now is real_now
    council = _riverside(session)
    assert council.created_at < clock.now() - timedelta(weeks=29)
    first = session.exec(select(JournalEntry).where(JournalEntry.council_id == council.id).order_by(JournalEntry.id)).first()
    assert clock.now() - timedelta(weeks=29) < first.created_at < clock.now() - timedelta(weeks=26)
    on_notice = session.exec(select(Membership).where(Membership.status == MembershipStatus.leaving)).all()
    assert all(m.notice_date < clock.today() < m.leaves_on for m in on_notice)


@pytest.mark.parametrize("moment", [
    datetime(2026, 3, 30, 0, 30, tzinfo=timezone.utc),  # a Monday, just after midnight, first day of summer time
    datetime(2023, 12, 31, 23, 30, tzinfo=timezone.utc),  # the last evening of a quarter, a Sunday: last quarter began 26 weeks ago
], ids=["monday-after-midnight", "sunday-at-quarter-end"])
def test_the_demo_loads_under_a_frozen_clock_too_with_last_quarter_in_its_history(app, session, freeze_clock, moment):
    from brokerage import clock

    freeze_clock(moment)
    demo_in(app, session)
    assert clock.now() == moment
    council = _riverside(session)
    assert council.created_at < moment
    start, end = _previous_quarter(clock.london(moment).date())
    assert min(_weeks_run(session, council.id)) <= start
    spend = _care_spend(session, council.id)
    assert all(spend.get((month, ProviderKind.coop), 0) > 0 for month in _months(start, end))


def test_care_is_recorded_approved_and_paid_and_stripe_agrees_with_the_ledger(app, session, stripe_sdk):
    from brokerage import clock
    from brokerage.contracts.models import Contract
    from brokerage.ledger.queries import balance
    from brokerage.ledger.rules import CLEARING_CODE, paid_code, payable_code
    from brokerage.payments import reconcile
    from brokerage.payments.run_models import PaymentLine, PaymentRun
    from brokerage.timesheets.models import Timesheet

    demo_in(app, session)
    council = _riverside(session)
    from brokerage.accounts.system import system_actor

    auditor = system_actor(session=session, council_id=council.id)
    provider = session.exec(select(Provider).where(Provider.name == "Nasima Khatun (PA)")).one()
    (contract,) = session.exec(select(Contract).where(Contract.provider_id == provider.id)).all()
    assert provider.payouts_enabled and provider.stripe_status == "enabled"
    sheets = session.exec(select(Timesheet).where(Timesheet.contract_id == contract.id).order_by(Timesheet.week)).all()
    assert [s.status.value for s in sheets] == ["approved", "approved", "submitted"]
    runs = session.exec(select(PaymentRun).where(PaymentRun.council_id == council.id).order_by(PaymentRun.id)).all()
    assert [r.status.value for r in runs] == ["paid"] * (len(runs) - 1) + ["prepared"] and len(runs) >= 6  # monthly, then this month's two
    assert all(r.prepared_by_id != r.released_by_id for r in runs[:-1])
    # Her first week was paid by the last run released; her second is held by the run waiting for release; clearing is
    # empty once Stripe confirmed every payout.
    lines = {r.id: session.exec(select(PaymentLine).where(PaymentLine.run_id == r.id, PaymentLine.provider_id == provider.id)).all() for r in runs}
    assert [len(lines[r.id]) for r in runs] == [0] * (len(runs) - 2) + [1, 1]
    assert balance(session=session, actor=auditor, council_id=council.id, code=paid_code(provider.id)) == sheets[0].total_pence
    assert balance(session=session, actor=auditor, council_id=council.id, code=payable_code(provider.id)) == sheets[1].total_pence == lines[runs[-1].id][0].amount_pence
    assert balance(session=session, actor=auditor, council_id=council.id, code=CLEARING_CODE) == 0
    transfers = stripe_sdk.v1.transfers.list(params={"limit": 100}).data
    assert [(t.amount, t.destination) for t in transfers if t.destination == provider.stripe_account_id] == [(sheets[0].total_pence, provider.stripe_account_id)]
    paid_lines = [line for r in runs[:-1] for line in session.exec(select(PaymentLine).where(PaymentLine.run_id == r.id))]
    assert sorted(t.amount for t in transfers) == sorted(line.amount_pence for line in paid_lines)
    report = reconcile.reconcile(session=session, client=stripe_sdk, council_ids=[council.id], since=clock.london(council.created_at).date())
    assert report.payouts == report.transfers == len(paid_lines) and report.differences == []


# --- the demo's history: what a council officer asks of it ----------------------------------------


def _previous_quarter(today: date) -> tuple[date, date]:
    """Return the first and last day of the calendar quarter before the one holding today."""
    this_quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    end = this_quarter - timedelta(days=1)
    return date(end.year, (end.month - 1) // 3 * 3 + 1, 1), end


def _months(start: date, end: date) -> list[date]:
    """Return the first days of the months from start to end."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _care_spend(session, council_id: int) -> dict:
    """Return care spend from the pool shares by (month in England, provider kind), in pence, as the pool summary holds it."""
    from brokerage.ledger.models import PoolMonth

    rows = session.exec(
        select(PoolMonth.month, Provider.kind, func.sum(PoolMonth.amount_pence)).join(Provider, Provider.id == PoolMonth.provider_id)
        .where(PoolMonth.council_id == council_id, PoolMonth.kind == "care_cost").group_by(PoolMonth.month, Provider.kind)
    ).all()
    return {(month, kind): -int(amount) for month, kind, amount in rows}


def _weeks_run(session, council_id: int) -> list[date]:
    """Return the Mondays of the weeks whose direct payments the weekly runs issued."""
    from brokerage.clusters.rules import parse_period
    from brokerage.ledger.models import JournalEntry

    keys = session.exec(select(JournalEntry.idempotency_key).where(JournalEntry.council_id == council_id, JournalEntry.kind == "dp_issued")).all()
    return sorted({parse_period(key.rsplit(":", 1)[1])[0] for key in keys})


def test_the_weekly_runs_cover_the_27_weeks_before_this_one_and_so_last_quarter(app, session):
    from brokerage import clock
    from brokerage.demo import money

    demo_in(app, session)
    today = clock.london(clock.now()).date()
    this_monday = today - timedelta(days=today.weekday())
    # ...and this week's too, once its Monday-morning run time has passed.
    last = 0 if money.week_run_by_now(this_monday) else 1
    assert _weeks_run(session, _riverside(session).id) == [this_monday - timedelta(weeks=n) for n in range(HISTORY_WEEKS, last - 1, -1)]
    assert this_monday - timedelta(weeks=HISTORY_WEEKS) <= _previous_quarter(today)[0]


