"""One application link confirmed twice at the same moment makes one provider and one account (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlmodel import func, select

from brokerage import tokens
from brokerage.accounts.models import CouncilDistrict, User
from brokerage.accounts.passwords import hash_password
from brokerage.places.models import PostcodeCentroid
from brokerage.places.services import store_centroids
from brokerage.providers import applications, pending
from brokerage.providers.errors import ApplicationLinkNotUsable
from brokerage.providers.models import PendingApplication, Provider
from brokerage.types import utcnow
from tests.providers.applying import APPLICANT_PASSWORD, PLACES
from tests.races import council_factory, new_council, race  # noqa: F401 (council_factory is the `factory` fixture)

# SQLite lets one writer in at a time from BEGIN, so the two could never start together: PostgreSQL only.
pytestmark = pytest.mark.postgres_only

TRIALS = 3


@pytest.fixture()
def known_places(factory):
    """Commit the test places where the racing sessions see them, and take them away afterwards."""
    with factory() as session:
        before = set(session.exec(select(PostcodeCentroid.postcode).where(PostcodeCentroid.postcode.in_([p.postcode for p in PLACES]))))
        store_centroids(session=session, centroids=PLACES)
        session.commit()
    yield
    with factory() as session:
        session.execute(delete(PostcodeCentroid).where(PostcodeCentroid.postcode.in_([p.postcode for p in PLACES if p.postcode not in before])))
        session.commit()


def test_an_application_link_confirmed_twice_at_once_makes_one_provider_and_one_account(factory, known_places):
    for trial in range(TRIALS):
        email = f"race-{trial}-{tokens.new_token()[:8].lower()}@example.org"
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            session.add(CouncilDistrict(district="E1", council_id=council.id))
            session.flush()
            checked = applications.check_application(
                session=session, password=APPLICANT_PASSWORD, name="Hope Home Help", kind="micro_provider", contact_name="Hope Adeyemi",
                email=email, postcode="E1 6AN", services=["home_care"], languages=["en"], staff_genders=["female"], capacity_hours=30,
                slots=["mon_am", "tue_am"], radius_km=5.0, hourly_rate_pence=2100, staff_count=3,
            )
            assert not checked.errors and checked.council_id == council.id, checked.errors
            token = tokens.new_token()
            session.add(PendingApplication(email=email, council_id=council.id, contact_name=checked.contact_name,
                                           password_hash=hash_password(APPLICANT_PASSWORD), answers=checked.answers,
                                           token_hash=tokens.hash_token(token), created_at=utcnow(), expires_at=utcnow() + timedelta(hours=24)))
            session.commit()

        def use(s):
            return pending.confirm(session=s, token=token).provider.id

        results = race(factory, [use, use])
        assert sorted(type(r).__name__ for r in results) == ["ApplicationLinkNotUsable", "int"], results
        assert any(isinstance(r, ApplicationLinkNotUsable) for r in results)
        with factory() as session:
            providers = session.exec(select(Provider.id).where(Provider.council_id == council.id)).all()
            assert providers == [r for r in results if isinstance(r, int)]
            assert session.exec(select(func.count()).select_from(User).where(User.email == email)).one() == 1
            assert session.exec(select(PendingApplication).where(PendingApplication.email == email)).one().used_at is not None
            # Purging the council skips the foreign keys' cascades on PostgreSQL: the application and the account go first.
            session.execute(delete(PendingApplication).where(PendingApplication.email == email))
            session.execute(delete(User).where(User.email == email))
            session.execute(delete(CouncilDistrict).where(CouncilDistrict.council_id == council.id))  # the next trial's council covers E1
            session.commit()
