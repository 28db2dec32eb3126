"""Each payment's remittance: which contracts, which weeks and which visits it pays, and a timesheet paid only once."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from brokerage.contracts.models import Contract
from brokerage.contracts.rules import AllocationRule
from brokerage.payments import remittance, runs
from brokerage.payments.run_models import PaymentLineTimesheet
from brokerage.payments.run_rules import LineStatus
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.paying import payments_of
from brokerage.timesheets.rules import TimesheetStatus
from tests import factories as f
from tests.payments.runs_support import fund, lines_of, make_world, sign_in


@pytest.fixture()
def world(session):
    return make_world(session)


def approved_sheet(session, world, provider, week: str, pence: int, *, member_name="Ada Member", status=TimesheetStatus.approved,
                   travel_pence=None):
    """Add a contract's approved timesheet with one visit, and its care money in the provider's payable (as approval posts)."""
    cluster = f.ClusterFactory(session=session, council_id=world.council.id, name=f"Riverside group {week[-2:]}")
    holder = f.HolderFactory(session=session, council_id=world.council.id, name=member_name)
    contract = Contract(council_id=world.council.id, provider_id=provider.id, cluster_id=cluster.id, service="home_care",
                        member_shares={str(holder.id): 1}, hours_per_week=5, rate_pence=2000, start_date=date(2026, 11, 2))
    session.add(contract)
    session.flush()
    entry = fund(session, provider, pence, key=f"care:{contract.id}:{week}")
    sheet = Timesheet(council_id=world.council.id, contract_id=contract.id, provider_id=provider.id, cluster_id=cluster.id, week=week,
                      status=status, total_pence=pence, care_entry_id=entry.id, travel_paid=travel_pence is not None, travel_pence=travel_pence)
    session.add(sheet)
    session.flush()
    session.add(Visit(council_id=world.council.id, timesheet_id=sheet.id, holder_id=holder.id, visit_date=date(2026, 11, 30),
                      start_time=time(9, 30), minutes=60, travel_minutes=10))
    session.flush()
    return sheet


def test_a_line_is_linked_to_the_providers_approved_timesheets_not_yet_paid(session, world):
    provider = world.providers[0]
    first = approved_sheet(session, world, provider, "2026-W48", 1500)
    second = approved_sheet(session, world, provider, "2026-W49", 1800)
    approved_sheet(session, world, provider, "2026-W50", 999, status=TimesheetStatus.submitted)
    run = runs.prepare_run(session=session, actor=world.broker)
    line = next(line for line in lines_of(session, run.id) if line.provider_id == provider.id)
    links = session.exec(PaymentLineTimesheet.__table__.select().where(PaymentLineTimesheet.line_id == line.id)).all()
    assert sorted((row.timesheet_id, row.amount_pence) for row in links) == [(first.id, 1500), (second.id, 1800)]
    assert line.amount_pence == 1000 + 1500 + 1800 + 999  # the payable balance: money is the truth, sheets explain it


def test_a_timesheet_in_an_open_run_is_not_linked_again_but_a_cancelled_runs_are(session, world):
    provider = world.providers[0]
    sheet = approved_sheet(session, world, provider, "2026-W49", 1800)
    run = runs.prepare_run(session=session, actor=world.broker)
    assert remittance.unpaid_timesheets(session=session, council_id=world.council.id, provider_id=provider.id) == []
    runs.cancel_run(session=session, actor=world.broker, run_id=run.id, reason="A provider asked us to wait")
    assert remittance.unpaid_timesheets(session=session, council_id=world.council.id, provider_id=provider.id) == [(sheet.id, 1800)]


def test_the_provider_reads_which_contracts_weeks_and_visits_a_payment_covers(client, session, world):
    provider = world.providers[0]
    sheet = approved_sheet(session, world, provider, "2026-W49", 1800, member_name="Ada Lovelace")
    run = runs.prepare_run(session=session, actor=world.broker)
    runs.release_run(session=session, actor=world.officer, run_id=run.id)
    line = next(line for line in lines_of(session, run.id) if line.provider_id == provider.id)
    session.commit()
    sign_in(client, world.provider_users[provider.id])
    page = client.get(f"/payments/lines/{line.id}")
    assert page.status_code == 200
    text = page.text
    assert "week of 30 November 2026" in text and "2026-W49" not in text
    # The contract is named by what it is for, not by its number ("See the timesheet or contract 4").
    assert f">contract {sheet.contract_id}<" not in text and "Riverside group 49" in text
    assert "Ada Lovelace" in text and "9:30am" in text and "09:30" not in text and "£18.00" in text  # times read like every other page
    # Each visit's day, length and travel read as on the timesheet, and both the timesheet and the contract are a click away.
    assert 'data-label="Day">Monday 30 November 2026<' in text and 'data-label="Length">1 hour<' in text and 'data-label="Travel">10 minutes<' in text
    assert "Travel minutes" not in text
    for link in (f'href="/timesheets/{sheet.id}"', f'href="/contracts/{sheet.contract_id}">the contract<span class="govuk-visually-hidden"> for '):
        assert link in text, link
    assert client.get(f"/timesheets/{sheet.id}").status_code == 200 and client.get(f"/contracts/{sheet.contract_id}").status_code == 200
    mine = client.get("/payments/mine")
    assert f"/payments/lines/{line.id}" in mine.text
    # Staff of the council read the same remittance from the run's page.
    sign_in(client, world.officer)
    assert "Ada Lovelace" in client.get(f"/payments/lines/{line.id}").text
    assert client.get(f"/timesheets/{sheet.id}").status_code == 200 and client.get(f"/contracts/{sheet.contract_id}").status_code == 200


def test_the_officer_reads_travel_apart_from_care_and_a_flag_where_travel_is_large(client, session, world):
    provider = world.providers[0]
    big = approved_sheet(session, world, provider, "2026-W49", 1800, travel_pence=600)
    small = approved_sheet(session, world, provider, "2026-W48", 1500, travel_pence=100)
    run = runs.prepare_run(session=session, actor=world.broker)
    line = next(line for line in lines_of(session, run.id) if line.provider_id == provider.id)
    session.commit()
    sign_in(client, world.officer)
    text = " ".join(client.get(f"/payments/lines/{line.id}").text.split())
    assert 'Of which travel</dt> <dd class="govuk-summary-list__value">£7.00<' in text
    assert "came to £18.00: care £12.00 · travel £6.00." in text and "came to £15.00: care £14.00 · travel £1.00." in text
    # £6.00 of travel beside £12.00 of care is flagged; £1.00 beside £14.00 is not.
    assert text.count("Check the travel:") == 1 and "Check the travel: £6.00 of travel is more than a quarter of the £12.00 of care." in text
    assert {big.id, small.id} == set(remittance.remittance(session=session, actor=world.officer, line_id=line.id).amounts)


def test_a_payment_with_no_timesheet_says_so(client, session, world):
    run = runs.prepare_run(session=session, actor=world.broker)
    runs.release_run(session=session, actor=world.officer, run_id=run.id)
    line = lines_of(session, run.id)[0]
    session.commit()
    sign_in(client, world.provider_users[line.provider_id])
    assert "not linked to any timesheet" in client.get(f"/payments/lines/{line.id}").text


def _week_shown(client, sheet) -> tuple[str, str]:
    """Return the provider's timesheet page and their list of timesheets, as text."""
    return client.get(f"/timesheets/{sheet.id}").text, client.get("/timesheets/").text


