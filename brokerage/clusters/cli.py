"""`brokerage clusters`: weekly money runs and daily housekeeping, as jobs with progress."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlmodel import select

from brokerage import jobs
from brokerage.accounts.models import Council
from brokerage.accounts.system import system_actor
from brokerage.clusters import runs
from brokerage.clusters.errors import RECORD_ERRORS, failure_message
from brokerage.clusters.runs import check_period, settle_job
from brokerage.commands import COUNCIL_SLUG, CommandGroup
from brokerage.db import session_scope
from brokerage.errors import BrokerageError
from brokerage.formatting import pounds


def _councils(session, slug: str | None) -> list:
    query = select(Council).order_by(Council.id)
    if slug:
        query = query.where(Council.slug == slug)
    councils = list(session.exec(query))
    if slug and not councils:
        click.echo(f"error: there is no council called {slug!r}", err=True)
        sys.exit(2)
    return councils


def _check_period(period: str) -> None:
    try:
        check_period(period)
    except BrokerageError as error:
        click.echo(f"error: --period {error.message}", err=True)
        sys.exit(2)


def _finish(failures: list[str]) -> None:
    """Name every record that failed, one line each on stderr, and exit 1 if there were any."""
    for line in failures:
        click.echo(f"failed: {line}", err=True)
    if failures:
        click.echo(f"error: {len(failures)} failed; everything else was done. Fix those records and run again.", err=True)
        sys.exit(1)


def _run(name: str, period: str, council_slug: str | None) -> None:
    _check_period(period)
    with session_scope() as session:
        councils = [(c.id, c.name) for c in _councils(session, council_slug)]
    if current_app.config.get("REDIS_URL"):
        for council_id, council_name in councils:
            handle = jobs.enqueue(f"clusters.{name}", council_id=council_id, period=period)
            click.echo(f"{council_name}: queued job {handle.id}")
        return
    run = runs.issue_dp if name == "issue_dp" else runs.collect_pledges
    failures: list[str] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as progress:
        for council_id, council_name in councils:
            task = progress.add_task(council_name, total=None)
            # One council's failure must not stop the councils after it.
            try:
                with session_scope() as session:
                    actor = system_actor(session=session, council_id=council_id)
                    report = run(session=session, actor=actor, council_id=council_id, period=period,
                                 progress=lambda done, total: progress.update(task, completed=done, total=total))
            except RECORD_ERRORS as error:
                failures.append(f"{council_name}: nothing was done: {failure_message(error)}")
                continue
            click.echo(f"{council_name}: {report.posted} posted, {report.already} already done, {pounds(report.total_pence)} moved")
            for line in report.skipped:
                click.echo(f"  skipped: {line}")
            failures.extend(f"{council_name}: {line}" for line in report.failed)
    _finish(failures)


@click.group("clusters", cls=CommandGroup)
def clusters_group() -> None:
    """Clusters: weekly direct payments, pledge collection and housekeeping."""


@clusters_group.command("issue-dp")
@click.option("--period", required=True, help="ISO week in ASCII, e.g. 2026-W48, from 8 weeks back to 1 ahead.")
@click.option("--council", "council_slug", type=COUNCIL_SLUG, default=None, help="Short name of one council (default: every council).")
@with_appcontext
def issue_dp_command(period: str, council_slug: str | None) -> None:
    """Post each holder's weekly direct payment from council funding to their wallet (once per period)."""
    _run("issue_dp", period, council_slug)


@clusters_group.command("collect")
@click.option("--period", required=True, help="ISO week in ASCII, e.g. 2026-W48, from 8 weeks back to 1 ahead.")
@click.option("--council", "council_slug", type=COUNCIL_SLUG, default=None, help="Short name of one council (default: every council).")
@with_appcontext
def collect_command(period: str, council_slug: str | None) -> None:
    """Move each active pledge from the holder's wallet to their share of the pool (once per period)."""
    _run("collect", period, council_slug)


@clusters_group.command("settle")
@click.option("--council", "council_slug", type=COUNCIL_SLUG, default=None, help="Short name of one council (default: every council).")
@with_appcontext
def settle_command(council_slug: str | None) -> None:
    """Return pool shares to leavers whose notice has ended, and decide proposals past their deadline."""
    with session_scope() as session:
        councils = [(c.id, c.name) for c in _councils(session, council_slug)]
    failures: list[str] = []
    for council_id, name in councils:
        # One council's failure must not stop the councils after it.
        try:
            result = settle_job(council_id=council_id)
        except RECORD_ERRORS as error:
            failures.append(f"{name}: nothing was done: {failure_message(error)}")
            continue
        click.echo(f"{name}: {result['settled']} leavers settled, {result['decided']} proposals decided")
        for line in result["waiting"]:
            click.echo(f"{name}: {line}")
        failures.extend(f"{name}: {line}" for line in result["failed"])
    _finish(failures)
