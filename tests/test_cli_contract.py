"""Every command answers bad input with exit 2 and one line on stderr, and writes nothing: files to write, odd text, revisions."""

from __future__ import annotations

import errno
import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from brokerage.accounts.models import Council, User
from tests.matching.conftest import SPEC_INSTANCE

PASSWORD = "a long enough password 42"
# What the bytes of an argument that is not UTF-8 (b"\xff") become in Python's sys.argv.
NOT_UTF8 = "\udcff"


def _one_line_error(result) -> str:
    assert result.exit_code == 2, (result.output, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def _writing_command(name: str, tmp_path, out: str) -> list[str]:
    """Return the arguments of a command that writes a file at `out`."""
    if name == "match solve":
        instance = tmp_path / "instance.json"
        instance.write_text(json.dumps(SPEC_INSTANCE), encoding="utf-8")
        return ["match", "solve", str(instance), "--out", out]
    return {
        "ledger export": ["ledger", "export", "--format", "csv", "--out", out],
        "audit pack": ["audit", "pack", "--council", "council-a", "--quarter", "2026Q3", "--out", out],
        "match generate": ["match", "generate", "--scale", "S", "--out", out],
    }[name]


WRITING_COMMANDS = ["ledger export", "audit pack", "match solve", "match generate"]


@pytest.mark.parametrize("command", WRITING_COMMANDS)
def test_an_empty_output_name_is_one_line_not_a_traceback(runner, world, tmp_path, command):
    line = _one_line_error(runner.invoke(args=_writing_command(command, tmp_path, "")))
    assert "give the name of a file to write" in line


@pytest.mark.parametrize("command", WRITING_COMMANDS)
def test_an_output_that_is_a_pipe_or_device_is_refused_not_replaced_by_a_file(runner, world, tmp_path, command):
    # As root, `--out /dev/null` was replaced by the export itself: the file is written beside the target and moved onto it.
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    line = _one_line_error(runner.invoke(args=_writing_command(command, tmp_path, str(pipe))))
    assert "it is not a plain file" in line and f"cannot write {pipe}" in line
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


@pytest.mark.parametrize("command", ["ledger export", "audit pack"])
def test_a_failure_while_writing_the_output_is_one_line_and_leaves_nothing(runner, world, tmp_path, monkeypatch, command):
    out = tmp_path / "out.file"
    real_replace = os.replace

    def disk_full(source, target, *args, **kwargs):
        if os.fspath(target) == str(out):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", disk_full)
    line = _one_line_error(runner.invoke(args=_writing_command(command, tmp_path, str(out))))
    assert line == f"error: cannot write {out}: No space left on device"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["accounts", "create-council", "--slug", "surrogate", "--name", "Council " + NOT_UTF8],
    ["accounts", "create-user", "--email", "someone@example.org", "--name", "Ann " + NOT_UTF8, "--role", "admin", "--password", PASSWORD],
    ["accounts", "create-user", "--email", f"someone@exa{NOT_UTF8}mple.org", "--name", "Ann", "--role", "admin", "--password", PASSWORD],
], ids=["council-name", "user-name", "email-domain"])
def test_an_argument_that_is_not_utf8_is_one_line_naming_the_field_and_saves_nothing(runner, world, session, args):
    line = _one_line_error(runner.invoke(args=args))
    assert "hidden characters" in line and line.split(": ")[1] in ("name", "email")
    assert session.exec(select(Council).where(Council.slug == "surrogate")).first() is None
    assert session.exec(select(User).where(User.email.like("someone@%"))).first() is None


def test_a_demo_password_that_is_not_utf8_is_one_line(runner, world):
    assert "--password" in _one_line_error(runner.invoke(args=["demo", "--password", "demo " + NOT_UTF8]))


def test_a_council_name_of_spaces_only_is_refused(runner, world, session):
    line = _one_line_error(runner.invoke(args=["accounts", "create-council", "--slug", "blank", "--name", "   "]))
    assert line == "error: name: Enter the council's name"
    assert session.exec(select(Council).where(Council.slug == "blank")).first() is None


@pytest.mark.parametrize("revision", ["", "head+1", "base", "x" * 10_000])
def test_a_revision_that_is_not_a_migration_is_one_short_line_not_an_assertion(runner, revision):
    line = _one_line_error(runner.invoke(args=["db", "upgrade", revision]))
    assert line.startswith("error: REVISION must be head or a migration's id") and len(line) < 200


@pytest.mark.parametrize("content", [b"[]", b"not a pickle \xff", b""], ids=["json", "text", "empty"])
def test_a_keep_file_the_local_stripe_server_did_not_write_is_one_line_and_kept_as_it_is(runner, tmp_path, content):
    pytest.importorskip("localstripe")
    keep = tmp_path / "store.pickle"
    keep.write_bytes(content)
    line = _one_line_error(runner.invoke(args=["payments", "local-stripe", "--port", "1", "--keep", str(keep)]))
    assert line.startswith(f"error: the file to keep the store in, {keep}, holds something else")
    assert keep.read_bytes() == content


