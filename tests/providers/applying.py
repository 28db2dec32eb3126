"""Applying to offer care, for the tests of applications and of what matching leaves out."""

from __future__ import annotations

import pytest

from brokerage.accounts.models import CouncilDistrict
from brokerage.places.rules import Centroid
from brokerage.places.services import store_centroids
from brokerage.providers import applications

PLACES = [
    Centroid("E1 6AN", "E1", 51.5203, -0.0714, False),
    Centroid("E1", "E1", 51.5155, -0.0590, True),
    Centroid("M1", "M1", 53.4794, -2.2453, True),
]
APPLICANT_PASSWORD = "kettle harbour violet 27"


@pytest.fixture()
def places(session, world):
    """Know where E1 6AN, E1 and M1 are; council A covers E1, and no council covers M1."""
    store_centroids(session=session, centroids=PLACES)
    session.add(CouncilDistrict(district="E1", council_id=world.councils["a"].id))
    session.commit()
    return world


def application_form(**overrides) -> dict:
    """Return a filled-in "offer care" form, with some fields changed (None leaves a field out)."""
    data = {
        "contact_name": "Grace Okafor", "name": "Grace Okafor (personal assistant)", "kind": "pa", "postcode": "e16an",
        "email": "Grace@Example.org", "password": APPLICANT_PASSWORD,
        "services": ["home_care", "companionship"], "languages": ["en", "yo"], "staff_genders": ["female"], "staff_count": "1",
        "capacity_hours": "20", "slot_hours-mon_am": "10", "slot_hours-tue_am": "10", "radius_km": "4", "hourly_rate": "19.50",
        "living_wage": "y", "ethical_care_charter": "y", "ownership_model": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def apply_through_the_service(session, **overrides) -> applications.Applied:
    data = {
        "name": "Hope Home Help", "kind": "micro_provider", "contact_name": "Hope Adeyemi", "email": "hope@example.org",
        "password": APPLICANT_PASSWORD, "postcode": "E1 6AN", "services": ["home_care"], "languages": ["en"], "staff_genders": ["female"],
        "capacity_hours": 30, "slots": ["mon_am"], "radius_km": 5.0, "hourly_rate_pence": 2100, "staff_count": 3,
    }
    data.update(overrides)
    return applications.apply(session=session, **data)
