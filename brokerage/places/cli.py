"""`brokerage geo import FILE.csv`: load the centroids of postcodes (the ONS Postcode Directory's columns) and of their districts."""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator

import click
from flask.cli import with_appcontext
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from brokerage.commands import CommandGroup, InFileType, fail
from brokerage.db import session_scope
from brokerage.formatting import plural
from brokerage.places.rules import BadFile, Centroid, find_columns, read_row
from brokerage.places.services import BATCH_SIZE, Stored, store_centroids, work_out_districts
from brokerage.untrusted import shown


@click.group("geo", cls=CommandGroup)
def geo_group() -> None:
    """Postcodes and where they are."""


def _stored(done: Stored) -> str:
    return f"{done.added:,} added, {done.changed:,} changed, {done.unchanged:,} unchanged"


class _Lines:
    """The file's lines as text, counting the bytes read for the progress bar."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.bytes_read = 0
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.number += 1
            self.bytes_read += len(raw)
            try:
                yield raw.decode("utf-8-sig" if self.number == 1 else "utf-8")
            except UnicodeDecodeError:
                fail(f"line {self.number} is not UTF-8 text: save the file as UTF-8 CSV")


@geo_group.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=InFileType(exists=True, dir_okay=False, readable=True))
@click.option("--districts/--no-districts", default=True, show_default=True,
              help="Also set each district's centre to the mean of its postcodes (a district the file gives itself keeps the file's).")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=BATCH_SIZE, show_default=True, help="Rows written per statement.")
@with_appcontext
def import_command(csv_file: str, districts: bool, batch_size: int) -> None:
    """Load postcode centroids from a CSV with a postcode column (pcds, pcd, pcd2 or postcode), lat and long (or lon, longitude).

    The ONS Postcode Directory's file works as it is. Postcodes it has no location for (latitude
    99.999999) are skipped and counted. Running it again with the same file changes nothing. Any
    other row that cannot be read stops the import with nothing saved.
    """
    postcodes, district_rows, skipped, rows = Stored(), Stored(), 0, 0
    seen: set[str] = set()
    given: set[str] = set()
    size = os.path.getsize(csv_file)
    columns = (TextColumn("Importing postcodes"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    with open(csv_file, "rb") as handle, session_scope() as session, \
            Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as progress:
        lines = _Lines(handle)
        reader = csv.reader(iter(lines))
        try:
            header = next(reader, None)
            if header is None:
                fail(f"{shown(csv_file, 200)} is empty: it needs a header row naming the postcode, lat and long columns")
            found = find_columns(header)
            task = progress.add_task("import", total=size)
            batch: list[Centroid] = []
            for values in reader:
                if not any(value.strip() for value in values):
                    continue
                rows += 1
                try:
                    centroid = read_row(values, found)
                except BadFile as error:
                    fail(f"line {reader.line_num}: {error}; nothing was imported")
                if centroid is None:
                    skipped += 1
                    continue
                (given if centroid.is_district else seen).add(centroid.district)
                batch.append(centroid)
                if len(batch) >= batch_size:
                    postcodes += store_centroids(session=session, centroids=batch)
                    batch = []
                    progress.update(task, completed=lines.bytes_read)
            postcodes += store_centroids(session=session, centroids=batch)
            progress.update(task, completed=size)
        except BadFile as error:
            fail(str(error))
        except csv.Error as error:
            fail(f"line {reader.line_num} is not valid CSV: {error}")
        if districts:
            district_rows = work_out_districts(session=session, districts=seen - given)
    click.echo(f"Read {plural(rows, 'row')} from {csv_file}.")
    click.echo(f"Postcodes and districts in the file: {_stored(postcodes)}.")
    click.echo(f"Skipped {plural(skipped, 'postcode')} the file gives no location for.")
    if districts:
        click.echo(f"District centres worked out from their postcodes: {_stored(district_rows)}.")
