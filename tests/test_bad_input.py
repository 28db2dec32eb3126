"""Bad input never gives a 500 and changes nothing: control characters, dates, the CLI, the web secret and request size."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from werkzeug.datastructures import MultiDict

import brokerage
from brokerage.accounts.models import Council, CouncilDistrict, Role, User
from brokerage.clusters.models import Cluster
from brokerage.errors import ValidationFailed
from brokerage.forms import BaseForm
from brokerage.providers.models import VettingItem
from brokerage.validation import CONTROL_MESSAGE, parse_date, parse_date_parts
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent
NUL = "a\x00b"


def _all_forms() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(brokerage.__path__, "brokerage."):
        if module.name.endswith((".schemas", ".forms")):
            importlib.import_module(module.name)
    found, todo = [], [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("brokerage.") and sub is not BaseForm:
                found.append(sub)
    return found


FORMS = _all_forms()


def test_the_forms_are_found():
    names = {form.__name__ for form in FORMS}
    assert {"ClusterForm", "VettingForm", "CouncilForm", "UserForm", "ProposalForm", "RegisterForm", "RepresentativeInvitationForm"} <= names


@pytest.mark.parametrize("form_class", FORMS, ids=lambda form: f"{form.__module__}.{form.__name__}")
def test_every_length_limit_is_said_in_the_forms_own_words(app, form_class):
    # WTForms' own words ("Field cannot be longer than 120 characters.") showed beside a representative's name.
    from wtforms.validators import Length

    with app.test_request_context(method="POST"):
        for field in form_class(formdata=None):
            for validator in field.validators:
                if isinstance(validator, Length):
                    assert validator.message, f"{form_class.__name__}.{field.name} has a length limit with no message of its own"


@pytest.mark.parametrize("form_class", FORMS, ids=lambda form: f"{form.__module__}.{form.__name__}")
def test_every_form_field_refuses_a_nul_beside_the_field(app, form_class):
    assert issubclass(form_class, BaseForm), "every form must derive from brokerage.forms.BaseForm"
    with app.test_request_context(method="POST"):
        names = [field.name for field in form_class(formdata=None)]
        for name in names:
            for key in (name, f"{name}-day"):
                form = form_class(formdata=MultiDict({key: NUL}))
                assert form.validate() is False
                if form[name].errors == [CONTROL_MESSAGE]:
                    break
            else:
                pytest.fail(f"{form_class.__name__}.{name} accepted a NUL character")


def test_line_breaks_are_allowed_only_in_boxes_of_several_lines(app):
    from brokerage.clusters.schemas import ClusterForm

    with app.test_request_context(method="POST"):
        form = ClusterForm(formdata=MultiDict({"name": "Two\nlines", "description": "Line one\r\nline two\ttabbed"}))
        form.validate()
        assert form.name.errors == [CONTROL_MESSAGE]
        assert CONTROL_MESSAGE not in form.description.errors


def test_text_that_would_display_in_another_order_is_refused_but_right_to_left_scripts_are_not(app):
    from brokerage.clusters.schemas import ClusterForm

    with app.test_request_context(method="POST"):
        form = ClusterForm(formdata=MultiDict({"name": "Tea \u202egnos", "description": "Fine \u2067text\u2069"}))
        form.validate()
        assert form.name.errors == [CONTROL_MESSAGE] and form.description.errors == [CONTROL_MESSAGE]
        form = ClusterForm(formdata=MultiDict({"name": "\u0645\u062c\u0645\u0648\u0639\u0629 \u05e7\u05d1\u05d5\u05e6\u05d4"}))
        form.validate()
        assert CONTROL_MESSAGE not in form.name.errors


def test_the_database_refuses_a_nul_the_same_way_on_every_engine(session, world):
    council = world.councils["a"] if hasattr(world, "councils") and world.councils else session.exec(select(Council)).first()
    with pytest.raises(ValidationFailed) as caught:
        session.add(Cluster(council_id=council.id, name=NUL, description="", kinds=["goal"], min_size=2, max_size=6))
        session.flush()
    assert caught.value.errors == {"name": [CONTROL_MESSAGE]}
    session.rollback()


def _sign_in(client, email):
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": email, "password": f.PASSWORD}).status_code == 302


def test_a_nul_in_a_new_group_is_shown_beside_the_field_and_nothing_is_saved(client, session, world):
    _sign_in(client, world.users["a"][Role.holder].email)
    before = len(session.exec(select(Cluster)).all())
    for field in ("name", "description", "districts"):
        data = {"name": "Elders", "description": "Home care", "kinds": ["culture"], "districts": "E3", "min_size": "2", "max_size": "6",
                "holder_id": str(world.users["a"][Role.holder].holder_id), "pledge": "10", field: NUL}
        response = client.post("/clusters/new", data=data)
        assert response.status_code in (200, 422), field
        assert CONTROL_MESSAGE in response.data.decode()
    assert len(session.exec(select(Cluster)).all()) == before


def test_a_nul_in_provider_vetting_and_council_forms_is_refused_and_nothing_is_saved(client, session, world):
    provider = world.records["a"]["provider"]
    _sign_in(client, world.users["a"][Role.broker].email)
    before = len(session.exec(select(VettingItem)).all())
    response = client.post(f"/providers/{provider.id}/vetting", data={"kind": "dbs", "reference": NUL, "expires_on": "2030-01-01"})
    assert response.status_code == 422 and CONTROL_MESSAGE in response.data.decode()
    assert len(session.exec(select(VettingItem)).all()) == before
    _sign_in(client, world.admin.email)
    response = client.post("/admin/councils", data={"name": NUL, "slug": "nulls", "area_districts": ""})
    assert response.status_code == 422 and CONTROL_MESSAGE in response.data.decode()
    response = client.post("/admin/users", data={"name": NUL, "email": "nul@example.org", "role": "admin", "password": "a long enough password"})
    assert response.status_code == 422 and CONTROL_MESSAGE in response.data.decode()
    assert session.exec(select(Council).where(Council.slug == "nulls")).first() is None
    assert session.exec(select(User).where(User.email == "nul@example.org")).first() is None


@pytest.mark.parametrize("query", ["kind=a%00b", "account=a%00b", "start=2026-01-0%00", "end=%C2%B2", "start=２０２６-01-01",
                                   "page=%D9%A1", "page=%EF%BC%91", "page=1_0"])
def test_ledger_filters_with_nul_or_odd_digits_are_named_not_a_crash(client, world, query):
    _sign_in(client, world.users["a"][Role.broker].email)
    response = client.get(f"/ledger/?{query}")
    assert response.status_code == 422
    name = query.split("=")[0]
    body = response.data.decode()
    assert f'href="#filter-{name}"' in body or f'id="filter-{name}-error"' in body or (name == "page" and "Enter a page number of 1 or more" in body), body[:3000]


@pytest.mark.parametrize(("parts", "message"), [
    (("1", "²", "2030"), "Enter a real date"),
    (("1" * 20, "1", "2030"), "Enter a real date"),
    (("1", "1" * 5000, "2030"), "Enter a real date"),
    (("١", "1", "2030"), "Enter a real date"),
    (("31", "2", "2030"), "Enter a real date"),
    (("1", "1", "9999"), "between 2000 and 2999"),
])
def test_the_vetting_date_refuses_odd_digits_and_huge_numbers_beside_the_field(client, session, world, parts, message):
    provider = world.records["a"]["provider"]
    _sign_in(client, world.users["a"][Role.broker].email)
    before = len(session.exec(select(VettingItem)).all())
    day, month, year = parts
    response = client.post(f"/providers/{provider.id}/vetting", data={
        "kind": "dbs", "reference": "0012", "expires_on-day": day, "expires_on-month": month, "expires_on-year": year})
    assert response.status_code in (200, 422)
    assert message in response.data.decode()
    assert len(session.exec(select(VettingItem)).all()) == before


def test_the_one_date_parser_accepts_only_ascii_real_dates():
    assert parse_date("2027-03-27").isoformat() == "2027-03-27"
    assert parse_date_parts("27", "mar", "2027") == parse_date_parts("27", "3", "2027")
    for text in ("２０２７-03-27", "2027-02-30", "2027-3-27x", "9" * 5000, "2027-W12", ""):
        with pytest.raises(ValueError):
            parse_date(text)


def test_a_body_over_the_size_limit_is_413_and_not_parsed(client, world):
    _sign_in(client, world.users["a"][Role.holder].email)
    response = client.post("/clusters/new", data={"name": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    response = client.post("/clusters/new", data={"name": "x" * (3 * 1024 * 1024)}, headers={"Accept": "application/json"})
    assert response.status_code == 413 and "error" in response.get_json()


# --- the command line ----------------------------------------------------------------------------------------------


def _one_line_error(result) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_the_cli_checks_a_new_account_with_the_forms_rules(runner, session, world):
    line = _one_line_error(runner.invoke(args=["accounts", "create-user", "--email", "notanemail", "--name", "X", "--role", "admin",
                                               "--password", "a long enough password"]))
    assert "email" in line
    assert session.exec(select(User).where(User.email == "notanemail")).first() is None


def test_the_cli_checks_a_new_council_with_the_forms_rules(runner, session, world):
    assert "slug" in _one_line_error(runner.invoke(args=["accounts", "create-council", "--slug", "BAD SLUG", "--name", "X"]))
    assert "area_districts" in _one_line_error(runner.invoke(args=["accounts", "create-council", "--slug", "ok", "--name", "X", "--districts", "ZZ"]))
    assert session.exec(select(Council).where(Council.name == "X")).first() is None


BAD_COMMANDS = [
    ["accounts", "create-user", "--email", "notanemail", "--name", "X", "--role", "admin", "--password", "a long enough password"],
    ["accounts", "create-user", "--email", "a@example.org", "--name", "X\x01", "--role", "admin", "--password", "a long enough password"],
    ["accounts", "create-user", "--email", "a@example.org", "--name", "X", "--role", "king", "--password", "a long enough password"],
    ["accounts", "create-council", "--slug", "BAD SLUG", "--name", "X"],
    ["accounts", "create-council", "--slug", "ok", "--name", "X\x07"],
    ["accounts", "create-council", "--slug", "ok", "--name", "X", "--districts", "E1 ZZ9Z9"],
    ["ledger", "prove", "99999999999999999999"],
    ["ledger", "prove", "abc"],
    ["ledger", "seal", "--council", "no-such-council"],
    ["ledger", "verify", "--council", "no-such-council"],
    ["ledger", "check-proof", "/no/such/proof.json"],
    ["ledger", "export", "--format", "csv", "--out", "/tmp/x.csv", "--from", "２０２６-01-01"],
    ["ledger", "export", "--format", "csv", "--out", "/tmp/x.csv", "--to", "2026-02-30"],
    ["ledger", "export", "--format", "xml", "--out", "/tmp/x.csv"],
    ["clusters", "collect", "--period", "nonsense"],
    ["clusters", "settle", "--council", "no-such-council"],
    ["clusters", "settle", "--council", ""],  # empty would have meant every council
    ["contracts", "end-due", "--council", "no-such-council"],
    ["contracts", "end-due", "--council", ""],
    ["clusters", "issue-dp", "--period", "2026-W49", "--council", "a\x01b"],
    ["ledger", "verify", "--council", "Riverside Council"],
    ["accounts", "create-user", "--email", "a@example.org", "--name", "X", "--role", "admin", "--council", "council-a",
     "--password", "a long enough password"],
    ["match", "solve", "/no/such/instance.json", "--out", "/tmp/solution.json"],
    ["match", "check", "/no/such/instance.json", "/no/such/solution.json"],
    ["match", "generate", "--scale", "XL", "--out", "/tmp/instance.json"],
    ["match", "generate", "--scale", "S", "--seed", "-1", "--out", "/tmp/instance.json"],
    ["bench", "ledger", "--workers", "0"],
    ["bench", "match", "--seed", "-3"],
    ["db", "upgrade", "no-such-revision"],
    ["worker"],
]


@pytest.mark.parametrize("args", BAD_COMMANDS, ids=lambda args: " ".join(args[:3]))
def test_every_command_answers_bad_input_with_one_line_and_exit_2(runner, world, args):
    _one_line_error(runner.invoke(args=args))


def _run_cli(args, tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CAREPOOL_ENV", "DATABASE_URL")}
    environment.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}", **env})
    command = [sys.executable, "-c", "from brokerage.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120)


@pytest.mark.long
def test_matching_commands_need_no_web_secret_but_serving_does(tmp_path):
    generated = _run_cli(["match", "generate", "--scale", "S", "--out", str(tmp_path / "i.json")], tmp_path)
    assert generated.returncode == 0, generated.stderr
    solved = _run_cli(["match", "solve", str(tmp_path / "i.json"), "--out", str(tmp_path / "s.json")], tmp_path)
    assert solved.returncode == 0, solved.stderr
    served = _run_cli(["run", "--port", "1"], tmp_path)
    assert served.returncode == 2 and served.stderr.strip().splitlines() == [served.stderr.strip()] and "SECRET_KEY" in served.stderr


@pytest.mark.parametrize("args", [["match", "solve", "{deep}", "--out", "{out}"], ["match", "check", "{deep}", "{deep}"],
                                  ["ledger", "check-proof", "{deep}"]], ids=lambda args: " ".join(args[:2]))
def test_a_file_nested_too_deeply_is_one_line_not_a_recursion_traceback(runner, tmp_path, args):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    _one_line_error(runner.invoke(args=[a.format(deep=deep, out=tmp_path / "out.json") for a in args]))


@pytest.mark.parametrize(("text", "says"), [
    ('{"seq": 1, "seq": 2}', "error: the proof's seq: duplicate key"),
    ('{"seq": NaN}', "error: the proof's seq: NaN is not a number JSON allows"),
    ('{"seq": ' + "9" * 5000 + "}", "error: the proof's seq: a number of 5000 characters is too long"),
    ('{"seq": 1, "content_hash": "x\\ud800"}', "error: the proof's content_hash: holds a lone surrogate"),
])
def test_a_proof_file_is_read_strictly_and_refused_on_one_line(runner, tmp_path, text, says):
    proof = tmp_path / "proof.json"
    proof.write_text(text, encoding="utf-8")
    assert _one_line_error(runner.invoke(args=["ledger", "check-proof", str(proof)])).startswith(says)


def test_a_malformed_proof_is_answered_on_one_short_line(runner, tmp_path):
    proof = tmp_path / "proof.json"
    proof.write_text('{"seq": "x\\n' + "y" * 10_000 + '", "content_hash": "ab", "path": [], "seal": {}}', encoding="utf-8")
    result = runner.invoke(args=["ledger", "check-proof", str(proof)])
    assert result.exit_code == 1 and result.output.startswith("FAILED: the proof is malformed")
    assert len(result.output.splitlines()) == 1 and len(result.output) < 400


@pytest.mark.long
def test_a_database_without_tables_or_that_cannot_be_opened_is_one_line(tmp_path):
    empty = _run_cli(["ledger", "verify"], tmp_path, CAREPOOL_ENV="development")
    assert empty.returncode == 1 and empty.stderr.strip().splitlines() == ["error: the database has no tables yet: run `brokerage db upgrade` first"]
    nowhere = _run_cli(["ledger", "verify"], tmp_path, CAREPOOL_ENV="development", DATABASE_URL="sqlite:////no/such/folder/x.sqlite")
    assert nowhere.returncode == 1 and len(nowhere.stderr.strip().splitlines()) == 1 and "cannot use the database" in nowhere.stderr
    bogus = _run_cli(["ledger", "verify"], tmp_path, CAREPOOL_ENV="development", DATABASE_URL="bogus://x")
    assert bogus.returncode == 2 and len(bogus.stderr.strip().splitlines()) == 1 and "DATABASE_URL" in bogus.stderr


def test_a_bad_setting_at_the_command_line_is_one_line(tmp_path):
    result = _run_cli(["ledger", "verify"], tmp_path, CAREPOOL_ENV="staging")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "CAREPOOL_ENV" in result.stderr


# --- councils' postcode districts -----------------------------------------------------------------------------------


def test_two_councils_cannot_claim_the_same_postcode_district(session, world):
    from brokerage.accounts import services
    from brokerage.accounts.errors import DuplicateCouncil

    first = services.create_council(session=session, actor=None, slug="eastbrook", name="Eastbrook", area_districts="e16 E17")
    assert first.area_districts == "E16 E17"
    with pytest.raises(DuplicateCouncil) as caught:
        services.create_council(session=session, actor=None, slug="westbrook", name="Westbrook", area_districts="E18 E17")
    assert caught.value.field == "area_districts" and "E17 (Eastbrook)" in caught.value.message
    assert session.exec(select(Council).where(Council.slug == "westbrook")).first() is None


def test_the_database_refuses_a_second_claim_on_a_district(session, world):
    council_a, council_b = (session.exec(select(Council).where(Council.slug == f"council-{k}")).one() for k in "ab")
    session.add(CouncilDistrict(district="SW1A", council_id=council_a.id))
    session.flush()
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(CouncilDistrict(district="SW1A", council_id=council_b.id))
            session.flush()


def test_a_choice_of_person_is_never_made_for_them_and_one_choice_is_shown_chosen(app):
    from wtforms.fields.choices import SelectChoice

    from brokerage.forms import ChooseOneField

    class VoteFor(BaseForm):
        holder_id = ChooseOneField("Voting for", coerce=int, choices=[], prompt="Choose whom you are voting for", invalid_choice_message="Choose from the list")

    with app.test_request_context(method="POST"):
        for sent, errors in [({"holder_id": ""}, ["Choose whom you are voting for"]), ({}, ["Choose whom you are voting for"]),
                             ({"holder_id": "9"}, ["Choose from the list"]), ({"holder_id": "x"}, None), ({"holder_id": "2"}, [])]:
            form = VoteFor(formdata=MultiDict(sent), meta={"csrf": False})
            form.holder_id.choices = [SelectChoice("1", "Amina Hassan"), SelectChoice("2", "Hodan Ali")]
            form.validate()
            if errors is None:
                assert len(form.holder_id.errors) == 1 and "Traceback" not in form.holder_id.errors[0]
            else:
                assert form.holder_id.errors == errors, sent
        form = VoteFor(formdata=None, meta={"csrf": False})
        form.holder_id.choices = [SelectChoice("1", "Amina Hassan"), SelectChoice("2", "Hodan Ali")]
        assert [(c.value, c.selected) for c in form.holder_id.iter_choices()] == [("", True), ("1", False), ("2", False)]
        form.holder_id.choices = [SelectChoice("1", "Amina Hassan")]  # one person: no prompt, and that person is the one sent
        assert [c.value for c in form.holder_id.iter_choices()] == ["1"]


@pytest.mark.parametrize(("form_path", "field", "limit"), [
    ("brokerage.providers.schemas:ProfileForm", "hourly_rate", "Enter an hourly rate of £1,000.00 or less"),
    ("brokerage.contracts.schemas:ChangeForm", "hourly_rate", "Enter an hourly rate of £1,000.00 or less"),
    ("brokerage.matching.schemas:DemandLineForm", "max_rate", "Enter an hourly rate of £1,000.00 or less"),
    ("brokerage.clusters.schemas:JoinForm", "pledge", "Enter a weekly pledge no bigger than the weekly care budget"),
    ("brokerage.holders.schemas:AllocationForm", "allocation", "Enter a weekly budget of £10,000 or less"),
])
def test_an_amount_too_big_to_read_gets_the_boxs_own_limit(app, form_path, field, limit):
    module, name = form_path.split(":")
    form_class = getattr(importlib.import_module(module), name)
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict({field: "99999999999"}), meta={"csrf": False})
        form.validate()
        assert getattr(form, field).errors == [limit]


@pytest.mark.parametrize("form_class", FORMS, ids=lambda form: f"{form.__module__}.{form.__name__}")
def test_every_box_left_with_only_spaces_is_told_what_an_empty_one_is(app, form_class):
    # Spaces in a required hours box said "Enter the hours as 0 or more", though nothing had been typed.
    with app.test_request_context(method="POST"):
        for field in form_class(formdata=None, meta={"csrf": False}):
            if field.type in ("CSRFTokenField", "HiddenField", "SubmitField", "SlotHoursField"):
                continue
            said = {}
            for sent in ("", "   "):
                form = form_class(formdata=MultiDict({field.name: sent}), meta={"csrf": False})
                form.validate()
                said[sent] = form[field.name].errors
            assert said["   "] == said[""], f"{form_class.__name__}.{field.name}"


NUMBER_FIELDS = ("WholeNumberField", "PoundsField", "NumberField", "DistanceField")


@pytest.mark.parametrize("form_class", FORMS, ids=lambda form: f"{form.__module__}.{form.__name__}")
def test_every_number_too_long_to_read_is_told_the_boxs_limit_as_a_big_one_is(app, form_class):
    # A 20-digit number was "not a number" in some boxes, where 999999999 was told the box's limit.
    with app.test_request_context(method="POST"):
        for field in form_class(formdata=None, meta={"csrf": False}):
            if field.type not in NUMBER_FIELDS:
                continue
            said = {}
            for sent in ("999999999", "9" * 20, "-999999999", "-" + "9" * 20):
                form = form_class(formdata=MultiDict({field.name: sent}), meta={"csrf": False})
                form.validate()
                said[sent] = form[field.name].errors
            assert said["9" * 20] == said["999999999"], f"{form_class.__name__}.{field.name}"
            assert said["-" + "9" * 20] == said["-999999999"], f"{form_class.__name__}.{field.name}"
