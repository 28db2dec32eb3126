"""Check a format 2 solution: hours per time of day (docs/matching-format-2.md, "Solution").

Like the format 1 check in `check.py`, this shares no code with the solver: each assigned pair is
tested by `check.broken_constraints` (rule 4 read from the slot hours), the pairs are found by
`check.spec_pairs`, and the most hours possible are a SciPy maximum flow over the slot network the
format describes, built here:

    source -> (line, slot) -> (supplier, slot) -> supplier -> sink

Every figure a rule compares with (a line's hours in a slot, a supplier's, its weekly cap) is read
from the records' `slot_hours` and `capacity_hours` here, not from what the parser derived.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from brokerage.matching.check import CheckReport, broken_constraints, spec_pairs
from brokerage.matching.instance import Demand, Instance, Solution, Supply
from brokerage.matching.vocabulary import SLOTS
from brokerage.untrusted import shown, shown_value

_INDEX = {slot: b for b, slot in enumerate(SLOTS)}


def hours_by_slot(record: Demand | Supply) -> dict[str, int]:
    """Return a format 2 record's hours in each slot that has some, in week order."""
    given = record.slot_hours or {}
    return {slot: given[slot] for slot in SLOTS if given.get(slot, 0) > 0}


def week_cap(supplier: Supply) -> int:
    """Return a supplier's hours in the week: `capacity_hours`, or the sum of its slot hours when null."""
    if supplier.capped:
        return supplier.capacity_hours
    return sum(hours_by_slot(supplier).values())


def _hours_matrix(records) -> np.ndarray:
    """Return an (n, 21) array: each record's hours in each slot, in `SLOTS` order."""
    table = np.zeros((len(records), len(SLOTS)), dtype=np.int64)
    for i, record in enumerate(records):
        for slot, hours in hours_by_slot(record).items():
            table[i, _INDEX[slot]] = hours
    return table


def max_flow_slot_hours(instance: Instance) -> int:
    """Return the most hours any valid format 2 assignment can cover: a SciPy maximum flow.

    Nodes: 0 source, 1 sink, then one per (line, slot) with hours, one per (supplier, slot) with
    hours, and one per supplier. An arc (line, slot) -> (supplier, slot) has no limit of its own;
    it is given the line's hours in the slot, which is all that can reach it. A supplier with no
    weekly cap gets the sum of its slot hours, which is all that can reach it. Every capacity is
    therefore at most 1,000,000 (the format's limit on a record's total), inside SciPy's 32 bits.
    """
    demand, supply = instance.demand, instance.supply
    lines, suppliers = spec_pairs(instance)
    if not len(lines):
        return 0
    need, offer = _hours_matrix(demand), _hours_matrix(supply)
    # Number the (line, slot) and (supplier, slot) nodes that have hours.
    line_node = np.full(need.shape, -1, dtype=np.int64)
    line_node[need > 0] = 2 + np.arange(int((need > 0).sum()))
    first_supplier_slot = 2 + int((need > 0).sum())
    supplier_node = np.full(offer.shape, -1, dtype=np.int64)
    supplier_node[offer > 0] = first_supplier_slot + np.arange(int((offer > 0).sum()))
    first_supplier = first_supplier_slot + int((offer > 0).sum())
    n = first_supplier + len(supply)
    cap = np.array([week_cap(s) for s in supply], dtype=np.int64)

    tails, heads, caps = [], [], []
    rows, cols = np.nonzero(need > 0)
    tails.append(np.zeros(len(rows), np.int64)), heads.append(line_node[rows, cols])
    caps.append(need[rows, cols])
    for b in range(len(SLOTS)):
        both = (need[lines, b] > 0) & (offer[suppliers, b] > 0)
        i, j = lines[both], suppliers[both]
        tails.append(line_node[i, b]), heads.append(supplier_node[j, b]), caps.append(need[i, b])
    rows, cols = np.nonzero(offer > 0)
    tails.append(supplier_node[rows, cols]), heads.append(first_supplier + rows)
    caps.append(offer[rows, cols])
    tails.append(first_supplier + np.arange(len(supply))), heads.append(np.ones(len(supply), np.int64))
    caps.append(cap)

    tail, head, capacity = np.concatenate(tails), np.concatenate(heads), np.concatenate(caps)
    keep = capacity > 0
    graph = csr_matrix((capacity[keep].astype(np.int32), (tail[keep], head[keep])), shape=(n, n))
    result = maximum_flow(graph, 0, 1, method="dinic")
    # Sum the flow into the sink in 64 bits: the total may pass 2**31 even when no arc does.
    into_sink = result.flow.tocsc()[:, 1]
    return int(into_sink.toarray().astype(np.int64).clip(min=0).sum())


