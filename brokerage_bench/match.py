"""`brokerage bench match`: generate an instance, solve it, check it and compare with plain min-cost flow.

Needs no database. The last stdout line is one JSON object.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time

import click

from brokerage.commands import SecondsType
from brokerage.matching.cli import SCALE_CHOICE, progress


def carer_counts(matching) -> tuple[float, int]:
    """Return (carers per person, split lines) for a matching."""
    # Carers per person: the mean, over demand lines given any hours, of how many distinct
    # suppliers serve the line. A split line is one served by more than one supplier.
    import numpy as np

    pairs = matching.network.pairs
    used = matching.flow > 0
    per_line = np.bincount(pairs.demand[used], minlength=len(matching.network.instance.demand))
    served = per_line > 0
    mean = float(per_line[served].mean()) if served.any() else 0.0
    return round(mean, 4), int((per_line > 1).sum())


def improvement_figures(improvement, splits: int) -> dict:
    """Return the improvement's figures: the first answer's cost, the proven lower bound and gap, and how it was found."""
    return {
        "first_cost": round(improvement.first_cost_pence / 100, 2),
        "lower_bound": round(improvement.lower_bound_pence / 100, 2),
        "gap_pct": round(improvement.gap_pct, 3),
        "optimal_split_lines": splits if improvement.optimal else None,
        "exact_components": int(improvement.exact_components),
        "components": int(improvement.components),
        "neighbourhoods": int(improvement.neighbourhoods),
    }


def exact_figures(exact, seconds: float, cost: float) -> dict:
    """Return what the exact solve found (pounds), and how far the answer is above its proven bound.

    A bound HiGHS had no time to prove is -inf: it is given as null, as JSON has no infinity.
    """
    bound = exact.lower_bound_pence / 100 if math.isfinite(exact.lower_bound_pence) else None
    return {
        "exact_s": round(seconds, 1),
        "exact_cost": None if exact.cost_pence is None else round(exact.cost_pence / 100, 2),
        "exact_lower_bound": None if bound is None else round(bound, 2),
        "exact_optimal": exact.optimal,
        "exact_split_lines": exact.split_lines,
        "gap_to_exact_bound_pct": None if bound is None else round(100 * (cost - bound) / cost, 3) if cost > 0 else 0.0,
    }


def slot_figures(instance, solution, network) -> dict:
    """Format 2: count hours placed where a side has none or beyond a slot's or a week's hours, from the solution file's content."""
    if instance.format != 2:
        return {"slot_arcs": None, "slot_violations": None}
    lines = {d.id: d.slot_hours for d in instance.demand}
    suppliers = {s.id: s for s in instance.supply}
    taken: dict[tuple, int] = {}
    violations = 0
    for a in solution.assignments:
        for slot, hours in a.slot_hours.items():
            violations += slot not in lines[a.demand] or slot not in suppliers[a.supplier].slot_hours
            for key in (("line", a.demand, slot), ("supplier", a.supplier, slot), ("week", a.supplier)):
                taken[key] = taken.get(key, 0) + hours
    for key, hours in taken.items():
        if key[0] == "line":
            violations += hours > lines[key[1]].get(key[2], 0)
        elif key[0] == "supplier":
            violations += hours > suppliers[key[1]].slot_hours.get(key[2], 0)
        else:
            violations += hours > suppliers[key[1]].capacity_hours
    return {"slot_arcs": len(network.slots), "slot_violations": int(violations)}