def test_the_provider_sees_whether_an_approved_week_is_paid_or_where_its_payment_is(client, session, world):
    # Before, the sheet and the list said "Approved" both for a week paid and for one no run had taken yet.
    provider = world.providers[0]
    sheet = approved_sheet(session, world, provider, "2026-W49", 1800)
    session.commit()
    sign_in(client, world.provider_users[provider.id])
    for text in _week_shown(client, sheet):
        assert "Waiting for the next payment run" in text and "/payments/lines/" not in text and ">Paid<" not in text

    run = runs.prepare_run(session=session, actor=world.broker)
    session.commit()
    for text in _week_shown(client, sheet):
        assert "In a payment run waiting for a council officer to release it" in text and "/payments/lines/" not in text

    runs.release_run(session=session, actor=world.officer, run_id=run.id)
    line = next(line for line in lines_of(session, run.id) if line.provider_id == provider.id)
    session.commit()
    for text in _week_shown(client, sheet):
        assert "In a payment run a council officer has released, waiting to be sent" in text and f'href="/payments/lines/{line.id}"' in text

    line.status, line.sent_at = LineStatus.paid, datetime(2026, 11, 17, 23, 30, tzinfo=timezone.utc)  # 17 November in England
    session.add(line)
    session.commit()
    page, weeks = _week_shown(client, sheet)
    for text in (page, weeks):
        assert "Paid on 17 November 2026" in text and f'href="/payments/lines/{line.id}"' in text and ">Paid<" in text
    assert "Payment to you" in page
    # Staff read the same on the sheet, about the provider.
    sign_in(client, world.officer)
    staff = client.get(f"/timesheets/{sheet.id}").text
    assert "Payment to the provider" in staff and "Paid on 17 November 2026" in staff


