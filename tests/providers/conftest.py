"""Helpers for provider tests: a filled-in profile form."""

from __future__ import annotations

import pytest

from tests.providers.applying import places  # noqa: F401 (the fixture of the applications' tests)


@pytest.fixture()
def profile_form():
    """Return a function that builds a valid profile form, with some fields changed."""

    def build(**overrides) -> dict:
        data = {
            "services": ["home_care"], "languages": ["en"], "staff_genders": ["female"], "staff_count": "3", "capacity_hours": "40",
            "slot_hours-mon_am": "18", "radius_km": "5", "hourly_rate": "22.00", "ownership_model": "Owned by its care workers",
        }
        data.update(overrides)
        return {k: v for k, v in data.items() if v is not None}

    return build
