"""Views are thin (issue 9 item 7): they never touch the database session themselves, and a page never writes.

The request's one commit point (`db.finish_request`) commits; services read and write; a refusal goes
through `forms.refuse` or `forms.refuse_in_flash`, which roll back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from brokerage import forms
from brokerage.accounts.models import Role
from brokerage.audit.models import AccessLog
from brokerage.db import READS_MAY_WRITE
from tests.test_access_matrix import PUBLIC, ROLES, routes, url_for_target

PACKAGE = Path(__file__).resolve().parent.parent / "brokerage"
VIEWS = sorted([*PACKAGE.glob("*/views.py"), *PACKAGE.glob("*/*_views.py")])
QUERY_BUILDERS = {"select", "insert", "update", "delete", "text"}


def _is_session(node: ast.AST) -> bool:
    """Tell whether node is the request's database session: a name `session`, or a call of `get_session()`."""
    if isinstance(node, ast.Name):
        return node.id == "session"
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_session"


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            yield node


def test_the_views_are_found():
    assert len(VIEWS) >= 8, VIEWS


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_view_commits(path):
    commits = [f"{path.parent.name}/{path.name}:{call.lineno}" for call in _calls(path)
               if isinstance(call.func, ast.Attribute) and call.func.attr == "commit"]
    assert not commits, f"views never commit; the request's commit point does (db.finish_request): {commits}"


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_view_calls_the_database_session(path):
    # Not to read (a query belongs in a service), not to roll back (forms.refuse does), not to commit.
    found = [f"{path.parent.name}/{path.name}:{call.lineno} .{call.func.attr}()" for call in _calls(path)
             if isinstance(call.func, ast.Attribute) and _is_session(call.func.value)]
    built = [f"{path.parent.name}/{path.name}:{call.lineno} {call.func.id}()" for call in _calls(path)
             if isinstance(call.func, ast.Name) and call.func.id in QUERY_BUILDERS]
    assert not found + built, "views call one service and leave the session to it:\n" + "\n".join(found + built)


def test_views_turn_a_refusal_into_form_errors_only_through_refuse():
    private = [name for name in vars(forms) if name.endswith("attach_error")]
    assert private == ["_attach_error"]
    for path in VIEWS:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "brokerage.forms":
                assert not [a.name for a in node.names if a.name.startswith("_")], path


def _table_contents(session) -> dict[str, list[tuple]]:
    """Return every row of every table but the access log, in a fixed order, as this transaction sees them."""
    contents = {}
    for name in sorted(inspect(session.connection()).get_table_names()):
        if name in READS_MAY_WRITE or name == "alembic_version":
            continue
        quoted = session.get_bind().dialect.identifier_preparer.quote(name)
        contents[name] = sorted(session.execute(text(f"SELECT * FROM {quoted}")).all(), key=repr)
    return contents


@pytest.mark.parametrize("role", ROLES + ["admin"], ids=lambda r: getattr(r, "value", r))
def test_opening_every_page_as_any_role_changes_no_table_but_the_access_log(app, client, auth, world, session, role):
    # The same walk as the access matrix, compared row by row: no page (GET) writes, whatever it shows.
    email = "admin@example.org" if role == "admin" else world.users["a"][role].email
    assert auth.sign_in(email).status_code == 302
    session.expire_all()
    before = _table_contents(session)
    opened = 0
    for endpoint, (rule, takes_id) in sorted(routes(app).items()):
        if endpoint in PUBLIC:
            continue
        for target in ("own", "neighbour", "foreign") if takes_id else ("own",):
            response = client.get(url_for_target(world, endpoint, target) if takes_id else rule)
            assert response.status_code != 500, f"{endpoint} {target}"
            opened += 1
    session.expire_all()
    after = _table_contents(session)
    changed = sorted(name for name in before if before[name] != after[name])
    assert opened > 30
    assert not changed, f"opening pages as {role} changed {changed}"


def test_a_page_may_write_only_the_access_log_and_a_public_reports_frozen_quarter():
    # A staff read of a person's record, and the first showing of a complete quarter of a public report
    # (frozen then, so two readings can never be subtracted: tests/transparency/test_public.py).
    assert READS_MAY_WRITE == frozenset({"access_log", "published_quarter"})


def test_a_staff_read_is_recorded_through_the_commit_point(client, auth, world, session):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.get(f"/holders/{holder.id}").status_code == 200
    assert client.get(f"/holders/{holder.id}/statement").status_code == 200
    seen = {row.what for row in session.exec(select(AccessLog).where(AccessLog.holder_id == holder.id))}
    assert {"record", "money statement"} <= seen