def test_a_week_whose_payment_did_not_go_through_says_it_waits_for_the_next_run(session, world):
    provider = world.providers[0]
    sheet = approved_sheet(session, world, provider, "2026-W49", 1800)
    run = runs.prepare_run(session=session, actor=world.broker)
    runs.release_run(session=session, actor=world.officer, run_id=run.id)
    line = next(line for line in lines_of(session, run.id) if line.provider_id == provider.id)
    line.status = LineStatus.failed
    session.flush()
    shown = payments_of(session, [sheet])[sheet.id]
    assert shown.words == "Waiting for the next payment run: the last payment did not go through" and not shown.paid
    assert shown.line_id == line.id


def test_the_provider_list_asks_once_about_payments_however_many_weeks_are_approved(client, session, world):
    provider = world.providers[0]
    for week in ("2026-W47", "2026-W48", "2026-W49"):
        approved_sheet(session, world, provider, week, 1000)
    session.commit()
    sign_in(client, world.provider_users[provider.id])
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(Engine, "before_cursor_execute", listener)
    try:
        text = client.get("/timesheets/").text
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    assert text.count("Waiting for the next payment run") == 3
    assert len([s for s in statements if "payment_line_timesheet" in s]) == 1, statements


def test_a_week_sent_while_the_charter_waited_for_a_broker_says_so_on_the_remittance(client, session, world):
    provider = world.providers[0]
    provider.ethical_care_charter, provider.charter_since = True, date(2026, 11, 23)
    sheet = approved_sheet(session, world, provider, "2026-W49", 2000, travel_pence=0)
    # Sent while the provider's own tick waited for a broker: its 10 minutes of travel are not paid.
    sheet.travel_paid, sheet.travel_awaiting, sheet.rate_pence, sheet.allocation_rule, sheet.parts = False, True, 2000, AllocationRule.equal, {"1": 2000}
    session.add_all([provider, sheet])
    session.flush()
    run = runs.prepare_run(session=session, actor=world.broker)
    line = next(line for line in lines_of(session, run.id) if line.provider_id == provider.id)
    session.commit()
    sign_in(client, world.officer)
    text = " ".join(client.get(f"/payments/lines/{line.id}").text.split())
    assert (f"Travel time is not paid on this timesheet: when it was sent, a broker had not yet confirmed that {provider.name} keeps "
            "the Ethical Care Charter (10 minutes of travel this week).") in text
    assert "10 minutes (not paid)" in text and "not signed" not in text
