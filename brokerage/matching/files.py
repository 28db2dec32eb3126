"""Read and write matching JSON files: strict decoding, stable encoding, atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from brokerage.matching.errors import InstanceError
from brokerage.matching.instance import record_name
from brokerage.untrusted import JSONProblem, in_file_problem, out_file_problem, shown, strict_json


class FileProblem(InstanceError):
    """A file could not be read, decoded or written."""


def shown_path(path: str | os.PathLike) -> str:
    """Return a file name as it may appear in a one-line message (escaped, and cut when very long)."""
    return shown(os.fspath(path), 200)


def read_json(path: str | os.PathLike) -> object:
    """Return the strictly decoded content of a JSON file, or raise FileProblem with one clear line.

    Duplicate keys, NaN and Infinity, numbers of more than 100 characters, lone surrogates and
    nesting too deep to decode are refused, naming the record and the field where they are.
    """
    name = shown_path(path)
    if (problem := in_file_problem(path)) is not None:
        raise FileProblem(problem)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FileProblem(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(f"{name} is not UTF-8 text") from None
    try:
        return strict_json(text, record_name=record_name)
    except JSONProblem as exc:
        if exc.where:
            raise FileProblem(f"{exc.where}: {exc.problem}", field=exc.where) from None
        raise FileProblem(f"{name} {exc.problem}") from None


def check_writable(path: str | os.PathLike) -> None:
    """Raise FileProblem unless a file could be written at `path` (its folder exists; it is a plain file or none)."""
    problem = out_file_problem(path)
    if problem is not None:
        raise FileProblem(problem)


def encode(obj: dict, list_keys: tuple[str, ...]) -> str:
    """Return a JSON document with one record per line in each of `list_keys`, stably ordered."""
    parts = ["{"]
    keys = list(obj)
    for n, key in enumerate(keys):
        value = obj[key]
        comma = "," if n < len(keys) - 1 else ""
        if key in list_keys and isinstance(value, list) and value:
            parts.append(f"  {json.dumps(key)}: [")
            records = [
                "    " + json.dumps(rec, ensure_ascii=False, allow_nan=False) for rec in value
            ]
            parts.append(",\n".join(records))
            parts.append(f"  ]{comma}")
        else:
            parts.append(
                f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False, allow_nan=False)}"
                f"{comma}"
            )
    parts.append("}")
    return "\n".join(parts) + "\n"


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write text to a file so that readers see either the old file or the whole new one."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise FileProblem(f"cannot write {shown_path(path)}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp makes the file private; give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileProblem(f"cannot write {shown_path(path)}: {exc.strerror or exc}") from None
    except UnicodeEncodeError:
        Path(tmp).unlink(missing_ok=True)
        raise FileProblem(f"cannot write {shown_path(path)}: the text holds a lone surrogate, "
                          "which UTF-8 cannot write") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
