"""The council officer's dashboard: pooled and spent this month and quarter, unspent money and where, and what waits for them.

Read-only: the officer acts (releases a payment run, approves a clawback) on the pages it links to.
Money is integer pence; months and quarters are England's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from brokerage.accounts.models import Council, Role, User
from brokerage.errors import NotAllowed
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.payments.run_rules import RunStatus
from brokerage.providers.models import Provider, VettingItem
from brokerage.providers.rules import VettingState
from brokerage.providers.services import vetting_summary
from brokerage.spending import queries
from brokerage.spending.queries import Scope
from brokerage.spending.rules import Period, last_12_months, last_quarter, this_month, this_quarter
from brokerage.spending.services import Figures
from brokerage.timesheets.queries import waiting_for_staff

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
    # Clawbacks to approve: the lead fills this from brokerage.surplus.services.clawbacks_waiting(session=, actor=)
    # (another part of issue 11); the dashboard lists them under "Waiting for you" when there are any.
    clawbacks: list = field(default_factory=list)

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
    return OfficerOverview(
        council_name=council.name, today=today, month=month, month_figures=Figures.of(by_month.get(month.start, {})),
        quarter=quarter, quarter_figures=quarter_figures, last_quarter=last_quarter(today), last_12_months=last_12_months(today),
        unspent_pence=unspent, groups_holding=holding, top_groups=top, runs=runs_waiting(session=session, actor=actor),
        vetting=vetting_to_chase(session=session, council_id=council.id, today=today),
        timesheets_waiting=len(waiting_for_staff(session=session, actor=actor)),
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
    states = vetting_summary(session=session, council_id=council_id, today=today)
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
