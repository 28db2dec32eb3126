"""What the community-wealth pages read: the pool summary (`ledger_pool_month`) summed in SQL.

Spend is care paid from pool shares (entries of kind `care_cost`, net of their reversals, which the
summary counts under the same kind); money pooled is pledges and top-ups, less refunded top-ups. The
summary is joined only to small tables of the same council (providers, contracts), and every query
sums in the database, so a council's whole history is read in a few hundred milliseconds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Sequence

from sqlalchemy import BigInteger, and_, case, cast, func, literal, select, union_all
from sqlmodel import Session

from brokerage.contracts.models import Contract
from brokerage.holders.models import Holder
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.models import PoolMonth
from brokerage.providers.models import Provider
from brokerage.transparency.report import Bits
from brokerage.transparency.rules import MICRO_STAFF

CARE = EntryKind.care_cost.value
POOLED_IN = (EntryKind.pledge_collected.value, EntryKind.topup.value, EntryKind.topup_refund.value)


@dataclass(frozen=True)
class ProviderRow:
    """A provider's current facts, as the figures use them."""

    id: int
    name: str
    kind: str
    postcode_district: str
    lat: float
    lon: float
    staff_count: int
    living_wage: bool
    ethical_care_charter: bool


def providers(session: Session, *, council_id: int) -> list[ProviderRow]:
    """Return every provider of a council with its current facts, by name."""
    rows = session.execute(
        select(Provider.id, Provider.name, Provider.kind, Provider.postcode_district, Provider.lat, Provider.lon, Provider.staff_count,
               Provider.living_wage, Provider.ethical_care_charter)
        .where(Provider.council_id == council_id).order_by(Provider.name, Provider.id)
    )
    return [ProviderRow(row[0], row[1], row[2].value, row[3], row[4], row[5], row[6], bool(row[7]), bool(row[8])) for row in rows]


def district_locations(session: Session, *, council_id: int, districts: Sequence[str]) -> dict[str, tuple[float, float, int]]:
    """Return, for each of these districts, the sum of the latitudes and longitudes of the holders and providers recorded in it, and how many."""
    found: dict[str, list] = {}
    if not districts:
        return {}
    for model in (Holder, Provider):
        rows = session.execute(
            select(model.postcode_district, func.sum(model.lat), func.sum(model.lon), func.count())
            .where(model.council_id == council_id, model.postcode_district.in_(list(districts)))
            .group_by(model.postcode_district)
        )
        for district, lat_sum, lon_sum, count in rows:
            total = found.setdefault(district, [0.0, 0.0, 0])
            total[0] += float(lat_sum)
            total[1] += float(lon_sum)
            total[2] += int(count)
    return {district: (lat, lon, count) for district, (lat, lon, count) in found.items()}


def spend_by_month_and_provider(session: Session, *, council_id: int, start: date, end: date) -> list[tuple[date, int, int]]:
    """Return (month, provider id, pence spent) for every month from start to end (first days) with care spend; provider 0 is none known."""
    rows = session.execute(
        select(PoolMonth.month, PoolMonth.provider_id, func.sum(PoolMonth.amount_pence))
        .where(PoolMonth.council_id == council_id, PoolMonth.kind == CARE, PoolMonth.month >= start, PoolMonth.month <= end)
        .group_by(PoolMonth.month, PoolMonth.provider_id)
    )
    return [(month, provider_id, -int(total)) for month, provider_id, total in rows]


# --- the public report: by period, with the people behind each figure -------------------------------


def council_services(session: Session, *, council_id: int) -> list[str]:
    """Return the services of the council's contracts, in order."""
    return sorted(session.execute(select(Contract.service).where(Contract.council_id == council_id).distinct()).scalars())


@dataclass
class PublicMoney:
    """A council's money by period, for the public report: raw, before any suppression."""

    classes: dict[tuple[int, int], tuple[int, int]]  # (period, class mask) -> (signed pence on the shares, people)
    unions: dict[int, Counter]  # period -> {the OR of a person's masks: how many people}
    pooled: dict[int, tuple[int, int]]  # period -> (pence pooled, people who pooled)


