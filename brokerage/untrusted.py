"""Untrusted input from files: strict JSON decoding, and echoing what a file says on one short line.

A bottom-layer module with no Flask and no SQL, used by the matching engine and by every command
that reads a file. `strict_json` accepts only what RFC 8259 JSON means unambiguously and names
where anything else is (`demand[d-0001].hours: ...`). `shown` and `shown_value` turn text taken
from a file (an id, a key, a value) into something safe to put in a one-line message: escaped the
way Python's repr escapes (a newline is `\\n`, a lone surrogate `\\ud800`) and cut to about 60
characters with an ellipsis, so no file can break a message over two lines, forge a line of its
own, or fill a terminal.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import reprlib
from collections.abc import Callable

# Ids and values are cut to this many characters when echoed.
SHOWN_CHARS = 60
# A JSON number with more characters than this is refused (Python would otherwise spend time on,
# or refuse with its own message, a 5,000-digit integer).
MAX_NUMBER_CHARS = 100
# A JSON text that may hold a lone surrogate: \uD800 to \uDFFF, escaped (raw ones are not UTF-8).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """Return text escaped as repr escapes it (without quotes) and cut to `limit` characters with "…"."""
    pieces: list[str] = []
    used = 0
    for char in text:
        piece = char if char.isprintable() and char != "\\" else repr(char)[1:-1]
        if used + len(piece) > limit:
            # Too long: drop whole escapes until the ellipsis fits, never half of one.
            while pieces and used > limit - 1:
                used -= len(pieces.pop())
            pieces.append("…")
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces)


_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxstring = SHOWN_CHARS
_REPR.maxother = SHOWN_CHARS


def shown_value(value: object, limit: int = SHOWN_CHARS) -> str:
    """Return any decoded JSON value as one short line: strings quoted and escaped, lists and objects abridged."""
    if isinstance(value, str):
        return "'" + shown(value, limit) + "'"
    # reprlib stops at two levels, so a list nested thousands deep cannot exhaust the stack.
    return shown(_REPR.repr(value), limit)


class JSONProblem(ValueError):
    """A JSON text is not acceptable; `where` is the path of the value (empty when unknown)."""

    def __init__(self, problem: str, where: str = ""):
        super().__init__(f"{where}: {problem}" if where else problem)
        self.problem = problem
        self.where = where


class _Refused:
    """A number the decoder met that is not allowed, kept until its place in the file is known."""

    __slots__ = ("problem",)

    def __init__(self, problem: str):
        self.problem = problem


RecordName = Callable[[str, int, object], str]


def _by_position(list_key: str, index: int, item: object) -> str:
    return f"#{index}"


def strict_json(text: str, *, record_name: RecordName = _by_position) -> object:
    """Decode a JSON text, refusing what JSON does not mean plainly; raise JSONProblem naming where.

    Refused: duplicate keys in an object, NaN and Infinity, numbers of more than MAX_NUMBER_CHARS
    characters or too large for a float, lone surrogates (in keys or strings), and nesting too
    deep to decode. `record_name(list_key, index, item)` names an item of a list in paths, e.g.
    by its id; by default items are named by position (`#3`).
    """
    flagged: dict[int, tuple[dict, str]] = {}
    refused: list[_Refused] = []

    def pairs_hook(pairs: list) -> dict:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    flagged[id(obj)] = (obj, key)
                    break
                seen.add(key)
        return obj

    def refuse(problem: str) -> _Refused:
        mark = _Refused(problem)
        refused.append(mark)
        return mark

    def parse_constant(name: str) -> _Refused:
        return refuse(f"{name} is not a number JSON allows")

    def parse_int(digits: str) -> int | _Refused:
        if len(digits) > MAX_NUMBER_CHARS:
            return refuse(f"a number of {len(digits)} characters is too long "
                          f"(at most {MAX_NUMBER_CHARS})")
        return int(digits)

    def parse_float(digits: str) -> float | _Refused:
        if len(digits) > MAX_NUMBER_CHARS:
            return refuse(f"a number of {len(digits)} characters is too long "
                          f"(at most {MAX_NUMBER_CHARS})")
        value = float(digits)
        if not math.isfinite(value):
            return refuse(f"{shown(digits)} is too large a number")
        return value

    try:
        obj = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=parse_constant,
                         parse_int=parse_int, parse_float=parse_float)
    except RecursionError:
        raise JSONProblem("is nested too deeply to read (arrays and objects within each other "
                          "hundreds of levels deep)") from None
    except json.JSONDecodeError as exc:
        raise JSONProblem(f"is not valid JSON: {exc}") from None
    except ValueError as exc:  # a number Python itself cannot convert
        raise JSONProblem(f"is not valid JSON: {shown(str(exc), 120)}") from None
    if flagged or refused or _SURROGATE_ESCAPE.search(text):
        found = _first_problem(obj, flagged, record_name)
        if found is not None:
            raise JSONProblem(found[1], found[0])
    return obj


def _first_problem(root: object, flagged: dict, record_name: RecordName) -> tuple[str, str] | None:
    """Return (path, problem) of the first refused value in document order, walking without recursion."""
    stack: list[tuple[object, str]] = [(root, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Refused):
            return path, value.problem
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path, _surrogate_problem(value)
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                if _SURROGATE.search(key):
                    return _join(path, shown(key)), "the key " + _surrogate_problem(key)
                children.append((item, _join(path, shown(key))))
            dup = flagged.get(id(value))
            if dup is not None and dup[0] is value:
                return _join(path, shown(dup[1])), "duplicate key (each key may appear once)"
            stack.extend(reversed(children))
        elif isinstance(value, list):
            list_key = path.rsplit(".", 1)[-1]
            stack.extend(reversed([(item, f"{path}[{record_name(list_key, i, item)}]")
                                   for i, item in enumerate(value)]))
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _surrogate_problem(text: str) -> str:
    char = _SURROGATE.search(text).group()
    return f"holds a lone surrogate {repr(char)[1:-1]}, which is not a character (not valid Unicode)"


def has_lone_surrogate(text: str) -> bool:
    """Tell whether text holds half of a UTF-16 surrogate pair, which UTF-8 cannot write."""
    return _SURROGATE.search(text) is not None


def in_file_problem(path: str | os.PathLike) -> str | None:
    """Return why a file cannot be read as input (a device such as /dev/zero, which never ends), or None; reading says the rest."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None  # no such file, no permission, a NUL in the name: the read itself says so
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"cannot read {shown(os.fspath(path), 200)}: it is a device, not a file"
    return None


def out_file_problem(path: str | os.PathLike) -> str | None:
    """Return why a file cannot be written at `path` (no name, a folder, a device or pipe, no such folder), or None."""
    text = os.fspath(path)
    if not text:
        return "give the name of a file to write"
    name = shown(text, 200)
    try:
        mode = os.stat(text).st_mode
    except OSError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        return f"cannot write {name}: it is a folder, not a file"
    if mode is not None and not stat.S_ISREG(mode):
        # The file is written beside it and moved into place, which would replace the device or pipe itself.
        return f"cannot write {name}: it is not a plain file (a device, a pipe or a socket)"
    folder = os.path.dirname(text) or "."
    if not os.path.isdir(folder):
        return f"cannot write {name}: the folder {shown(folder, 200)} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write {name}: the folder {shown(folder, 200)} cannot be written to"
    return None
