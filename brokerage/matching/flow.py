"""The min-cost flow of one chunk of the matching network (OR-Tools `SimpleMinCostFlow`).

A chunk is a set of whole connected components. Format 1's network is source -> line -> supplier
-> sink; format 2's is source -> (line, slot) -> (supplier, slot) -> supplier -> sink
(docs/matching-format-2.md). Both are solved as a maximum flow of least cost, so the covered hours
are always the maximum flow.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from brokerage.matching.errors import MatchingError


def solve_chunk(job) -> np.ndarray:
    """Solve one chunk's job (`pair_job` or `slot_job` tuples) and return the flow on its priced arcs."""
    if job[0] == "slots":
        return _solve_slots(job)
    return _solve_pairs(job)


def _solve_pairs(job) -> np.ndarray:
    """Solve one chunk as a max flow of min cost and return the flow on its pair arcs."""
    _, line_node, supplier_node, capacity, costs, hours, supplier_capacity = job
    nl, ns = len(hours), len(supplier_capacity)
    source, sink = 0, 1
    solver = min_cost_flow.SimpleMinCostFlow()
    lines = np.arange(2, 2 + nl)
    suppliers = np.arange(2 + nl, 2 + nl + ns)
    # The pair arcs go in first, so they are arcs 0 .. len(line_node) - 1.
    solver.add_arcs_with_capacity_and_unit_cost(line_node, supplier_node, capacity, costs)
    solver.add_arcs_with_capacity_and_unit_cost(
        np.full(nl, source), lines, hours, np.zeros(nl, np.int64))
    solver.add_arcs_with_capacity_and_unit_cost(
        suppliers, np.full(ns, sink), supplier_capacity, np.zeros(ns, np.int64))
    total = int(hours.sum())
    solver.set_node_supply(source, total)
    solver.set_node_supply(sink, -total)
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise MatchingError(f"the flow solver failed ({status.name})")
    return solver.flows(np.arange(len(line_node)))


def _solve_slots(job) -> np.ndarray:
    """Solve a format 2 chunk (slots.slot_job) as a max flow of min cost; return the flow on its slot arcs."""
    _, n_priced, tails, heads, capacity, cost = job
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, capacity, cost)
    total = int(capacity[tails == 0].sum())
    solver.set_node_supply(0, total)
    solver.set_node_supply(1, -total)
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise MatchingError(f"the flow solver failed ({status.name})")
    return solver.flows(np.arange(n_priced))
