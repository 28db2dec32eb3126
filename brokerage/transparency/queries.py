"""What the community-wealth pages read: the pool summary (`ledger_pool_month`) summed in SQL.

Spend is care paid from pool shares (entries of kind `care_cost`, net of their reversals, which the
summary counts under the same kind); money pooled is pledges and top-ups, less refunded top-ups. The
summary is joined only to small tables of the same council (providers, contracts), and every query
sums in the database, so a council's whole history is read in a few hundred milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping, Sequence

from sqlalchemy import and_, case, distinct, func, literal, select
from sqlmodel import Session

from brokerage.contracts.models import Contract
from brokerage.holders.models import Holder
from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.models import PoolMonth
from brokerage.providers.models import Provider
from brokerage.transparency.report import SpendClass
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


def _care_rows(*, council_id: int, periods: Mapping[date, int], local_ids: Sequence[int]):
    """Return the care spend rows of these months with their period and provider facts, as a subquery."""
    local = case((PoolMonth.provider_id.in_(list(local_ids)), 1), else_=0) if local_ids else literal(0)
    return (
        select(
            case(dict(periods), value=PoolMonth.month).label("period"), PoolMonth.holder_id.label("holder_id"),
            PoolMonth.amount_pence.label("pence"), Provider.kind.label("kind"),
            case((Provider.living_wage, 1), else_=0).label("living_wage"), case((Provider.ethical_care_charter, 1), else_=0).label("ethical_care"),
            case((Provider.staff_count <= MICRO_STAFF, 1), else_=0).label("micro"), local.label("local"), Contract.service.label("service"),
        )
        .select_from(PoolMonth)
        .outerjoin(Provider, and_(Provider.id == PoolMonth.provider_id, Provider.council_id == council_id))
        .outerjoin(Contract, and_(Contract.id == PoolMonth.contract_id, Contract.council_id == council_id))
        .where(PoolMonth.council_id == council_id, PoolMonth.kind == CARE, PoolMonth.month >= min(periods), PoolMonth.month <= max(periods),
               PoolMonth.amount_pence != 0)
        .subquery()
    )


def spend_classes(session: Session, *, council_id: int, periods: Mapping[date, int], local_ids: Sequence[int]) -> list[SpendClass]:
    """Return the care spend of each period (months mapped to a period number) by class, with the people in each."""
    rows = _care_rows(council_id=council_id, periods=periods, local_ids=local_ids)
    keys = (rows.c.period, rows.c.kind, rows.c.living_wage, rows.c.ethical_care, rows.c.micro, rows.c.local, rows.c.service)
    result = session.execute(select(*keys, func.sum(rows.c.pence), func.count(distinct(rows.c.holder_id))).group_by(*keys))
    return [
        SpendClass(int(period), kind.value if kind is not None else "unknown", bool(lw), bool(ecc), bool(micro), bool(local), service or "other",
                   -int(pence), int(people))
        for period, kind, lw, ecc, micro, local, service, pence, people in result
    ]


def people_in(session: Session, *, council_id: int, periods: Mapping[date, int], local_ids: Sequence[int],
              groups: Mapping[str, tuple[str, str | None, int | None]]) -> dict[int, dict[str, int]]:
    """Count the people whose pool shares paid for care in each period, in all and in each group.

    A group is (column, value, flag): the rows whose kind or service is `value` (None: unknown), or whose
    flag column (local, micro, living_wage, ethical_care) is `flag`. Returns period -> group -> people,
    with "spent" for everybody.
    """
    rows = _care_rows(council_id=council_id, periods=periods, local_ids=local_ids)
    names = sorted(groups)
    flags = []
    for number, name in enumerate(names):
        column, value, flag = groups[name]
        condition = rows.c[column] == flag if flag is not None else (rows.c[column].is_(None) if value is None else rows.c[column] == value)
        flags.append(func.max(case((condition, 1), else_=0)).label(f"g{number}"))
    per_person = select(rows.c.period, rows.c.holder_id, *flags).group_by(rows.c.period, rows.c.holder_id).subquery()
    result = session.execute(
        select(per_person.c.period, func.count(), *[func.sum(per_person.c[f"g{number}"]) for number in range(len(names))]).group_by(per_person.c.period)
    )
    return {int(row[0]): {"spent": int(row[1]), **{name: int(row[2 + number] or 0) for number, name in enumerate(names)}} for row in result}


def pooled_in(session: Session, *, council_id: int, periods: Mapping[date, int]) -> dict[int, tuple[int, int]]:
    """Return, for each period, the pence pooled (pledges and top-ups, less refunded top-ups) and how many people pooled."""
    rows = (
        select(case(dict(periods), value=PoolMonth.month).label("period"), PoolMonth.holder_id.label("holder_id"), PoolMonth.amount_pence.label("pence"))
        .where(PoolMonth.council_id == council_id, PoolMonth.kind.in_(POOLED_IN), PoolMonth.month >= min(periods), PoolMonth.month <= max(periods),
               PoolMonth.amount_pence != 0)
        .subquery()
    )
    result = session.execute(select(rows.c.period, func.sum(rows.c.pence), func.count(distinct(rows.c.holder_id))).group_by(rows.c.period))
    return {int(period): (int(pence), int(people)) for period, pence, people in result}


def first_month(session: Session, *, council_id: int) -> date | None:
    """Return the first month in which any money was pooled or spent, or None."""
    return session.execute(
        select(func.min(PoolMonth.month)).where(PoolMonth.council_id == council_id, PoolMonth.kind.in_((CARE, *POOLED_IN)))
    ).scalar()
