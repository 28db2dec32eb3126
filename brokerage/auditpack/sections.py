"""The CSV files of an auditor pack: statements, timesheets, contracts, vetting dates and seals. Nothing here writes to the database.

Each writer reads one council's rows for one quarter with a few set-based queries (never one per
holder), streams the big ones in chunks, and writes people's names beside every id or code.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from functools import lru_cache
from itertools import groupby
from typing import TextIO

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from brokerage.accounts.models import User
from brokerage.auditpack import rules
from brokerage.auditpack.rules import Quarter
from brokerage.clusters.models import Cluster
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import status_on
from brokerage.holders.models import Holder
from brokerage.ledger.models import JournalEntry, LedgerAccount, LedgerSeal, Posting
from brokerage.providers import rules as provider_rules
from brokerage.providers.models import Provider, VettingItem
from brokerage.slot_hours import in_week_order, total
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.rules import TimesheetStatus
from brokerage.vocabulary import PROVIDER_KIND_LABELS, VETTING_IN_A_SENTENCE, service_name
from brokerage.formatting import plural, slot_hours_words, week_of

CHUNK = 5_000
BROUGHT_FORWARD, CARRIED_FORWARD = "Balance brought forward", "Balance carried forward"

STATEMENT_COLUMNS = (
    "account", "account_code", "holder", "group", "line", "date", "at_london", "entry_id", "what",
    "amount_pence", "amount_gbp", "balance_pence", "balance_gbp",
)
TIMESHEET_COLUMNS = (
    "timesheet_id", "contract_id", "provider", "group", "week", "iso_week", "member", "visits", "hours", "travel_hours",
    "status", "approver", "approved_at_london", "member_part_gbp", "ledger_entry_id",
)
CONTRACT_COLUMNS = (
    "contract_id", "provider", "group", "service", "hours_per_week", "rate_gbp", "weekly_cost_gbp", "start_date", "end_date",
    "status", "sharing_rule", "members", "days_and_times", "slot_hours",
)
VETTING_COLUMNS = (
    "provider_id", "provider", "provider_kind", "evidence", "reference", "expires_on", "added_on", "verified_on", "verified_by",
    "provider_vetted", "as_of",
)
SEAL_COLUMNS = ("seal_id", "first_seq", "last_seq", "root", "previous_hash", "seal_hash", "sealed_at_utc", "sealed_at_london")


def _names(session: Session, model, council_id: int) -> dict[int, str]:
    return dict(session.execute(select(model.id, model.name).where(model.council_id == council_id)).all())


def _in_quarter(quarter: Quarter, column) -> list:
    return [column >= quarter.start_at, column < quarter.end_before]


# --- statements --------------------------------------------------------------------------------------


def holders_in_statements(*, session: Session, council_id: int, quarter: Quarter) -> list[int]:
    """Return the ids of the holders with an account in write_statements' file: money moved on it in the quarter, or held at its start."""
    moved = select(Posting.account_id).join(JournalEntry, JournalEntry.id == Posting.entry_id).where(
        JournalEntry.council_id == council_id, *_in_quarter(quarter, JournalEntry.created_at))
    held = (
        select(Posting.account_id).join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.council_id == council_id, JournalEntry.created_at < quarter.start_at)
        .group_by(Posting.account_id).having(func.sum(Posting.amount_pence) != 0)
    )
    return list(session.execute(
        select(LedgerAccount.holder_id).distinct()
        .where(LedgerAccount.council_id == council_id, LedgerAccount.holder_id.is_not(None),
               or_(LedgerAccount.id.in_(moved), LedgerAccount.id.in_(held)))
        .order_by(LedgerAccount.holder_id)
    ).scalars())


