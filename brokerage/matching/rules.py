"""Pure rules of matching: distance, and whether a supplier can serve a demand line."""

from __future__ import annotations

import enum

from brokerage.formatting import HOURLY_RATE_TOO_HIGH, HOURLY_RATE_TOO_LOW, plural, pounds, slot_hours_words, times_words, words_list
from brokerage.geo import haversine_km
from brokerage.matching.errors import BadStatusMove
from brokerage.matching.instance import Demand, Supply
from brokerage.matching.vocabulary import SERVICES, SLOTS, language_name, service_name, times_phrase
from brokerage.slot_hours import people_slot_limit as demand_slot_limit, slot_hours_problems, spread_hours
from brokerage.vocabulary import HOURLY_RATE_MAX_PENCE, NATIONAL_LIVING_WAGE_PENCE

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
    """Whether a demand line still wants care, has been contracted, or was withdrawn (it then leaves matching, kept for the record)."""

    open = "open"
    contracted = "contracted"
    withdrawn = "withdrawn"


class DemandLineChangeKind(str, enum.Enum):
    """What a broker did to a demand line."""

    edited = "edited"
    withdrawn = "withdrawn"


RUN_MOVES: dict[str, set[str]] = {"finished": set()}

ASSIGNMENT_MOVES: dict[str, set[str]] = {
    "proposed": {"sent"},
    "sent": {"accepted", "rejected"},
    "accepted": set(),
    "rejected": set(),
}

DEMAND_LINE_MOVES: dict[str, set[str]] = {"open": {"contracted", "withdrawn"}, "contracted": set(), "withdrawn": set()}


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


# What a broker may change on a demand line, in the order the edit page lists them (its times are kept as hours per
# time of day; an edit recorded before they were kept says "slots").
DEMAND_LINE_FIELDS = ("service", "hours", "slot_hours", "languages", "language_required", "carer_gender", "max_rate_pence", "shares")
# The most hours a week one demand line may ask for.
DEMAND_HOURS_MAX = 168
# How long a council's matching runs may improve their first answer, in seconds of the solver's work budget (0 to 600, council.match_time_limit_s's check).
MATCH_TIME_LIMIT_MAX = 600


def demand_line_changes(before: dict, after: dict) -> dict[str, list]:
    """Return each field of a demand line that an edit changes, as {field: [old, new]} (empty when nothing changes)."""
    return {name: [before.get(name), after.get(name)] for name in DEMAND_LINE_FIELDS if before.get(name) != after.get(name)}


def edit_problems(changes: dict[str, list], *, committed: int, contracted: int, committed_slots: dict[str, int] | None = None) -> dict[str, str]:
    """Return {field: problem} for an edit of a line with `committed` hours contracted or out to a vote (`contracted` of them contracted).

    Once some of its care is agreed or voted on, the service and the members it is for stay as they were
    (a contract and a vote are about exactly that care), the hours cannot drop below what is agreed, and
    neither can the hours at any time of day that agreed care covers (`committed_slots`, where its times are
    known): moving the request to other times would leave the contract or the vote about care it no longer asks for.
    """
    problems = {}
    if committed:
        what = "arranged" if committed == contracted else "arranged or out to the group's vote"
        if "service" in changes:
            problems["service"] = "Some of this care is already arranged or out to the group's vote, so the service cannot change. Withdraw this request and add a new one instead"
        if "shares" in changes:
            problems["served"] = "Some of this care is already arranged or out to the group's vote, so whom it is for cannot change. Withdraw this request and add a new one instead"
        if "hours" in changes and changes["hours"][1] < committed:
            problems["slot_hours"] = f"{committed} hours a week are already {what}; ask for at least {committed}"
        elif "slot_hours" in changes and committed_slots:
            asked = changes["slot_hours"][1] or {}
            short = {slot: hours for slot, hours in committed_slots.items() if asked.get(slot, 0) < hours}
            if short:
                problems["slot_hours"] = (f"Care at these times is already {what}: {slot_hours_words(short)}. Ask for at least "
                                          "those hours at those times, or withdraw this request and add a new one")
    return problems


def hours_taken_out(gap_hours: int, gap_slot_hours: dict[str, int] | None, parts: list[tuple[int, int, dict | None, dict | None]]) -> tuple[int, dict[str, int] | None]:
    """Return how many of a line's gap hours a broker took out of its proposed parts, and at what times (None when not known).

    `parts` are each part's (solver's hours, hours now, solver's times, times now). Where the times are known,
    what was taken out at each time is the solver's hours there less the parts' hours there now, at most the
    gap there, so hours a broker added at another time do not hide them. Otherwise it is the solver's hours
    less the hours now, at most the gap (hours added to another part count against them).
    """
    if gap_slot_hours is None or any(solver is None or now is None for _, _, solver, now in parts):
        return min(gap_hours, max(0, sum(solver - now for solver, now, _, _ in parts))), None
    removed = {slot: 0 for slot in SLOTS}
    for _, _, solver, now in parts:
        for slot in SLOTS:
            removed[slot] += solver.get(slot, 0) - now.get(slot, 0)
    times = {slot: min(gap_slot_hours.get(slot, 0), hours) for slot, hours in removed.items() if hours > 0 and gap_slot_hours.get(slot, 0) > 0}
    # Never more than the gap itself: the latest times go first.
    kept, left = {}, max(gap_hours, 0)
    for slot, hours in times.items():
        kept[slot] = min(hours, left)
        left -= kept[slot]
    kept = {slot: hours for slot, hours in kept.items() if hours > 0}
    return sum(kept.values()), kept


