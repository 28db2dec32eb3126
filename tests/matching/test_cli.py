"""The `match` commands: solve, check and generate files, failing cleanly on bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from brokerage.matching.cli import match_group
from brokerage_bench.match import bench_match_command
from tests.matching.conftest import instance_of, line, supplier


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def test_generate_solve_and_check_round_trip(runner, tmp_path):
    instance, solution = tmp_path / "instance.json", tmp_path / "solution.json"
    made = runner.invoke(match_group, ["generate", "--scale", "S", "--seed", "5",
                                       "--out", str(instance)])
    assert made.exit_code == 0, made.output
    solved = runner.invoke(match_group, ["solve", str(instance), "--out", str(solution)])
    assert solved.exit_code == 0, solved.output
    checked = runner.invoke(match_group, ["check", str(instance), str(solution)])
    assert checked.exit_code == 0, checked.output
    covered = json.loads(solution.read_text(encoding="utf-8"))["covered_hours"]
    assert f"covered hours: {covered}\nmaximum possible hours: {covered}\n" in checked.stdout


def test_solve_writes_the_same_bytes_every_time(runner, tmp_path, spec_instance):
    source = tmp_path / "instance.json"
    source.write_text(json.dumps(spec_instance), encoding="utf-8")
    outputs = []
    for name in ("a.json", "b.json"):
        assert runner.invoke(match_group, ["solve", str(source), "--out",
                                           str(tmp_path / name)]).exit_code == 0
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    assert "£21.50 an hour" in outputs[0].decode("utf-8")


def test_check_exits_1_and_lists_problems_for_an_invalid_solution(runner, tmp_path,
                                                                  spec_instance):
    source, answer = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(json.dumps(spec_instance), encoding="utf-8")
    runner.invoke(match_group, ["solve", str(source), "--out", str(answer)])
    doc = json.loads(answer.read_text(encoding="utf-8"))
    doc["assignments"][0]["hours"] = 70
    doc["covered_hours"] = 70
    answer.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(match_group, ["check", str(source), str(answer)])
    assert result.exit_code == 1
    assert "maximum possible hours: 20" in result.stdout
    assert "- supplier s-0001: 70 h assigned, over its capacity of 60 h" in result.stdout


@pytest.mark.parametrize(("content", "message"), [
    (None, "error: cannot read"),
    ("{not json", "is not valid JSON"),
    ('{"format": "carepool-matching/1", "demand": [], "supply": [], "x": NaN}', "not valid JSON"),
    (json.dumps(instance_of([line(hours=-1)], [supplier()])),
     "error: demand[d-0001].hours: must be an integer >= 0"),
    (b"\xff\xfe\x00", "is not UTF-8 text"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(runner, tmp_path, content, message):
    source, out = tmp_path / "instance.json", tmp_path / "solution.json"
    if isinstance(content, bytes):
        source.write_bytes(content)
    elif content is not None:
        source.write_text(content, encoding="utf-8")
    result = runner.invoke(match_group, ["solve", str(source), "--out", str(out)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == ([source] if content is not None else [])


def test_check_rejects_a_malformed_solution_with_exit_2(runner, tmp_path, spec_instance):
    source, answer = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(json.dumps(spec_instance), encoding="utf-8")
    answer.write_text('{"format": "carepool-matching-solution/1"}', encoding="utf-8")
    result = runner.invoke(match_group, ["check", str(source), str(answer)])
    assert result.exit_code == 2
    assert result.stderr == "error: assignments: missing\n"


def test_an_unwritable_output_exits_2(runner, tmp_path, spec_instance):
    source = tmp_path / "instance.json"
    source.write_text(json.dumps(spec_instance), encoding="utf-8")
    result = runner.invoke(match_group, ["solve", str(source), "--out",
                                         str(tmp_path / "missing" / "out.json")])
    assert result.exit_code == 2 and result.stderr.startswith("error: cannot write")


def test_bench_prints_a_json_summary_last(runner):
    result = runner.invoke(bench_match_command, ["--scale", "S", "--seed", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(summary)[:15] == [
        "scale", "lines", "suppliers", "edges", "build_s", "solve_s", "total_s", "peak_mb",
        "covered_hours", "max_hours", "carers_per_person", "split_lines",
        "baseline_carers_per_person", "baseline_split_lines", "cost"]
    assert {"lower_bound", "gap_pct", "optimal_split_lines"} <= set(summary)
    assert summary["lower_bound"] <= summary["cost"]
    assert summary["covered_hours"] == summary["max_hours"]
    assert summary["split_lines"] < summary["baseline_split_lines"]


def test_the_commands_are_named_as_the_format_says():
    assert match_group.name == "match" and bench_match_command.name == "match"
    assert set(match_group.commands) == {"solve", "check", "generate"}
