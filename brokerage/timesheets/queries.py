"""Reading timesheets for other packages and lists: approved sheets with their visits (payment remittances), sheets waiting for approval,
and the weeks waiting for their provider (a sheet sent back, or a week over and not sent, started or not).

Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Iterable

from sqlalchemy import func
from sqlmodel import Session, select

from brokerage.access import STAFF
from brokerage.accounts.models import Role, User
from brokerage.clusters.members import visible_holder_ids
from brokerage.clusters.models import Cluster
from brokerage.contracts.models import Contract
from brokerage.holders.models import Holder, Power
from brokerage.providers.models import Provider

from brokerage.timesheets import pricing
from brokerage.timesheets.approvers import approver_of, approving_cluster_ids
from brokerage.timesheets.models import Timesheet, Visit
from brokerage.timesheets.rules import TimesheetStatus, paid_travel_of, travel_flag, weeks_over
from brokerage.timesheets.sheets import may_read_groups, visit_in
from brokerage.timesheets.travel import travel_note, travel_sentence


@dataclass
class VisitLine:
    """One visit with the member's name."""

    visit: Visit
    member: str


@dataclass
class ApprovedSheet:
    """An approved timesheet with its contract, its group's name and its visits (for a remittance)."""

    sheet: Timesheet
    contract: Contract
    group: str
    visits: list[VisitLine] = field(default_factory=list)


def approved_sheets(*, session: Session, provider_id: int, ids: Iterable[int] | None = None) -> list[ApprovedSheet]:
    """Return a provider's approved timesheets (optionally only these ids), by week then contract, with their visits.

    The caller checks who may read them (a payment run of the provider's council, its remittance page).
    """
    query = select(Timesheet, Contract, Cluster.name).join(Contract, Contract.id == Timesheet.contract_id).join(
        Cluster, Cluster.id == Timesheet.cluster_id
    ).where(Timesheet.provider_id == provider_id, Timesheet.status == TimesheetStatus.approved)
    if ids is not None:
        query = query.where(Timesheet.id.in_(list(ids) or [-1]))
    rows = list(session.exec(query.order_by(Timesheet.week, Timesheet.contract_id)))
    found = [ApprovedSheet(sheet=sheet, contract=contract, group=group) for sheet, contract, group in rows]
    by_id = {item.sheet.id: item for item in found}
    if by_id:
        visits = session.exec(
            select(Visit, Holder.name).join(Holder, Holder.id == Visit.holder_id)
            .where(Visit.timesheet_id.in_(list(by_id))).order_by(Visit.visit_date, Visit.start_time, Visit.id)
        )
        for visit, name in visits:
            by_id[visit.timesheet_id].visits.append(VisitLine(visit=visit, member=name))
    return found


@dataclass
class WaitingSheet:
    """A submitted timesheet in a list: whose, for which group, which week."""

    sheet: Timesheet
    provider: str
    group: str
    approver: str | None = None  # the member the group chose to approve it (in a member's list), by name
    travel_minutes: int = 0  # the travel recorded on its visits

    @property
    def travel_flag(self) -> str | None:
        """Return a warning when the sheet's paid travel is large beside its care (rules.travel_flag), or None."""
        return sheet_travel_flag(self.sheet)

    @property
    def travel_note(self) -> str | None:
        """Return why the sheet's travel is not paid, in a few words (the terms fixed when it was sent), or None where it is paid."""
        return travel_note(travel_paid=self.sheet.travel_paid, awaiting=self.sheet.travel_awaiting,
                           outside=bool(self.travel_minutes) and not self.sheet.travel_pence)


def sheet_travel_flag(sheet: Timesheet) -> str | None:
    """Return a warning when a sent sheet's paid travel is large beside its care, or None (also for a sheet that kept no travel pay)."""
    if sheet.travel_pence is None:
        return None
    return travel_flag(care_pence=sheet.total_pence - sheet.travel_pence, travel_pence=sheet.travel_pence)


@dataclass(frozen=True)
class SentTravel:
    """A sent sheet's travel in plain words, and which of its visits' travel is not paid."""

    words: str
    unpaid_visit_ids: frozenset[int]


def sent_travel(item: ApprovedSheet, provider: Provider, *, to_provider: bool) -> SentTravel | None:
    """Word a sent sheet's travel by the terms fixed on it when it was sent, as its own page does; None for a sheet that kept no rate."""
    sheet = item.sheet
    fixed = pricing.fixed_cost(sheet, [visit_in(line.visit) for line in item.visits])
    if fixed is None:
        return None
    terms = pricing.sheet_travel(sheet)
    words = travel_sentence(provider_name=provider.name, charter=terms, pay=fixed.pay, to_provider=to_provider, sent=True,
                            confirmed_since=pricing.confirmed_since(sheet, provider),
                            travel_days=[line.visit.visit_date for line in item.visits if line.visit.travel_minutes])
    unpaid = frozenset(line.visit.id for line in item.visits if line.visit.travel_minutes and not paid_travel_of(visit_in(line.visit), terms))
    return SentTravel(words=words, unpaid_visit_ids=unpaid)


