"""A group's area: a set of its council's own postcode districts (`cluster_district`), and where the group is.

Below `membership` (which sets the area when a group starts) and `queries` (which show and search it).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from brokerage.accounts.models import CouncilDistrict
from brokerage.clusters.members import LIVE_MEMBERSHIP
from brokerage.clusters.models import Cluster, ClusterDistrict, Membership
from brokerage.errors import ValidationFailed
from brokerage.holders.models import Holder
from brokerage.places.rules import coarse, district_sort_key
from brokerage.places.services import area_centre, district_centres
from brokerage.validation import normalise_district

NO_DISTRICTS = "Your council has not listed its postcode districts yet, so a group cannot have an area. Ask an administrator"
NEEDS_AREA = "Choose the districts the group covers: with nobody in it yet, that is where it is found and matched"
UNKNOWN_CENTRES = "We do not know where these districts are yet. Ask your council to load the postcode table"


def council_districts(*, session: Session, council_id: int) -> list[str]:
    """Return a council's own postcode districts, in the order people read them (E1, E1W, E2, E14)."""
    rows = session.exec(select(CouncilDistrict.district).where(CouncilDistrict.council_id == council_id))
    return sorted(rows, key=district_sort_key)


def check_area(*, session: Session, council_id: int, districts: Iterable[str]) -> list[str]:
    """Return the chosen districts in order, normalised; ValidationFailed naming `districts` for one that is not the council's."""
    own = council_districts(session=session, council_id=council_id)
    chosen = list(dict.fromkeys(d for d in (normalise_district(text) for text in districts) if d))
    if chosen and not own:
        raise ValidationFailed({"districts": NO_DISTRICTS})
    if any(d not in own for d in chosen):
        raise ValidationFailed({"districts": f"Choose from your council's districts: {', '.join(own)}"})
    return sorted(chosen, key=district_sort_key)


def place_of_group(*, session: Session, founder: Holder | None, districts: list[str]) -> tuple[float, float]:
    """Return where a new group is: the centre of its founder's district when that is in its area (or it has none),
    else the middle of its area.

    Never the founder's home: "Find a group" gives anyone distances from any postcode they type, so a group
    placed at a home would tell where its founder lives. Where the table knows no centre for the founder's
    district, the home is rounded to about a kilometre (`places.rules.coarse`). A founder who lives outside
    the districts they chose does not pull the group out of its area. ValidationFailed (naming `districts`)
    when nothing says where.
    """
    if founder is not None and (not districts or founder.postcode_district in districts):
        return _near_home(session, [founder])
    if not districts:
        raise ValidationFailed({"districts": NEEDS_AREA})
    centre = area_centre(session=session, districts=districts)
    if centre is not None:
        return centre
    if founder is not None:
        return _near_home(session, [founder])
    raise ValidationFailed({"districts": UNKNOWN_CENTRES})


def _near_home(session: Session, people: list[Holder]) -> tuple[float, float]:
    """Return the middle of these people's districts' centres, or of their homes rounded to a kilometre where the
    table knows no centre: a place near them that names nobody's home."""
    centres = district_centres(session=session, districts=[p.postcode_district for p in people])
    points = [centres.get(p.postcode_district) or coarse(p.lat, p.lon) for p in people]
    return coarse(sum(lat for lat, _ in points) / len(points), sum(lon for _, lon in points) / len(points)) \
        if len(points) > 1 else points[0]


def locate_group(*, session: Session, cluster: Cluster) -> tuple[float, float] | None:
    """Return where a group is, finding and keeping it if the group has no place yet; None when nothing says where.

    A group started by a broker before areas were kept may have no place: it is then the middle of its
    area, or else near its live members (their districts' centres, never a home).
    """
    if cluster.lat is not None and cluster.lon is not None:
        return cluster.lat, cluster.lon
    place = area_centre(session=session, districts=areas_of(session=session, cluster_ids=[cluster.id]).get(cluster.id, []))
    if place is None:
        members = list(session.exec(
            select(Holder).join(Membership, Membership.holder_id == Holder.id)
            .where(Membership.cluster_id == cluster.id, Membership.status.in_(LIVE_MEMBERSHIP))
        ))
        if not members:
            return None
        place = _near_home(session, members)
    cluster.lat, cluster.lon = place
    session.add(cluster)
    session.flush()
    return place


def set_area(*, session: Session, cluster: Cluster, districts: list[str]) -> None:
    """Record a new group's districts (checked by `check_area`); the database refuses any that is not its council's."""
    session.add_all(ClusterDistrict(cluster_id=cluster.id, district=d, council_id=cluster.council_id) for d in districts)
    session.flush()


def areas_of(*, session: Session, cluster_ids: Iterable[int]) -> dict[int, list[str]]:
    """Return each of these groups' districts, in order (a group with no area is left out)."""
    ids = sorted(set(cluster_ids))
    if not ids:
        return {}
    found: dict[int, list[str]] = {}
    for cluster_id, district in session.exec(select(ClusterDistrict.cluster_id, ClusterDistrict.district).where(ClusterDistrict.cluster_id.in_(ids))):
        found.setdefault(cluster_id, []).append(district)
    return {cluster_id: sorted(districts, key=district_sort_key) for cluster_id, districts in found.items()}