def asked_slot_hours(*, slot_hours: dict | None, hours=None, slots=None) -> dict:
    """Return the hours asked for in each time of day: as given, or weekly hours spread evenly over the times given."""
    if slot_hours is not None:
        return dict(slot_hours)
    if isinstance(hours, bool) or not isinstance(hours, int) or not slots or any(s not in SLOTS for s in slots):
        return {}
    return spread_hours(hours, slots)


def demand_problems(*, service: str, languages, language_required: bool, carer_gender: str | None, max_rate_pence, served, members,
                    slot_hours: dict | None = None, hours=None, slots=None, kept: dict | None = None) -> dict[str, str]:
    """Return {field: problem} for what a group asks for; empty when it may be saved (added or edited).

    The times are hours per time of day (`slot_hours`), or else weekly `hours` and the `slots` they are spread over.
    Each time of day asks at most `demand_slot_limit` of the members served, or what `kept` ({slot: hours}, the
    line's hours before an edit) already records there.
    """
    problems = {}
    if service not in SERVICES:
        problems["service"] = "Choose a service"
    served_ok = bool(served) and all(h in members for h in served)
    most, why = demand_slot_limit(len(set(served)) if served_ok else None)
    if slot_hours is not None:
        problem = slot_hours_problems(slot_hours, most=most, total_most=DEMAND_HOURS_MAX, kept=kept, why=why)
        if problem:
            problems["slot_hours"] = problem
    else:
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= DEMAND_HOURS_MAX:
            problems["hours"] = f"Enter between 1 and {DEMAND_HOURS_MAX} hours"
        elif slots and all(s in SLOTS for s in slots) and hours > most * len(set(slots)):
            problems["hours"] = f"Enter at most {plural(most * len(set(slots)), 'hour')} for {plural(len(set(slots)), 'time')} of day{why}"
        if not slots or any(s not in SLOTS for s in slots):
            problems["slots"] = "Choose at least one time"
    if not served_ok:
        problems["served"] = "Choose the members this care is for"
    if language_required and not languages:
        problems["languages"] = "Choose the languages the carer must speak"
    if carer_gender not in (None, "female", "male"):
        problems["carer_gender"] = "Choose a woman, a man or no preference"
    if isinstance(max_rate_pence, bool) or not isinstance(max_rate_pence, int):
        problems["max_rate"] = "Enter the most the group will pay an hour"
    elif max_rate_pence < NATIONAL_LIVING_WAGE_PENCE:
        problems["max_rate"] = HOURLY_RATE_TOO_LOW
    elif max_rate_pence > HOURLY_RATE_MAX_PENCE:
        problems["max_rate"] = HOURLY_RATE_TOO_HIGH
    return problems


def _field_words(name: str, value) -> str:
    if name == "service":
        return service_name(value)
    if name == "hours":
        return f"{plural(value, 'hour')} a week"
    if name == "slots":
        said = times_words(value)
        return said[:1].lower() + said[1:]
    if name == "slot_hours":
        return slot_hours_words(value)
    if name == "languages":
        return words_list((language_name(code) for code in value), "or") or "none"
    if name == "language_required":
        return "must speak it" if value else "need not speak it"
    if name == "carer_gender":
        return {"female": "a woman", "male": "a man"}.get(value, "no preference")
    if name == "max_rate_pence":
        return f"{pounds(value)} an hour"
    if name == "shares":
        return plural(len(value), "member")
    return str(value)


CHANGE_NAMES = {"service": "service", "hours": "hours", "slots": "times", "slot_hours": "times", "languages": "languages", "language_required": "the carer's language",
                "carer_gender": "carer", "max_rate_pence": "most the group will pay", "shares": "whom it is for"}


def change_words(changes: dict[str, list]) -> str:
    """Say what an edit of a demand line changed, e.g. "hours from 14 hours a week to 12 hours a week"."""
    return "; ".join(
        f"{CHANGE_NAMES.get(name, name)} from {_field_words(name, old)} to {_field_words(name, new)}"
        for name, (old, new) in changes.items()
    ) or "nothing"


def whose_care_words(care: list[tuple[str, str, dict[str, int]]], *, most: int = 3) -> str:
    """Say whose care it is, what and when: "home care for Riverside Somali group on Monday mornings (3 hours)".

    The group comes after "for", not as a possessive, which a plural name gets wrong ("Bow carers's").

    `care` is (group, service, hours at each time) for each; past `most` of them, the rest are said together
    ("… and other care of 2 groups (5 hours)").
    """
    def words(group: str, service: str, slot_hours: dict[str, int]) -> str:
        return f"{service_name(service)} for {group} on {times_phrase(slot_hours)} ({plural(sum(slot_hours.values()), 'hour')})"

    if len(care) <= most:
        return words_list(words(*item) for item in care)
    shown, rest = care[:most - 1], care[most - 1:]
    hours = sum(sum(slot_hours.values()) for _, _, slot_hours in rest)
    return words_list([*(words(*item) for item in shown), f"other care of {plural(len({group for group, _, _ in rest}), 'group')} ({plural(hours, 'hour')})"])
