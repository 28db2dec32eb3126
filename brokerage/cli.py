"""The `brokerage` command: a Flask CLI group bound to the app factory, one subgroup per domain."""

from __future__ import annotations

import copy
import functools

import click
from alembic.util import CommandError
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy.exc import ArgumentError

from brokerage import create_app, jobs, settings
from brokerage.accounts.cli import accounts_group
from brokerage.auditpack.cli import audit_group
from brokerage.clusters.cli import clusters_group
from brokerage.commands import CommandGroup, fail
from brokerage.contracts.cli import contracts_group
from brokerage.demo.cli import demo_command
from brokerage.errors import ConfigError
from brokerage.ledger.cli import ledger_group
from brokerage.matching.cli import match_group
from brokerage.migrate import current_revision, revision_ids, upgrade
from brokerage.payments.cli import payments_group
from brokerage.places.cli import geo_group
from brokerage.surplus.cli import surplus_group
from brokerage.untrusted import shown


def _create_app() -> Flask:
    try:
        # Commands serve no web request, so they do not need SECRET_KEY; `run` checks it itself.
        return create_app(serving=False)
    except ConfigError as error:
        fail(error.message)
    except ArgumentError as error:  # DATABASE_URL is not an address SQLAlchemy can use (NoSuchModuleError too)
        fail(f"DATABASE_URL is not a database address carepool can use: {shown(str(error), 200)}")


class BrokerageGroup(CommandGroup, FlaskGroup):
    """The `brokerage` command: bad input and bad settings are one line on stderr, and `run` needs the secret."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        run = self.commands.get("run")
        if run is not None:
            self.add_command(_serving(run), "run")


def _serving(command: click.Command) -> click.Command:
    """Return a copy of a command that serves web requests, refusing to start without a proper secret."""
    original = command.callback

    @functools.wraps(original)
    def callback(*args, **kwargs):
        settings.check_secret(click.get_current_context().ensure_object(ScriptInfo).load_app().config)
        return original(*args, **kwargs)

    checked = copy.copy(command)
    checked.callback = callback
    return checked


@click.group(cls=BrokerageGroup, create_app=_create_app, add_default_commands=True, load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Carepool brokerage: pooled direct payments, an audited ledger and matching."""


@click.group("db", cls=CommandGroup)
def db_group() -> None:
    """Database schema migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    known = revision_ids()
    # Alembic's own forms (relative steps such as head+1, an empty name) can fail with a bare assertion.
    if revision not in ("head", "heads", *known):
        fail(f"REVISION must be head or a migration's id, such as {known[0]}, not '{shown(revision)}'")
    try:
        upgrade(revision)
    except CommandError as error:
        fail(f"cannot upgrade to '{shown(revision)}': {shown(str(error), 200)}")
    click.echo(f"Database is at {current_revision()}.")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the database's migration revision."""
    click.echo(current_revision() or "empty")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs already queued, then stop.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run queued jobs from Redis (needs REDIS_URL)."""
    if not current_app.config.get("REDIS_URL"):
        fail("REDIS_URL is not set; without it jobs run inline and no worker is needed")
    jobs.run_worker(current_app, burst=burst)


class BenchGroup(CommandGroup):
    """`brokerage bench`: its commands live in the brokerage_bench package, loaded only when looked up."""

    COMMANDS = ("audit", "ledger", "ledger-reads", "match")

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "audit":
            # Imported here for the same reason as the ledger bench below: the app never loads the benchmarks.
            from brokerage_bench.audit import bench_audit_command

            return bench_audit_command
        if name == "ledger":
            # Imported here, not at the top: the app (create_app registers this group) must never import
            # the benchmarks; only running or listing `brokerage bench ...` loads them.
            from brokerage_bench.ledger import bench_ledger_command

            return bench_ledger_command
        if name == "ledger-reads":
            # Imported here for the same reason: the app never loads the benchmarks.
            from brokerage_bench.ledger_reads import bench_ledger_reads_command

            return bench_ledger_reads_command
        if name == "match":
            # Imported here for the same reason: the app never loads the benchmarks.
            from brokerage_bench.match import bench_match_command

            return bench_match_command
        return None


@click.group("bench", cls=BenchGroup)
def bench_group() -> None:
    """Benchmarks that print their figures (JSON on the last line)."""


def register(app: Flask) -> None:
    """Attach every subcommand group to the app's CLI."""
    app.cli.add_command(db_group)
    app.cli.add_command(ledger_group)
    app.cli.add_command(worker)
    app.cli.add_command(accounts_group)
    app.cli.add_command(clusters_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(match_group)
    app.cli.add_command(payments_group)
    app.cli.add_command(contracts_group)
    app.cli.add_command(surplus_group)
    app.cli.add_command(bench_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(geo_group)


if __name__ == "__main__":
    main()
