"""Timesheets' hold on a leaver's pool share (registered with `clusters.leaver_holds` in `brokerage.wiring`).

A leaver's share pays for the care they were given up to their leaving day, so it is not returned while:
- a timesheet of a contract serving them, for a week up to their leaving day, is not yet approved or sent
  back (a draft or a sheet waiting for approval); or
- within SHEET_GRACE_DAYS of their leaving day, a week of their notice under such a contract has no
  timesheet yet (the provider has that long to send the last weeks).
A sheet sent back after the share was returned can no longer charge the leaver: the visit checks refuse
care for someone no longer in the group, and the week is shared by those still in it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from brokerage.clusters.leaver_holds import WAITING_FOR_SHEETS
from brokerage.clusters.models import Membership
from brokerage.contracts.models import Contract

from brokerage.timesheets import rules
from brokerage.timesheets.models import Timesheet
from brokerage.timesheets.rules import TimesheetStatus

SHEET_GRACE_DAYS = 14
OPEN_SHEETS = (TimesheetStatus.draft, TimesheetStatus.submitted)


def sheets_still_open(*, session: Session, membership: Membership, today: date) -> str | None:
    """Return why a leaver's share must wait for timesheets (see the module's note), or None once it need not."""
    last_day = membership.leaves_on
    if last_day is None:
        return None
    contracts = [
        c for c in session.exec(select(Contract).where(Contract.cluster_id == membership.cluster_id, Contract.start_date <= last_day))
        if str(membership.holder_id) in c.member_shares
    ]
    if not contracts:
        return None
    last_week = rules.week_of_day(last_day)
    sheets = list(session.exec(select(Timesheet.contract_id, Timesheet.week, Timesheet.status).where(
        Timesheet.contract_id.in_([c.id for c in contracts]), Timesheet.week <= last_week,
    )))
    if any(status in OPEN_SHEETS for _, _, status in sheets):
        return WAITING_FOR_SHEETS
    if today <= last_day + timedelta(days=SHEET_GRACE_DAYS):
        started = {(contract_id, week) for contract_id, week, _ in sheets}
        for contract in contracts:
            first = max(contract.start_date, membership.notice_date or last_day)
            last = min(last_day, contract.end_date or last_day)
            if first <= last and any((contract.id, week) not in started for week in rules.weeks_between(first, last)):
                return WAITING_FOR_SHEETS
    return None
