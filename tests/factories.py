"""factory-boy factories for the domain models, saved through the test's session."""

from __future__ import annotations

from datetime import timedelta

import factory
from sqlmodel import select

from brokerage import clock
from brokerage.accounts.models import Council, CouncilDistrict, Role, User
from brokerage.accounts.passwords import hash_password
from brokerage.clusters.models import Cluster, ClusterStatus, Membership, MembershipStatus
from brokerage.holders.models import Holder, Representation
from brokerage.places.rules import Centroid, district_of
from brokerage.places.services import store_centroids
from brokerage.types import utcnow
from brokerage.providers.models import Provider, ProviderKind, VettingItem, VettingKind

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH: list[str] = []


def password_hash() -> str:
    """Return one argon2 hash of PASSWORD, computed once per run (hashing is slow on purpose)."""
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))
    return _PASSWORD_HASH[0]


class BaseFactory(factory.Factory):
    """Save each object through the session given as `session=` and flush it."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, session, **kwargs):
        obj = model_class(*args, **kwargs)
        session.add(obj)
        session.flush()
        return obj


class CouncilFactory(BaseFactory):
    class Meta:
        model = Council

    slug = factory.Sequence(lambda n: f"council-{n}")
    name = factory.Sequence(lambda n: f"Test Council {n}")
    area_districts = "E1 E2"


class HolderFactory(BaseFactory):
    class Meta:
        model = Holder

    council_id = None
    name = factory.Sequence(lambda n: f"Holder {n}")
    weekly_allocation_pence = 50000
    postcode_district = "E1"
    lat = 51.5155
    lon = -0.0590
    languages = factory.LazyFunction(lambda: ["en"])
    care_needs = factory.LazyFunction(lambda: ["home_care"])


class ProviderFactory(BaseFactory):
    class Meta:
        model = Provider

    council_id = None
    name = factory.Sequence(lambda n: f"Provider {n}")
    kind = ProviderKind.coop
    services = factory.LazyFunction(lambda: ["home_care"])
    languages = factory.LazyFunction(lambda: ["en"])
    staff_genders = factory.LazyFunction(lambda: ["female"])
    slots = factory.LazyFunction(lambda: ["mon_am"])
    capacity_hours = 40
    postcode_district = "E1"
    lat = 51.5155
    lon = -0.0590
    radius_km = 5.0
    hourly_rate_pence = 2200


class VettingFactory(BaseFactory):
    class Meta:
        model = VettingItem

    kind = VettingKind.dbs
    reference = factory.Sequence(lambda n: f"REF-{n}")
    expires_on = factory.LazyFunction(lambda: clock.today() + timedelta(days=365))
    verified_at = factory.LazyFunction(utcnow)


class ClusterFactory(BaseFactory):
    class Meta:
        model = Cluster

    name = factory.Sequence(lambda n: f"Cluster {n}")
    kinds = factory.LazyFunction(lambda: ["neighbourhood"])
    status = ClusterStatus.active


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    status = MembershipStatus.active
    weekly_pledge_pence = 10000


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Sequence(lambda n: f"User {n}")
    role = Role.broker
    password_hash = factory.LazyFunction(password_hash)


class RepresentationFactory(BaseFactory):
    class Meta:
        model = Representation


def only_powers(session, *, representative, holder, powers) -> None:
    """Let a representative do only these things for the holder (holders.models.Power), as the holder's page records it."""
    link = session.exec(select(Representation).where(Representation.representative_id == representative.id,
                                                     Representation.holder_id == holder.id)).one()
    link.set_powers(powers)
    session.add(link)
    session.flush()


def claim_districts(session, council, districts: str) -> None:
    """Give a council its own postcode districts, as creating it through the service does (council_district rows)."""
    council.area_districts = districts
    session.add(council)
    session.add_all(CouncilDistrict(district=d, council_id=council.id) for d in districts.split())
    session.flush()


# Places the tests look postcodes up in: full postcodes, and district centres for any other postcode there.
PLACES = (
    ("E1 6AN", 51.5203, -0.0714), ("E1 1BB", 51.5190, -0.0596), ("E1W 1LA", 51.5067, -0.0712), ("E2 9PA", 51.5291, -0.0554),
    ("E1", 51.5155, -0.0590), ("E1W", 51.5070, -0.0590), ("E2", 51.5290, -0.0600), ("E3", 51.5270, -0.0240), ("LS6", 53.8196, -1.5796),
)


def load_places(session) -> None:
    """Store PLACES in the postcode table."""
    store_centroids(session=session, centroids=[Centroid(p, district_of(p), lat, lon, " " not in p) for p, lat, lon in PLACES])
    session.flush()