def _assignment_problems(where: str, a, line: Demand | None, supplier: Supply | None) -> list[str]:
    """List what is wrong with one assignment on its own: its slots, its hours, its pair."""
    found = []
    slot_hours = a.slot_hours or {}
    if not slot_hours:
        found.append(f"{where}: slot_hours is empty; an assignment needs hours in at least one slot")
    line_hours = hours_by_slot(line) if line is not None else None
    supplier_hours = hours_by_slot(supplier) if supplier is not None else None
    for slot, hours in slot_hours.items():
        if slot not in _INDEX:
            found.append(f"{where}: {shown_value(slot)} is not a slot")
            continue
        if type(hours) is not int or hours < 1:
            found.append(f"{where}: slot_hours.{slot} must be an integer of at least 1, not {shown_value(hours)}")
        lacking = []
        if line_hours is not None and slot not in line_hours:
            lacking.append("the line needs no hours")
        if supplier_hours is not None and slot not in supplier_hours:
            lacking.append("the supplier has no hours")
        if lacking:
            found.append(f"{where}: {shown_value(hours)} h on {slot}, which is not one of the pair's common "
                         f"slots ({' and '.join(lacking)} then)")
    total = sum(h for h in slot_hours.values() if type(h) is int)
    if a.hours != total:
        found.append(f"{where}: hours is {a.hours} but its slot_hours add up to {total}")
    if line is not None and supplier is not None:
        for reason in broken_constraints(line, supplier):
            found.append(f"{where}: infeasible, the supplier {reason}")
    return found


