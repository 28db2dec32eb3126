"""Command line for matching: `brokerage match solve|check|generate` and `brokerage bench match`.

The commands are plain click commands that need no Flask application context. Heavy modules
(numpy, SciPy, OR-Tools) are imported inside the commands, so listing the CLI stays quick.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from contextlib import contextmanager

import click

from brokerage.commands import CommandGroup
from brokerage.matching.errors import InstanceError

SCALE_CHOICE = click.Choice(["S", "M", "L"], case_sensitive=False)


def _fail_input(message: str) -> None:
    """Print one line on stderr and exit 2, the code for bad input."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@contextmanager
def _progress(message: str):
    """Show a spinner on stderr while work runs, when stderr is a terminal."""
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_terminal:
        with console.status(message):
            yield
    else:
        yield


def _load_instance(path: str):
    from brokerage.matching.files import read_json
    from brokerage.matching.instance import parse_instance

    try:
        return parse_instance(read_json(path))
    except InstanceError as exc:
        _fail_input(exc.message)


@click.group("match", cls=CommandGroup)
def match_group() -> None:
    """Solve, check and generate matching instances (format carepool-matching/1)."""


@match_group.command("solve")
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@click.option("--out", "out_path", required=True, metavar="SOLUTION.json",
              type=click.Path(dir_okay=False), help="Where to write the solution.")
def solve_command(instance_path: str, out_path: str) -> None:
    """Solve INSTANCE.json and write the solution to SOLUTION.json."""
    from brokerage.matching.files import FileProblem, encode, write_atomic
    from brokerage.matching.solver import solve

    instance = _load_instance(instance_path)
    with _progress(f"Matching {len(instance.demand)} lines to {len(instance.supply)} suppliers"):
        solution = solve(instance)
    try:
        write_atomic(out_path, encode(solution.to_dict(), ("assignments", "unmet")))
    except FileProblem as exc:
        _fail_input(exc.message)
    click.echo(f"covered {solution.covered_hours} h; {len(solution.assignments)} assignments, "
               f"{len(solution.unmet)} lines with unmet hours; cost {solution.cost:.2f}")


@match_group.command("check")
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@click.argument("solution_path", metavar="SOLUTION.json", type=click.Path(dir_okay=False))
def check_command(instance_path: str, solution_path: str) -> None:
    """Check SOLUTION.json against INSTANCE.json; exit 1 and list problems if it is invalid."""
    from brokerage.matching.check import check_solution
    from brokerage.matching.files import read_json
    from brokerage.matching.instance import parse_solution

    instance = _load_instance(instance_path)
    try:
        solution = parse_solution(read_json(solution_path))
    except InstanceError as exc:
        _fail_input(exc.message)
    with _progress("Checking the solution"):
        report = check_solution(instance, solution)
    click.echo(f"covered hours: {report.covered_hours}")
    click.echo(f"maximum possible hours: {report.max_hours}")
    if report.ok:
        click.echo("valid")
        return
    click.echo(f"invalid: {len(report.problems)} problem{'s' if len(report.problems) > 1 else ''}")
    for problem in report.problems:
        click.echo(f"- {problem}")
    sys.exit(1)


@match_group.command("generate")
@click.option("--scale", required=True, type=SCALE_CHOICE, help="S, M or L.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**32 - 1), help="Random seed (0 to 4294967295).")
@click.option("--out", "out_path", required=True, metavar="INSTANCE.json",
              type=click.Path(dir_okay=False), help="Where to write the instance.")
def generate_command(scale: str, seed: int, out_path: str) -> None:
    """Write a synthetic instance with English geography."""
    from brokerage.matching.files import FileProblem, encode, write_atomic
    from brokerage.matching.generator import generate

    with _progress(f"Generating a scale {scale.upper()} instance"):
        instance = generate(scale.upper(), seed)
    try:
        write_atomic(out_path, encode(instance, ("demand", "supply")))
    except FileProblem as exc:
        _fail_input(exc.message)
    click.echo(f"{len(instance['demand'])} demand lines, {len(instance['supply'])} suppliers")


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


@click.command("match")
@click.option("--scale", default="M", show_default=True, type=SCALE_CHOICE, help="S, M or L.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**32 - 1), help="Random seed (0 to 4294967295).")
def bench_match_command(scale: str, seed: int) -> None:
    """Generate, solve, check and compare with the baseline; print a JSON summary last."""
    from brokerage.matching.check import check_solution
    from brokerage.matching.generator import generate
    from brokerage.matching.instance import parse_instance
    from brokerage.matching.solver import build_network, helper_for, optimise, to_solution

    scale = scale.upper()
    with _progress(f"Generating scale {scale}"):
        raw = generate(scale, seed)
    with _progress("Solving"):
        start = time.perf_counter()
        instance = parse_instance(raw)
        with helper_for(instance) as helper:
            network = build_network(instance)
            built = time.perf_counter()
            matching = optimise(network, helper=helper)
        solution = to_solution(matching)
        done = time.perf_counter()
    with _progress("Checking"):
        report = check_solution(instance, solution)
    with _progress("Solving the baseline"):
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
        "solve_s": round(done - built, 3),
        "total_s": round(done - start, 3),
        "peak_mb": round((own + children + helpers) / 1024, 1),
        "covered_hours": solution.covered_hours,
        "max_hours": report.max_hours,
        "carers_per_person": carers,
        "split_lines": splits,
        "baseline_carers_per_person": base_carers,
        "baseline_split_lines": base_splits,
        "cost": solution.cost,
    }
    baseline_covered = int(baseline.flow.sum())
    click.echo(f"check: {'valid' if report.ok else 'INVALID'}; baseline covers "
               f"{baseline_covered} h")
    for problem in report.problems[:20]:
        click.echo(f"- {problem}")
    click.echo(json.dumps(summary))
    if not report.ok or baseline_covered != report.max_hours:
        sys.exit(1)
