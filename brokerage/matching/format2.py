"""Format 2 of the matching files: hours per time of day (docs/matching-format-2.md).

A format 2 record reads into the same `Demand` and `Supply` as format 1, with `slot_hours` set: a
line's `hours` are the sum of its slot hours and its `slots` the slots that have some, so every
format 1 rule (the seven hard constraints, rule 4 included) reads the same fields. A supplier whose
`capacity_hours` is null gets the sum of its slot hours as its capacity, with `capped` False.
"""

from __future__ import annotations

from brokerage.matching.errors import InstanceError
from brokerage.matching.fields import Bad, check_keys, check_unique, free_text_field, read_records, text_field
from brokerage.matching.instance import (
    DEMAND_KEYS, INSTANCE_FORMAT_2, MAX_HOURS, SUPPLY_KEYS, Assignment, Demand, Instance, Solution, Supply,
    Unmet, demand_record, supply_record, parse_solution,
)
from brokerage.matching.vocabulary import SLOT_BIT, SLOTS
from brokerage.untrusted import shown

DEMAND_KEYS_2 = tuple(k for k in DEMAND_KEYS if k not in ("hours", "slots")) + ("slot_hours",)
SUPPLY_KEYS_2 = tuple(k for k in SUPPLY_KEYS if k != "slots") + ("slot_hours",)
_SLOT_ORDER = {slot: i for i, slot in enumerate(SLOTS)}


def slot_hours_field(field: str, value: object, *, least: int = 0) -> dict[str, int]:
    """Return a `slot_hours` object with its slots in week order, leaving out slots with 0 hours.

    Raises Bad naming the field (and the slot) for anything but slot -> integer from `least` to
    MAX_HOURS, or a total over MAX_HOURS.
    """
    if type(value) is not dict:
        raise Bad(field, "must be an object of slot -> hours, such as {\"mon_am\": 3}")
    for slot, hours in value.items():
        if slot not in SLOT_BIT:
            raise Bad(field, f"{shown(str(slot))!r} is not a slot of the form <mon..sun>_<am|pm|eve>")
        if type(hours) is not int or not least <= hours <= MAX_HOURS:
            raise Bad(f"{field}.{slot}", f"must be an integer from {least} to {MAX_HOURS}")
    if sum(value.values()) > MAX_HOURS:
        raise Bad(field, f"the hours must add up to at most {MAX_HOURS} (the matcher's limit)")
    return {slot: value[slot] for slot in sorted(value, key=_SLOT_ORDER.__getitem__) if value[slot] > 0}


def _demand_2(rec: dict) -> Demand:
    check_keys(rec, DEMAND_KEYS_2)
    text_field("id", rec["id"])
    slot_hours = slot_hours_field("slot_hours", rec["slot_hours"])
    as_format_1 = {k: v for k, v in rec.items() if k != "slot_hours"} | {"hours": sum(slot_hours.values()), "slots": list(slot_hours)}
    line = demand_record({k: as_format_1[k] for k in DEMAND_KEYS})
    line.slot_hours = slot_hours
    return line


def _supply_2(rec: dict) -> Supply:
    check_keys(rec, SUPPLY_KEYS_2)
    text_field("id", rec["id"])
    slot_hours = slot_hours_field("slot_hours", rec["slot_hours"])
    capped = rec["capacity_hours"] is not None
    capacity = rec["capacity_hours"] if capped else sum(slot_hours.values())
    as_format_1 = {k: v for k, v in rec.items() if k != "slot_hours"} | {"capacity_hours": capacity, "slots": list(slot_hours)}
    supplier = supply_record({k: as_format_1[k] for k in SUPPLY_KEYS})
    supplier.slot_hours = slot_hours
    supplier.capped = capped
    return supplier


def parse_instance_2(obj: dict) -> Instance:
    """Validate a decoded format 2 instance (its top-level keys already checked) and return it."""
    demand_raw, supply_raw = obj["demand"], obj["supply"]
    if type(demand_raw) is not list:
        raise InstanceError("demand: must be a list", field="demand")
    if type(supply_raw) is not list:
        raise InstanceError("supply: must be a list", field="supply")
    demand = tuple(read_records("demand", demand_raw, _demand_2))
    check_unique("demand", demand)
    supply = tuple(read_records("supply", supply_raw, _supply_2))
    check_unique("supply", supply)
    return Instance(demand=demand, supply=supply, format=2)


def demand_dict(line: Demand) -> dict:
    """Return a format 2 line as it appears in an instance file."""
    record = line.to_dict()
    del record["hours"], record["slots"]
    return {"id": record.pop("id"), "cluster": record.pop("cluster"), "service": record.pop("service"),
            "slot_hours": dict(line.slot_hours or {}), **record}


def supply_dict(supplier: Supply) -> dict:
    """Return a format 2 supplier as it appears in an instance file."""
    record = supplier.to_dict()
    del record["slots"]
    record["capacity_hours"] = supplier.capacity_hours if supplier.capped else None
    head = {k: record.pop(k) for k in ("id", "kind", "services")}
    return {**head, "slot_hours": dict(supplier.slot_hours or {}), **record}


def instance_dict(instance: Instance) -> dict:
    """Return a format 2 instance as a JSON-ready dict."""
    return {
        "format": INSTANCE_FORMAT_2,
        "demand": [demand_dict(d) for d in instance.demand],
        "supply": [supply_dict(s) for s in instance.supply],
    }


def _assignment_2(rec: dict) -> Assignment:
    check_keys(rec, ("demand", "supplier", "hours", "slot_hours", "explanation"))
    demand = text_field("demand", rec["demand"])
    supplier = text_field("supplier", rec["supplier"])
    if type(rec["hours"]) is not int:
        raise Bad("hours", "must be an integer")
    slot_hours = slot_hours_field("slot_hours", rec["slot_hours"], least=1)
    explanation = free_text_field("explanation", rec["explanation"])
    return Assignment(demand, supplier, rec["hours"], explanation, slot_hours)


def _unmet_2(rec: dict) -> Unmet:
    check_keys(rec, ("demand", "hours", "slot_hours", "reason"))
    demand = text_field("demand", rec["demand"])
    if type(rec["hours"]) is not int:
        raise Bad("hours", "must be an integer")
    slot_hours = slot_hours_field("slot_hours", rec["slot_hours"], least=1)
    reason = free_text_field("reason", rec["reason"])
    return Unmet(demand, rec["hours"], reason, slot_hours)


def parse_solution_2(obj: dict) -> Solution:
    """Validate the shape of a decoded format 2 solution (its top-level keys already checked) and return it."""
    for name in ("assignments", "unmet"):
        if type(obj[name]) is not list:
            raise InstanceError(f"{name}: must be a list", field=name)
    assignments = tuple(read_records("assignments", obj["assignments"], _assignment_2))
    unmet = tuple(read_records("unmet", obj["unmet"], _unmet_2))
    # The figures are read as format 1 reads them.
    figures = parse_solution({**obj, "format": "carepool-matching-solution/1", "assignments": [], "unmet": []})
    return Solution(assignments=assignments, unmet=unmet, covered_hours=figures.covered_hours, cost=figures.cost, format=2)

