"""Hypothesis strategies for small random matching instances."""

from __future__ import annotations

from hypothesis import strategies as st

SERVICES = ("home_care", "respite", "domestic")
SLOTS = ("mon_am", "mon_pm", "tue_am", "sun_eve")
LANGUAGES = ("en", "so", "pl")
KINDS = ("pa", "micro_provider", "coop", "cic", "charity", "private")


def _place():
    # A box of about 11 km by 7 km, so radii of 0.5 to 8 km give a mix of in and out of reach.
    return st.fixed_dictionaries({
        "lat": st.floats(52.0, 52.1, allow_nan=False),
        "lon": st.floats(-1.05, -0.95, allow_nan=False),
    })


def _subset(items, min_size=0):
    return st.lists(st.sampled_from(items), min_size=min_size, max_size=len(items), unique=True)


@st.composite
def instances(draw, max_demand: int = 8, max_supply: int = 6) -> dict:
    """Draw a valid instance document with a few lines and suppliers."""
    n_supply = draw(st.integers(0, max_supply))
    supply_ids = [f"s-{i}" for i in range(n_supply)]
    supply = [
        {
            "id": sid,
            "kind": draw(st.sampled_from(KINDS)),
            "services": draw(_subset(SERVICES, 1)),
            "capacity_hours": draw(st.integers(0, 25)),
            "slots": draw(_subset(SLOTS, 1)),
            "languages": draw(_subset(LANGUAGES)),
            "genders": draw(_subset(("female", "male"), 1)),
            "location": draw(_place()),
            "radius_km": draw(st.floats(0.5, 8.0)),
            "rate_pence": draw(st.integers(1800, 2600)),
            "living_wage": draw(st.booleans()),
            "ethical_care_charter": draw(st.booleans()),
            "vetted": draw(st.booleans() | st.just(True)),
        }
        for sid in supply_ids
    ]
    n_demand = draw(st.integers(0, max_demand))
    demand = []
    for i in range(n_demand):
        languages = draw(_subset(LANGUAGES))
        demand.append({
            "id": f"d-{i}",
            "cluster": f"k-{draw(st.integers(0, 2))}",
            "service": draw(st.sampled_from(SERVICES)),
            "hours": draw(st.integers(0, 30)),
            "slots": draw(_subset(SLOTS, 1)),
            "languages": languages,
            "language_required": draw(st.booleans()),
            "carer_gender": draw(st.sampled_from((None, "female", "male"))),
            "location": draw(_place()),
            "max_rate_pence": draw(st.integers(2000, 2800)),
            "current_supplier": draw(st.none() | st.sampled_from(supply_ids + ["s-gone"])),
        })
    return {"format": "carepool-matching/1", "demand": demand, "supply": supply}
