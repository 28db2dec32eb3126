"""Read and write matching instances and solutions (format 1, see shared/matching-instance.md).

Parsing accepts exactly what the format describes and rejects anything else with an
`InstanceError` whose one-line message names the record and the field, for example
``demand[d-0001].hours: must be an integer >= 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import attrgetter

from brokerage.matching.errors import InstanceError
from brokerage.matching.fields import (  # noqa: F401 (record_name is re-exported)
    GENDER_SET, LANGUAGES_WHAT, SLOT_SET, SLOTS_WHAT, Bad, boolean_field, check_keys, check_unique, count_field,
    free_text_field, location_field, read_records, record_name, service_token, text_field, token_list, top_keys,
)
from brokerage.matching.vocabulary import KINDS, LANGUAGE_CODES

INSTANCE_FORMAT = "carepool-matching/1"
SOLUTION_FORMAT = "carepool-matching-solution/1"
INSTANCE_FORMAT_2 = "carepool-matching/2"
SOLUTION_FORMAT_2 = "carepool-matching-solution/2"

# The solver works in 64-bit integers; these bounds keep every flow and cost sum far from
# overflow while sitting well above any real week of care (168 hours a person).
MAX_HOURS = 1_000_000
MAX_PENCE = 1_000_000

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
    # Format 2: hours needed in each slot (`hours` is their sum, `slots` those with hours), else None.
    slot_hours: dict[str, int] | None = None

    def to_dict(self) -> dict:
        """Return the line as it appears in an instance file (format 1; format2.demand_dict for 2)."""
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
    # Format 2: hours it can work in each slot, else None; `capped` is False when capacity_hours was
    # null (no weekly cap), and capacity_hours is then the sum of its slot hours.
    slot_hours: dict[str, int] | None = None
    capped: bool = True

    def to_dict(self) -> dict:
        """Return the supplier as it appears in an instance file (format 1; format2.supply_dict for 2)."""
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
    format: int = 1  # 2 for carepool-matching/2 (docs/matching-format-2.md): hours per slot

    def in_id_order(self) -> Instance:
        """Return the instance with its lines and suppliers sorted by id (code-point order).

        The solver works on this, so every tie is broken by id and the same lines and suppliers
        give the same solution whatever order a file lists them in.
        """
        return Instance(demand=tuple(sorted(self.demand, key=attrgetter("id"))),
                        supply=tuple(sorted(self.supply, key=attrgetter("id"))), format=self.format)

    def to_dict(self) -> dict:
        """Return the instance as a JSON-ready dict in its format."""
        if self.format == 2:
            from brokerage.matching.format2 import instance_dict  # it imports this module

            return instance_dict(self)
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
    slot_hours: dict[str, int] | None = None  # format 2: the hours in each slot, in slot order

    def to_dict(self) -> dict:
        """Return the assignment as it appears in a solution file."""
        slots = {} if self.slot_hours is None else {"slot_hours": self.slot_hours}
        return {"demand": self.demand, "supplier": self.supplier, "hours": self.hours, **slots, "explanation": self.explanation}


@dataclass(slots=True)
class Unmet:
    """Hours of one demand line left uncovered, with a reason a broker can act on."""

    demand: str
    hours: int
    reason: str
    slot_hours: dict[str, int] | None = None  # format 2: the hours left in each slot

    def to_dict(self) -> dict:
        """Return the entry as it appears in a solution file."""
        slots = {} if self.slot_hours is None else {"slot_hours": self.slot_hours}
        return {"demand": self.demand, "hours": self.hours, **slots, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Solution:
    """The matcher's answer: assignments, unmet hours, covered hours and cost."""

    assignments: tuple[Assignment, ...]
    unmet: tuple[Unmet, ...]
    covered_hours: int
    cost: float
    format: int = 1

    def to_dict(self) -> dict:
        """Return the solution as a JSON-ready dict in its format."""
        return {
            "format": SOLUTION_FORMAT if self.format == 1 else SOLUTION_FORMAT_2,
            "assignments": [a.to_dict() for a in self.assignments],
            "unmet": [u.to_dict() for u in self.unmet],
            "covered_hours": self.covered_hours,
            "cost": self.cost,
        }


def parse_instance(obj: object) -> Instance:
    """Validate a decoded instance file and return it as an `Instance`."""
    if type(obj) is not dict:
        raise InstanceError("instance: must be a JSON object")
    top_keys(obj, ("format", "demand", "supply"))
    if obj["format"] == INSTANCE_FORMAT_2:
        from brokerage.matching.format2 import parse_instance_2  # it imports this module

        return parse_instance_2(obj)
    if obj["format"] != INSTANCE_FORMAT:
        raise InstanceError(f'format: must be "{INSTANCE_FORMAT}" or "{INSTANCE_FORMAT_2}"', field="format")
    demand_raw, supply_raw = obj["demand"], obj["supply"]
    if type(demand_raw) is not list:
        raise InstanceError("demand: must be a list", field="demand")
    if type(supply_raw) is not list:
        raise InstanceError("supply: must be a list", field="supply")
    demand = tuple(read_records("demand", demand_raw, demand_record))
    check_unique("demand", demand)
    supply = tuple(read_records("supply", supply_raw, supply_record))
    check_unique("supply", supply)
    return Instance(demand=demand, supply=supply)


