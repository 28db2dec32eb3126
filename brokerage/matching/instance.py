"""Read and write matching instances and solutions (format 1, see shared/matching-instance.md).

Parsing accepts exactly what the format describes and rejects anything else with an
`InstanceError` whose one-line message names the record and the field, for example
``demand[d-0001].hours: must be an integer >= 0``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from operator import attrgetter

from brokerage.matching.errors import InstanceError
from brokerage.untrusted import has_lone_surrogate, shown, shown_value
from brokerage.matching.vocabulary import GENDERS, KINDS, LANGUAGE_CODES, SLOT_BIT

INSTANCE_FORMAT = "carepool-matching/1"
SOLUTION_FORMAT = "carepool-matching-solution/1"

# The solver works in 64-bit integers; these bounds keep every flow and cost sum far from
# overflow while sitting well above any real week of care (168 hours a person).
MAX_HOURS = 1_000_000
MAX_PENCE = 1_000_000

_SERVICE_RE = re.compile(r"[a-z][a-z0-9_]*\Z")

DEMAND_KEYS = ("id", "cluster", "service", "hours", "slots", "languages", "language_required",
               "carer_gender", "location", "max_rate_pence", "current_supplier")
SUPPLY_KEYS = ("id", "kind", "services", "capacity_hours", "slots", "languages", "genders",
               "location", "radius_km", "rate_pence", "living_wage", "ethical_care_charter",
               "vetted")


# Records are plain slotted dataclasses, not frozen ones: building a frozen dataclass costs five
# times as much, which shows at 120,000 lines. Treat them as read-only all the same.


@dataclass(slots=True)
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


@dataclass(slots=True)
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

    def in_id_order(self) -> Instance:
        """Return the instance with its lines and suppliers sorted by id (code-point order).

        The solver works on this, so every tie is broken by id and the same lines and suppliers
        give the same solution whatever order a file lists them in.
        """
        return Instance(demand=tuple(sorted(self.demand, key=attrgetter("id"))),
                        supply=tuple(sorted(self.supply, key=attrgetter("id"))))

    def to_dict(self) -> dict:
        """Return the instance as a JSON-ready dict in format 1."""
        return {
            "format": INSTANCE_FORMAT,
            "demand": [d.to_dict() for d in self.demand],
            "supply": [s.to_dict() for s in self.supply],
        }


@dataclass(slots=True)
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


@dataclass(slots=True)
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
    _top_keys(obj, ("format", "demand", "supply"))
    if obj["format"] != INSTANCE_FORMAT:
        raise InstanceError(f'format: must be "{INSTANCE_FORMAT}"', field="format")
    demand_raw, supply_raw = obj["demand"], obj["supply"]
    if type(demand_raw) is not list:
        raise InstanceError("demand: must be a list", field="demand")
    if type(supply_raw) is not list:
        raise InstanceError("supply: must be a list", field="supply")
    demand = tuple(_records("demand", demand_raw, _demand))
    _check_unique("demand", demand)
    supply = tuple(_records("supply", supply_raw, _supply))
    _check_unique("supply", supply)
    return Instance(demand=demand, supply=supply)


def parse_solution(obj: object) -> Solution:
    """Validate the shape of a decoded solution file and return it as a `Solution`."""
    keys = ("format", "assignments", "unmet", "covered_hours", "cost")
    if type(obj) is not dict:
        raise InstanceError("solution: must be a JSON object")
    _top_keys(obj, keys)
    if obj["format"] != SOLUTION_FORMAT:
        raise InstanceError(f'format: must be "{SOLUTION_FORMAT}"', field="format")
    if type(obj["assignments"]) is not list:
        raise InstanceError("assignments: must be a list", field="assignments")
    if type(obj["unmet"]) is not list:
        raise InstanceError("unmet: must be a list", field="unmet")
    assignments = tuple(_records("assignments", obj["assignments"], _assignment))
    unmet = tuple(_records("unmet", obj["unmet"], _unmet))
    covered = obj["covered_hours"]
    if type(covered) is not int:
        raise InstanceError("covered_hours: must be an integer", field="covered_hours")
    cost = obj["cost"]
    if type(cost) not in (int, float) or not math.isfinite(cost):
        raise InstanceError("cost: must be a finite number", field="cost")
    return Solution(assignments=assignments, unmet=unmet, covered_hours=covered, cost=cost)


# --- helpers -------------------------------------------------------------------------------


class _Bad(Exception):
    """A field is wrong; the caller adds which record it is in."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _records(kind: str, raw: list, parse) -> list:
    result = []
    for index, rec in enumerate(raw):
        try:
            if type(rec) is not dict:
                raise _Bad("", "must be an object")
            result.append(parse(rec))
        except _Bad as bad:
            label = _record_label(kind, index, rec)
            where = f"{label}.{bad.field}" if bad.field else label
            raise InstanceError(f"{where}: {bad.message}", field=bad.field or None) from None
    return result


