"""Check a solution against every rule for a valid solution in the matching format.

Format 2 (hours per time of day, docs/matching-format-2.md) is checked by `check_slots.py`, on the
pair test and pair search here.

The check shares no code with the solver's search for pairs (`pairs.py`, `rules.py`, `geo.py`) or
with its flow solver (OR-Tools): each assigned pair is tested here against the seven hard
constraints exactly as `shared/matching-instance.md` states them, with its own haversine, and the
maximum is a SciPy maximum flow over pairs found here by a plain search. One bug in the solver's
pair-finding therefore cannot pass both the solve and the check.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from brokerage.matching.errors import InstanceError
from brokerage.matching.instance import Demand, Instance, Solution, Supply
from brokerage.untrusted import shown

# The format's numbers, written here again on purpose rather than imported from the solver's side.
SPEC_EARTH_RADIUS_KM = 6371.0088
SPEC_TOLERANCE_KM = 1e-9
# Pairs whose vectorised distance is this close to the limit are re-measured with the scalar
# formula, so the check decides every pair exactly as `spec_distance_km` would.
_RECHECK_KM = 1e-6


@dataclass(frozen=True)
class CheckReport:
    """What a check found: the hours covered, the most that could be, and every problem."""

    covered_hours: int
    max_hours: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Tell whether the solution broke no rule."""
        return not self.problems


def spec_distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the haversine distance in km with the format's Earth radius of 6371.0088 km."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlam = (math.radians(lon2) - math.radians(lon1)) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlam) ** 2
    return 2 * SPEC_EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def hour_slots(record: Demand | Supply) -> tuple[str, ...]:
    """Return the slots a record has hours in: its `slots` (format 1), or its slots of over 0 hours (format 2)."""
    if record.slot_hours is None:
        return record.slots
    return tuple(slot for slot, hours in record.slot_hours.items() if hours > 0)


def broken_constraints(line: Demand, supplier: Supply) -> list[str]:
    """List, in the format's order, each hard constraint the pair breaks (empty when it can serve)."""
    broken = []
    if line.service not in supplier.services:
        broken.append(f"does not offer {line.service} (constraint 1)")
    if line.language_required and not set(line.languages) & set(supplier.languages):
        broken.append("shares no language with the line, which requires one (constraint 2)")
    if line.carer_gender is not None and line.carer_gender not in supplier.genders:
        broken.append(f"has no {line.carer_gender} staff (constraint 3)")
    if not set(hour_slots(line)) & set(hour_slots(supplier)):
        broken.append("shares no slot with the line (constraint 4)" if line.slot_hours is None
                      else "has no hours in any slot the line needs hours in (constraint 4)")
    km = spec_distance_km(line.lat, line.lon, supplier.lat, supplier.lon)
    if km > supplier.radius_km + SPEC_TOLERANCE_KM:
        broken.append(f"is {km:.3f} km away, beyond its {supplier.radius_km:g} km radius "
                      "(constraint 5)")
    if supplier.rate_pence > line.max_rate_pence:
        broken.append(f"charges {supplier.rate_pence} pence an hour, more than the line's "
                      f"{line.max_rate_pence} (constraint 6)")
    if not supplier.vetted:
        broken.append("is not vetted (constraint 7)")
    return broken


