"""Read and write matching instances and solutions (format 1, see shared/matching-instance.md).

Parsing accepts exactly what the format describes and rejects anything else with an
`InstanceError` whose one-line message names the record and the field, for example
``demand[d-0001].hours: must be an integer >= 0``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from brokerage.matching.errors import InstanceError
from brokerage.matching.vocabulary import GENDERS, KINDS, LANGUAGE_CODES, SLOT_BIT

INSTANCE_FORMAT = "carepool-matching/1"
SOLUTION_FORMAT = "carepool-matching-solution/1"

# The solver works in 64-bit integers; these bounds keep every flow and cost sum far from
# overflow while sitting well above any real week of care (168 hours a person).
MAX_HOURS = 1_000_000
MAX_PENCE = 100_000_000

_SERVICE_RE = re.compile(r"[a-z][a-z0-9_]*\Z")

DEMAND_KEYS = (
    "id",
    "cluster",
    "service",
    "hours",
    "slots",
    "languages",
    "language_required",
    "carer_gender",
    "location",
    "max_rate_pence",
    "current_supplier",
)
SUPPLY_KEYS = (
    "id",
    "kind",
    "services",
    "capacity_hours",
    "slots",
    "languages",
    "genders",
    "location",
    "radius_km",
    "rate_pence",
    "living_wage",
    "ethical_care_charter",
    "vetted",
)
_DEMAND_KEYSET = frozenset(DEMAND_KEYS)
_SUPPLY_KEYSET = frozenset(SUPPLY_KEYS)


@dataclass(frozen=True, slots=True)
class Demand:
    """One person's weekly need for one service."""

    id: str
    cluster: str
    service: str
    hours: int
    slots: tuple[str, ...]
    languages: tuple[str, ...]
    language_required: bool
    carer_gender: str | None
    lat: float
    lon: float
    max_rate_pence: int
    current_supplier: str | None

    def to_dict(self) -> dict:
        """Return the line as it appears in an instance file."""
        return {
            "id": self.id,
            "cluster": self.cluster,
            "service": self.service,
            "hours": self.hours,
            "slots": list(self.slots),
            "languages": list(self.languages),
            "language_required": self.language_required,
            "carer_gender": self.carer_gender,
            "location": {"lat": self.lat, "lon": self.lon},
            "max_rate_pence": self.max_rate_pence,
            "current_supplier": self.current_supplier,
        }


@dataclass(frozen=True, slots=True)
class Supply:
    """One supplier's offer of weekly hours."""

    id: str
    kind: str
    services: tuple[str, ...]
    capacity_hours: int
    slots: tuple[str, ...]
    languages: tuple[str, ...]
    genders: tuple[str, ...]
    lat: float
    lon: float
    radius_km: float
    rate_pence: int
    living_wage: bool
    ethical_care_charter: bool
    vetted: bool

    def to_dict(self) -> dict:
        """Return the supplier as it appears in an instance file."""
        return {
            "id": self.id,
            "kind": self.kind,
            "services": list(self.services),
            "capacity_hours": self.capacity_hours,
            "slots": list(self.slots),
            "languages": list(self.languages),
            "genders": list(self.genders),
            "location": {"lat": self.lat, "lon": self.lon},
            "radius_km": self.radius_km,
            "rate_pence": self.rate_pence,
            "living_wage": self.living_wage,
            "ethical_care_charter": self.ethical_care_charter,
            "vetted": self.vetted,
        }


@dataclass(frozen=True, slots=True)
class Instance:
    """Demand lines and suppliers to be matched."""

    demand: tuple[Demand, ...]
    supply: tuple[Supply, ...]

    def to_dict(self) -> dict:
        """Return the instance as a JSON-ready dict in format 1."""
        return {
            "format": INSTANCE_FORMAT,
            "demand": [d.to_dict() for d in self.demand],
            "supply": [s.to_dict() for s in self.supply],
        }


