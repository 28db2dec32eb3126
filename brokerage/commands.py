"""Shared pieces of the `brokerage` commands: one-line errors and parameter types using the shared rules.

Bad input at the command line is one line on stderr and exit code 2, never a traceback. Every
subcommand group is a `CommandGroup`, which turns domain errors and click's usage errors into that
line, and the parameter types here read ids, dates and text with the same rules as the forms.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import click
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError, ProgrammingError

from brokerage import validation
from brokerage.errors import BrokerageError
from brokerage.untrusted import SHOWN_CHARS, in_file_problem, out_file_problem, shown

BAD_INPUT = 2


def fail(message: str, code: int = BAD_INPUT) -> None:
    """Print one line on stderr and exit (2: bad input)."""
    click.echo(f"error: {' '.join(str(message).split())}", err=True)
    sys.exit(code)


def describe(error) -> str:
    """Return a domain error as one line, naming each field that is wrong."""
    errors = getattr(error, "errors", None)
    if errors:
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
    return error.message


# click quotes the value it refuses whole ("'99…9' is not a valid integer"): a 10 MB argument would be a 10 MB line.
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def _short(value: str) -> str:
    # Printable text may already be escaped by click (a newline in a file name shows as backslash n): cut it, escape nothing.
    if value.isprintable():
        return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS - 1] + "…"
    return shown(value)


def _usage_line(error: click.UsageError) -> str:
    command = error.ctx.command_path if error.ctx is not None else "brokerage"
    message = _QUOTED.sub(lambda quoted: f"'{_short(quoted.group(1) or quoted.group(2) or '')}'", error.format_message())
    message = " ".join(message.split())  # click's own words run over lines at times ("Choose from:\n\tcsv")
    if len(message) > 400:
        message = message[:399] + "…"
    return f"{message} (see {command} --help)"


class CommandGroup(click.Group):
    """A subcommand group whose commands answer bad input with one line on stderr and exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Read the group's own options, a wrong one being one line too (`brokerage --nosuch`, `brokerage -e missing.env`)."""
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            fail(_usage_line(error))

    def invoke(self, ctx: click.Context):
        """Run the subcommand, turning usage and domain errors into one line."""
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            fail(_usage_line(error))
        except click.ClickException as error:
            fail(error.format_message(), error.exit_code or 1)
        except BrokerageError as error:
            fail(describe(error))
        except RecursionError:
            # json.load of "[[[[…" thousands deep: the file is bad input, not a crash.
            fail("the file is nested too deeply to read")
        except (OperationalError, ProgrammingError) as error:
            problem = database_problem(error)
            if problem is None:
                raise
            fail(problem, 1)
        except RedisConnectionError as error:
            # Not bad input (exit 1, as for a database that cannot be reached), but one line all the same.
            fail(f"cannot reach Redis at REDIS_URL: {shown(str(error), 200)}", 1)


def database_problem(error) -> str | None:
    """Return one line for a database that cannot be used (not migrated, not reachable), or None for anything else."""
    text = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(getattr(error, "orig", error)).strip() else ""
    if "no such table" in text or "does not exist" in text and "relation" in text:
        return "the database has no tables yet: run `brokerage db upgrade` first"
    if isinstance(error, OperationalError):
        return f"cannot use the database at DATABASE_URL: {text}"
    return None


class IdType(click.ParamType):
    """A database id: ASCII digits from 1 to 2^31 - 1."""

    name = "id"

    def convert(self, value, param, ctx):
        """Return the id, or fail with a plain message."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        try:
            return validation.parse_id(value, what=param.human_readable_name if param else "id")
        except ValueError as error:
            self.fail(str(error), param, ctx)


class DateType(click.ParamType):
    """A date as YYYY-MM-DD, read with the one date parser."""

    name = "date"

    def convert(self, value, param, ctx):
        """Return the date, or fail with a plain message."""
        if isinstance(value, date):
            return value
        try:
            return validation.parse_date(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


class TextType(click.ParamType):
    """One line of text without control characters, at most `max_length` characters."""

    name = "text"

    def __init__(self, max_length: int = 200) -> None:
        self.max_length = max_length

    def convert(self, value, param, ctx):
        """Return the text, or fail with a plain message."""
        if validation.has_control_characters(value):
            self.fail(validation.CONTROL_MESSAGE, param, ctx)
        if len(value) > self.max_length:
            self.fail(f"use {self.max_length} characters or fewer", param, ctx)
        return value


class OutFileType(click.ParamType):
    """A file to write: a plain file or none yet, in a folder that exists (never a folder, a device or a pipe)."""

    name = "file"

    def convert(self, value, param, ctx):
        """Return the path, or fail with a plain message."""
        problem = out_file_problem(value)
        if problem is not None:
            self.fail(problem, param, ctx)
        return value


class InFileType(click.Path):
    """A file to read (`click.Path`), refusing a device such as /dev/zero, which would be read for ever."""

    def convert(self, value, param, ctx):
        """Return the path, or fail with a plain message."""
        path = super().convert(value, param, ctx)
        problem = None if self.allow_dash and path == "-" else in_file_problem(path)
        if problem is not None:
            self.fail(problem, param, ctx)
        return path


class SecondsType(click.FloatRange):
    """A number of seconds between two bounds; NaN, which every comparison lets through, is refused."""

    def convert(self, value, param, ctx):
        """Return the seconds, or fail with a plain message."""
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail(f"give a number of seconds from {self.min:g} to {self.max:g}, not {shown(str(value), 40)}", param, ctx)
        return seconds


class PromptAtTerminal(click.Option):
    """An option asked for when it is left out, but only at a terminal: elsewhere the prompt could only read end of file."""

    def prompt_for_value(self, ctx: click.Context):
        """Ask at a terminal; with none (cron, a pipe, /dev/null), say the option is missing on one line."""
        if not sys.stdin.isatty():
            raise click.MissingParameter(ctx=ctx, param=self)
        return super().prompt_for_value(ctx)


@contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    """Turn a failure to write the file at `path` (a full disk, a folder made read-only meanwhile) into one line."""
    try:
        yield
    except OSError as error:
        fail(f"cannot write {shown(os.fspath(path), 200)}: {error.strerror or error}")


ID = IdType()
DATE = DateType()
OUT_FILE = OutFileType()


class CouncilSlugType(click.ParamType):
    """A council's short name (lower-case letters, digits and hyphens), as the council form requires."""

    name = "council"

    def convert(self, value, param, ctx):
        """Return the short name, or fail with a plain message (an empty one would mean "every council")."""
        text = str(value).strip()
        if not text or len(text) > 40 or not validation.SLUG.match(text):
            self.fail(f"give a council's short name, like riverside ({validation.SLUG_MESSAGE.lower()})", param, ctx)
        return text


COUNCIL_SLUG = CouncilSlugType()
