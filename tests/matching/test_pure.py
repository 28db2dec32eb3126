"""The matching engine stays free of Flask and SQL, including the shared modules it imports."""

from __future__ import annotations

import ast
from pathlib import Path

import brokerage

ROOT = Path(brokerage.__file__).parent
ENGINE = ("errors", "vocabulary", "instance", "rules", "pairs", "solver", "explain", "check", "generator", "files")
FORBIDDEN = ("flask", "flask_login", "flask_wtf", "wtforms", "sqlalchemy", "sqlmodel", "psycopg")


def _runtime_imports(module: str) -> set[str]:
    """Return the modules `module` imports when it runs (imports under `if TYPE_CHECKING:` excluded)."""
    path = ROOT.joinpath(*module.split(".")[1:]).with_suffix(".py")
    tree = ast.parse(path.read_text())
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for child in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_engine_and_what_it_imports_use_no_flask_and_no_sql():
    seen, todo, offenders = set(), [f"brokerage.matching.{name}" for name in ENGINE], []
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for imported in _runtime_imports(module):
            if imported.split(".")[0] in FORBIDDEN:
                offenders.append(f"{module} imports {imported}")
            elif imported.startswith("brokerage.") and ROOT.joinpath(*imported.split(".")[1:]).with_suffix(".py").exists():
                todo.append(imported)
    assert "brokerage.formatting" in seen
    assert offenders == []