def _record_label(kind: str, index: int, rec: object) -> str:
    return f"{kind}[{record_name(kind, index, rec)}]"


def record_name(kind: str, index: int, rec: object) -> str:
    """Name a record of list `kind` for a message: by its id (escaped and shortened), else `#index`."""
    # Name the record by its id when it has a usable one, since that is what a person can find.
    if type(rec) is dict:
        keys = ("demand", "supplier") if kind == "assignments" else (
            ("demand",) if kind == "unmet" else ("id",))
        ids = [rec.get(k) for k in keys]
        if all(type(x) is str and x for x in ids):
            return "->".join(shown(x) for x in ids)
    return f"#{index}"


def _top_keys(obj: dict, order: tuple) -> None:
    try:
        _keys(obj, order)
    except _Bad as bad:
        raise InstanceError(f"{bad.field}: {bad.message}", field=bad.field) from None


_KEYSETS: dict[tuple, frozenset] = {}


def _keys(obj: dict, order: tuple) -> None:
    keyset = _KEYSETS.get(order)
    if keyset is None:
        keyset = _KEYSETS[order] = frozenset(order)
    if obj.keys() == keyset:
        return
    for key in order:
        if key not in obj:
            raise _Bad(key, "missing")
    raise _Bad(shown(sorted(str(k) for k in obj if k not in order)[0]), "unknown field")


def _check_unique(kind: str, records: tuple) -> None:
    seen: set[str] = set()
    for rec in records:
        if rec.id in seen:
            raise InstanceError(f"{kind}[{shown(rec.id)}].id: duplicate id (ids must be unique)",
                                field="id")
        seen.add(rec.id)


def _text(field: str, value: object) -> str:
    if type(value) is not str or not value:
        raise _Bad(field, "must be a non-empty string")
    if has_lone_surrogate(value):
        raise _Bad(field, _NOT_UNICODE)
    return value


def _free_text(field: str, value: object) -> str:
    if type(value) is not str:
        raise _Bad(field, "must be a string")
    if has_lone_surrogate(value):
        raise _Bad(field, _NOT_UNICODE)
    return value


# A lone surrogate decodes from "\ud800" in JSON but cannot be written as UTF-8.
_NOT_UNICODE = "holds a lone surrogate, which is not a character (not valid Unicode)"


def _count(field: str, value: object, limit: int) -> int:
    if type(value) is not int or value < 0:
        raise _Bad(field, "must be an integer >= 0")
    if value > limit:
        raise _Bad(field, f"must be at most {limit} (the matcher's limit)")
    return value


def _boolean(field: str, value: object) -> bool:
    if type(value) is not bool:
        raise _Bad(field, "must be true or false")
    return value


def _service_token(value: object) -> bool:
    return type(value) is str and _SERVICE_RE.match(value) is not None


def _tokens(field: str, value: object, allowed, what: str) -> tuple[str, ...]:
    """Return a list of tokens as a tuple; `allowed` is a frozenset or a predicate."""
    if type(value) is list:
        try:
            fine = (allowed.issuperset(value) if isinstance(allowed, frozenset)
                    else all(allowed(item) for item in value))
        except TypeError:  # an unhashable item, such as a list or an object
            fine = False
        if fine:
            # Repeats carry no meaning in these set-like lists, so keep the first of each.
            return tuple(dict.fromkeys(value))
        for item in value:
            ok = type(item) is str and (item in allowed if isinstance(allowed, frozenset)
                                        else allowed(item))
            if not ok:
                raise _Bad(field, f"must be a list of {what}; {shown_value(item)} is not one")
    raise _Bad(field, f"must be a list of {what}")


_SLOT_SET = frozenset(SLOT_BIT)
_LAT_LON = frozenset(("lat", "lon"))
_GENDER_SET = frozenset(GENDERS)
_SLOTS_WHAT = "slots of the form <mon..sun>_<am|pm|eve>"
_LANGUAGES_WHAT = "ISO 639-1 codes (two lowercase letters)"


