"""`brokerage contracts`: daily housekeeping of contracts."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlmodel import select

from brokerage.accounts.models import Council
from brokerage.commands import COUNCIL_SLUG, CommandGroup
from brokerage.db import session_scope
from brokerage.formatting import plural
from brokerage.scheduled import end_contracts_job


@click.group("contracts", cls=CommandGroup)
def contracts_group() -> None:
    """Contracts between groups and providers."""


@contracts_group.command("end-due")
@click.option("--council", "council_slug", type=COUNCIL_SLUG, default=None, help="Short name of one council (default: every council).")
@with_appcontext
def end_due_command(council_slug: str | None) -> None:
    """End the contracts whose last day of care has passed (run daily; running it again changes nothing)."""
    with session_scope() as session:
        query = select(Council.id, Council.name).order_by(Council.id)
        if council_slug:
            query = query.where(Council.slug == council_slug)
        councils = list(session.exec(query))
    if council_slug and not councils:
        click.echo(f"error: there is no council called {council_slug!r}", err=True)
        sys.exit(2)
    for council_id, name in councils:
        ended = end_contracts_job(council_id=council_id)["ended"]
        click.echo(f"{name}: {plural(len(ended), 'contract')} ended")
