"""Pure rules of matching: distance, and whether a supplier can serve a demand line."""

from __future__ import annotations

import enum

from brokerage.formatting import pounds
from brokerage.geo import haversine_km
from brokerage.matching.errors import BadStatusMove
from brokerage.matching.instance import Demand, Supply
from brokerage.matching.vocabulary import language_name, service_name

# Distances within this of the radius count as inside it, so rounding never decides a match.
DISTANCE_TOLERANCE_KM = 1e-9


def distance_km(demand: Demand, supply: Supply) -> float:
    """Return the distance in km from a supplier's base to a demand line's address."""
    return haversine_km(supply.lat, supply.lon, demand.lat, demand.lon)


def within_reach(distance: float, radius_km: float) -> bool:
    """Tell whether a distance is inside a supplier's travel radius, with the tolerance."""
    return distance <= radius_km + DISTANCE_TOLERANCE_KM


def shared_languages(demand: Demand, supply: Supply) -> tuple[str, ...]:
    """Return the demand's languages the supplier also speaks, in the demand's order."""
    return tuple(code for code in demand.languages if code in supply.languages)


def can_serve(demand: Demand, supply: Supply) -> bool:
    """Tell whether the supplier meets every hard constraint for the demand line."""
    return (
        supply.vetted
        and demand.service in supply.services
        and supply.rate_pence <= demand.max_rate_pence
        and (demand.carer_gender is None or demand.carer_gender in supply.genders)
        and any(slot in supply.slots for slot in demand.slots)
        and (not demand.language_required or any(c in supply.languages for c in demand.languages))
        and within_reach(distance_km(demand, supply), supply.radius_km)
    )


def why_not(demand: Demand, supply: Supply) -> list[str]:
    """List in plain words each hard constraint the supplier fails for the demand line."""
    reasons = []
    if demand.service not in supply.services:
        reasons.append(f"does not offer {service_name(demand.service)}")
    if demand.language_required and not shared_languages(demand, supply):
        wanted = " or ".join(language_name(c) for c in demand.languages) or "the required language"
        reasons.append(f"does not speak {wanted}")
    if demand.carer_gender is not None and demand.carer_gender not in supply.genders:
        reasons.append(f"has no {demand.carer_gender} staff")
    if not any(slot in supply.slots for slot in demand.slots):
        reasons.append("is not available at any of the times needed")
    distance = distance_km(demand, supply)
    if not within_reach(distance, supply.radius_km):
        reasons.append(f"is {distance:.1f} km away, beyond its {supply.radius_km:g} km radius")
    if supply.rate_pence > demand.max_rate_pence:
        reasons.append(
            f"charges {pounds(supply.rate_pence)} an hour, more than the {pounds(demand.max_rate_pence)} the group will pay"
        )
    if not supply.vetted:
        reasons.append("is not vetted")
    return reasons


class RunStatus(str, enum.Enum):
    """Where a matching run is. A run is stored once solved and never changes afterwards."""

    finished = "finished"


class AssignmentStatus(str, enum.Enum):
    """Where a proposed piece of care is: proposed -> sent (to the group's vote) -> accepted or rejected."""

    proposed = "proposed"
    sent = "sent"
    accepted = "accepted"
    rejected = "rejected"


class DemandLineStatus(str, enum.Enum):
    """Whether a demand line still wants care or has been contracted."""

    open = "open"
    contracted = "contracted"


RUN_MOVES: dict[str, set[str]] = {"finished": set()}

ASSIGNMENT_MOVES: dict[str, set[str]] = {
    "proposed": {"sent"},
    "sent": {"accepted", "rejected"},
    "accepted": set(),
    "rejected": set(),
}

DEMAND_LINE_MOVES: dict[str, set[str]] = {"open": {"contracted"}, "contracted": set()}


def _move(moves: dict[str, set[str]], what: str, current: str | enum.Enum, target: str | enum.Enum) -> str:
    current, target = getattr(current, "value", current), getattr(target, "value", target)
    if target not in moves.get(current, set()):
        raise BadStatusMove(f"A {what} that is {current} cannot become {target}.")
    return target


def move_run(current: str | enum.Enum, target: str | enum.Enum) -> RunStatus:
    """Return the new matching run status, or raise BadStatusMove (a finished run never moves)."""
    return RunStatus(_move(RUN_MOVES, "matching run", current, target))


def move_assignment(current: str | enum.Enum, target: str | enum.Enum) -> AssignmentStatus:
    """Return the new assignment status, or raise BadStatusMove."""
    return AssignmentStatus(_move(ASSIGNMENT_MOVES, "match assignment", current, target))


def move_demand_line(current: str | enum.Enum, target: str | enum.Enum) -> DemandLineStatus:
    """Return the new demand line status, or raise BadStatusMove."""
    return DemandLineStatus(_move(DEMAND_LINE_MOVES, "demand line", current, target))
