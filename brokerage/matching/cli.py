"""Command line for matching: `brokerage match solve|check|generate` (the bench is in brokerage_bench.match).

The commands are plain click commands that need no Flask application context. Heavy modules
(numpy, SciPy, OR-Tools) are imported inside the commands, so listing the CLI stays quick.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import click

from brokerage.commands import CommandGroup, SecondsType
from brokerage.formatting import plural
from brokerage.matching.errors import InstanceError
from brokerage.untrusted import shown

SCALE_CHOICE = click.Choice(["S", "M", "L"], case_sensitive=False)


def _fail_input(message: str) -> None:
    """Print one line on stderr and exit 2, the code for bad input."""
    # Messages echo ids through `untrusted.shown` already; escaping again here keeps the line one
    # line even if a message someday forgets to.
    if not message.isprintable():
        message = shown(message, 4 * len(message) + 1)
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@contextmanager
def progress(message: str):
    """Show a spinner on stderr while work runs, when stderr is a terminal."""
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_terminal:
        with console.status(message):
            yield
    else:
        yield


def _load_instance(path: str):
    # Loaded when the command runs: the engine brings in NumPy, SciPy and OR-Tools (about 0.4 s),
    # which the web app and every other command would otherwise pay for at start-up.
    from brokerage.matching.files import read_json
    from brokerage.matching.instance import parse_instance

    try:
        return parse_instance(read_json(path))
    except InstanceError as exc:
        _fail_input(exc.message)


def _check_out(path: str) -> None:
    # Before the work, so that a folder or a missing folder is said at once, not after the solve.
    from brokerage.matching.files import check_writable

    try:
        check_writable(path)
    except InstanceError as exc:
        _fail_input(exc.message)


@click.group("match", cls=CommandGroup)
def match_group() -> None:
    """Solve, check and generate matching instances (formats carepool-matching/1 and /2)."""


@match_group.command("solve")
@click.argument("instance_path", metavar="INSTANCE.json", type=str)
@click.option("--out", "out_path", required=True, metavar="SOLUTION.json",
              type=str, help="Where to write the solution.")
@click.option("--time-limit", "time_limit", default=0.0, show_default=True, metavar="SECONDS",
              type=SecondsType(0, 3600),
              help="Improve the first answer for about this long (a deterministic work budget).")
def solve_command(instance_path: str, out_path: str, time_limit: float) -> None:
    """Solve INSTANCE.json and write the solution to SOLUTION.json, in the instance's format (1 or 2)."""
    # Loaded when the command runs: the engine brings in NumPy, SciPy and OR-Tools (about 0.4 s),
    # which the web app and every other command would otherwise pay for at start-up.
    from brokerage.matching.files import FileProblem, encode, write_atomic
    from brokerage.matching.improve import solve_within

    _check_out(out_path)
    if os.path.exists(out_path) and os.path.exists(instance_path) and os.path.samefile(instance_path, out_path):
        _fail_input(f"--out {shown(out_path, 200)} is the instance itself: writing the solution there would replace it")
    instance = _load_instance(instance_path)
    with progress(f"Matching {len(instance.demand)} lines to {len(instance.supply)} suppliers"):
        solution, improvement = solve_within(instance, time_limit=time_limit)
    try:
        write_atomic(out_path, encode(solution.to_dict(), ("assignments", "unmet")))
    except FileProblem as exc:
        _fail_input(exc.message)
    click.echo(f"covered {solution.covered_hours} h; {plural(len(solution.assignments), 'assignment')}, "
               f"{plural(len(solution.unmet), 'line')} with unmet hours; cost {solution.cost:.2f}")
    click.echo(f"lower bound {improvement.lower_bound_pence / 100:.2f}; gap {improvement.gap_pct:.2f}%"
               f"{' (optimal)' if improvement.optimal else ''}", err=True)


@match_group.command("check")
@click.argument("instance_path", metavar="INSTANCE.json", type=str)
@click.argument("solution_path", metavar="SOLUTION.json", type=str)
def check_command(instance_path: str, solution_path: str) -> None:
    """Check SOLUTION.json against INSTANCE.json (both format 1 or both format 2); exit 1 and list problems if it is invalid."""
    # Loaded when the command runs: the engine brings in NumPy, SciPy and OR-Tools (about 0.4 s),
    # which the web app and every other command would otherwise pay for at start-up.
    from brokerage.matching.check import check_solution
    from brokerage.matching.files import read_json
    from brokerage.matching.instance import parse_solution

    instance = _load_instance(instance_path)
    try:
        solution = parse_solution(read_json(solution_path))
    except InstanceError as exc:
        _fail_input(exc.message)
    try:
        with progress("Checking the solution"):
            report = check_solution(instance, solution)
    except InstanceError as exc:  # a solution in the other format than the instance's
        _fail_input(exc.message)
    click.echo(f"covered hours: {report.covered_hours}")
    click.echo(f"maximum possible hours: {report.max_hours}")
    if report.ok:
        click.echo("valid")
        return
    click.echo(f"invalid: {plural(len(report.problems), 'problem')}")
    for problem in report.problems:
        click.echo(f"- {problem}")
    sys.exit(1)


@match_group.command("generate")
@click.option("--scale", required=True, type=SCALE_CHOICE, help="S, M or L.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**32 - 1), help="Random seed (0 to 4294967295).")
@click.option("--out", "out_path", required=True, metavar="INSTANCE.json",
              type=str, help="Where to write the instance.")
@click.option("--format", "format_", default="1", show_default=True, type=click.Choice(["1", "2"]),
              help="1: weekly hours and slots; 2: hours per slot (docs/matching-format-2.md).")
def generate_command(scale: str, seed: int, out_path: str, format_: str) -> None:
    """Write a synthetic instance with English geography, in format 1 or 2."""
    # Loaded when the command runs: the engine brings in NumPy, SciPy and OR-Tools (about 0.4 s),
    # which the web app and every other command would otherwise pay for at start-up.
    from brokerage.matching.files import FileProblem, encode, write_atomic
    from brokerage.matching.generator import generate

    _check_out(out_path)
    with progress(f"Generating a scale {scale.upper()} instance"):
        instance = generate(scale.upper(), seed, format=int(format_))
    try:
        write_atomic(out_path, encode(instance, ("demand", "supply")))
    except FileProblem as exc:
        _fail_input(exc.message)
    click.echo(f"{len(instance['demand'])} demand lines, {len(instance['supply'])} suppliers")