def parse_solution(obj: object) -> Solution:
    """Validate the shape of a decoded solution file and return it as a `Solution`."""
    keys = ("format", "assignments", "unmet", "covered_hours", "cost")
    if type(obj) is not dict:
        raise InstanceError("solution: must be a JSON object")
    top_keys(obj, keys)
    if obj["format"] == SOLUTION_FORMAT_2:
        from brokerage.matching.format2 import parse_solution_2  # it imports this module

        return parse_solution_2(obj)
    if obj["format"] != SOLUTION_FORMAT:
        raise InstanceError(f'format: must be "{SOLUTION_FORMAT}" or "{SOLUTION_FORMAT_2}"', field="format")
    if type(obj["assignments"]) is not list:
        raise InstanceError("assignments: must be a list", field="assignments")
    if type(obj["unmet"]) is not list:
        raise InstanceError("unmet: must be a list", field="unmet")
    assignments = tuple(read_records("assignments", obj["assignments"], _assignment))
    unmet = tuple(read_records("unmet", obj["unmet"], _unmet))
    covered = obj["covered_hours"]
    if type(covered) is not int:
        raise InstanceError("covered_hours: must be an integer", field="covered_hours")
    cost = obj["cost"]
    if type(cost) not in (int, float) or not math.isfinite(cost):
        raise InstanceError("cost: must be a finite number", field="cost")
    return Solution(assignments=assignments, unmet=unmet, covered_hours=covered, cost=cost)


def demand_record(rec: dict) -> Demand:
    """Return a format 1 demand record as a Demand; raises Bad naming the field."""
    check_keys(rec, DEMAND_KEYS)
    rid = text_field("id", rec["id"])
    cluster = text_field("cluster", rec["cluster"])
    service = rec["service"]
    if not service_token(service):
        raise Bad("service", "must be a lowercase token such as home_care")
    hours = count_field("hours", rec["hours"], MAX_HOURS)
    slots = token_list("slots", rec["slots"], SLOT_SET, SLOTS_WHAT)
    languages = token_list("languages", rec["languages"], LANGUAGE_CODES, LANGUAGES_WHAT)
    language_required = boolean_field("language_required", rec["language_required"])
    gender = rec["carer_gender"]
    if gender is not None and (type(gender) is not str or gender not in GENDER_SET):
        raise Bad("carer_gender", 'must be "female", "male" or null')
    lat, lon = location_field(rec["location"])
    max_rate = count_field("max_rate_pence", rec["max_rate_pence"], MAX_PENCE)
    current = rec["current_supplier"]
    if current is not None and (type(current) is not str or not current):
        raise Bad("current_supplier", "must be a supplier id (non-empty string) or null")
    if current is not None:
        text_field("current_supplier", current)
    return Demand(rid, cluster, service, hours, slots, languages, language_required, gender,
                  lat, lon, max_rate, current)


def supply_record(rec: dict) -> Supply:
    """Return a format 1 supply record as a Supply; raises Bad naming the field."""
    check_keys(rec, SUPPLY_KEYS)
    rid = text_field("id", rec["id"])
    kind = rec["kind"]
    if type(kind) is not str or kind not in KINDS:
        raise Bad("kind", "must be one of " + ", ".join(KINDS))
    services = token_list("services", rec["services"], service_token, "lowercase service tokens")
    capacity = count_field("capacity_hours", rec["capacity_hours"], MAX_HOURS)
    slots = token_list("slots", rec["slots"], SLOT_SET, SLOTS_WHAT)
    languages = token_list("languages", rec["languages"], LANGUAGE_CODES, LANGUAGES_WHAT)
    genders = token_list("genders", rec["genders"], GENDER_SET, 'genders ("female" or "male")')
    lat, lon = location_field(rec["location"])
    radius = rec["radius_km"]
    if type(radius) not in (int, float) or not 0.0 < radius < math.inf:
        raise Bad("radius_km", "must be a positive number")
    rate = count_field("rate_pence", rec["rate_pence"], MAX_PENCE)
    living_wage = boolean_field("living_wage", rec["living_wage"])
    ecc = boolean_field("ethical_care_charter", rec["ethical_care_charter"])
    vetted = boolean_field("vetted", rec["vetted"])
    return Supply(rid, kind, services, capacity, slots, languages, genders, lat, lon,
                  float(radius), rate, living_wage, ecc, vetted)


def _assignment(rec: dict) -> Assignment:
    check_keys(rec, ("demand", "supplier", "hours", "explanation"))
    demand = text_field("demand", rec["demand"])
    supplier = text_field("supplier", rec["supplier"])
    if type(rec["hours"]) is not int:
        raise Bad("hours", "must be an integer")
    explanation = free_text_field("explanation", rec["explanation"])
    return Assignment(demand, supplier, rec["hours"], explanation)


def _unmet(rec: dict) -> Unmet:
    check_keys(rec, ("demand", "hours", "reason"))
    demand = text_field("demand", rec["demand"])
    if type(rec["hours"]) is not int:
        raise Bad("hours", "must be an integer")
    reason = free_text_field("reason", rec["reason"])
    return Unmet(demand, rec["hours"], reason)
