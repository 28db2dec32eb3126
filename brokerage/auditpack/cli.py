"""`brokerage audit`: the auditor pack of a council's quarter, written from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from brokerage.accounts.models import Council
from brokerage.auditpack.pack import FILES, snapshot_session, write_pack_file
from brokerage.auditpack.rules import Quarter, parse_quarter
from brokerage.commands import COUNCIL_SLUG, OUT_FILE, CommandGroup, fail, writing


class QuarterType(click.ParamType):
    """A quarter like 2026Q3 (1 July to 30 September 2026 in England)."""

    name = "quarter"

    def convert(self, value, param, ctx):
        """Return the quarter, or fail with a plain message."""
        if isinstance(value, Quarter):
            return value
        try:
            return parse_quarter(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


@click.group("audit", cls=CommandGroup)
def audit_group() -> None:
    """Council audit: the auditor pack of a quarter."""


@audit_group.command("pack")
@click.option("--council", "council_slug", type=COUNCIL_SLUG, required=True, help="Short name of the council.")
@click.option("--quarter", type=QuarterType(), required=True, help="The quarter, like 2026Q3 (July to September 2026).")
@click.option("--out", "out_path", type=OUT_FILE, required=True, help="The zip file to write.")
@with_appcontext
def pack_command(council_slug: str, quarter: Quarter, out_path: str) -> None:
    """Write a council's quarter as a zip: statements, timesheets, contracts, vetting, the ledger, seals, a README and a manifest."""
    target = Path(out_path)
    columns = (TextColumn("Writing {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # The snapshot's first query finds the council, so the pack and the check agree.
    with snapshot_session() as session:
        council_id = session.execute(select(Council.id).where(Council.slug == council_slug)).scalar_one_or_none()
        if council_id is None:
            fail(f"there is no council called {council_slug!r}")
        with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task("the pack", total=len(FILES))
            started = []

            def step(name: str) -> None:
                if started:
                    progress.advance(task)
                started.append(name)
                progress.update(task, description=name)

            with writing(target):
                written = write_pack_file(session=session, council_id=council_id, quarter=quarter, target=target, progress=step)
            progress.advance(task)
    click.echo(f"wrote {target} ({written.size:,} bytes, SHA-256 {written.sha256}): {written.summary}")
