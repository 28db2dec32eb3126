"""Check a solution against every rule for a valid solution in the matching format."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow

from brokerage.matching.errors import MatchingError
from brokerage.matching.instance import Instance, Solution
from brokerage.matching.pairs import Pairs, feasible_pairs
from brokerage.matching.rules import why_not


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


def max_flow_hours(instance: Instance, pairs: Pairs | None = None) -> int:
    """Return the most hours any valid assignment can cover (a maximum flow)."""
    pairs = pairs if pairs is not None else feasible_pairs(instance)
    nd, ns = len(instance.demand), len(instance.supply)
    hours = np.fromiter((d.hours for d in instance.demand), np.int64, nd)
    capacity = np.fromiter((s.capacity_hours for s in instance.supply), np.int64, ns)
    if not len(pairs):
        return 0
    # Nodes: 0 source, 1 sink, 2.. demand lines, then suppliers.
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(pairs.demand + 2, pairs.supply + 2 + nd,
                                np.minimum(hours[pairs.demand], capacity[pairs.supply]))
    flow.add_arcs_with_capacity(np.zeros(nd, np.int64), np.arange(2, 2 + nd), hours)
    flow.add_arcs_with_capacity(np.arange(2 + nd, 2 + nd + ns), np.ones(ns, np.int64), capacity)
    status = flow.solve(0, 1)
    if status != flow.OPTIMAL:
        raise MatchingError(f"the max-flow solver failed ({status.name})")
    return int(flow.optimal_flow())


def check_solution(instance: Instance, solution: Solution) -> CheckReport:
    """Validate a solution against the instance and return a report listing every problem."""
    problems: list[str] = []
    demand = {d.id: d for d in instance.demand}
    supply = {s.id: s for s in instance.supply}
    given_to_line: Counter[str] = Counter()
    given_by_supplier: Counter[str] = Counter()
    covered = 0

    for a in solution.assignments:
        where = f"assignment {a.demand} -> {a.supplier}"
        line, supplier = demand.get(a.demand), supply.get(a.supplier)
        if line is None:
            problems.append(f"{where}: no demand line has id {a.demand}")
        if supplier is None:
            problems.append(f"{where}: no supplier has id {a.supplier}")
        if a.hours < 1:
            problems.append(f"{where}: hours must be at least 1, not {a.hours}")
        if line is not None and supplier is not None:
            for reason in why_not(line, supplier):
                problems.append(f"{where}: infeasible, the supplier {reason}")
        covered += a.hours
        given_to_line[a.demand] += a.hours
        given_by_supplier[a.supplier] += a.hours

    for line_id, given in sorted(given_to_line.items()):
        line = demand.get(line_id)
        if line is not None and given > line.hours:
            problems.append(f"demand {line_id}: {given} h assigned but only {line.hours} h needed")
    for supplier_id, given in sorted(given_by_supplier.items()):
        supplier = supply.get(supplier_id)
        if supplier is not None and given > supplier.capacity_hours:
            problems.append(f"supplier {supplier_id}: {given} h assigned, over its capacity of "
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
            problems.append(f"unmet {line_id}: listed {times} times")
    for u in solution.unmet:
        line = demand.get(u.demand)
        if line is None:
            problems.append(f"unmet {u.demand}: no demand line has this id")
            continue
        left = line.hours - given_to_line[u.demand]
        if left <= 0:
            problems.append(f"unmet {u.demand}: listed, but the line has no hours left over")
        elif u.hours != left:
            problems.append(f"unmet {u.demand}: says {u.hours} h, but {left} h are left over")
        if not u.reason.strip():
            problems.append(f"unmet {u.demand}: the reason is empty")
    for line in instance.demand:
        if line.hours - given_to_line[line.id] > 0 and line.id not in listed:
            problems.append(f"unmet: line {line.id} has "
                            f"{line.hours - given_to_line[line.id]} h left over but is not listed")

    return CheckReport(covered_hours=covered, max_hours=best, problems=tuple(problems))