def _travel_recorded():
    return select(func.coalesce(func.sum(Visit.travel_minutes), 0)).where(Visit.timesheet_id == Timesheet.id).scalar_subquery()


def _waiting(session: Session, council_id: int, cluster_ids: list[int] | None = None) -> list[WaitingSheet]:
    query = (
        select(Timesheet, Provider.name, Cluster.name, _travel_recorded())
        .join(Provider, Provider.id == Timesheet.provider_id).join(Cluster, Cluster.id == Timesheet.cluster_id)
        .where(Timesheet.council_id == council_id, Timesheet.status == TimesheetStatus.submitted)
    )
    if cluster_ids is not None:
        query = query.where(Timesheet.cluster_id.in_(cluster_ids or [-1]))
    rows = session.exec(query.order_by(Timesheet.submitted_at, Timesheet.id))
    return [WaitingSheet(sheet, provider, group, travel_minutes=travel) for sheet, provider, group, travel in rows]


def waiting_for_staff(*, session: Session, actor: User) -> list[WaitingSheet]:
    """Return the council's timesheets waiting for approval, oldest first (brokers and council officers)."""
    if actor.role not in STAFF:
        return []
    return _waiting(session, actor.council_id)


def waiting_for_member(*, session: Session, actor: User) -> list[WaitingSheet]:
    """Return the timesheets waiting for the member the actor is, or acts for, because their group chose them to approve."""
    if actor.role not in (Role.holder, Role.representative):
        return []
    clusters = approving_cluster_ids(session=session, actor=actor, holder_ids=visible_holder_ids(session=session, actor=actor, power=Power.care))
    if not clusters:
        return []
    chosen = {cluster_id: approver_of(session=session, cluster_id=cluster_id).name for cluster_id in clusters}
    return [replace(row, approver=chosen[row.sheet.cluster_id]) for row in _waiting(session, actor.council_id, clusters)]


@dataclass
class ProviderSheet:
    """A week that needs the provider: its sheet sent back to be corrected, or the week over and no sheet sent (or none started)."""

    sheet: Timesheet | None
    group: str
    sent_back: bool
    week: str = ""
    contract_id: int = 0


def with_provider(*, session: Session, actor: User, today: date) -> list[ProviderSheet]:
    """Return the weeks waiting for the provider: sheets sent back first, then weeks over with no sheet sent (started or not), oldest first.

    Every week of every contract counts, from its first week to the last one over (`rules.weeks_over`): care a provider
    has not claimed yet is still theirs to claim.
    """
    if actor.role != Role.provider or actor.provider_id is None:
        return []
    contracts = session.exec(
        select(Contract, Cluster.name).join(Cluster, Cluster.id == Contract.cluster_id)
        .where(Contract.council_id == actor.council_id, Contract.provider_id == actor.provider_id)
    ).all()
    sheets = {(sheet.contract_id, sheet.week): sheet for sheet in session.exec(
        select(Timesheet).where(Timesheet.council_id == actor.council_id, Timesheet.provider_id == actor.provider_id))}
    found = [ProviderSheet(sheet, group, True, sheet.week, contract.id) for contract, group in contracts
             for (contract_id, _), sheet in sheets.items() if contract_id == contract.id and sheet.status == TimesheetStatus.rejected]
    for contract, group in contracts:
        for week in weeks_over(contract.start_date, contract.end_date, today):
            sheet = sheets.get((contract.id, week))
            if sheet is None or sheet.status == TimesheetStatus.draft:
                found.append(ProviderSheet(sheet, group, False, week, contract.id))
    return sorted(found, key=lambda row: (not row.sent_back, row.week, row.group, row.contract_id))


# A group's page lists this many of its latest timesheets.
GROUP_SHEETS_SHOWN = 12


def sheets_of_group(*, session: Session, actor: User, cluster_id: int, limit: int = GROUP_SHEETS_SHOWN) -> list[WaitingSheet]:
    """Return a group's latest timesheets sent by their providers (waiting, approved or sent back), newest week first,
    for the council's staff and whoever may read them (`sheets.may_read_groups`); [] for anyone else."""
    if not (actor.role in STAFF or may_read_groups(session, actor, cluster_id)):
        return []
    rows = session.exec(
        select(Timesheet, Provider.name, Cluster.name, _travel_recorded())
        .join(Provider, Provider.id == Timesheet.provider_id).join(Cluster, Cluster.id == Timesheet.cluster_id)
        .where(Timesheet.council_id == actor.council_id, Timesheet.cluster_id == cluster_id, Timesheet.status != TimesheetStatus.draft)
        .order_by(Timesheet.week.desc(), Timesheet.id.desc()).limit(limit)
    )
    return [WaitingSheet(sheet, provider, group, travel_minutes=travel) for sheet, provider, group, travel in rows]