def check_solution_2(instance: Instance, solution: Solution) -> CheckReport:
    """Validate a format 2 solution against a format 2 instance; return a report of every problem."""
    problems: list[str] = []
    demand = {d.id: d for d in instance.demand}
    supply = {s.id: s for s in instance.supply}
    to_line: Counter[tuple[str, str]] = Counter()  # (line, slot) -> hours assigned
    by_supplier: Counter[tuple[str, str]] = Counter()  # (supplier, slot) -> hours assigned
    given_to_line: Counter[str] = Counter()
    given_by_supplier: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    covered = 0

    for a in solution.assignments:
        where = f"assignment {shown(a.demand)} -> {shown(a.supplier)}"
        line, supplier = demand.get(a.demand), supply.get(a.supplier)
        if line is None:
            problems.append(f"{where}: no demand line has id {shown(a.demand)}")
        if supplier is None:
            problems.append(f"{where}: no supplier has id {shown(a.supplier)}")
        problems.extend(_assignment_problems(where, a, line, supplier))
        pairs[a.demand, a.supplier] += 1
        for slot, hours in (a.slot_hours or {}).items():
            if slot in _INDEX and type(hours) is int:
                to_line[a.demand, slot] += hours
                by_supplier[a.supplier, slot] += hours
        covered += a.hours
        given_to_line[a.demand] += a.hours
        given_by_supplier[a.supplier] += a.hours

    for (line_id, supplier_id), times in sorted(pairs.items()):
        if times > 1:
            problems.append(f"assignment {shown(line_id)} -> {shown(supplier_id)}: the pair is assigned "
                            f"{times} times (at most once)")
    # Slots a line or supplier has no hours in are said above, assignment by assignment.
    for (line_id, slot), given in sorted(to_line.items(), key=lambda kv: (kv[0][0], _INDEX[kv[0][1]])):
        line = demand.get(line_id)
        need = hours_by_slot(line).get(slot, 0) if line is not None else 0
        if need and given > need:
            problems.append(f"demand {shown(line_id)}: {given} h assigned on {slot} but only {need} h needed then")
    for (supplier_id, slot), given in sorted(by_supplier.items(), key=lambda kv: (kv[0][0], _INDEX[kv[0][1]])):
        supplier = supply.get(supplier_id)
        offer = hours_by_slot(supplier).get(slot, 0) if supplier is not None else 0
        if offer and given > offer:
            problems.append(f"supplier {shown(supplier_id)}: {given} h assigned on {slot}, over its {offer} h then")
    for supplier_id, given in sorted(given_by_supplier.items()):
        supplier = supply.get(supplier_id)
        if supplier is not None and supplier.capped and given > supplier.capacity_hours:
            problems.append(f"supplier {shown(supplier_id)}: {given} h assigned, over its weekly cap of "
                            f"{supplier.capacity_hours} h (capacity_hours)")

    best = max_flow_slot_hours(instance)
    if solution.covered_hours != covered:
        problems.append(f"covered_hours is {solution.covered_hours} but the assignments add up to {covered}")
    if covered != best:
        problems.append(f"the assignments cover {covered} h but the most possible is {best} h")
    problems.extend(_unmet_problems(instance, solution, given_to_line, to_line))
    return CheckReport(covered_hours=covered, max_hours=best, problems=tuple(problems))


def _unmet_problems(instance: Instance, solution: Solution, given_to_line: Counter,
                    to_line: Counter) -> list[str]:
    """List what is wrong with `unmet`: each line with hours left over once, with those hours per slot."""
    problems = []
    demand = {d.id: d for d in instance.demand}
    listed: Counter[str] = Counter(u.demand for u in solution.unmet)
    for line_id, times in sorted(listed.items()):
        if times > 1:
            problems.append(f"unmet {shown(line_id)}: listed {times} times")
    for u in solution.unmet:
        line = demand.get(u.demand)
        where = f"unmet {shown(u.demand)}"
        if not u.reason.strip():
            problems.append(f"{where}: the reason is empty")
        if line is None:
            problems.append(f"{where}: no demand line has this id")
            continue
        need = hours_by_slot(line)
        left = sum(need.values()) - given_to_line[u.demand]
        if left <= 0:
            problems.append(f"{where}: listed, but the line has no hours left over")
            continue
        if u.hours != left:
            problems.append(f"{where}: says {u.hours} h, but {left} h are left over")
        slot_hours = u.slot_hours or {}
        total = sum(h for h in slot_hours.values() if type(h) is int)
        if total != u.hours:
            problems.append(f"{where}: hours is {u.hours} but its slot_hours add up to {total}")
        expected = {slot: need[slot] - to_line[u.demand, slot] for slot in need
                    if need[slot] - to_line[u.demand, slot] > 0}
        for slot in sorted(set(slot_hours) | set(expected), key=lambda s: _INDEX.get(s, len(SLOTS))):
            says, really = slot_hours.get(slot, 0), expected.get(slot, 0)
            if says != really:
                problems.append(f"{where}: slot_hours.{shown(str(slot))} says {shown_value(says)} h, but "
                                f"{really} h are left over then")
    for line in instance.demand:
        left = sum(hours_by_slot(line).values()) - given_to_line[line.id]
        if left > 0 and line.id not in listed:
            problems.append(f"unmet: line {shown(line.id)} has {left} h left over but is not listed")
    return problems
