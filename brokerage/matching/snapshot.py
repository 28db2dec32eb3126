"""What a council's matching run solves: its open demand and free supply, as a format 2 instance (hours per time of day).

Care already contracted, or out to a group's vote, is neither demand nor spare capacity any more. Its
hours come off the demand line and the provider in the times of day it takes: those agreed at the
match a contract came from (`Contract.slot_hours`), or those of a match out to a vote
(`MatchAssignment.slot_hours`). Care whose times are not known (a contract from before times were
matched, or the hours a change added since) is taken from the line's earliest times, and from the
provider's week as a whole: its weekly cap drops by as much.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import same_council
from brokerage.accounts.models import User
from brokerage.clusters.models import Cluster, ClusterStatus
from brokerage.contracts.models import Contract
from brokerage.contracts.rules import ContractStatus
from brokerage.contracts.services import current_status
from brokerage.matching.instance import INSTANCE_FORMAT_2
from brokerage.matching.models import DemandLine, MatchAssignment
from brokerage.matching.rules import AssignmentStatus, DemandLineStatus
from brokerage.providers import rules as provider_rules
from brokerage.providers.models import Provider, VettingItem
from brokerage.providers.rules import ProviderStatus
from brokerage.providers.services import provider_slot_hours
from brokerage.formatting import plural, words_list
from brokerage.locks import fresh_row
from brokerage.slot_hours import added, at_most, in_week_order, spread_hours, take_earliest, total, without
from brokerage.vocabulary import slot_label


@dataclass
class Taken:
    """Hours a week already committed (contracted or out to a vote), and the part of them whose times are known."""

    hours: int = 0
    slot_hours: dict[str, int] = field(default_factory=dict)

    def add(self, hours: int, slot_hours: dict[str, int] | None) -> None:
        """Count more committed care; `slot_hours` says its times where known."""
        self.hours += hours
        if slot_hours:
            self.slot_hours = added(self.slot_hours, at_most(slot_hours, hours))


def line_slot_hours(line: DemandLine) -> dict[str, int]:
    """Return the hours a demand line asks for in each time of day (one stored with times only spreads its hours over them)."""
    return in_week_order(line.slot_hours) or spread_hours(line.hours, line.slots)


def vetted_provider_ids(session: Session, council_id: int, today: date) -> set[int]:
    """Return the council's providers that may be matched today: approved (never an application waiting or refused) and vetted."""
    items: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for item in session.exec(select(VettingItem).where(VettingItem.council_id == council_id)):
        items[item.provider_id].append((item.kind.value, item.expires_on, item.verified_at is not None))
    return {
        p.id
        for p in session.exec(select(Provider).where(Provider.council_id == council_id))
        if provider_rules.is_matchable(p.status, provider_rules.vetting_state(items.get(p.id, []), regulated=provider_rules.regulated(p.kind, p.services), today=today))
    }


@dataclass(frozen=True)
class Committed:
    """One piece of care a week already contracted or out to a group's vote: whose, what, how many hours and when (None: not known)."""

    demand_line_id: int | None
    provider_id: int
    cluster_id: int
    service: str | None  # a contract's; None for care out to a vote, whose demand line says it
    hours: int
    slot_hours: dict[str, int] | None
    contract_id: int | None = None  # None for care out to a vote


def _committed(session: Session, council_id: int, demand_line_id: int | None, provider_id: int | None) -> list[Committed]:
    """Return the care already contracted (all but ended contracts) or sent to a vote, contracts first, each in the order made."""
    today = clock.today()
    live = (ContractStatus.active, ContractStatus.ending)
    contracts = select(Contract).where(Contract.council_id == council_id, Contract.status.in_(live)).order_by(Contract.id)
    sent = select(MatchAssignment).where(MatchAssignment.council_id == council_id, MatchAssignment.status == AssignmentStatus.sent).order_by(MatchAssignment.id)
    if demand_line_id is not None:
        contracts = contracts.where(Contract.demand_line_id == demand_line_id)
        sent = sent.where(MatchAssignment.demand_line_id == demand_line_id)
    if provider_id is not None:
        contracts = contracts.where(Contract.provider_id == provider_id)
        sent = sent.where(MatchAssignment.provider_id == provider_id)
    # Read as committed now, not as the session first loaded them: a request that waited for the providers' hours
    # (brokerage.locks.lock_provider_hours) sees what the one before it committed. The care out to a vote is read
    # first: a match passing between the two reads (its parts becoming contracts) is then counted twice, never missed.
    fresh = {"populate_existing": True}
    voting = [Committed(a.demand_line_id, a.provider_id, a.cluster_id, None, a.hours, a.slot_hours) for a in session.exec(sent.execution_options(**fresh))]
    care = [Committed(c.demand_line_id, c.provider_id, c.cluster_id, c.service, c.hours_per_week, c.slot_hours, c.id)
            for c in session.exec(contracts.execution_options(**fresh)) if current_status(c, today) != ContractStatus.ended]
    return care + voting


