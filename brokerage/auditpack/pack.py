"""Write a quarter's auditor pack: a zip of CSV files, the ledger in CSV and Beancount, a README and a manifest.

The pack reads one consistent snapshot (`snapshot_session`: REPEATABLE READ on PostgreSQL, one read
transaction on SQLite) and writes nothing to the database. Each file is streamed into the zip as it
is made, with its SHA-256 counted on the way, so a big council's quarter is never held in memory.
`write_pack_file` writes to a temporary file beside the target and moves it into place, so a failed
pack leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, TextIO

from flask import Flask, current_app
from sqlalchemy.engine import Engine
from sqlmodel import Session

from brokerage import clock
from brokerage.accounts.models import Council
from brokerage.auditpack import readme, sections
from brokerage.auditpack.rules import Quarter, manifest_line
from brokerage.db import reading_only
from brokerage.errors import NotFound
from brokerage.ledger.export import export_both

# The files in the order they are written; the progress bar counts them.
FILES = (readme.STATEMENTS, readme.TIMESHEETS, readme.CONTRACTS, readme.VETTING, readme.LEDGER_CSV, readme.LEDGER_BEANCOUNT,
         readme.SEALS, readme.README, readme.MANIFEST)
Progress = Callable[[str], None]
# The Beancount file is held in memory up to this size while the CSV is written, then on disk.
SPOOL_BYTES = 64 << 20


@contextmanager
def snapshot_session(app: Flask | None = None) -> Iterator[Session]:
    """Yield a session that reads one consistent snapshot and writes nothing; it is rolled back at the end.

    On PostgreSQL the transaction is REPEATABLE READ, as `brokerage ledger export` does, so files made
    minutes apart still agree; on SQLite it begins without the write lock, so writers are not held up.
    """
    app = app or current_app
    with reading_only():
        session = app.extensions["db_sessionmaker"]()
        try:
            bind = session.get_bind()
            if bind.dialect.name == "postgresql" and isinstance(bind, Engine):
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session
        finally:
            session.rollback()
            session.close()


class _Counted(io.RawIOBase):
    """A write-only stream that passes bytes on to a zip member while counting their SHA-256 and size."""

    def __init__(self, target: BinaryIO | None) -> None:
        super().__init__()
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.target is None:
            return len(data)
        self.target.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)


@dataclass
class PackSummary:
    """What a pack holds: each file's size and SHA-256, and the counts the README gives."""

    files: dict[str, tuple[int, str]] = field(default_factory=dict)
    facts: readme.PackFacts | None = None

    def __str__(self) -> str:
        f = self.facts
        if f is None:
            return f"{len(self.files)} files"
        return (f"{len(self.files)} files: {f.accounts} statements, {f.timesheet_lines} timesheet lines, {f.contracts} contracts, "
                f"{f.providers} providers' vetting, {f.entries} ledger entries, {f.seals} seals")


class _Zip:
    """A zip being written, one text member at a time."""

    def __init__(self, out: BinaryIO, summary: PackSummary, progress: Progress | None) -> None:
        # The fastest deflate: a big council's pack is tens of megabytes of text, and level 6 makes it only a tenth smaller.
        self.archive = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.summary = summary
        self.progress = progress

    @contextmanager
    def text(self, name: str) -> Iterator[TextIO]:
        """Yield a text stream (UTF-8, newlines as written) into a new member; count its hash when it closes."""
        if self.progress:
            self.progress(name)
        with self.archive.open(name, "w", force_zip64=True) as member:
            counted = _Counted(member)
            stream = io.TextIOWrapper(io.BufferedWriter(counted, buffer_size=1 << 16), encoding="utf-8", newline="")
            try:
                yield stream
                stream.flush()
            finally:
                # After a failure, what is still buffered is dropped when the stream is collected, never written to a closed member.
                counted.target = None
        self.summary.files[name] = (counted.size, counted.digest.hexdigest())

    def close(self) -> None:
        """Finish the zip's directory."""
        self.archive.close()