def spec_pairs(instance: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Return (line, supplier) indices of every pair meeting all seven hard constraints.

    A plain search. For each vetted supplier and each service it offers, take the lines asking
    for that service whose latitude is close enough to be in reach (a great-circle distance is
    never less than the difference in latitude), keep those whose position on the unit sphere
    differs in x and in y by no more than the straight-line length of the reach (no coordinate
    of a difference exceeds its length), test the rate, staff, slots and language, and measure
    the rest with the haversine. It gives the same pairs as `broken_constraints` on every pair.
    """
    demand, supply = instance.demand, instance.supply
    nd = len(demand)
    if nd == 0 or not supply:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # There are 21 slots, so a line's slots fit in the bits of one integer.
    slot_bit: dict[str, int] = {}
    for line in demand:
        for slot in hour_slots(line):
            slot_bit.setdefault(slot, len(slot_bit))

    def slot_mask(slots) -> int:
        return sum(1 << slot_bit[s] for s in set(slots) if s in slot_bit)

    languages = sorted({c for line in demand for c in line.languages})
    lang_column = {code: n for n, code in enumerate(languages)}
    # speaks[i, k]: line i lists language k.
    speaks = np.zeros((nd, max(1, len(languages))), dtype=bool)
    for i, x in enumerate(demand):
        speaks[i, [lang_column[c] for c in x.languages]] = True
    gender_code = {None: 0, "female": 1, "male": 2}

    # Per service, the lines asking for it as columns sorted by latitude, so a window is a slice.
    columns: dict[str, dict[str, np.ndarray]] = {}
    for service in sorted({x.service for x in demand}):
        rows = [i for i, x in enumerate(demand) if x.service == service]
        rows.sort(key=lambda i: demand[i].lat)
        lines = [demand[i] for i in rows]
        lat = np.array([x.lat for x in lines], dtype=np.float64)
        lon = np.array([x.lon for x in lines], dtype=np.float64)
        columns[service] = {
            "index": np.array(rows, dtype=np.int64),
            "lat": lat,
            "lon": lon,
            "x": np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
            "y": np.cos(np.radians(lat)) * np.sin(np.radians(lon)),
            "max_rate": np.array([x.max_rate_pence for x in lines], dtype=np.int64),
            "gender": np.array([gender_code[x.carer_gender] for x in lines], dtype=np.int8),
            "slots": np.array([slot_mask(hour_slots(x)) for x in lines], dtype=np.int64),
            "required": np.array([x.language_required for x in lines], dtype=bool),
        }

    found_d, found_s = [], []
    for j, sup in enumerate(supply):
        if not sup.vetted:
            continue
        limit = sup.radius_km + SPEC_TOLERANCE_KM
        angle = limit / SPEC_EARTH_RADIUS_KM
        # Both bounds a little wider than exact, so that rounding never loses a pair.
        window = math.degrees(angle) * (1 + 1e-9) + 1e-9
        chord = 2 * math.sin(min(angle, math.pi) / 2) * (1 + 1e-9) + 1e-9
        x0 = math.cos(math.radians(sup.lat)) * math.cos(math.radians(sup.lon))
        y0 = math.cos(math.radians(sup.lat)) * math.sin(math.radians(sup.lon))
        # staff_ok[code]: a line asking for this gender code (0: no preference) can be served.
        staff_ok = np.array([True, "female" in sup.genders, "male" in sup.genders])
        s_slots = slot_mask(hour_slots(sup))
        s_lang = [lang_column[c] for c in set(sup.languages) if c in lang_column]
        for service in sorted(set(sup.services)):
            col = columns.get(service)
            if col is None:
                continue
            lo = int(np.searchsorted(col["lat"], sup.lat - window, side="left"))
            hi = int(np.searchsorted(col["lat"], sup.lat + window, side="right"))
            if lo == hi:
                continue
            part = slice(lo, hi)
            ok = np.abs(col["x"][part] - x0) <= chord
            ok &= np.abs(col["y"][part] - y0) <= chord
            ok &= col["max_rate"][part] >= sup.rate_pence
            ok &= (col["slots"][part] & s_slots) != 0
            ok &= staff_ok[col["gender"][part]]
            at = lo + np.flatnonzero(ok)
            if not len(at):
                continue
            rows = col["index"][at]
            needs = col["required"][at]
            if needs.any():
                spoken = ~needs
                spoken[needs] = speaks[rows[needs]][:, s_lang].any(axis=1)
                at, rows = at[spoken], rows[spoken]
            km = _distances_km(col["lat"][at], col["lon"][at], sup.lat, sup.lon)
            near = km <= limit
            for k in np.flatnonzero(np.abs(km - limit) <= _RECHECK_KM):
                line = demand[rows[k]]
                near[k] = spec_distance_km(line.lat, line.lon, sup.lat, sup.lon) <= limit
            found_d.append(rows[near])
            found_s.append(np.full(int(near.sum()), j, np.int64))
    if not found_d:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(found_d), np.concatenate(found_s)


def _distances_km(lat, lon, lat0: float, lon0: float) -> np.ndarray:
    phi, phi0 = np.radians(lat), math.radians(lat0)
    a = (np.sin((phi0 - phi) / 2) ** 2
         + np.cos(phi) * math.cos(phi0) * np.sin((math.radians(lon0) - np.radians(lon)) / 2) ** 2)
    return 2 * SPEC_EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))


def max_flow_hours(instance: Instance) -> int:
    """Return the most hours any valid assignment can cover: a SciPy maximum flow over `spec_pairs`."""
    nd, ns = len(instance.demand), len(instance.supply)
    lines, suppliers = spec_pairs(instance)
    if not len(lines):
        return 0
    hours = np.array([x.hours for x in instance.demand], dtype=np.int64)
    capacity = np.array([x.capacity_hours for x in instance.supply], dtype=np.int64)
    # Nodes: 0 source, 1 sink, 2.. lines, then suppliers. Every capacity is at most 1,000,000
    # (the format's limit in this implementation), inside SciPy's 32-bit capacities.
    source, sink = 0, 1
    tails = np.concatenate([np.full(nd, source), 2 + lines, 2 + nd + np.arange(ns)])
    heads = np.concatenate([2 + np.arange(nd), 2 + nd + suppliers, np.full(ns, sink)])
    caps = np.concatenate([hours, np.minimum(hours[lines], capacity[suppliers]), capacity])
    keep = caps > 0
    n = 2 + nd + ns
    graph = csr_matrix((caps[keep].astype(np.int32), (tails[keep], heads[keep])), shape=(n, n))
    result = maximum_flow(graph, source, sink, method="dinic")
    # Sum the flow into the sink in 64 bits: the total may pass 2**31 even when no arc does.
    into_sink = result.flow.tocsc()[:, sink]
    return int(into_sink.toarray().astype(np.int64).clip(min=0).sum())


def check_solution(instance: Instance, solution: Solution) -> CheckReport:
    """Validate a solution against the instance and return a report listing every problem.

    Raises InstanceError (bad input, not an invalid solution) when the two are in different formats.
    """
    if solution.format != instance.format:
        raise InstanceError(
            f"format: the solution is in format {solution.format} but the instance is in format "
            f"{instance.format}; check a solution against an instance of its own format", field="format")
    if instance.format == 2:
        # check_slots builds on this module's pair test and search, so it is loaded here.
        from brokerage.matching.check_slots import check_solution_2

        return check_solution_2(instance, solution)
    problems: list[str] = []
    demand = {d.id: d for d in instance.demand}
    supply = {s.id: s for s in instance.supply}
    given_to_line: Counter[str] = Counter()
    given_by_supplier: Counter[str] = Counter()
    covered = 0

    for a in solution.assignments:
        where = f"assignment {shown(a.demand)} -> {shown(a.supplier)}"
        line, supplier = demand.get(a.demand), supply.get(a.supplier)
        if line is None:
            problems.append(f"{where}: no demand line has id {shown(a.demand)}")
        if supplier is None:
            problems.append(f"{where}: no supplier has id {shown(a.supplier)}")
        if a.hours < 1:
            problems.append(f"{where}: hours must be at least 1, not {a.hours}")
        if line is not None and supplier is not None:
            for reason in broken_constraints(line, supplier):
                problems.append(f"{where}: infeasible, the supplier {reason}")
        covered += a.hours
        given_to_line[a.demand] += a.hours
        given_by_supplier[a.supplier] += a.hours

    for line_id, given in sorted(given_to_line.items()):
        line = demand.get(line_id)
        if line is not None and given > line.hours:
            problems.append(f"demand {shown(line_id)}: {given} h assigned but only {line.hours} h needed")
    for supplier_id, given in sorted(given_by_supplier.items()):
        supplier = supply.get(supplier_id)
        if supplier is not None and given > supplier.capacity_hours:
            problems.append(f"supplier {shown(supplier_id)}: {given} h assigned, over its capacity of "
                            f"{supplier.capacity_hours} h")

    best = max_flow_hours(instance)
    if solution.covered_hours != covered:
        problems.append(f"covered_hours is {solution.covered_hours} but the assignments add up "
                        f"to {covered}")
    if covered != best:
        problems.append(f"the assignments cover {covered} h but the most possible is {best} h")

    listed: Counter[str] = Counter(u.demand for u in solution.unmet)
    for line_id, times in sorted(listed.items()):
        if times > 1:
            problems.append(f"unmet {shown(line_id)}: listed {times} times")
    for u in solution.unmet:
        line = demand.get(u.demand)
        if line is None:
            problems.append(f"unmet {shown(u.demand)}: no demand line has this id")
            continue
        left = line.hours - given_to_line[u.demand]
        if left <= 0:
            problems.append(f"unmet {shown(u.demand)}: listed, but the line has no hours left over")
        elif u.hours != left:
            problems.append(f"unmet {shown(u.demand)}: says {u.hours} h, but {left} h are left over")
        if not u.reason.strip():
            problems.append(f"unmet {shown(u.demand)}: the reason is empty")
    for line in instance.demand:
        if line.hours - given_to_line[line.id] > 0 and line.id not in listed:
            problems.append(f"unmet: line {shown(line.id)} has "
                            f"{line.hours - given_to_line[line.id]} h left over but is not listed")

    return CheckReport(covered_hours=covered, max_hours=best, problems=tuple(problems))
