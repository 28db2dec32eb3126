"""The `brokerage` command: a Flask CLI group bound to the app factory, one subgroup per domain."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext


def _create_app() -> Flask:
    from brokerage import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True, load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Carepool brokerage: pooled direct payments, an audited ledger and matching."""


@click.group("db")
def db_group() -> None:
    """Database schema migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from brokerage.migrate import upgrade

    upgrade(revision)
    click.echo(f"Database is at {revision}.")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the database's migration revision."""
    from brokerage.migrate import current_revision

    click.echo(current_revision() or "empty")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs already queued, then stop.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run queued jobs from Redis (needs REDIS_URL)."""
    from flask import current_app

    from brokerage import jobs

    if not current_app.config.get("REDIS_URL"):
        click.echo("error: REDIS_URL is not set; without it jobs run inline and no worker is needed", err=True)
        sys.exit(2)
    jobs.run_worker(current_app, burst=burst)


@click.group("bench")
def bench_group() -> None:
    """Benchmarks that print their figures (JSON on the last line)."""


def register(app: Flask) -> None:
    """Attach every subcommand group to the app's CLI."""
    from brokerage.accounts.cli import accounts_group
    from brokerage.clusters.cli import clusters_group
    from brokerage.demo.cli import demo_command
    from brokerage.ledger.cli import ledger_group

    app.cli.add_command(db_group)
    app.cli.add_command(ledger_group)
    app.cli.add_command(worker)
    app.cli.add_command(accounts_group)
    app.cli.add_command(clusters_group)
    app.cli.add_command(demo_command)
    _register_optional(app)
    from brokerage.ledger.bench import bench_ledger_command

    if "ledger" not in bench_group.commands:
        bench_group.add_command(bench_ledger_command, "ledger")
    app.cli.add_command(bench_group)


def _register_optional(app: Flask) -> None:
    """Attach the matching commands."""
    from brokerage.matching.cli import bench_match_command, match_group

    app.cli.add_command(match_group)
    if "match" not in bench_group.commands:
        bench_group.add_command(bench_match_command, "match")


if __name__ == "__main__":
    main()