@click.command("match")
@click.option("--scale", default="M", show_default=True, type=SCALE_CHOICE, help="S, M or L.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**32 - 1), help="Random seed (0 to 4294967295).")
@click.option("--time-limit", "time_limit", default=0.0, show_default=True, metavar="SECONDS",
              type=SecondsType(0, 3600),
              help="Improve the first answer for about this long (a deterministic work budget).")
@click.option("--format", "file_format", default="1", show_default=True, type=click.Choice(["1", "2"]),
              help="Instance format: 2 gives hours per time of day (docs/matching-format-2.md).")
@click.option("--exact", "exact_seconds", default=0.0, show_default=True, metavar="SECONDS", type=SecondsType(0, 36000),
              help="Also solve the whole instance exactly with HiGHS for up to this much wall time, to compare (0: don't).")
def bench_match_command(scale: str, seed: int, time_limit: float, file_format: str, exact_seconds: float) -> None:
    """Generate, solve, check and compare with the baseline; print a JSON summary last."""
    from brokerage.matching.check import check_solution
    from brokerage.matching.exact import solve_whole
    from brokerage.matching.generator import generate
    from brokerage.matching.improve import improve
    from brokerage.matching.instance import parse_instance
    from brokerage.matching.solver import build_network, helper_for, optimise, to_solution

    scale = scale.upper()
    with progress(f"Generating scale {scale}"):
        raw = generate(scale, seed, format=int(file_format))
    with progress("Solving"):
        start = time.perf_counter()
        instance = parse_instance(raw)
        del raw  # as `match solve` keeps only the parsed instance
        with helper_for(instance) as helper:
            network = build_network(instance)
            built = time.perf_counter()
            matching = optimise(network, helper=helper)
        first = time.perf_counter()
        # Peak memory up to the first answer (this process, and the helper that solved chunks for it).
        first_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + matching.helper_peak_kb
        first_splits = carer_counts(matching)[1]
    with progress("Improving and bounding"):
        improvement = improve(matching, time_limit=time_limit)
        matching = improvement.matching
        improved = time.perf_counter()
        solution = to_solution(matching)
        done = time.perf_counter()
    exact = None
    if exact_seconds > 0:
        with progress(f"Solving exactly (up to {exact_seconds:g} s)"):
            exact_start = time.perf_counter()
            exact = solve_whole(matching, exact_seconds)
            exact_s = time.perf_counter() - exact_start
    with progress("Checking"):
        report = check_solution(instance, solution)
    with progress("Solving the baseline"):
        with helper_for(instance) as helper:
            baseline = optimise(network, baseline=True, helper=helper)
    carers, splits = carer_counts(matching)
    base_carers, base_splits = carer_counts(baseline)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # The helper process is forked by a server, not by us, so it reports its own peak.
    helpers = max(matching.helper_peak_kb, baseline.helper_peak_kb)
    summary = {
        "scale": scale,
        "lines": len(instance.demand),
        "suppliers": len(instance.supply),
        "edges": len(network.pairs),
        "build_s": round(built - start, 3),
        "solve_s": round(first - built + done - improved, 3),
        "total_s": round(done - start, 3),
        "peak_mb": round((own + children + helpers) / 1024, 1),
        "covered_hours": solution.covered_hours,
        "max_hours": report.max_hours,
        "carers_per_person": carers,
        "split_lines": splits,
        "baseline_carers_per_person": base_carers,
        "baseline_split_lines": base_splits,
        "cost": solution.cost,
        "time_limit": time_limit,
        "improve_s": round(improved - first, 3),
        "first_split_lines": first_splits,
        "first_answer_s": round(first - start, 3),
        "first_answer_peak_mb": round(first_peak_kb / 1024, 1),
        "format": instance.format,
        **improvement_figures(improvement, splits),
        **slot_figures(instance, solution, network),
        **({} if exact is None else exact_figures(exact, exact_s, solution.cost)),
    }
    if exact is not None and exact.optimal and summary["optimal_split_lines"] is None:
        summary["optimal_split_lines"] = exact.split_lines
    baseline_covered = int(baseline.flow.sum())
    click.echo(f"check: {'valid' if report.ok else 'INVALID'}; baseline covers "
               f"{baseline_covered} h")
    for problem in report.problems[:20]:
        click.echo(f"- {problem}")
    click.echo(json.dumps(summary))
    if not report.ok or baseline_covered != report.max_hours:
        sys.exit(1)