def write_statements(*, session: Session, council_id: int, quarter: Quarter, out: TextIO) -> tuple[int, int]:
    """Write every holder account's statement for the quarter with running balances; return (accounts, movements).

    An account is in the file when money moved on it in the quarter or it held money at the start. One
    grouped query gives the opening balances, one query streams the quarter's postings by account and time.
    """
    holders = _names(session, Holder, council_id)
    groups = _names(session, Cluster, council_id)
    accounts = {
        row.id: row for row in session.execute(
            select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.holder_id, LedgerAccount.cluster_id)
            .where(LedgerAccount.council_id == council_id, LedgerAccount.holder_id.is_not(None))
        )
    }
    opening = {
        account_id: int(total) for account_id, total in session.execute(
            select(Posting.account_id, func.sum(Posting.amount_pence))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(JournalEntry.council_id == council_id, LedgerAccount.holder_id.is_not(None), JournalEntry.created_at < quarter.start_at)
            .group_by(Posting.account_id)
        )
    }
    # Core rows from the session's own connection (the same snapshot), streamed: no ORM work per row.
    movements = session.connection().execute(
        select(Posting.account_id, JournalEntry.id, JournalEntry.created_at, JournalEntry.kind, JournalEntry.memo, Posting.amount_pence)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(JournalEntry.council_id == council_id, LedgerAccount.holder_id.is_not(None), *_in_quarter(quarter, JournalEntry.created_at))
        .order_by(Posting.account_id, JournalEntry.created_at, JournalEntry.id, Posting.leg)
        .execution_options(yield_per=CHUNK)
    )
    writer = csv.writer(out)
    writer.writerow(STATEMENT_COLUMNS)
    # Memos repeat ("Direct payment 2026-W27" for every holder), so each is put in words once.
    what = lru_cache(maxsize=8192)(rules.statement_what)
    money = lru_cache(maxsize=65_536)(rules.gbp)
    # Accounts that held money at the start but may not move in the quarter, merged in account order.
    quiet = sorted(account_id for account_id, total in opening.items() if total)
    position = 0
    written = lines = 0

    def describe(account_id: int) -> tuple[str, str, str, str]:
        account = accounts[account_id]
        holder = holders.get(account.holder_id, "")
        group = groups.get(account.cluster_id) if account.cluster_id else None
        return rules.account_name(holder_name=holder, group_name=group), account.code, holder, group or ""

    def balance_row(about: tuple, line: str, day: date, balance: int) -> tuple:
        what = BROUGHT_FORWARD if line == "opening" else CARRIED_FORWARD
        return (*about, line, day.isoformat(), "", "", what, "", "", balance, rules.gbp(balance))

    def quiet_before(limit: int | None) -> int:
        nonlocal position, written
        while position < len(quiet) and (limit is None or quiet[position] < limit):
            account_id = quiet[position]
            about = describe(account_id)
            writer.writerow(balance_row(about, "opening", quarter.first_day, opening[account_id]))
            writer.writerow(balance_row(about, "closing", quarter.last_day, opening[account_id]))
            position += 1
            written += 1
        return position

    for account_id, rows in groupby(movements, key=lambda row: row[0]):
        quiet_before(account_id)
        if position < len(quiet) and quiet[position] == account_id:
            position += 1
        about = describe(account_id)
        balance = opening.get(account_id, 0)
        batch = [balance_row(about, "opening", quarter.first_day, balance)]
        for _, entry_id, at, kind, memo, amount in rows:
            balance += amount
            local = rules.london_iso(at)
            batch.append((*about, "movement", local[:10], local, entry_id, what(memo, kind), amount, money(amount),
                          balance, rules.gbp(balance)))
            lines += 1
        batch.append(balance_row(about, "closing", quarter.last_day, balance))
        writer.writerows(batch)
        written += 1
    quiet_before(None)
    return written, lines


# --- timesheets --------------------------------------------------------------------------------------


def _sheets_in_quarter(council_id: int, quarter: Quarter):
    """Return the condition on timesheets write_timesheets writes: weeks that begin in the quarter, and sheets decided in it."""
    return and_(Timesheet.council_id == council_id,
                or_(Timesheet.week.in_(quarter.weeks()), and_(Timesheet.decided_at.is_not(None), *_in_quarter(quarter, Timesheet.decided_at))))


def holders_in_timesheets(*, session: Session, council_id: int, quarter: Quarter) -> list[int]:
    """Return the ids of the holders write_timesheets names: those with visits on its sheets, or a part of their cost."""
    visited = set(session.execute(
        select(Visit.holder_id).join(Timesheet, Timesheet.id == Visit.timesheet_id).where(_sheets_in_quarter(council_id, quarter))
    ).scalars())
    parts = session.execute(select(Timesheet.parts).where(_sheets_in_quarter(council_id, quarter))).scalars()
    return sorted(visited | {int(k) for p in parts for k in (p or {})})