def write_pack(*, session: Session, council_id: int, quarter: Quarter, out: BinaryIO, made_at: datetime | None = None,
               progress: Progress | None = None) -> PackSummary:
    """Write the pack of one council's quarter into `out` (a binary file) and return what it holds.

    Raises NotFound for a council that does not exist. `progress(file name)` is called as each file starts.
    """
    council = session.get(Council, council_id)
    if council is None:
        raise NotFound()
    made_at = made_at or clock.now()
    today = clock.london(made_at).date()
    as_of = min(quarter.last_day, today)
    summary = PackSummary()
    pack = _Zip(out, summary, progress)
    try:
        with pack.text(readme.STATEMENTS) as stream:
            accounts, _ = sections.write_statements(session=session, council_id=council_id, quarter=quarter, out=stream)
        with pack.text(readme.TIMESHEETS) as stream:
            timesheet_lines = sections.write_timesheets(session=session, council_id=council_id, quarter=quarter, out=stream)
        contracts = sections.live_contracts(session=session, council_id=council_id, quarter=quarter)
        with pack.text(readme.CONTRACTS) as stream:
            sections.write_contracts(contracts=contracts, today=today, out=stream)
        providers = {contract.provider_id for contract, _, _ in contracts}
        providers |= sections.paid_provider_ids(session=session, council_id=council_id, quarter=quarter)
        with pack.text(readme.VETTING) as stream:
            sections.write_vetting(session=session, council_id=council_id, quarter=quarter, provider_ids=providers, as_of=as_of, out=stream)
        # One pass over the quarter's entries writes both files; the Beancount one waits in a spool while the zip takes the CSV.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8", newline="") as beancount:
            with pack.text(readme.LEDGER_CSV) as stream:
                ledger, _ = export_both(session=session, council_id=council_id, start=quarter.first_day, end=quarter.last_day, zone=clock.LONDON,
                                        csv_out=stream, beancount_out=beancount)
            beancount.seek(0)
            with pack.text(readme.LEDGER_BEANCOUNT) as stream:
                shutil.copyfileobj(beancount, stream, 1 << 20)
        with pack.text(readme.SEALS) as stream:
            seals = sections.write_seals(session=session, council_id=council_id, out=stream)
        summary.facts = readme.PackFacts(
            council_name=council.name, council_slug=council.slug, council_id=council.id, quarter=quarter, made_at=made_at,
            accounts=accounts, timesheet_lines=timesheet_lines, contracts=len(contracts), providers=len(providers),
            entries=ledger.entries, seals=seals,
        )
        with pack.text(readme.README) as stream:
            stream.write(readme.readme_text(summary.facts))
        lines = [manifest_line(name, digest) for name, (_, digest) in summary.files.items()]
        with pack.text(readme.MANIFEST) as stream:
            stream.write("".join(lines))
    finally:
        pack.close()
    return summary


@dataclass(frozen=True)
class WrittenPack:
    """A pack file in place: where, how big, its SHA-256, and what it holds."""

    path: Path
    size: int
    sha256: str
    summary: PackSummary


def write_pack_file(*, session: Session, council_id: int, quarter: Quarter, target: Path, made_at: datetime | None = None,
                    progress: Progress | None = None) -> WrittenPack:
    """Write the pack to a temporary file beside `target` and move it into place; nothing is left behind on failure."""
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".audit-pack-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w+b") as out:
            summary = write_pack(session=session, council_id=council_id, quarter=quarter, out=out, made_at=made_at, progress=progress)
            out.flush()
            os.fsync(out.fileno())
        size, digest = file_digest(Path(temp_name))
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return WrittenPack(path=target, size=size, sha256=digest, summary=summary)


def file_digest(path: Path) -> tuple[int, str]:
    """Return a file's size in bytes and its SHA-256, read a megabyte at a time."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
