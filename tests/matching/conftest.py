"""Fixtures for the matching engine: the format's own example and small made-up instances."""

from __future__ import annotations

import copy

import pytest

from tests.providers.applying import places  # noqa: F401 (the fixture of the applications' tests)

# The instance example from shared/matching-instance.md, exactly as written there.
SPEC_INSTANCE = {
    "format": "carepool-matching/1",
    "demand": [
        {
            "id": "d-0001",
            "cluster": "k-001",
            "service": "home_care",
            "hours": 20,
            "slots": ["mon_am", "tue_am", "wed_am"],
            "languages": ["so"],
            "language_required": True,
            "carer_gender": "female",
            "location": {"lat": 51.5155, "lon": -0.0722},
            "max_rate_pence": 2400,
            "current_supplier": None,
        }
    ],
    "supply": [
        {
            "id": "s-0001",
            "kind": "coop",
            "services": ["home_care", "companionship"],
            "capacity_hours": 60,
            "slots": ["mon_am", "mon_pm", "tue_am"],
            "languages": ["so", "en"],
            "genders": ["female"],
            "location": {"lat": 51.52, "lon": -0.06},
            "radius_km": 8.0,
            "rate_pence": 2150,
            "living_wage": True,
            "ethical_care_charter": True,
            "vetted": True,
        }
    ],
}

SPEC_SOLUTION = {
    "format": "carepool-matching-solution/1",
    "assignments": [
        {
            "demand": "d-0001",
            "supplier": "s-0001",
            "hours": 12,
            "explanation": "Speaks Somali (required), female staff, 1.0 km away, £21.50/h under "
            "the £24.00 cap; co-op paying the Living Wage.",
        }
    ],
    "unmet": [
        {
            "demand": "d-0002",
            "hours": 4,
            "reason": "No vetted supplier within reach offers respite on Sunday evenings.",
        }
    ],
    "covered_hours": 1234,
    "cost": 98765.4,
}


def line(**changes) -> dict:
    """Return the spec's demand line with some fields changed."""
    record = copy.deepcopy(SPEC_INSTANCE["demand"][0])
    record.update(changes)
    return record


def supplier(**changes) -> dict:
    """Return the spec's supplier with some fields changed."""
    record = copy.deepcopy(SPEC_INSTANCE["supply"][0])
    record.update(changes)
    return record


def instance_of(demand: list[dict], supply: list[dict]) -> dict:
    """Return an instance document holding the given records."""
    return {"format": "carepool-matching/1", "demand": demand, "supply": supply}


@pytest.fixture()
def spec_instance() -> dict:
    return copy.deepcopy(SPEC_INSTANCE)


@pytest.fixture()
def spec_solution() -> dict:
    return copy.deepcopy(SPEC_SOLUTION)


@pytest.fixture(scope="session")
def small_generated() -> dict:
    from brokerage.matching.generator import generate

    return generate("S", 7)
