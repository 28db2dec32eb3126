"""A long exact solve of a whole instance with HiGHS, for benchmarks: the best answer it finds and its proven lower bound.

Each connected component is one MIP of the engine's documented objective (fixed_charge's model:
hours per pair, or per slot arc in format 2; a charge per pair used and per cluster-supplier group
opened), with coverage fixed at the maximum flow. The components' answers and bounds add up, as
the objective is a sum over components.

It stops on wall time, so its figures can differ from run to run: `brokerage bench match --exact`
uses it to say how far the improvement is from the optimum, and the service never does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import milp

from brokerage.matching import fixed_charge as fc
from brokerage.matching.solver import Matching

# HiGHS stops when its answer is proven within this fraction of the optimum.
EXACT_REL_GAP = 1e-5


@dataclass(frozen=True)
class ExactRun:
    """What a time-limited exact solve found: costs in pence."""

    cost_pence: float | None  # the best answer found (None if a component had none in time)
    lower_bound_pence: float  # proven: no answer covering the maximum flow costs less
    optimal: bool  # every component proven optimal (within EXACT_REL_GAP)
    split_lines: int | None  # lines served by more than one supplier in the best answer


def solve_whole(matching: Matching, seconds: float) -> ExactRun:
    """Solve every component of the matching's instance exactly, sharing `seconds` of wall time by component size."""
    model = fc.model_of(matching)
    unit_flow = (matching.slot_flow if matching.slot_flow is not None else matching.flow).astype(np.int64)
    components = fc.components_of(model)
    arcs_in_all = max(sum(len(arcs) for arcs in components), 1)
    cost, bound, optimal = 0.0, 0.0, True
    hours = np.zeros(len(model.line), dtype=np.float64)
    for arcs in components:
        units = model.units_of(arcs)
        total = int(unit_flow[units].sum())
        spare = fc.spare_of(model, unit_flow, units)
        c, bounds, constraints, units = fc.build_mip(model, arcs, spare, np.zeros(0, np.int64), total)
        integrality = np.r_[np.zeros(len(units)), np.ones(len(c) - len(units))]
        limit = seconds * len(arcs) / arcs_in_all + 1
        x, proven, dual = _run(c, integrality, bounds, constraints, limit)
        bound += dual
        optimal &= proven
        if x is None:
            cost = None
        elif cost is not None:
            cost += float(c @ x)
            hours[arcs] = np.bincount(np.searchsorted(arcs, model.unit_pair[units]), weights=x[:len(units)], minlength=len(arcs))
    split = None
    if cost is not None:
        served = np.bincount(model.line[np.rint(hours) > 0], minlength=len(model.hours))
        split = int((served > 1).sum())
    return ExactRun(cost, bound, optimal, split)


def _run(c, integrality, bounds, constraints, seconds: float) -> tuple[np.ndarray | None, bool, float]:
    """Return (answer or None, proven optimal, dual bound) of one MIP within `seconds`."""
    if fc.highs_bindings is None:
        res = milp(c, integrality=integrality, bounds=bounds, constraints=constraints,
                   options={"time_limit": seconds, "mip_rel_gap": EXACT_REL_GAP})
        dual = getattr(res, "mip_dual_bound", None)
        return res.x, res.status == 0, -np.inf if dual is None else float(dual)
    highs = fc.highs_model(c, bounds, constraints, integrality)
    highs.setOptionValue("time_limit", float(seconds))
    highs.setOptionValue("mip_rel_gap", EXACT_REL_GAP)
    highs.run()
    info = highs.getInfo()
    found = info.primal_solution_status == fc.highs_bindings.SolutionStatus.kSolutionStatusFeasible
    x = np.array(highs.getSolution().col_value) if found else None
    return x, highs.getModelStatus() == fc.highs_bindings.HighsModelStatus.kOptimal, float(info.mip_dual_bound)
