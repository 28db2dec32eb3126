"""Where the council's pooled money went: the spend reports and the council officer's dashboard.

For the pages, their CSV files and the benchmark. Every function takes `session=` and `actor=` (a
broker or council officer of the council; others are refused) and returns plain data. Money is integer
pence; months are the first days of months in England. Another council's group, member or provider is
not found, exactly like a missing one. The dashboard is read-only: the officer acts (releases a payment
run, approves a clawback) on the pages it links to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping

from sqlalchemy import func
from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import STAFF, get_or_404
from brokerage.audit import log_access
from brokerage.audit.services import log_accesses
from brokerage.audit.rules import MONEY_LIST, MONEY_STATEMENT, SURPLUS_LIST
from brokerage.auditpack.services import ComplianceSummary, compliance_summary
from brokerage.accounts.models import Council, Role, User
from brokerage.clusters.models import Cluster
from brokerage.errors import NotAllowed, NotFound
from brokerage.formatting import so_far
from brokerage.holders.models import Holder
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.payments.runs import payable_balances
from brokerage.payments.run_rules import RunStatus
from brokerage.providers.models import Provider, VettingItem
from brokerage.providers.rules import VettingState
from brokerage.providers.services import vetting_summary
from brokerage.spending import queries
from brokerage.surplus.queries import FlagTotals, open_flag_totals
from brokerage.surplus.services import WaitingClawback, clawbacks_waiting
from brokerage.spending.queries import Scope, Slice
from brokerage.spending.rules import (
    PAGE_SIZE, PROVIDER_KINDS, Dimension, Period, last_12_months, last_quarter, month_name, ownership_label, reckon_from_start,
    service_label, share_label, this_month, this_quarter, unspent_label,
)
from brokerage.timesheets.queries import waiting_for_staff


@dataclass(frozen=True)
class Figures:
    """Money into and out of pool shares over a time, in pence, each as a person reads it (spent is positive)."""

    pooled_in_pence: int = 0
    spent_pence: int = 0
    returned_to_members_pence: int = 0
    returned_to_council_pence: int = 0
    other_pence: int = 0  # adjustments by hand: neither pooled, spent nor returned

    @classmethod
    def of(cls, values, prefix: str = "") -> Figures:
        """Return the figures of a query row or a dict (its `pooled_in`, `spent`... values, named after `prefix`)."""
        if isinstance(values, Mapping):
            return cls(*(int(values.get(prefix + name) or 0) for name in queries.MONEY))
        return cls(*(int(getattr(values, prefix + name) or 0) for name in queries.MONEY))  # a Row: by attribute is quickest

    @property
    def returned_pence(self) -> int:
        """Return what went back to members and to the council, in pence."""
        return self.returned_to_members_pence + self.returned_to_council_pence

    @property
    def net_pence(self) -> int:
        """Return what the pool shares gained over the time (negative if they lost), in pence."""
        return self.pooled_in_pence - self.spent_pence - self.returned_pence + self.other_pence

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(self._values(), other._values())))

    def _values(self) -> tuple[int, ...]:
        return (self.pooled_in_pence, self.spent_pence, self.returned_to_members_pence, self.returned_to_council_pence, self.other_pence)


@dataclass(frozen=True)
class SpendRow:
    """One line of a breakdown: what it is (in words), its figures, and what it held unspent at the end of the period."""

    key: int | str | date | None  # a group, share (account) or provider id, a service, a provider kind, or a month
    name: str
    figures: Figures
    unspent_pence: int | None = None  # None where unspent money has no meaning (a provider, a service)
    detail: str = ""  # the provider's kind, in words
    member: str = ""  # a share's member and group, by name
    group: str = ""
    drill: dict[str, int] = field(default_factory=dict)  # the filter that shows this row's own spend (group=…, holder=…)


@dataclass
class SpendReport:
    """A breakdown of the council's pooled money over a period: one page of rows and the totals of all of them."""

    council_name: str
    council_slug: str
    dimension: Dimension
    period: Period
    scope: Scope
    scope_names: dict[str, str]  # the filters in words: {"group": "Somali elders of Whitechapel"}
    rows: list[SpendRow]
    totals: Figures
    unspent_pence: int | None  # all rows' unspent at the end of the period
    row_count: int
    page: int | None  # None: every row
    pages: int
    order: str = "spent"  # or "unspent": most first
    today: date | None = None  # in England, when the report was made: a period not over yet closes "now"
    owed_now_pence: int | None = None  # by provider, unfiltered or for one provider: approved care still waiting to be paid out

    @property
    def unspent_label(self) -> str:
        """Name the closing figure: "Unspent at the end of March 2026", or "Unspent now" while the period is not over."""
        return unspent_label(self.period, self.today)

    @property
    def opening_pence(self) -> int | None:
        """Return what the shares held at the start of the period (unspent at the end less what they gained), in pence."""
        return None if self.unspent_pence is None else self.unspent_pence - self.totals.net_pence

    @property
    def first_row(self) -> int:
        """Return the number of this page's first row, counting from 1."""
        return ((self.page or 1) - 1) * PAGE_SIZE + 1

    @property
    def has_pooling(self) -> bool:
        """Tell whether money in, returned and unspent belong to this report (not for providers, services or kinds)."""
        return self.dimension.has_pooling and self.scope.has_pooling


