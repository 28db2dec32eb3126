"""Community wealth for officers and brokers, the council's settings for it, and the public report.

Figures come from the pool summary (`ledger_pool_month`, brokerage.transparency.queries). Providers are
counted by their facts as recorded today (kind, staff, Living Wage, Ethical Care Charter, whether they
are local under the council's current rule), for every month shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import STAFF
from brokerage.accounts.models import Council, Role, User
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.transparency import published, periods, queries, report
from brokerage.transparency.rules import (
    LOCAL_DISTANCE_MAX, LOCAL_DISTANCE_MIN, MEASURE_KEYS, LocalRule, ProviderFacts, centre_of, distance_from_centre, district_key, is_local,
    measures_of, share_tenths,
)

PUBLIC_QUARTERS = 8  # the public report shows the last two years' complete quarters
MAX_SERVICES = 40  # services the public report tells apart (a mask bit each); any more count as "other"


def _staff_council(session: Session, actor: User) -> Council:
    if actor is None:
        raise TypeError("a service was called without the acting user")
    if actor.role not in STAFF or actor.council_id is None:
        raise NotAllowed("Only the council's brokers and officers can see the community-wealth figures.")
    return session.get(Council, actor.council_id)


def local_rule(*, session: Session, council: Council, with_centre: bool = False) -> LocalRule:
    """Return the council's definition of a local provider, with the centre of its districts when a distance is set (or `with_centre`)."""
    districts = frozenset(district_key(d) for d in council.districts)
    centre = None
    if council.local_distance_km is not None or with_centre:
        centre = centre_of(queries.district_locations(session, council_id=council.id, districts=sorted(districts)).values())
    return LocalRule(districts=districts, centre=centre, distance_km=council.local_distance_km)


def _facts(row: queries.ProviderRow, rule: LocalRule) -> ProviderFacts:
    return ProviderFacts(kind=row.kind, local=is_local(rule, district=row.postcode_district, lat=row.lat, lon=row.lon), staff_count=row.staff_count,
                         living_wage=row.living_wage, ethical_care_charter=row.ethical_care_charter)


@dataclass
class WealthTrend:
    """A council's care spend by month, and the part of it with providers counting towards each measure (pence)."""

    start: date
    end: date
    months: list[date]
    spend: dict[date, int]
    measures: dict[str, dict[date, int]]
    rule: LocalRule

    def share(self, measure: str, month: date) -> int | None:
        """Return a measure's share of a month's spend in tenths of a percent, or None for a month with no spend."""
        return share_tenths(self.measures[measure][month], self.spend[month])

    @property
    def total(self) -> int:
        """Return the care spend of the whole period in pence."""
        return sum(self.spend.values())

    def measure_total(self, measure: str) -> int:
        """Return the spend of the whole period with a measure's providers in pence."""
        return sum(self.measures[measure].values())


def wealth_trend(*, session: Session, actor: User, start: date, end: date) -> WealthTrend:
    """Return the care spend by month from start to end (months, first days included) and the pence with each measure's providers.

    For the council's brokers and officers (NotAllowed otherwise); a period that cannot be shown is ValidationFailed.
    """
    council = _staff_council(session, actor)
    start, end = periods.month_of(start), periods.month_of(end)
    problems = periods.check_period(start, end, today=clock.today())
    if problems:
        raise ValidationFailed(problems)
    rule = local_rule(session=session, council=council)
    facts = {row.id: _facts(row, rule) for row in queries.providers(session, council_id=council.id)}
    months = periods.months_between(start, end)
    spend = dict.fromkeys(months, 0)
    measures = {measure: dict.fromkeys(months, 0) for measure in MEASURE_KEYS}
    for month, provider_id, pence in queries.spend_by_month_and_provider(session, council_id=council.id, start=start, end=end):
        spend[month] += pence
        for measure in measures_of(facts[provider_id]) if provider_id in facts else ():
            measures[measure][month] += pence
    return WealthTrend(start=start, end=end, months=months, spend=spend, measures=measures, rule=rule)


# --- the council's settings ------------------------------------------------------------------------


@dataclass
class LocalProvider:
    """A provider and whether the council's rule counts it as local, with its distance from the centre when known."""

    provider: queries.ProviderRow
    local: bool
    in_district: bool
    km: float | None


@dataclass
class WealthSettings:
    """The council's community-wealth settings, and what its rule makes of each provider."""

    council: Council
    rule: LocalRule
    providers: list[LocalProvider]


def wealth_settings(*, session: Session, actor: User) -> WealthSettings:
    """Return the officer's council's community-wealth settings and which providers count as local (NotAllowed for others)."""
    council = _officer_council(session, actor)
    # With the centre even before a distance is set, so the officer sees the distances a setting would use.
    rule = local_rule(session=session, council=council, with_centre=True)
    rows = []
    for row in queries.providers(session, council_id=council.id):
        km = distance_from_centre(rule, lat=row.lat, lon=row.lon)
        rows.append(LocalProvider(row, is_local(rule, district=row.postcode_district, lat=row.lat, lon=row.lon),
                                  district_key(row.postcode_district) in rule.districts, km))
    return WealthSettings(council=council, rule=rule, providers=rows)


