"""The `match` commands on format 2 files: generate --format 2, solve and check, and bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from brokerage.matching.cli import match_group
from brokerage.matching.files import encode
from brokerage.matching.generator import generate
from brokerage.matching.instance import parse_instance
from tests.matching.conftest import SPEC_INSTANCE, SPEC_SOLUTION
from tests.matching.test_format2_check import instance2, line2, supplier2


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def group_and_coop_text() -> str:
    """The issue's example as a file: the group needs 14 h, the co-op has only Tuesday morning of them."""
    return json.dumps(instance2([line2(id="d-0001")], [supplier2(id="s-0001")]))


def one_line_error(result) -> str:
    """Assert exit 2 with exactly one `error:` line on stderr and nothing on stdout; return the line."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[:500]
    return lines[0]


# --- generate --format ----------------------------------------------------------------------

def test_generate_format_2_round_trips_through_the_parser(runner, tmp_path):
    out = tmp_path / "instance.json"
    made = runner.invoke(match_group, ["generate", "--scale", "S", "--seed", "5", "--format", "2", "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert made.stdout == "300 demand lines, 400 suppliers\n"
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "carepool-matching/2"
    instance = parse_instance(doc)
    assert instance.format == 2 and len(instance.demand) == 300
    assert instance.to_dict() == doc
    assert out.read_text(encoding="utf-8") == encode(generate("S", 5, format=2), ("demand", "supply"))


def test_generate_writes_format_1_unless_told(runner, tmp_path):
    plain, one = tmp_path / "plain.json", tmp_path / "one.json"
    for path, extra in ((plain, []), (one, ["--format", "1"])):
        made = runner.invoke(match_group, ["generate", "--scale", "S", "--seed", "5", "--out", str(path), *extra])
        assert made.exit_code == 0, made.output
    assert plain.read_bytes() == one.read_bytes()
    assert json.loads(plain.read_text(encoding="utf-8"))["format"] == "carepool-matching/1"


def test_generate_refuses_an_unknown_format(runner, tmp_path):
    out = tmp_path / "instance.json"
    result = runner.invoke(match_group, ["generate", "--scale", "S", "--format", "3", "--out", str(out)])
    line = one_line_error(result)
    assert "'--format'" in line and "generate --help)" in line
    assert not out.exists()


def test_the_help_names_both_formats(runner):
    def help_of(*command):
        return " ".join(runner.invoke(match_group, [*command, "--help"]).stdout.split())

    assert "(formats carepool-matching/1 and /2)" in help_of()
    assert "--format [1|2] 1: weekly hours and slots; 2: hours per slot" in help_of("generate")


# --- check on hand-made format 2 files (no solver involved) ---------------------------------

def write(tmp_path, instance_text: str, solution: dict) -> tuple[str, str]:
    source, answer = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(instance_text, encoding="utf-8")
    answer.write_text(json.dumps(solution), encoding="utf-8")
    return str(source), str(answer)


def coop_solution(slot_hours: dict, unmet: dict | None) -> dict:
    hours = sum(slot_hours.values())
    left = [] if unmet is None else [{"demand": "d-0001", "hours": sum(unmet.values()), "slot_hours": unmet,
                                      "reason": "Nobody who can come then speaks Somali within reach."}]
    return {"format": "carepool-matching-solution/2",
            "assignments": [{"demand": "d-0001", "supplier": "s-0001", "hours": hours, "slot_hours": slot_hours,
                             "explanation": "Tuesday mornings."}],
            "unmet": left, "covered_hours": hours, "cost": 64.5}


def test_check_accepts_the_coops_tuesday_morning(runner, tmp_path):
    paths = write(tmp_path, group_and_coop_text(),
                  coop_solution({"tue_am": 3}, {"mon_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}))
    result = runner.invoke(match_group, ["check", *paths])
    assert result.exit_code == 0, result.output
    assert result.stdout == "covered hours: 3\nmaximum possible hours: 3\nvalid\n"


def test_check_refuses_all_14_hours_from_the_coop(runner, tmp_path):
    paths = write(tmp_path, group_and_coop_text(),
                  coop_solution({"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}, None))
    result = runner.invoke(match_group, ["check", *paths])
    assert result.exit_code == 1
    assert result.stdout.startswith("covered hours: 14\nmaximum possible hours: 3\ninvalid: 5 problems\n")
    assert ("- assignment d-0001 -> s-0001: 3 h on mon_am, which is not one of the pair's common slots "
            "(the supplier has no hours then)\n") in result.stdout
    assert "- the assignments cover 14 h but the most possible is 3 h\n" in result.stdout


@pytest.mark.parametrize("mix", ["format 1 solution, format 2 instance", "format 2 solution, format 1 instance"])
def test_check_refuses_mixed_formats_with_exit_2(runner, tmp_path, mix):
    if mix.startswith("format 1 solution"):
        paths = write(tmp_path, group_and_coop_text(), SPEC_SOLUTION)
        expected = "error: format: the solution is in format 1 but the instance is in format 2; "
    else:
        paths = write(tmp_path, json.dumps(SPEC_INSTANCE), coop_solution({"tue_am": 3}, None))
        expected = "error: format: the solution is in format 2 but the instance is in format 1; "
    assert one_line_error(runner.invoke(match_group, ["check", *paths])).startswith(expected)


# --- bad slot_hours: exit 2, one line naming the record and the field -----------------------

BAD_SLOT_HOURS = [
    ('"mon_am": 3', '"mon_xx": 3',
     "error: demand[d-0001].slot_hours: 'mon_xx' is not a slot of the form <mon..sun>_<am|pm|eve>"),
    ('"mon_am": 3', '"mon_am": -1', "error: demand[d-0001].slot_hours.mon_am: must be an integer from 0 to 1000000"),
    ('"mon_am": 3', '"mon_am": 1.5', "error: demand[d-0001].slot_hours.mon_am: must be an integer from 0 to 1000000"),
    ('"mon_am": 3', '"mon_am": "3"', "error: demand[d-0001].slot_hours.mon_am: must be an integer from 0 to 1000000"),
    ('"mon_am": 3', '"mon_am": 3, "mon_am": 4',
     "error: demand[d-0001].slot_hours.mon_am: duplicate key (each key may appear once)"),
    ('"tue_am": 12', '"tue_am": 12, "tue_am": 2',
     "error: supply[s-0001].slot_hours.tue_am: duplicate key (each key may appear once)"),
    ('"sat_am": 8', '"sat_am": 1000001', "error: supply[s-0001].slot_hours.sat_am: must be an integer from 0 to 1000000"),
    ('"capacity_hours": 30', '"capacity_hours": -3', "error: supply[s-0001].capacity_hours: must be an integer >= 0"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_SLOT_HOURS)
@pytest.mark.parametrize("command", ["solve", "check"])
def test_bad_slot_hours_in_an_instance_exit_2(runner, tmp_path, old, new, message, command):
    text = group_and_coop_text()
    assert old in text
    source, out = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(text.replace(old, new, 1), encoding="utf-8")
    if command == "solve":
        args = ["solve", str(source), "--out", str(out)]
    else:
        out.write_text(json.dumps(coop_solution({"tue_am": 3}, None)), encoding="utf-8")
        args = ["check", str(source), str(out)]
    assert one_line_error(runner.invoke(match_group, args)) == message
    if command == "solve":
        assert not out.exists()


@pytest.mark.parametrize(("slot_hours", "message"), [
    ('{"tue_xx": 3}', "error: assignments[d-0001->s-0001].slot_hours: 'tue_xx' is not a slot"),
    ('{"tue_am": 0}', "error: assignments[d-0001->s-0001].slot_hours.tue_am: must be an integer from 1 to 1000000"),
    ('{"tue_am": 2.5}', "error: assignments[d-0001->s-0001].slot_hours.tue_am: must be an integer from 1 to 1000000"),
    ('{"tue_am": 2, "tue_am": 1}', "error: assignments[d-0001->s-0001].slot_hours.tue_am: duplicate key"),
    ('[3]', "error: assignments[d-0001->s-0001].slot_hours: must be an object of slot -> hours"),
])
def test_bad_slot_hours_in_a_solution_exit_2(runner, tmp_path, slot_hours, message):
    solution = json.dumps(coop_solution({"tue_am": 3}, None)).replace('{"tue_am": 3}', slot_hours, 1)
    source, answer = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(group_and_coop_text(), encoding="utf-8")
    answer.write_text(solution, encoding="utf-8")
    assert one_line_error(runner.invoke(match_group, ["check", str(source), str(answer)])).startswith(message)


# --- waits on the solver (the lead's format 2 solve) ----------------------------------------

def test_solve_answers_a_format_2_instance_in_format_2_and_check_passes(runner, tmp_path):
    source, answer = tmp_path / "instance.json", tmp_path / "solution.json"
    source.write_text(group_and_coop_text(), encoding="utf-8")
    solved = runner.invoke(match_group, ["solve", str(source), "--out", str(answer), "--time-limit", "1"])
    assert solved.exit_code == 0, solved.output
    assert solved.stderr.startswith("lower bound ") and "(optimal)" in solved.stderr
    doc = json.loads(answer.read_text(encoding="utf-8"))
    assert doc["format"] == "carepool-matching-solution/2"
    assert [(a["supplier"], a["hours"], a["slot_hours"]) for a in doc["assignments"]] == [("s-0001", 3, {"tue_am": 3})]
    assert [(u["hours"], u["slot_hours"]) for u in doc["unmet"]] == [
        (11, {"mon_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2})]
    checked = runner.invoke(match_group, ["check", str(source), str(answer)])
    assert checked.exit_code == 0, checked.output


def test_generate_solve_and_check_round_trip_in_format_2(runner, tmp_path):
    instance, solution = tmp_path / "instance.json", tmp_path / "solution.json"
    made = runner.invoke(match_group, ["generate", "--scale", "S", "--seed", "5", "--format", "2",
                                       "--out", str(instance)])
    assert made.exit_code == 0, made.output
    solved = runner.invoke(match_group, ["solve", str(instance), "--out", str(solution)])
    assert solved.exit_code == 0, solved.output
    checked = runner.invoke(match_group, ["check", str(instance), str(solution)])
    assert checked.exit_code == 0, checked.output
    covered = json.loads(solution.read_text(encoding="utf-8"))["covered_hours"]
    assert f"covered hours: {covered}\nmaximum possible hours: {covered}\nvalid\n" == checked.stdout
