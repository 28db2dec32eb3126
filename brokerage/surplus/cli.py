"""`brokerage surplus`: the daily review that raises and closes surplus flags on pool shares."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlmodel import select

from brokerage.accounts.models import Council
from brokerage.commands import COUNCIL_SLUG, CommandGroup, fail
from brokerage.db import session_scope
from brokerage.formatting import plural
from brokerage.surplus.review import review_job


@click.group("surplus", cls=CommandGroup)
def surplus_group() -> None:
    """Unspent money in pool shares: flags and clawbacks."""


@surplus_group.command("review")
@click.option("--council", "council_slug", type=COUNCIL_SLUG, default=None, help="Short name of one council (default: every council).")
@with_appcontext
def review_command(council_slug: str | None) -> None:
    """Raise, update and close surplus flags under each council's rule (run daily; running it again the same day changes nothing)."""
    with session_scope() as session:
        query = select(Council.id, Council.name).order_by(Council.id)
        if council_slug:
            query = query.where(Council.slug == council_slug)
        councils = list(session.exec(query))
    if council_slug and not councils:
        fail(f"there is no council called {council_slug!r}")
    for council_id, name in councils:
        # Each council in its own transaction, as the daily job does: one council's trouble holds up no other.
        done = review_job(council_id=council_id)
        line = (f"{name}: {plural(done['opened'], 'new flag')}, {done['updated']} changed, {done['kept']} unchanged, "
                f"{done['closed']} closed")
        if done["withdrawn"]:
            line += f", {plural(done['withdrawn'], 'waiting clawback')} withdrawn"
        click.echo(line)