def committed_care(session: Session, council_id: int, demand_line_id: int | None = None,
                   provider_id: int | None = None) -> tuple[dict[int, Taken], dict[int, Taken]]:
    """Return the care a week already contracted (all but ended contracts) or sent to a vote, by demand line and by provider.

    With `demand_line_id` (or `provider_id`), only that line's (or provider's) care is read; the other side's
    figures are then that care's part alone.
    """
    by_line: dict[int, Taken] = defaultdict(Taken)
    by_provider: dict[int, Taken] = defaultdict(Taken)
    for piece in _committed(session, council_id, demand_line_id, provider_id):
        if piece.demand_line_id:
            by_line[piece.demand_line_id].add(piece.hours, piece.slot_hours)
        by_provider[piece.provider_id].add(piece.hours, piece.slot_hours)
    return dict(by_line), dict(by_provider)


@dataclass(frozen=True)
class BeyondOffer:
    """A group's care of one service already agreed or out to its vote at times its provider no longer offers: the hours at each."""

    group: str
    service: str
    slot_hours: dict[str, int]


def committed_beyond_offer(session: Session, provider: Provider) -> list[BeyondOffer]:
    """Return a provider's care already contracted or out to a vote at times it no longer offers them: whose, what service and when.

    A provider may take times off its offer (no new work then); care already agreed at those times goes
    on, and it should be told so, and whose care it is. Each time's hours beyond the offer are put to the
    care there, the latest agreed first (the earlier care still fits the offer), so they add up to the
    hours beyond it. Care whose times are not known is not counted.
    """
    care = _committed(session, provider.council_id, None, provider.id)
    taken = Taken()
    for piece in care:
        taken.add(piece.hours, piece.slot_hours)
    offered = provider_slot_hours(provider)
    beyond = {slot: hours - offered.get(slot, 0) for slot, hours in taken.slot_hours.items() if hours > offered.get(slot, 0)}
    found: dict[tuple[int, str], dict[str, int]] = {}
    for piece in reversed(care):
        service = piece.service or session.get(DemandLine, piece.demand_line_id).service
        for slot, hours in at_most(piece.slot_hours or {}, piece.hours).items():
            share = min(hours, beyond.get(slot, 0))
            if share:
                beyond[slot] -= share
                times = found.setdefault((piece.cluster_id, service), {})
                times[slot] = times.get(slot, 0) + share
    names = {c.id: c.name for c in session.exec(select(Cluster).where(Cluster.id.in_([cluster_id for cluster_id, _ in found] or [-1])))}
    items = [BeyondOffer(names[cluster_id], service, in_week_order(times)) for (cluster_id, service), times in found.items()]
    return sorted(items, key=lambda item: (item.group, item.service))


def committed_beyond_week(session: Session, provider: Provider) -> tuple[int, int] | None:
    """Return (hours a week committed, the weekly limit) when a provider's care already contracted or out to a vote is
    more than the hours a week it now takes (`capacity_hours`), else None. As with times no longer offered, that care
    goes on; only new work stops."""
    if provider.capacity_hours is None:
        return None
    committed = sum(piece.hours for piece in _committed(session, provider.council_id, None, provider.id))
    return (committed, provider.capacity_hours) if committed > provider.capacity_hours else None


