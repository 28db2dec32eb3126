"""Read and write matching JSON files: strict decoding, stable encoding, atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from brokerage.matching.errors import InstanceError


class FileProblem(InstanceError):
    """A file could not be read, decoded or written."""


def _reject_constant(name: str):
    # JSON has no NaN or Infinity; Python's decoder accepts them unless told not to.
    raise ValueError(f"{name} is not valid JSON")


def read_json(path: str | os.PathLike) -> object:
    """Return the decoded content of a JSON file, or raise FileProblem with one clear line."""
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FileProblem(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(f"{name} is not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise FileProblem(f"{name} is not valid JSON: {exc}") from None


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
        raise FileProblem(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp makes the file private; give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileProblem(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
