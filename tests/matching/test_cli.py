"""The `match` commands: solve, check and generate files, failing cleanly on bad input."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from brokerage.matching.cli import match_group
from brokerage_bench.match import bench_match_command
from tests.matching.conftest import SPEC_INSTANCE, instance_of, line, supplier


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
    ('{"format": "carepool-matching/1", "demand": [], "supply": [], "x": NaN}',
     "error: x: NaN is not a number JSON allows"),
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
    result = runner.invoke(bench_match_command, ["--scale", "S", "--seed", "2", "--exact", "1"])
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
    # --exact: HiGHS on the whole instance for a second; its bound is a bound on the answer.
    assert summary["exact_lower_bound"] <= summary["cost"] + 1e-6 and summary["gap_to_exact_bound_pct"] >= 0
    assert summary["exact_cost"] is None or summary["exact_cost"] >= summary["exact_lower_bound"] - 1e-6


def test_the_commands_are_named_as_the_format_says():
    assert match_group.name == "match" and bench_match_command.name == "match"
    assert set(match_group.commands) == {"solve", "check", "generate"}


# --- the contract for every input: exit 2, one short line on stderr, nothing written ----------

def spec_text(**changes) -> str:
    """The format's example instance as text, with the first line's fields changed."""
    doc = copy.deepcopy(SPEC_INSTANCE)
    doc["demand"][0].update(changes)
    return json.dumps(doc)


def refused(runner, tmp_path, text, *args):
    """Solve (or run `args`) on an instance file holding `text`; return the one stderr line."""
    source, out = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(text, encoding="utf-8")
    result = runner.invoke(match_group, list(args) or ["solve", str(source), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[:500]
    assert len(lines[0]) < 300
    assert not out.exists()
    return lines[0]


def test_json_nested_thousands_deep_names_the_file(runner, tmp_path):
    line_ = refused(runner, tmp_path, "[" * 100_000 + "]" * 100_000)
    assert "instance.json is nested too deeply to read" in line_


def test_a_deeply_nested_value_is_echoed_abridged(runner, tmp_path):
    deep = "[" * 900 + "]" * 900
    text = spec_text().replace('"slots": ["mon_am", "tue_am", "wed_am"]', f'"slots": {deep}', 1)
    line_ = refused(runner, tmp_path, text)
    assert line_.startswith("error: demand[d-0001].slots: must be a list of slots")


def test_a_lone_surrogate_in_an_id_is_refused_naming_the_field(runner, tmp_path):
    text = spec_text().replace('"d-0001"', '"d-\\ud800"', 1)
    line_ = refused(runner, tmp_path, text)
    assert line_.startswith("error: demand[d-\\ud800].id: holds a lone surrogate \\ud800")


def test_a_lone_surrogate_in_a_solutions_explanation_is_refused(runner, tmp_path):
    source, answer = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(json.dumps(SPEC_INSTANCE), encoding="utf-8")
    assert runner.invoke(match_group, ["solve", str(source), "--out", str(answer)]).exit_code == 0
    doc = json.loads(answer.read_text(encoding="utf-8"))
    doc["assignments"][0]["explanation"] = "fine \ud800"
    answer.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(match_group, ["check", str(source), str(answer)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: assignments[d-0001->s-0001].explanation: holds a lone")


@pytest.mark.parametrize("bad_id", ["a\nerror: forged", "x" * 10_000_000])
def test_ids_are_echoed_escaped_and_shortened(runner, tmp_path, bad_id):
    line_ = refused(runner, tmp_path, spec_text(id=bad_id, hours=-1))
    assert line_.endswith("].hours: must be an integer >= 0")
    if "\n" in bad_id:
        assert line_ == "error: demand[a\\nerror: forged].hours: must be an integer >= 0"
    else:
        assert "x" * 59 + "…]" in line_


def test_check_echoes_ids_of_a_solution_on_one_line_each(runner, tmp_path):
    source, answer = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(json.dumps(SPEC_INSTANCE), encoding="utf-8")
    runner.invoke(match_group, ["solve", str(source), "--out", str(answer)])
    doc = json.loads(answer.read_text(encoding="utf-8"))
    doc["assignments"].append({"demand": "d-9\nerror: forged", "supplier": "s" * 100_000,
                               "hours": 1, "explanation": "x"})
    doc["covered_hours"] += 1
    answer.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(match_group, ["check", str(source), str(answer)])
    assert result.exit_code == 1
    assert not any(line_.startswith("error:") for line_ in result.stdout.splitlines())
    assert max(len(line_) for line_ in result.stdout.splitlines()) < 300
    assert "- assignment d-9\\nerror: forged -> " in result.stdout


@pytest.mark.parametrize(("text", "where"), [
    (spec_text().replace('"hours": 20', '"hours": 20, "hours": 5', 1),
     "error: demand[d-0001].hours: duplicate key"),
    (spec_text().replace('"lat": 51.5155', '"lat": 51.5155, "lat": 51.6', 1),
     "error: demand[d-0001].location.lat: duplicate key"),
    (spec_text().replace('"format"', '"format": "carepool-matching/1", "format"', 1),
     "error: format: duplicate key"),
])
def test_duplicate_keys_are_refused_naming_the_record(runner, tmp_path, text, where):
    assert refused(runner, tmp_path, text).startswith(where)


@pytest.mark.parametrize(("value", "problem"), [
    ("NaN", "NaN is not a number JSON allows"),
    ("Infinity", "Infinity is not a number JSON allows"),
    ("-Infinity", "-Infinity is not a number JSON allows"),
    ("9" * 5000, "a number of 5000 characters is too long (at most 100)"),
    ("1" * 5000 + ".5", "a number of 5002 characters is too long (at most 100)"),
    ("1e999", "1e999 is too large a number"),
])
def test_numbers_json_does_not_allow_name_the_field_and_record(runner, tmp_path, value, problem):
    text = spec_text().replace('"max_rate_pence": 2400', f'"max_rate_pence": {value}', 1)
    assert refused(runner, tmp_path, text) == f"error: demand[d-0001].max_rate_pence: {problem}"


def test_a_folder_as_the_instance_is_one_line(runner, tmp_path):
    line_ = refused(runner, tmp_path, "{}", "solve", str(tmp_path), "--out",
                    str(tmp_path / "solution.json"))
    assert line_.startswith(f"error: cannot read {tmp_path}: ")


@pytest.mark.parametrize("command", ["solve", "generate"])
def test_a_folder_as_the_output_is_one_line(runner, tmp_path, command):
    source = tmp_path / "instance.json"
    args = ([command, str(source), "--out", str(tmp_path)] if command == "solve"
            else [command, "--scale", "S", "--out", str(tmp_path)])
    line_ = refused(runner, tmp_path, json.dumps(SPEC_INSTANCE), *args)
    assert line_ == f"error: cannot write {tmp_path}: it is a folder, not a file"


def test_a_folder_as_the_solution_to_check_is_one_line(runner, tmp_path):
    source = tmp_path / "instance.json"
    line_ = refused(runner, tmp_path, json.dumps(SPEC_INSTANCE), "check", str(source),
                    str(tmp_path))
    assert line_.startswith(f"error: cannot read {tmp_path}: ")


def test_the_only_supplier_with_no_capacity_is_said_to_have_none(runner, tmp_path):
    doc = copy.deepcopy(SPEC_INSTANCE)
    doc["supply"][0]["capacity_hours"] = 0
    source, out = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    assert runner.invoke(match_group, ["solve", str(source), "--out", str(out)]).exit_code == 0
    (unmet,) = json.loads(out.read_text(encoding="utf-8"))["unmet"]
    assert unmet["reason"] == ("1 provider could give this care but it has no hours to offer "
                               "(its capacity is 0 hours a week).")


@pytest.mark.parametrize("args", [
    ["solve", "{source}", "--out", "{out}", "--time-limit", "nan"],
    ["solve", "{source}", "--out", "{out}", "--time-limit", "NaN"],
], ids=["nan", "NaN"])
def test_a_time_limit_that_is_not_a_number_is_refused_and_nothing_is_written(runner, tmp_path, args):
    # click's FloatRange lets NaN through: every comparison with it is false.
    source, out = tmp_path / "instance.json", tmp_path / "solution.json"
    line_ = refused(runner, tmp_path, json.dumps(SPEC_INSTANCE),
                    *[a.format(source=source, out=out) for a in args])
    assert "--time-limit" in line_ and "give a number of seconds from 0 to 3600" in line_
    assert not out.exists()


@pytest.mark.parametrize("option", ["--time-limit", "--exact"])
def test_the_bench_refuses_seconds_that_are_not_a_number(runner, option):
    from brokerage.cli import bench_group

    result = runner.invoke(bench_group, ["match", "--scale", "S", option, "nan"])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and option in result.stderr


def test_a_radius_of_1e308_km_reaches_everyone_without_numpy_warnings(runner, tmp_path):
    # The radius band overflowed: RuntimeWarnings on stderr, and a band from a NaN cast.
    doc = copy.deepcopy(SPEC_INSTANCE)
    doc["supply"][0]["radius_km"] = 1e308
    doc["supply"][0]["location"] = {"lat": -51.5, "lon": 179.0}
    source, out = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(match_group, ["solve", str(source), "--out", str(out)])
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert result.stderr.startswith("lower bound") and len(result.stderr.splitlines()) == 1
    assert [a["hours"] for a in json.loads(out.read_text(encoding="utf-8"))["assignments"]] == [20]


def test_the_summary_counts_one_assignment_and_one_line_in_the_singular(runner, tmp_path):
    doc = copy.deepcopy(SPEC_INSTANCE)
    doc["demand"].append(dict(doc["demand"][0], id="d-0002", service="respite"))
    source, out = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(match_group, ["solve", str(source), "--out", str(out)])
    assert result.stdout.startswith("covered 20 h; 1 assignment, 1 line with unmet hours; cost ")


def test_solving_into_the_instance_itself_is_refused_and_the_instance_kept(runner, tmp_path):
    source = tmp_path / "instance.json"
    source.write_text(json.dumps(SPEC_INSTANCE), encoding="utf-8")
    before = source.read_bytes()
    same = f"{tmp_path}/./instance.json"  # another name for the same file
    result = runner.invoke(match_group, ["solve", str(source), "--out", same])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"error: --out {same} is the instance itself: writing the solution there would replace it"]
    assert source.read_bytes() == before