def contract_beyond_free(session: Session, contract: Contract, hours_per_week: int, slot_hours: dict[str, int] | None) -> dict[str, str]:
    """Return {field: message} where a contract's new hours a week, or new times ({slot: hours}; None: unchanged), need
    more of its provider than it has free beside its other care agreed or out to a vote; empty when they fit.

    Times the contract has now stay allowed (a provider that has since taken them off its offer still gives
    that care). Registered with `contracts.changes` by `brokerage.wiring`.
    """
    provider = fresh_row(session, Provider, contract.provider_id)  # its offer as now, after waiting for the providers' hours
    taken = Taken()
    for piece in _committed(session, contract.council_id, None, provider.id):
        if piece.contract_id != contract.id:
            taken.add(piece.hours, piece.slot_hours)
    free, week = still_free(provider_slot_hours(provider), provider.capacity_hours, taken)
    if week is None:  # no weekly cap of its own: its week is the hours it has free
        week = total(free)
    problems = {}
    if slot_hours is not None:
        now = in_week_order(contract.slot_hours)
        short = [slot for slot, hours in in_week_order(slot_hours).items() if hours > max(free.get(slot, 0), now.get(slot, 0))]
        if short:
            has = words_list(f"{plural(max(free.get(slot, 0), now.get(slot, 0)), 'hour')} on {slot_label(slot)}" if max(free.get(slot, 0), now.get(slot, 0))
                             else f"none on {slot_label(slot)}" for slot in short)
            problems["slot_hours"] = f"{provider.name} does not have these hours free beside its other care: it has {has}"
    if week is not None and hours_per_week > max(week, contract.hours_per_week):
        problems["hours_per_week"] = (f"{provider.name} has {plural(week, 'hour')} a week free beside its other care; "
                                      f"this change asks for {hours_per_week}")
    return problems


def still_wanted(wanted: dict[str, int], taken: Taken | None) -> dict[str, int]:
    """Return the hours of a line still to find in each time of day, once its committed care is taken off."""
    if taken is None:
        return wanted
    left = without(wanted, taken.slot_hours)
    # Committed care whose times are not known (or that no longer fits the line's times) comes off the earliest times.
    return take_earliest(left, total(left) - max(0, total(wanted) - taken.hours))


def still_free(offered: dict[str, int], cap: int | None, taken: Taken | None) -> tuple[dict[str, int], int | None]:
    """Return a provider's hours still free in each time of day and its weekly cap left (None: no cap), once committed care is taken off."""
    if taken is None:
        return offered, cap
    left = without(offered, taken.slot_hours)
    if cap is not None:
        return left, max(0, cap - taken.hours)
    # No cap of its own: care whose times are not known still takes hours from its week.
    week = max(0, total(offered) - taken.hours)
    return left, (week if week < total(left) else None)


def build_instance(*, session: Session, actor: User, council_id: int, today: date | None = None) -> dict:
    """Return the council's open demand of active clusters and its approved providers as a format 2 instance (a JSON-ready dict)."""
    same_council(actor, council_id, what="council")
    today = today or clock.today()
    lines = session.exec(
        select(DemandLine)
        .join(Cluster, Cluster.id == DemandLine.cluster_id)
        .where(DemandLine.council_id == council_id, DemandLine.status == DemandLineStatus.open, Cluster.status == ClusterStatus.active)
        .order_by(DemandLine.id)
    ).all()
    vetted = vetted_provider_ids(session, council_id, today)
    # An application waiting for review, or refused, is not supply at all: it is never offered to the solver.
    providers = session.exec(
        select(Provider).where(Provider.council_id == council_id, Provider.status == ProviderStatus.approved).order_by(Provider.id)
    ).all()
    taken_by_line, taken_by_provider = committed_care(session, council_id)
    wanted = {line.id: still_wanted(line_slot_hours(line), taken_by_line.get(line.id)) for line in lines}
    free = {p.id: still_free(provider_slot_hours(p), p.capacity_hours, taken_by_provider.get(p.id)) for p in providers}
    return {
        "format": INSTANCE_FORMAT_2,
        "demand": [
            {
                "id": f"d-{line.id}", "cluster": f"k-{line.cluster_id}", "service": line.service, "slot_hours": wanted[line.id],
                "languages": sorted(line.languages), "language_required": line.language_required,
                "carer_gender": line.carer_gender, "location": {"lat": line.lat, "lon": line.lon},
                "max_rate_pence": line.max_rate_pence,
                "current_supplier": f"s-{line.current_provider_id}" if line.current_provider_id else None,
            }
            for line in lines if wanted[line.id]
        ],
        "supply": [
            {
                "id": f"s-{p.id}", "kind": p.kind.value, "services": sorted(p.services), "slot_hours": free[p.id][0],
                "capacity_hours": free[p.id][1], "languages": sorted(p.languages), "genders": sorted(p.staff_genders),
                "location": {"lat": p.lat, "lon": p.lon}, "radius_km": p.radius_km, "rate_pence": p.hourly_rate_pence,
                "living_wage": p.living_wage, "ethical_care_charter": p.ethical_care_charter, "vetted": p.id in vetted,
            }
            for p in providers
        ],
    }
