"""Two saves of one provider's offer at once never leave more hours than its staff can work (PostgreSQL)."""

from __future__ import annotations

import pytest

from brokerage.accounts.models import Role
from brokerage.errors import ValidationFailed
from brokerage.providers import services
from brokerage.providers.models import Provider
from brokerage.slot_hours import CARER_SLOT_MAX
from tests import factories as f
from tests.races import council_factory, new_council, pause_after_select, race  # noqa: F401 (council_factory is the `factory` fixture)

# SQLite lets one writer in at a time from BEGIN, so the two could never start together: PostgreSQL only.
pytestmark = pytest.mark.postgres_only

TRIALS = 3
OFFER = dict(services=["home_care"], languages=["en"], staff_genders=["female"], capacity_hours=None, radius_km=5.0,
             hourly_rate_pence=2200, living_wage=False, ethical_care_charter=False)


def test_a_smaller_staff_and_more_hours_saved_at_once_never_both_pass(factory):
    # Each save was checked against the staff count it had read (3): the provider's own took its staff to 1 with 6 hours
    # on Monday mornings, the broker's kept the staff and set 18 hours. Both passed, and each wrote only what it changed:
    # 1 member of staff offering 18 hours in one morning, which the next save then kept as already recorded.
    for _ in range(TRIALS):
        with factory() as session:
            council = new_council(session)
            factory.councils.append(council.id)
            provider = f.ProviderFactory(session=session, council_id=council.id, staff_count=3, slot_hours={"mon_am": 6}, slots=["mon_am"],
                                         capacity_hours=None)
            own = f.UserFactory(session=session, council_id=council.id, role=Role.provider, provider_id=provider.id)
            broker = f.UserFactory(session=session, council_id=council.id, role=Role.broker)
            session.commit()

        def fewer_staff(s):
            pause_after_select(s, Provider.__table__, "id", 0.4)
            return services.update_profile(session=s, actor=s.get(type(own), own.id), provider_id=provider.id, staff_count=1,
                                           slot_hours={"mon_am": CARER_SLOT_MAX}, **OFFER).staff_count

        def more_hours(s):
            pause_after_select(s, Provider.__table__, "id", 0.4)
            return services.update_profile(session=s, actor=s.get(type(broker), broker.id), provider_id=provider.id,
                                           slot_hours={"mon_am": 3 * CARER_SLOT_MAX}, **OFFER).slot_hours

        results = race(factory, [fewer_staff, more_hours])
        assert not any(isinstance(r, Exception) and not isinstance(r, ValidationFailed) for r in results), results
        with factory() as session:
            saved = session.get(Provider, provider.id)
            assert saved.slot_hours["mon_am"] <= CARER_SLOT_MAX * saved.staff_count, (saved.staff_count, saved.slot_hours, results)
            # The provider's own save always passes, last or first; the broker's passes only if it went first.
            assert results[0] == 1 and (saved.staff_count, saved.slot_hours) == (1, {"mon_am": CARER_SLOT_MAX})
            if isinstance(results[1], ValidationFailed):
                assert "slot_hours" in results[1].errors
            else:
                assert results[1] == {"mon_am": 3 * CARER_SLOT_MAX}
