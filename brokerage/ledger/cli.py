"""`brokerage ledger`: seal, verify, prove, check proofs and export. Commands act as each council's system user."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from brokerage.accounts.models import Council
from brokerage.accounts.system import system_actor
from brokerage.commands import COUNCIL_SLUG, DATE, ID, OUT_FILE, CommandGroup, InFileType, fail, writing
from brokerage.db import session_scope
from brokerage.untrusted import JSONProblem, shown, strict_json
from brokerage.errors import BrokerageError
from brokerage.formatting import plural
from brokerage.ledger import export
from brokerage.ledger.integrity import prove, seal, verify
from brokerage.ledger.merkle import check_proof
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.queries import council_of_entry


def _council_ids(session, slug: str | None) -> list[int]:
    if slug:
        council = session.execute(select(Council).where(Council.slug == slug)).scalar_one_or_none()
        if council is None:
            fail(f"there is no council called {slug!r}")
        return [council.id]
    return list(session.execute(select(Council.id).order_by(Council.id)).scalars())


@click.group("ledger", cls=CommandGroup)
def ledger_group() -> None:
    """The audited double-entry ledger."""


@ledger_group.command("seal")
@click.option("--council", "council_slug", type=COUNCIL_SLUG, default=None, help="Short name of one council (default: every council).")
@with_appcontext
def seal_command(council_slug: str | None) -> None:
    """Sequence new entries and seal them under a Merkle root chained to the last seal."""
    with session_scope() as session:
        for council_id in _council_ids(session, council_slug):
            record = seal(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id)
            if record is None:
                click.echo(f"council {council_id}: nothing new to seal")
            else:
                click.echo(f"council {council_id}: sealed sequence numbers {record.first_seq}–{record.last_seq}, root {record.root[:16]}…, seal {record.seal_hash[:16]}…")


@ledger_group.command("verify")
@click.option("--council", "council_slug", type=COUNCIL_SLUG, default=None, help="Short name of one council (default: every council).")
@with_appcontext
def verify_command(council_slug: str | None) -> None:
    """Recompute every balance, hash, sequence and seal; exit 1 naming the first problem."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # only this command draws a bar

    problems = []
    totals = {"entries": 0, "postings": 0, "accounts": 0, "seals": 0, "unsealed": 0}
    with session_scope() as session:
        councils = _council_ids(session, council_slug)
        total = session.execute(select(func.count()).select_from(JournalEntry).where(JournalEntry.council_id.in_(councils))).scalar_one()
        columns = (TextColumn("Verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task("verify", total=total)
            for council_id in councils:
                actor = system_actor(session=session, council_id=council_id, create=False)
                report = verify(session=session, actor=actor, council_id=council_id, progress=lambda n: progress.advance(task, n))
                problems.extend(report.problems)
                for key in totals:
                    totals[key] += getattr(report, key)
    summary = ", ".join(f"{value} {key}" for key, value in totals.items())
    if problems:
        click.echo(f"FAILED: {problems[0]}")
        if len(problems) > 1:
            click.echo(f"… and {plural(len(problems) - 1, 'more problem')}:")
            for problem in problems[1:20]:
                click.echo(f"  {problem}")
        click.echo(f"checked {summary}")
        sys.exit(1)
    click.echo(f"OK: checked {summary}")


@ledger_group.command("prove")
@click.argument("entry_id", type=ID)
@with_appcontext
def prove_command(entry_id: int) -> None:
    """Print a JSON inclusion proof of a sealed entry."""
    try:
        with session_scope() as session:
            council_id = council_of_entry(session=session, entry_id=entry_id)
            if council_id is None:
                fail(f"There is no entry {entry_id}.")
            proof = prove(session=session, actor=system_actor(session=session, council_id=council_id, create=False), entry_id=entry_id)
    except BrokerageError as error:
        fail(error.message)
    click.echo(json.dumps(proof, indent=2))


@ledger_group.command("check-proof")
@click.argument("proof_file", type=InFileType(dir_okay=False, allow_dash=True))
def check_proof_command(proof_file: str) -> None:
    """Check an inclusion proof against its seal's root, without the database."""
    try:
        text = sys.stdin.read() if proof_file == "-" else Path(proof_file).read_text(encoding="utf-8")
    except (OSError, ValueError) as error:
        fail(f"cannot read the proof: {shown(str(error), 300)}")
    try:
        # Strict: a duplicate key or NaN in a proof is refused, not quietly read one way.
        proof = strict_json(text)
    except JSONProblem as error:
        fail(f"the proof {error.problem}" if not error.where else f"the proof's {error.where}: {error.problem}")
    if not isinstance(proof, dict):
        fail("the proof must be a JSON object")
    ok, explanation = check_proof(proof)
    # The explanation may quote the file (a malformed field, a root): one short line all the same.
    click.echo(("OK: " if ok else "FAILED: ") + shown(explanation, 300))
    sys.exit(0 if ok else 1)


@ledger_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["beancount", "csv"]), required=True)
@click.option("--out", "out_path", type=OUT_FILE, required=True)
@click.option("--council", "council_slug", type=COUNCIL_SLUG, default=None, help="Short name of one council (default: every council).")
@click.option("--from", "start", type=DATE, default=None, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", type=DATE, default=None, help="Last day (YYYY-MM-DD).")
@with_appcontext
def export_command(fmt: str, out_path: str, council_slug: str | None, start, end) -> None:
    """Export the ledger to Beancount or CSV."""
    start_day: date | None = start
    end_day: date | None = end
    if start_day and end_day and start_day > end_day:
        fail("--from must not be after --to")
    target = Path(out_path)
    with session_scope() as session:
        bind = session.get_bind()
        if bind.dialect.name == "postgresql" and isinstance(bind, Engine):
            # One snapshot for the whole export, so balances and transactions agree under live writes.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        council_id = _council_ids(session, council_slug)[0] if council_slug else None
        writer = export.export_beancount if fmt == "beancount" else export.export_csv
        # Write to a temporary file and move it into place, so a failed export leaves nothing behind.
        with writing(target):
            handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", newline="" if fmt == "csv" else None, encoding="utf-8") as out:
                    summary = writer(session=session, council_id=council_id, start=start_day, end=end_day, out=out)
                os.replace(temp_name, target)
            except BaseException:
                Path(temp_name).unlink(missing_ok=True)
                raise
    click.echo(f"wrote {target}: {summary}")