def check_reader(actor: User) -> None:
    """Refuse anyone but the council's brokers and officers (admins manage accounts, not care money)."""
    if actor is None or actor.role not in STAFF:
        raise NotAllowed("Only the council's brokers and officers can see its pooled spend.")


def report_scope(*, session: Session, actor: User, group_id: int | None = None, holder_id: int | None = None,
                 provider_id: int | None = None) -> tuple[Scope, dict[str, str]]:
    """Return the scope of a report and its filters in words; raise NotFound for another council's or a missing id."""
    check_reader(actor)
    names: dict[str, str] = {}
    if group_id is not None:
        names["group"] = get_or_404(session, actor, Cluster, group_id, what="group").name
    if holder_id is not None:
        names["holder"] = get_or_404(session, actor, Holder, holder_id, what="holder").name
        # One member's money month by month is their money statement: staff reads of it go to the access log.
        log_access(session=session, actor=actor, holder_id=holder_id, what=MONEY_STATEMENT)
    if provider_id is not None:
        names["provider"] = get_or_404(session, actor, Provider, provider_id, what="provider").name
    return Scope(actor.council_id, cluster_id=group_id, holder_id=holder_id, provider_id=provider_id), names


def spend_by(*, session: Session, actor: User, dimension: Dimension | str, start: date, end: date, group_id: int | None = None,
             holder_id: int | None = None, provider_id: int | None = None, order: str = "spent", page: int | None = 1) -> SpendReport:
    """Break the council's pooled money down by group, holder (pool share), provider, service, ownership or month over months [start, end].

    Amounts in pence; `start` and `end` are first days of months in England. `page` counts from 1 in
    pages of PAGE_SIZE rows for groups, shares and providers (None: every row, for a CSV file); a page past
    the last is NotFound. `order` is "spent" or "unspent" (most first). A breakdown by member logs a read
    of the money of each member it lists (brokerage.audit), as a filter on one member logs theirs.
    """
    dimension = Dimension(dimension)
    scope, names = report_scope(session=session, actor=actor, group_id=group_id, holder_id=holder_id, provider_id=provider_id)
    council = session.get(Council, actor.council_id)
    period = Period(start.replace(day=1), end.replace(day=1))
    report = SpendReport(
        council_name=council.name, council_slug=council.slug, dimension=dimension, period=period, scope=scope, scope_names=names,
        rows=[], totals=Figures(), unspent_pence=None, row_count=0, page=page, pages=1, today=clock.today(),
    )
    if dimension == Dimension.month:
        return _by_month(session, report)
    if not dimension.is_long:
        page = None
    report.order = order if order == "unspent" and report.has_pooling else "spent"
    first_month, last_month = queries.months_with_money(session, scope.council_id)
    window = Slice(
        order=report.order, from_start=reckon_from_start(period, first=first_month, last=last_month),
        limit=None if page is None else PAGE_SIZE, offset=0 if page is None else (page - 1) * PAGE_SIZE,
    )
    rows = session.execute(queries.ROWS[dimension](scope, period, window)).all()
    if not rows and page not in (None, 1):
        raise NotFound()
    report.page = page
    report.rows = [_row(dimension, row) for row in rows]
    if dimension == Dimension.holder:
        # Each member listed had their money read (one already named by the filter was logged above).
        log_accesses(session=session, actor=actor, council_id=scope.council_id, what=MONEY_LIST,
                     holder_ids=[row.drill["holder"] for row in report.rows if row.drill["holder"] != holder_id])
    if rows:
        whole = rows[0]  # every row carries the totals of all of them
        report.totals = Figures.of(whole, "total_")
        report.unspent_pence = whole.total_unspent
        report.row_count = whole.row_count
    elif report.has_pooling and dimension in (Dimension.group, Dimension.holder):
        report.unspent_pence = 0
    if dimension == Dimension.ownership:
        # Every kind is listed, so a kind nothing went to shows as nothing rather than not at all.
        present = {row.key for row in report.rows}
        report.rows += [SpendRow(kind, ownership_label(kind), Figures()) for kind in PROVIDER_KINDS if kind not in present]
        report.row_count = len(report.rows)
    report.pages = max(1, -(-report.row_count // PAGE_SIZE)) if page is not None else 1
    if dimension == Dimension.provider and group_id is None and holder_id is None:
        # What providers are owed is not split by group or share, so it is shown only for all of them or for one provider.
        owed = payable_balances(session=session, council_id=scope.council_id)
        report.owed_now_pence = owed.get(provider_id, 0) if provider_id is not None else sum(owed.values())
    return report


def _row(dimension: Dimension, row) -> SpendRow:
    key, name, detail = row.key, row.name, row.detail
    figures = Figures.of(row)
    unspent = row.unspent
    if dimension == Dimension.group:
        return SpendRow(key, name, figures, unspent, drill={"group": key})
    if dimension == Dimension.holder:
        return SpendRow(key, share_label(name, detail), figures, unspent, member=name, group=detail,
                        drill={"group": row.cluster_id, "holder": row.holder_id})
    if dimension == Dimension.provider:
        kind = getattr(detail, "value", detail)
        if name is None:
            return SpendRow(None, "Provider not recorded", figures)
        return SpendRow(key, name, figures, detail=ownership_label(kind), drill={"provider": key})
    if dimension == Dimension.service:
        return SpendRow(key, service_label(key), figures)
    kind = getattr(key, "value", key)
    return SpendRow(kind, ownership_label(kind), figures)


def _by_month(session: Session, report: SpendReport) -> SpendReport:
    """Fill a month report: every month of the period, and what the shares held at the end of each."""
    scope, period = report.scope, report.period
    first, last = queries.months_with_money(session, scope.council_id)
    if not scope.has_pooling:
        found, held = queries.figures_by_month(session, scope, start=period.start, end=period.end), None
    elif reckon_from_start(period, first=first, last=last):
        found = queries.figures_by_month(session, scope, start=period.start, end=period.end)
        held = queries.moved_before(session, scope, period.start) + sum(values["net"] for values in found.values())
    else:
        # From the start on, also after the end: what moved later is taken off what the shares hold now (read together).
        found, now = queries.figures_since_and_unspent_now(session, scope, start=period.start)
        held = now - sum(values["net"] for month, values in found.items() if month > period.end)
    rows = []
    for month in reversed(period.months):
        figures = Figures.of(found.get(month, {}))
        name = month_name(month) if report.today is None else so_far(month_name(month), month, report.today)
        rows.append(SpendRow(month, name, figures, held))
        if held is not None:
            held -= figures.net_pence
    rows.reverse()
    report.rows = rows
    report.totals = sum((row.figures for row in rows), Figures())
    report.unspent_pence = rows[-1].unspent_pence if rows else None
    report.row_count, report.page, report.pages = len(rows), None, 1
    return report


# --- the council officer's dashboard -------------------------------------------------------------

TOP_GROUPS = 5


@dataclass(frozen=True)
class RunToRelease:
    """A prepared payment run: its total in pence, who prepared it and when, and how many providers it pays."""

    run_id: int
    total_pence: int
    prepared_by: str
    prepared_at: datetime
    providers: int
    mine: bool  # the reader prepared it, so another officer must release it


@dataclass(frozen=True)
class VettingToChase:
    """A provider whose vetting is expired, missing or runs out within 30 days, with the dates it runs out."""

    provider_id: int
    name: str
    state: VettingState
    expires: dict[str, date]  # evidence kind -> when the latest verified item runs out


@dataclass
class OfficerOverview:
    """What the officer's dashboard shows."""

    council_name: str
    today: date
    month: Period
    month_figures: Figures
    quarter: Period
    quarter_figures: Figures
    last_quarter: Period
    last_12_months: Period
    unspent_pence: int  # in every pool share now
    groups_holding: int  # groups whose shares hold any money now
    top_groups: list[tuple[int, str, int]]  # (group id, name, pence held now), most first
    runs: list[RunToRelease]
    vetting: list[VettingToChase]
    timesheets_waiting: int
    clawbacks: list[WaitingClawback]  # proposed by another officer, for this one to approve or reject
    flags: FlagTotals  # money unspent beyond the council's surplus rule now
    compliance: ComplianceSummary

    @property
    def runs_to_release(self) -> list[RunToRelease]:
        """Return the runs this officer may release (prepared by someone else)."""
        return [run for run in self.runs if not run.mine]

    @property
    def waiting_count(self) -> int:
        """Count what waits for this officer's decision."""
        return len(self.runs_to_release) + len(self.clawbacks)


def officer_overview(*, session: Session, actor: User, today: date) -> OfficerOverview:
    """Return the council officer's dashboard for `today` (a date in England); raise NotAllowed for other roles."""
    if actor is None or actor.role != Role.council_officer:
        raise NotAllowed("This is the council officer's dashboard.")
    council = session.get(Council, actor.council_id)
    month, quarter = this_month(today), this_quarter(today)
    by_month = queries.figures_by_month(session, Scope(council.id), start=quarter.start, end=quarter.end)
    quarter_figures = sum((Figures.of(values) for values in by_month.values()), Figures())
    top, unspent, holding = queries.unspent_by_group(session, council.id, limit=TOP_GROUPS)
    clawbacks = clawbacks_waiting(session=session, actor=actor)
    # Each clawback waiting names a member and the money to be taken from their share.
    log_accesses(session=session, actor=actor, council_id=council.id, holder_ids=[row.clawback.holder_id for row in clawbacks], what=SURPLUS_LIST)
    return OfficerOverview(
        council_name=council.name, today=today, month=month, month_figures=Figures.of(by_month.get(month.start, {})),
        quarter=quarter, quarter_figures=quarter_figures, last_quarter=last_quarter(today), last_12_months=last_12_months(today),
        unspent_pence=unspent, groups_holding=holding, top_groups=top, runs=runs_waiting(session=session, actor=actor),
        vetting=vetting_to_chase(session=session, council_id=council.id, today=today),
        timesheets_waiting=len(waiting_for_staff(session=session, actor=actor)),
        clawbacks=clawbacks, flags=open_flag_totals(session=session, council_id=council.id),
        compliance=compliance_summary(session=session, actor=actor, today=today),
    )


def runs_waiting(*, session: Session, actor: User) -> list[RunToRelease]:
    """Return the council's payment runs waiting for release, oldest first, marking those the actor prepared."""
    lines = (
        select(PaymentLine.run_id, func.count().label("lines")).where(PaymentLine.council_id == actor.council_id)
        .group_by(PaymentLine.run_id).subquery("lines")
    )
    rows = session.exec(
        select(PaymentRun, User.name, func.coalesce(lines.c.lines, 0))
        .join(User, User.id == PaymentRun.prepared_by_id).outerjoin(lines, lines.c.run_id == PaymentRun.id)
        .where(PaymentRun.council_id == actor.council_id, PaymentRun.status == RunStatus.prepared)
        .order_by(PaymentRun.prepared_at, PaymentRun.id)
    ).all()
    return [
        RunToRelease(run.id, run.total_pence, name, run.prepared_at, int(count), mine=run.prepared_by_id == actor.id)
        for run, name, count in rows
    ]


def vetting_to_chase(*, session: Session, council_id: int, today: date) -> list[VettingToChase]:
    """Return the council's providers whose vetting is expired, missing or expiring within 30 days: expired first, then by name."""
    states = vetting_summary(session=session, council_id=council_id, today=today, approved_only=True)
    troubled = {pid: state for pid, state in states.items() if not state.valid or state.expiring_soon}
    if not troubled:
        return []
    names = dict(session.exec(select(Provider.id, Provider.name).where(Provider.id.in_(sorted(troubled)))).all())
    expires: dict[int, dict[str, date]] = {}
    for provider_id, kind, latest in session.exec(
        select(VettingItem.provider_id, VettingItem.kind, func.max(VettingItem.expires_on))
        .where(VettingItem.council_id == council_id, VettingItem.provider_id.in_(sorted(troubled)), VettingItem.verified_at.is_not(None))
        .group_by(VettingItem.provider_id, VettingItem.kind)
    ):
        expires.setdefault(provider_id, {})[getattr(kind, "value", kind)] = latest
    found = [VettingToChase(pid, names[pid], state, expires.get(pid, {})) for pid, state in troubled.items()]
    return sorted(found, key=lambda item: (item.state.valid, item.name, item.provider_id))