def test_a_redis_that_cannot_be_reached_is_one_line_and_exit_1_like_the_database(app, runner):
    from brokerage.cli import main  # the `brokerage` command itself: `worker` is not in a subcommand group

    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    result = runner.invoke(main, ["worker", "--burst"])
    assert result.exit_code == 1, (result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach Redis at REDIS_URL: ")


@pytest.mark.parametrize("args", [["payments", "catch-up"], ["payments", "reconcile", "--since", "2026-11-01"]], ids=["catch-up", "reconcile"])
def test_stripe_that_cannot_be_reached_is_one_line_and_exit_3(app, runner, world, args):
    app.config.update(STRIPE_SECRET_KEY="sk_test_unreachable", STRIPE_API_BASE="http://127.0.0.1:1")
    result = runner.invoke(args=args)
    assert result.exit_code == 3, (result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Stripe could not be asked"), result.stderr


def test_a_password_left_out_with_no_terminal_to_ask_at_is_one_line_not_aborted(runner, world, session):
    # The prompt read end of file: "Aborted!" and exit 1, after getpass's warning that the password may be echoed.
    result = runner.invoke(args=["accounts", "create-user", "--email", "someone@example.org", "--name", "Ann", "--role", "admin"], input="")
    assert _one_line_error(result).startswith("error: Missing option '--password'.")
    assert session.exec(select(User).where(User.email == "someone@example.org")).first() is None


@pytest.mark.parametrize("args", [
    ["match", "generate", "--scale", "S", "--seed", "9" * 5000, "--out", "{tmp}/instance.json"],
    ["accounts", "create-user", "--email", "a@example.org", "--name", "Ann", "--role", "x" * 1_000_000, "--password", PASSWORD],
    ["ledger", "no-such-command-" + "x" * 100_000],
    ["geo", "import", "{tmp}/" + "a\nb" * 2000 + ".csv"],
], ids=["int", "choice", "command", "file-name"])
def test_a_huge_value_click_refuses_is_echoed_short_and_escaped(runner, world, tmp_path, args):
    # click quotes the value whole: a 5,000-digit --seed was a 5,000-character line, a 1 MB --role a 1 MB one.
    line = _one_line_error(runner.invoke(args=[a.replace("{tmp}", str(tmp_path)) for a in args]))
    assert len(line) < 500 and "…" in line



@pytest.mark.parametrize("args", [
    ["match", "solve", "/dev/null", "--out", "{tmp}/solution.json"],
    ["match", "check", "{tmp}/instance.json", "/dev/null"],
    ["ledger", "check-proof", "/dev/null"],
    ["geo", "import", "/dev/null"],
], ids=["match solve", "match check", "check-proof", "geo import"])
def test_a_device_given_as_a_file_to_read_is_refused_before_reading(runner, world, tmp_path, args):
    # /dev/zero never ends: each command read it into memory until MemoryError (or the machine's memory ran out).
    (tmp_path / "instance.json").write_text(json.dumps(SPEC_INSTANCE), encoding="utf-8")
    line = _one_line_error(runner.invoke(args=[a.replace("{tmp}", str(tmp_path)) for a in args]))
    assert "cannot read /dev/null: it is a device, not a file" in line
    assert not (tmp_path / "solution.json").exists()


def _two_gigabytes_at_most() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _run_cli(args: list[str], tmp_path, **env) -> subprocess.CompletedProcess:
    """Run the `brokerage` command in a process of its own, with at most 2 GB of memory."""
    root = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}", "CAREPOOL_ENV": "development", **env}
    command = [sys.executable, "-c", "from brokerage.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120,
                          preexec_fn=_two_gigabytes_at_most)


@pytest.mark.long
def test_dev_zero_as_the_instance_is_one_line_not_a_memory_error(tmp_path):
    result = _run_cli(["match", "solve", "/dev/zero", "--out", str(tmp_path / "s.json")], tmp_path)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == ["error: cannot read /dev/zero: it is a device, not a file"]


@pytest.mark.long
def test_a_database_address_of_an_unknown_kind_is_echoed_short(tmp_path):
    result = _run_cli(["ledger", "verify"], tmp_path, DATABASE_URL="bogus" + "x" * 5000 + "://x")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: DATABASE_URL is not") and len(lines[0]) < 400


@pytest.mark.parametrize("args", [["--nosuch"], ["-e", "/no/such/file.env", "ledger", "verify"]], ids=["unknown-option", "missing-env-file"])
def test_a_wrong_option_of_brokerage_itself_is_one_line_not_the_usage(runner, args):
    from brokerage.cli import main

    # click printed "Usage: brokerage [OPTIONS] COMMAND [ARGS]...", a hint, a blank line and the error: four lines.
    _one_line_error(runner.invoke(main, args))