def public_money(session: Session, *, council_id: int, starts: Sequence[date], end: date, local_ids: Sequence[int], bits: Bits) -> PublicMoney:
    """Sum care spend and money pooled in each period (from each start to the next, the last to `end`, exclusive), with the people in each.

    Care rows are summed per period, person, provider and contract first (whole numbers only, so it is quick), then
    marked with their class's mask (`Bits`) and summed per period, person and mask; what nets to nothing is dropped,
    so each (period, mask) counts each person once. On PostgreSQL the people's OR of masks is counted in the
    database (bit_or); SQLite, which has no bit_or, hands back the rows.
    """
    period = case(*[(PoolMonth.month < starts[n + 1], n) for n in range(len(starts) - 1)], else_=len(starts) - 1) if len(starts) > 1 else literal(0)
    in_range = (PoolMonth.council_id == council_id, PoolMonth.month >= starts[0], PoolMonth.month < end)
    raw = (
        select(period.label("period"), PoolMonth.holder_id, PoolMonth.provider_id, PoolMonth.contract_id, PoolMonth.amount_pence)
        .where(PoolMonth.kind == CARE, *in_range).subquery("raw")
    )
    keys = (raw.c.period, raw.c.holder_id, raw.c.provider_id, raw.c.contract_id)
    shares = select(*keys, func.sum(raw.c.amount_pence).label("pence")).group_by(*keys).having(func.sum(raw.c.amount_pence) != 0).subquery("shares")
    marked = (
        select(shares.c.period, shares.c.holder_id, shares.c.pence, cast(_mask(bits, shares.c.provider_id, local_ids), BigInteger).label("mask"))
        .select_from(shares)
        .outerjoin(Provider, and_(Provider.id == shares.c.provider_id, Provider.council_id == council_id))
        .outerjoin(Contract, and_(Contract.id == shares.c.contract_id, Contract.council_id == council_id))
        .subquery("marked")
    )
    keys = (marked.c.period, marked.c.holder_id, marked.c.mask)
    classed = select(*keys, func.sum(marked.c.pence).label("pence")).group_by(*keys).having(func.sum(marked.c.pence) != 0)
    money = PublicMoney(classes={}, unions={}, pooled=_pooled(session, period, in_range))
    if session.get_bind().dialect.name != "postgresql":
        people: dict[tuple[int, int], int] = {}
        for period_number, holder_id, mask, pence in session.execute(classed):
            total = money.classes.get((period_number, mask), (0, 0))
            money.classes[(period_number, mask)] = (total[0] + int(pence), total[1] + 1)
            people[(period_number, holder_id)] = people.get((period_number, holder_id), 0) | mask
        for (period_number, _), union in people.items():
            money.unions.setdefault(period_number, Counter())[union] += 1
        return money
    classed = classed.cte("classed")
    per_person = select(classed.c.period, func.bit_or(classed.c.mask).label("mask")).group_by(classed.c.period, classed.c.holder_id).subquery()
    statement = union_all(
        select(literal(0).label("part"), classed.c.period, classed.c.mask, func.sum(classed.c.pence), func.count()).group_by(classed.c.period, classed.c.mask),
        select(literal(1), per_person.c.period, per_person.c.mask, literal(0), func.count()).group_by(per_person.c.period, per_person.c.mask),
    )
    for part, period_number, mask, pence, count in session.execute(statement):
        if part == 0:
            money.classes[(int(period_number), int(mask))] = (int(pence), int(count))
        else:
            money.unions.setdefault(int(period_number), Counter())[int(mask)] += int(count)
    return money


def _mask(bits: Bits, provider_id, local_ids: Sequence[int]):
    """Return the SQL for a care row's class mask, from its provider's facts and its contract's service."""
    flags = bits.flags
    local = case((provider_id.in_(list(local_ids)), flags["local"]), else_=flags["not:local"]) if local_ids else literal(flags["not:local"])
    return (
        case(*[(Provider.kind == kind, bit) for kind, bit in bits.kinds.items() if kind != "unknown"], else_=bits.kinds["unknown"])
        + case((Provider.living_wage, flags["living_wage"]), else_=flags["not:living_wage"])
        + case((Provider.ethical_care_charter, flags["ethical_care"]), else_=flags["not:ethical_care"])
        + case((Provider.staff_count <= MICRO_STAFF, flags["micro"]), else_=flags["not:micro"])
        + local
        + case(*[(Contract.service == service, bit) for service, bit in bits.service_bits.items() if service != "other"],
               else_=bits.service_bits.get("other", 0))
    )


def _pooled(session: Session, period, in_range) -> dict[int, tuple[int, int]]:
    """Return, for each period, the pence pooled (pledges and top-ups, less refunded top-ups) and how many people pooled."""
    raw = select(period.label("period"), PoolMonth.holder_id, PoolMonth.amount_pence).where(PoolMonth.kind.in_(POOLED_IN), *in_range).subquery()
    per_person = (
        select(raw.c.period, func.sum(raw.c.amount_pence).label("pence")).group_by(raw.c.period, raw.c.holder_id)
        .having(func.sum(raw.c.amount_pence) != 0).subquery()
    )
    rows = session.execute(select(per_person.c.period, func.sum(per_person.c.pence), func.count()).group_by(per_person.c.period))
    return {int(number): (int(pence), int(people)) for number, pence, people in rows}


def first_month(session: Session, *, council_id: int) -> date | None:
    """Return the first month in which any money was pooled or spent, or None."""
    return session.execute(
        select(func.min(PoolMonth.month)).where(PoolMonth.council_id == council_id, PoolMonth.kind.in_((CARE, *POOLED_IN)))
    ).scalar()