def write_timesheets(*, session: Session, council_id: int, quarter: Quarter, out: TextIO) -> int:
    """Write the quarter's timesheets, a line per member: weeks that begin in the quarter, and sheets decided in it; return the lines."""
    holders = _names(session, Holder, council_id)
    approver = aliased(User)
    query = (
        select(Timesheet.id, Timesheet.contract_id, Timesheet.week, Timesheet.status, Timesheet.decided_at, Timesheet.parts, Timesheet.care_entry_id,
               Provider.name, Cluster.name, approver.name)
        .join(Provider, Provider.id == Timesheet.provider_id)
        .join(Cluster, Cluster.id == Timesheet.cluster_id)
        .outerjoin(approver, approver.id == Timesheet.decided_by_id)
        .where(_sheets_in_quarter(council_id, quarter))
        .order_by(Timesheet.id)
    )
    weeks = lru_cache(maxsize=None)(week_of)
    writer = csv.writer(out)
    writer.writerow(TIMESHEET_COLUMNS)
    lines = 0
    after = 0
    while True:
        chunk = session.execute(query.where(Timesheet.id > after).limit(CHUNK)).all()
        if not chunk:
            return lines
        ids = [row[0] for row in chunk]
        visits: dict[int, dict[int, tuple[int, int, int]]] = {}
        for sheet_id, holder_id, count, minutes, travel in session.execute(
            select(Visit.timesheet_id, Visit.holder_id, func.count(), func.sum(Visit.minutes), func.sum(Visit.travel_minutes))
            .where(Visit.council_id == council_id, Visit.timesheet_id.in_(ids))
            .group_by(Visit.timesheet_id, Visit.holder_id)
        ):
            visits.setdefault(sheet_id, {})[holder_id] = (int(count), int(minutes), int(travel))
        rows = []
        for sheet_id, contract_id, week, status, decided_at, parts, entry_id, provider, group, decided_by in chunk:
            status = TimesheetStatus(status)
            approved = status == TimesheetStatus.approved
            parts = {int(k): int(v) for k, v in (parts or {}).items()}
            mine = visits.get(sheet_id, {})
            members = sorted(set(mine) | set(parts), key=lambda h: (holders.get(h, ""), h)) or [None]
            for holder_id in members:
                count, minutes, travel = mine.get(holder_id, (0, 0, 0))
                part = parts.get(holder_id) if status in (TimesheetStatus.submitted, TimesheetStatus.approved) else None
                rows.append((
                    sheet_id, contract_id, provider, group, weeks(week), week,
                    holders.get(holder_id, "") if holder_id else "", count, rules.hours(minutes), rules.hours(travel), status.label,
                    decided_by if approved else "", rules.london_iso(decided_at) if approved else "",
                    "" if part is None else rules.gbp(part), entry_id or "",
                ))
        writer.writerows(rows)
        lines += len(rows)
        after = ids[-1]


# --- contracts ---------------------------------------------------------------------------------------


def live_contracts(*, session: Session, council_id: int, quarter: Quarter) -> list[tuple[Contract, str, str]]:
    """Return the contracts in force on any day of the quarter, with their provider's and group's names."""
    return list(session.execute(
        select(Contract, Provider.name, Cluster.name)
        .join(Provider, Provider.id == Contract.provider_id)
        .join(Cluster, Cluster.id == Contract.cluster_id)
        .where(Contract.council_id == council_id, Contract.start_date <= quarter.last_day,
               or_(Contract.end_date.is_(None), Contract.end_date >= quarter.first_day))
        .order_by(Contract.id)
    ).all())


def write_contracts(*, contracts: list[tuple[Contract, str, str]], today: date, out: TextIO) -> int:
    """Write the contracts in force in the quarter, with their status on the day the pack is made; return how many."""
    writer = csv.writer(out)
    writer.writerow(CONTRACT_COLUMNS)
    for contract, provider, group in contracts:
        writer.writerow((
            contract.id, provider, group, service_name(contract.service), contract.hours_per_week, rules.gbp(contract.rate_pence),
            rules.gbp(contract.rate_pence * contract.hours_per_week), contract.start_date.isoformat(),
            contract.end_date.isoformat() if contract.end_date else "", status_on(contract.status, contract.end_date, today).label,
            contract.allocation_rule.label, len(contract.member_shares or {}), *_times(contract),
        ))
    return len(contracts)