def _location(value: object) -> tuple[float, float]:
    if type(value) is not dict:
        raise _Bad("location", "must be an object with lat and lon")
    if value.keys() != _LAT_LON:
        try:
            _keys(value, ("lat", "lon"))
        except _Bad as bad:
            raise _Bad(f"location.{bad.field}", bad.message) from None
    lat, lon = value["lat"], value["lon"]
    # NaN fails both comparisons, so it is rejected with the out-of-range message.
    if type(lat) not in (int, float) or not -90.0 <= lat <= 90.0:
        raise _Bad("location.lat", "must be a number between -90 and 90")
    if type(lon) not in (int, float) or not -180.0 <= lon <= 180.0:
        raise _Bad("location.lon", "must be a number between -180 and 180")
    return float(lat), float(lon)


def _demand(rec: dict) -> Demand:
    _keys(rec, DEMAND_KEYS)
    rid = _text("id", rec["id"])
    cluster = _text("cluster", rec["cluster"])
    service = rec["service"]
    if not _service_token(service):
        raise _Bad("service", "must be a lowercase token such as home_care")
    hours = _count("hours", rec["hours"], MAX_HOURS)
    slots = _tokens("slots", rec["slots"], _SLOT_SET, _SLOTS_WHAT)
    languages = _tokens("languages", rec["languages"], LANGUAGE_CODES, _LANGUAGES_WHAT)
    language_required = _boolean("language_required", rec["language_required"])
    gender = rec["carer_gender"]
    if gender is not None and (type(gender) is not str or gender not in _GENDER_SET):
        raise _Bad("carer_gender", 'must be "female", "male" or null')
    lat, lon = _location(rec["location"])
    max_rate = _count("max_rate_pence", rec["max_rate_pence"], MAX_PENCE)
    current = rec["current_supplier"]
    if current is not None and (type(current) is not str or not current):
        raise _Bad("current_supplier", "must be a supplier id (non-empty string) or null")
    if current is not None:
        _text("current_supplier", current)
    return Demand(rid, cluster, service, hours, slots, languages, language_required, gender,
                  lat, lon, max_rate, current)


def _supply(rec: dict) -> Supply:
    _keys(rec, SUPPLY_KEYS)
    rid = _text("id", rec["id"])
    kind = rec["kind"]
    if type(kind) is not str or kind not in KINDS:
        raise _Bad("kind", "must be one of " + ", ".join(KINDS))
    services = _tokens("services", rec["services"], _service_token, "lowercase service tokens")
    capacity = _count("capacity_hours", rec["capacity_hours"], MAX_HOURS)
    slots = _tokens("slots", rec["slots"], _SLOT_SET, _SLOTS_WHAT)
    languages = _tokens("languages", rec["languages"], LANGUAGE_CODES, _LANGUAGES_WHAT)
    genders = _tokens("genders", rec["genders"], _GENDER_SET, 'genders ("female" or "male")')
    lat, lon = _location(rec["location"])
    radius = rec["radius_km"]
    if type(radius) not in (int, float) or not 0.0 < radius < math.inf:
        raise _Bad("radius_km", "must be a positive number")
    rate = _count("rate_pence", rec["rate_pence"], MAX_PENCE)
    living_wage = _boolean("living_wage", rec["living_wage"])
    ecc = _boolean("ethical_care_charter", rec["ethical_care_charter"])
    vetted = _boolean("vetted", rec["vetted"])
    return Supply(rid, kind, services, capacity, slots, languages, genders, lat, lon,
                  float(radius), rate, living_wage, ecc, vetted)


def _assignment(rec: dict) -> Assignment:
    _keys(rec, ("demand", "supplier", "hours", "explanation"))
    demand = _text("demand", rec["demand"])
    supplier = _text("supplier", rec["supplier"])
    if type(rec["hours"]) is not int:
        raise _Bad("hours", "must be an integer")
    explanation = _free_text("explanation", rec["explanation"])
    return Assignment(demand, supplier, rec["hours"], explanation)


def _unmet(rec: dict) -> Unmet:
    _keys(rec, ("demand", "hours", "reason"))
    demand = _text("demand", rec["demand"])
    if type(rec["hours"]) is not int:
        raise _Bad("hours", "must be an integer")
    reason = _free_text("reason", rec["reason"])
    return Unmet(demand, rec["hours"], reason)