def _officer_council(session: Session, actor: User) -> Council:
    if actor is None:
        raise TypeError("a service was called without the acting user")
    if actor.role != Role.council_officer or actor.council_id is None:
        raise NotAllowed("Only a council officer can change the community-wealth settings.")
    return session.get(Council, actor.council_id)


def update_wealth_settings(*, session: Session, actor: User, local_distance_km: float | None, publish_report: bool) -> Council:
    """Set the council's distance for local providers (km, or None for its districts only) and whether it publishes its public report."""
    council = _officer_council(session, actor)
    if local_distance_km is not None:
        if isinstance(local_distance_km, bool) or not isinstance(local_distance_km, (int, float)) or not (
            LOCAL_DISTANCE_MIN <= local_distance_km <= LOCAL_DISTANCE_MAX
        ):
            raise ValidationFailed({"local_distance_km": f"Enter a distance from {LOCAL_DISTANCE_MIN:g} to {LOCAL_DISTANCE_MAX:g} km, or leave it blank"})
        local_distance_km = float(local_distance_km)
    council.local_distance_km = local_distance_km
    council.publish_report = bool(publish_report)
    session.add(council)
    session.flush()
    return council


# --- the public report -----------------------------------------------------------------------------


@dataclass
class PublicReport:
    """A council's public report: complete quarters, oldest first, with only the figures that may be shown."""

    council_name: str
    slug: str
    periods: list[report.PublicPeriod]
    kinds: list[str]
    services: list[str]
    rule: LocalRule


def published_councils(*, session: Session) -> list[Council]:
    """Return the councils that publish their report of pooled spending, by name (the start page links each)."""
    return list(session.exec(select(Council).where(Council.publish_report.is_(True)).order_by(Council.name, Council.id)))


def published_council(*, session: Session, slug: str) -> Council:
    """Return the council with this slug if it publishes its report; NotFound otherwise, exactly as for an unknown slug."""
    council = session.exec(select(Council).where(Council.slug == slug)).first() if isinstance(slug, str) and len(slug) <= 40 else None
    if council is None or not council.publish_report:
        raise NotFound()
    return council


def public_report(*, session: Session, slug: str, today: date | None = None) -> PublicReport:
    """Return a council's public report of its last complete quarters, suppressed; anyone may read it (NotFound unless published).

    There is no acting user: the report is the same for everyone, signed in or not, and names no one.
    """
    council = published_council(session=session, slug=slug)
    today = today or clock.today()
    quarters = periods.complete_quarters(today, PUBLIC_QUARTERS)
    first = queries.first_month(session, council_id=council.id)
    quarters = [q for q in quarters if first is not None and periods.add_months(q, 2) >= first]
    rule = local_rule(session=session, council=council)
    if not quarters:
        return PublicReport(council_name=council.name, slug=council.slug, periods=[], kinds=report.kinds_in([]), services=[], rule=rule)
    frozen = published.published(session, council.id, quarters)
    if all(quarter in frozen for quarter in quarters):
        # Every quarter shown was published before: read them back, without summing the ledger again.
        kinds = report.kinds_in([]) + sorted({k for f in frozen.values() for k in f["kinds"]} - set(report.kinds_in([])))
        services = report.ordered_services({k for f in frozen.values() for k in f["services"]})
        built = [published.from_json(quarter, frozen[quarter], kinds=kinds, services=services) for quarter in quarters]
        return PublicReport(council_name=council.name, slug=council.slug, periods=built, kinds=kinds, services=services, rule=rule)
    local_ids = [row.id for row in queries.providers(session, council_id=council.id)
                 if is_local(rule, district=row.postcode_district, lat=row.lat, lon=row.lon)]
    bits = report.Bits(services=(*queries.council_services(session, council_id=council.id)[:MAX_SERVICES], "other"))
    money = queries.public_money(session, council_id=council.id, starts=quarters, end=periods.add_months(quarters[-1], 3), local_ids=local_ids,
                                 bits=bits)
    classes = [bits.decode(number, mask, -pence, people) for (number, mask), (pence, people) in money.classes.items()]
    kinds, services = report.kinds_in(classes), report.services_in(classes)
    # A quarter published before is shown as it was first published, never recomputed (see transparency.models).
    kinds = kinds + sorted({k for figures in frozen.values() for k in figures["kinds"]} - set(kinds))
    services = services + sorted({k for figures in frozen.values() for k in figures["services"]} - set(services))
    keys = report.figure_keys(kinds, services)
    built = [
        published.from_json(quarter, frozen[quarter], kinds=kinds, services=services) if quarter in frozen else
        report.public_period(quarter, [c for c in classes if c.period == number], bits.people(money.unions.get(number, {}), keys),
                             money.pooled.get(number, (0, 0)), kinds=kinds, services=services)
        for number, quarter in enumerate(quarters)
    ]
    fresh = iter(published.publish(session, council.id, [period for period in built if period.start not in frozen], kinds=kinds, services=services))
    built = [period if period.start in frozen else next(fresh) for period in built]
    return PublicReport(council_name=council.name, slug=council.slug, periods=built, kinds=kinds, services=services, rule=rule)