@dataclass(frozen=True, slots=True)
class Assignment:
    """Hours of one demand line given to one supplier, with the reason in plain words."""

    demand: str
    supplier: str
    hours: int
    explanation: str

    def to_dict(self) -> dict:
        """Return the assignment as it appears in a solution file."""
        return {
            "demand": self.demand,
            "supplier": self.supplier,
            "hours": self.hours,
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class Unmet:
    """Hours of one demand line left uncovered, with a reason a broker can act on."""

    demand: str
    hours: int
    reason: str

    def to_dict(self) -> dict:
        """Return the entry as it appears in a solution file."""
        return {"demand": self.demand, "hours": self.hours, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Solution:
    """The matcher's answer: assignments, unmet hours, covered hours and cost."""

    assignments: tuple[Assignment, ...]
    unmet: tuple[Unmet, ...]
    covered_hours: int
    cost: float

    def to_dict(self) -> dict:
        """Return the solution as a JSON-ready dict in format 1."""
        return {
            "format": SOLUTION_FORMAT,
            "assignments": [a.to_dict() for a in self.assignments],
            "unmet": [u.to_dict() for u in self.unmet],
            "covered_hours": self.covered_hours,
            "cost": self.cost,
        }


def parse_instance(obj: object) -> Instance:
    """Validate a decoded instance file and return it as an `Instance`."""
    if type(obj) is not dict:
        raise InstanceError("instance: must be a JSON object")
    _check_keys(obj, "", frozenset(("format", "demand", "supply")), ("format", "demand", "supply"))
    if obj["format"] != INSTANCE_FORMAT:
        raise InstanceError(f'format: must be "{INSTANCE_FORMAT}"', field="format")
    demand_raw, supply_raw = obj["demand"], obj["supply"]
    if type(demand_raw) is not list:
        raise InstanceError("demand: must be a list", field="demand")
    if type(supply_raw) is not list:
        raise InstanceError("supply: must be a list", field="supply")
    demand = tuple(_parse_demand(i, rec) for i, rec in enumerate(demand_raw))
    _check_unique("demand", demand)
    supply = tuple(_parse_supply(i, rec) for i, rec in enumerate(supply_raw))
    _check_unique("supply", supply)
    return Instance(demand=demand, supply=supply)


def parse_solution(obj: object) -> Solution:
    """Validate the shape of a decoded solution file and return it as a `Solution`."""
    keys = ("format", "assignments", "unmet", "covered_hours", "cost")
    if type(obj) is not dict:
        raise InstanceError("solution: must be a JSON object")
    _check_keys(obj, "", frozenset(keys), keys)
    if obj["format"] != SOLUTION_FORMAT:
        raise InstanceError(f'format: must be "{SOLUTION_FORMAT}"', field="format")
    if type(obj["assignments"]) is not list:
        raise InstanceError("assignments: must be a list", field="assignments")
    if type(obj["unmet"]) is not list:
        raise InstanceError("unmet: must be a list", field="unmet")
    assignments = tuple(_parse_assignment(i, rec) for i, rec in enumerate(obj["assignments"]))
    unmet = tuple(_parse_unmet(i, rec) for i, rec in enumerate(obj["unmet"]))
    covered = obj["covered_hours"]
    if type(covered) is not int:
        raise InstanceError("covered_hours: must be an integer", field="covered_hours")
    cost = obj["cost"]
    if type(cost) not in (int, float) or not math.isfinite(cost):
        raise InstanceError("cost: must be a finite number", field="cost")
    return Solution(assignments=assignments, unmet=unmet, covered_hours=covered, cost=cost)


# --- helpers -------------------------------------------------------------------------------


def _fail(where: str, field: str, message: str) -> InstanceError:
    return InstanceError(f"{where}.{field}: {message}", field=field)


def _record_label(kind: str, index: int, rec: object) -> str:
    # Name the record by its id when it has a usable one, since that is what a person can find.
    if type(rec) is dict:
        rid = rec.get("id")
        if type(rid) is str and rid:
            return f"{kind}[{rid}]"
    return f"{kind}[#{index}]"


def _check_keys(obj: object, prefix: str, allowed: frozenset, order: tuple) -> None:
    if obj.keys() == allowed:
        return
    for key in order:
        if key not in obj:
            raise InstanceError(f"{prefix}{key}: missing", field=key)
    extra = sorted(str(k) for k in obj if k not in allowed)[0]
    raise InstanceError(f"{prefix}{extra}: unknown field", field=extra)


def _check_unique(kind: str, records: tuple) -> None:
    seen: set[str] = set()
    for rec in records:
        if rec.id in seen:
            raise InstanceError(f"{kind}[{rec.id}].id: duplicate id (ids must be unique)", field="id")
        seen.add(rec.id)


def _nonempty_str(where: str, field: str, value: object) -> str:
    if type(value) is not str or not value:
        raise _fail(where, field, "must be a non-empty string")
    return value


def _count(where: str, field: str, value: object, limit: int) -> int:
    if type(value) is not int or value < 0:
        raise _fail(where, field, "must be an integer >= 0")
    if value > limit:
        raise _fail(where, field, f"must be at most {limit} (the matcher's limit)")
    return value


def _boolean(where: str, field: str, value: object) -> bool:
    if type(value) is not bool:
        raise _fail(where, field, "must be true or false")
    return value


def _token_list(where: str, field: str, value: object, valid, what: str) -> tuple[str, ...]:
    if type(value) is not list:
        raise _fail(where, field, f"must be a list of {what}")
    for item in value:
        if type(item) is not str or not valid(item):
            raise _fail(where, field, f"must be a list of {what}; {item!r} is not one")
    # Repeats carry no meaning in these set-like lists, so keep the first of each.
    return tuple(dict.fromkeys(value)) if len(set(value)) != len(value) else tuple(value)


def _slots(where: str, value: object) -> tuple[str, ...]:
    return _token_list(where, "slots", value, SLOT_BIT.__contains__,
                       "slots of the form <mon..sun>_<am|pm|eve>")


def _languages(where: str, value: object) -> tuple[str, ...]:
    return _token_list(where, "languages", value, LANGUAGE_CODES.__contains__,
                       "ISO 639-1 codes (two lowercase letters)")


def _location(where: str, value: object) -> tuple[float, float]:
    if type(value) is not dict:
        raise _fail(where, "location", "must be an object with lat and lon")
    if value.keys() != {"lat", "lon"}:
        for key in ("lat", "lon"):
            if key not in value:
                raise _fail(where, f"location.{key}", "missing")
        extra = sorted(k for k in value if k not in ("lat", "lon"))[0]
        raise _fail(where, f"location.{extra}", "unknown field")
    lat, lon = value["lat"], value["lon"]
    if type(lat) not in (int, float) or not -90.0 <= lat <= 90.0:
        raise _fail(where, "location.lat", "must be a number between -90 and 90")
    if type(lon) not in (int, float) or not -180.0 <= lon <= 180.0:
        raise _fail(where, "location.lon", "must be a number between -180 and 180")
    return float(lat), float(lon)


def _parse_demand(index: int, rec: object) -> Demand:
    where = _record_label("demand", index, rec)
    if type(rec) is not dict:
        raise InstanceError(f"{where}: must be an object")
    _check_keys(rec, where + ".", _DEMAND_KEYSET, DEMAND_KEYS)
    _nonempty_str(where, "id", rec["id"])
    cluster = _nonempty_str(where, "cluster", rec["cluster"])
    service = rec["service"]
    if type(service) is not str or not _SERVICE_RE.match(service):
        raise _fail(where, "service", "must be a lowercase token such as home_care")
    hours = _count(where, "hours", rec["hours"], MAX_HOURS)
    slots = _slots(where, rec["slots"])
    languages = _languages(where, rec["languages"])
    language_required = _boolean(where, "language_required", rec["language_required"])
    gender = rec["carer_gender"]
    if gender is not None and (type(gender) is not str or gender not in GENDERS):
        raise _fail(where, "carer_gender", 'must be "female", "male" or null')
    lat, lon = _location(where, rec["location"])
    max_rate = _count(where, "max_rate_pence", rec["max_rate_pence"], MAX_PENCE)
    current = rec["current_supplier"]
    if current is not None and (type(current) is not str or not current):
        raise _fail(where, "current_supplier", "must be a supplier id (non-empty string) or null")
    return Demand(rec["id"], cluster, service, hours, slots, languages, language_required,
                  gender, lat, lon, max_rate, current)


def _parse_supply(index: int, rec: object) -> Supply:
    where = _record_label("supply", index, rec)
    if type(rec) is not dict:
        raise InstanceError(f"{where}: must be an object")
    _check_keys(rec, where + ".", _SUPPLY_KEYSET, SUPPLY_KEYS)
    _nonempty_str(where, "id", rec["id"])
    kind = rec["kind"]
    if type(kind) is not str or kind not in KINDS:
        raise _fail(where, "kind", "must be one of " + ", ".join(KINDS))
    services = _token_list(where, "services", rec["services"],
                           lambda s: _SERVICE_RE.match(s) is not None, "lowercase service tokens")
    capacity = _count(where, "capacity_hours", rec["capacity_hours"], MAX_HOURS)
    slots = _slots(where, rec["slots"])
    languages = _languages(where, rec["languages"])
    genders = _token_list(where, "genders", rec["genders"], GENDERS.__contains__,
                          'genders ("female" or "male")')
    lat, lon = _location(where, rec["location"])
    radius = rec["radius_km"]
    if type(radius) not in (int, float) or not 0.0 < radius < math.inf:
        raise _fail(where, "radius_km", "must be a positive number")
    rate = _count(where, "rate_pence", rec["rate_pence"], MAX_PENCE)
    living_wage = _boolean(where, "living_wage", rec["living_wage"])
    ecc = _boolean(where, "ethical_care_charter", rec["ethical_care_charter"])
    vetted = _boolean(where, "vetted", rec["vetted"])
    return Supply(rec["id"], kind, services, capacity, slots, languages, genders, lat, lon,
                  float(radius), rate, living_wage, ecc, vetted)


def _assignment_label(index: int, rec: object) -> str:
    if type(rec) is dict and type(rec.get("demand")) is str and type(rec.get("supplier")) is str:
        return f"assignments[{rec['demand']}->{rec['supplier']}]"
    return f"assignments[#{index}]"


def _parse_assignment(index: int, rec: object) -> Assignment:
    where = _assignment_label(index, rec)
    keys = ("demand", "supplier", "hours", "explanation")
    if type(rec) is not dict:
        raise InstanceError(f"{where}: must be an object")
    _check_keys(rec, where + ".", frozenset(keys), keys)
    demand = _nonempty_str(where, "demand", rec["demand"])
    supplier = _nonempty_str(where, "supplier", rec["supplier"])
    if type(rec["hours"]) is not int:
        raise _fail(where, "hours", "must be an integer")
    if type(rec["explanation"]) is not str:
        raise _fail(where, "explanation", "must be a string")
    return Assignment(demand, supplier, rec["hours"], rec["explanation"])


def _parse_unmet(index: int, rec: object) -> Unmet:
    where = (f"unmet[{rec['demand']}]" if type(rec) is dict and type(rec.get("demand")) is str
             and rec["demand"] else f"unmet[#{index}]")
    keys = ("demand", "hours", "reason")
    if type(rec) is not dict:
        raise InstanceError(f"{where}: must be an object")
    _check_keys(rec, where + ".", frozenset(keys), keys)
    demand = _nonempty_str(where, "demand", rec["demand"])
    if type(rec["hours"]) is not int:
        raise _fail(where, "hours", "must be an integer")
    if type(rec["reason"]) is not str:
        raise _fail(where, "reason", "must be a string")
    return Unmet(demand, rec["hours"], rec["reason"])