def _times(contract: Contract) -> tuple[str, str]:
    """Return a contract's agreed days and times in words and as compact JSON in week order ("" when none were agreed)."""
    times = in_week_order(contract.slot_hours)
    if not times:
        return "Not agreed", ""
    words = slot_hours_words(times)
    if total(times) != contract.hours_per_week:
        words += f" (agreed for {plural(total(times), 'hour')} a week, before the hours changed)"
    return words, json.dumps(times, separators=(",", ":"))


# --- vetting -----------------------------------------------------------------------------------------


def paid_provider_ids(*, session: Session, council_id: int, quarter: Quarter) -> set[int]:
    """Return the providers whose accounts moved in the quarter: care was charged to them, or they were paid."""
    return set(session.execute(
        select(LedgerAccount.provider_id).distinct()
        .join(Posting, Posting.account_id == LedgerAccount.id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(LedgerAccount.council_id == council_id, LedgerAccount.provider_id.is_not(None), *_in_quarter(quarter, JournalEntry.created_at))
    ).scalars())


def write_vetting(*, session: Session, council_id: int, quarter: Quarter, provider_ids: set[int], as_of: date, out: TextIO) -> int:
    """Write every piece of vetting evidence of these providers, a line for evidence never given, and whether each was vetted on `as_of`."""
    writer = csv.writer(out)
    writer.writerow(VETTING_COLUMNS)
    if not provider_ids:
        return 0
    ids = sorted(provider_ids)
    providers = list(session.execute(select(Provider).where(Provider.council_id == council_id, Provider.id.in_(ids))).scalars())
    items: dict[int, list[VettingItem]] = {}
    for item in session.execute(select(VettingItem).where(VettingItem.council_id == council_id, VettingItem.provider_id.in_(ids))).scalars():
        items.setdefault(item.provider_id, []).append(item)
    checkers = dict(session.execute(select(User.id, User.name).where(
        User.id.in_(sorted({i.checked_by_id for rows in items.values() for i in rows if i.checked_by_id}) or [-1]))).all())
    cutoff = quarter.end_before if as_of >= quarter.last_day else None
    lines = 0
    for provider in sorted(providers, key=lambda p: (p.name, p.id)):
        mine = sorted(items.get(provider.id, []), key=lambda i: (i.kind.value, i.expires_on, i.id))
        # The providers' own rule judges the evidence as it stood: only checks made by then count.
        verified_by_then = [(i.kind.value, i.expires_on, i.verified_at is not None and (cutoff is None or i.verified_at < cutoff)) for i in mine]
        state = provider_rules.vetting_state(verified_by_then, regulated=provider_rules.regulated(provider.kind, provider.services), today=as_of)
        common = (provider.id, provider.name, PROVIDER_KIND_LABELS.get(provider.kind.value, provider.kind.value))
        tail = ("yes" if state.valid else "no", as_of.isoformat())
        for item in mine:
            verified = item.verified_at is not None
            writer.writerow((*common, VETTING_IN_A_SENTENCE.get(item.kind.value, item.kind.value), item.reference, item.expires_on.isoformat(),
                             rules.london_iso(item.added_at)[:10], rules.london_iso(item.verified_at)[:10] if verified else "",
                             checkers.get(item.checked_by_id, "") if verified else "", *tail))
            lines += 1
        for kind in state.missing:
            writer.writerow((*common, VETTING_IN_A_SENTENCE.get(kind, kind), "never given", "", "", "", "", *tail))
            lines += 1
    return lines


# --- seals -------------------------------------------------------------------------------------------


def write_seals(*, session: Session, council_id: int, out: TextIO) -> int:
    """Write every seal of the council, oldest first, each naming the seal before it; return how many."""
    writer = csv.writer(out)
    writer.writerow(SEAL_COLUMNS)
    count = 0
    for seal in session.execute(select(LedgerSeal).where(LedgerSeal.council_id == council_id).order_by(LedgerSeal.first_seq)).scalars():
        writer.writerow((seal.id, seal.first_seq, seal.last_seq, seal.root, seal.previous_hash or "", seal.seal_hash,
                         rules.utc_iso(seal.created_at), rules.london_iso(seal.created_at)))
        count += 1
    return count
