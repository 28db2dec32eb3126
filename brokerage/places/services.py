"""Looking postcodes up, and loading the table of centroids (`brokerage geo import`, the demo)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from brokerage.places.errors import STAFF_REMEDY, InvalidPostcode, UnknownPostcode
from brokerage.places.models import PostcodeCentroid
from brokerage.places.rules import Centroid, district_of, is_valid_postcode, normalise_postcode

# Rows per statement: well inside SQLite's and PostgreSQL's limits on bound parameters.
BATCH_SIZE = 2000


@dataclass(frozen=True)
class Place:
    """Where a postcode is: its own centre when the table has it (`exact`), otherwise its district's."""

    postcode: str
    district: str
    lat: float
    lon: float
    exact: bool = True


def locate(*, session: Session, postcode: str, field: str = "postcode", remedy: str = STAFF_REMEDY) -> Place:
    """Return where a full postcode is, from its own centroid or else its district's; InvalidPostcode or UnknownPostcode naming `field`.

    `remedy` ends UnknownPostcode's message: what the person can do when the postcode is right (staff: ask an administrator).
    """
    code = normalise_postcode(postcode)
    if not is_valid_postcode(code):
        raise InvalidPostcode(field=field)
    district = district_of(code)
    rows = {row.postcode: row for row in session.exec(select(PostcodeCentroid).where(PostcodeCentroid.postcode.in_([code, district])))}
    row = rows.get(code) or rows.get(district)
    if row is None:
        raise UnknownPostcode(code, field=field, remedy=remedy)
    return Place(postcode=code, district=district, lat=row.lat, lon=row.lon, exact=row.postcode == code)


def locate_into(errors: dict, *, session: Session, postcode: str, field: str = "postcode") -> Place | None:
    """Return where a postcode is, or None after putting why not in `errors` under `field` (for services that name every problem at once)."""
    try:
        return locate(session=session, postcode=postcode, field=field)
    except (InvalidPostcode, UnknownPostcode) as error:
        errors[field] = error.message
        return None


def district_centres(*, session: Session, districts: Iterable[str]) -> dict[str, tuple[float, float]]:
    """Return the centre of each of these districts that the table knows, as {district: (lat, lon)}."""
    wanted = sorted({normalise_postcode(d) for d in districts})
    if not wanted:
        return {}
    query = select(PostcodeCentroid.postcode, PostcodeCentroid.lat, PostcodeCentroid.lon).where(
        PostcodeCentroid.is_district.is_(True), PostcodeCentroid.postcode.in_(wanted)
    )
    return {code: (lat, lon) for code, lat, lon in session.exec(query)}


def area_centre(*, session: Session, districts: Iterable[str]) -> tuple[float, float] | None:
    """Return the middle of an area of districts (the mean of the centres the table knows), or None when it knows none of them."""
    centres = list(district_centres(session=session, districts=districts).values())
    if not centres:
        return None
    return (round(sum(lat for lat, _ in centres) / len(centres), 6), round(sum(lon for _, lon in centres) / len(centres), 6))


@dataclass
class Stored:
    """What storing some centroids did."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0

    def __iadd__(self, other: Stored) -> Stored:
        self.added += other.added
        self.changed += other.changed
        self.unchanged += other.unchanged
        return self


def store_centroids(*, session: Session, centroids: Iterable[Centroid]) -> Stored:
    """Add or update centroids (one batch; a postcode given twice keeps its last place), writing only what is new or changed."""
    latest = {c.postcode: c for c in centroids}
    done = Stored()
    if not latest:
        return done
    table = PostcodeCentroid.__table__
    known = {
        code: (district, lat, lon, is_district)
        for code, district, lat, lon, is_district in session.execute(
            select(table.c.postcode, table.c.district, table.c.lat, table.c.lon, table.c.is_district).where(table.c.postcode.in_(list(latest)))
        )
    }
    rows = []
    for code, c in latest.items():
        if code not in known:
            done.added += 1
        elif known[code] != (c.district, c.lat, c.lon, c.is_district):
            done.changed += 1
        else:
            done.unchanged += 1
            continue
        rows.append({"postcode": code, "district": c.district, "lat": c.lat, "lon": c.lon, "is_district": c.is_district})
    if rows:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.postcode],
            set_={name: statement.excluded[name] for name in ("district", "lat", "lon", "is_district")},
        )
        session.connection().execute(statement, rows)
    return done


def work_out_districts(*, session: Session, districts: Iterable[str]) -> Stored:
    """Set each district's centroid to the mean of its full postcodes in the table (districts with none are left alone)."""
    table = PostcodeCentroid.__table__
    wanted = sorted(set(districts))
    done = Stored()
    for start in range(0, len(wanted), BATCH_SIZE):
        chunk = wanted[start:start + BATCH_SIZE]
        means = session.execute(
            select(table.c.district, func.avg(table.c.lat), func.avg(table.c.lon))
            .where(table.c.is_district.is_(False), table.c.district.in_(chunk))
            .group_by(table.c.district)
        )
        done += store_centroids(
            session=session,
            centroids=[Centroid(district, district, round(float(lat), 6), round(float(lon), 6), True) for district, lat, lon in means],
        )
    return done
