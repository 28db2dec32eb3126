"""The package structure holds (issue 9): imports go one way, no hidden imports inside functions, small modules."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "brokerage"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 450


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the package under `root`, reading `root`'s pyproject.toml."""
    env = {"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent), "LANG": "C.UTF-8"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_every_import_goes_down_the_layers():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_that_goes_up_a_layer_breaks_the_contract(tmp_path):
    # A copy of the package where the ledger (the bottom domain) imports matching (near the top).
    shutil.copytree(PACKAGE, tmp_path / "brokerage", ignore=shutil.ignore_patterns("static", "__pycache__", "*.json"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    rules = tmp_path / "brokerage" / "ledger" / "rules.py"
    rules.write_text(rules.read_text() + "\nfrom brokerage.matching import services as _wrong_way  # noqa: E402\n")

    result = _lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "brokerage.ledger is not allowed to import brokerage.matching" in result.stdout
    assert "brokerage.ledger.rules -> brokerage.matching.services" in result.stdout


def _imports_inside_functions(path: Path) -> list[tuple[int, str]]:
    """Return (line, module) for each project import inside a function body with no comment saying why."""
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
            elif isinstance(node, ast.Import):
                module = ",".join(alias.name for alias in node.names)
            else:
                continue
            if not (module.startswith(("brokerage", "brokerage_bench", ".")) or "brokerage" in module):
                continue
            # The reason is a comment on the import's own line, or just above it or above the group of
            # imports it belongs to.
            above = node.lineno - 2
            while above >= 0 and lines[above].strip().startswith(("from ", "import ")) or (above >= 0 and not lines[above].strip()):
                above -= 1
            commented = "#" in lines[node.lineno - 1] or (above >= 0 and lines[above].strip().startswith("#"))
            if not commented:
                found.append((node.lineno, module))
    return sorted(set(found))


def test_no_project_import_hides_inside_a_function_without_a_reason():
    hidden = [f"{path.relative_to(ROOT)}:{line} {module}" for path in _modules() for line, module in _imports_inside_functions(path)]
    assert not hidden, "imports inside functions (move them to the top, or comment why):\n" + "\n".join(hidden)


def test_the_import_check_finds_a_hidden_import(tmp_path):
    module = tmp_path / "example.py"
    module.write_text(
        "def hidden():\n    from brokerage.ledger import services\n\n\n"
        "def explained():\n    # CLI start-up stays fast: the solver loads only when a command runs.\n"
        "    from brokerage.matching import solver\n    from brokerage.matching import files\n\n"
        "def unexplained_after_code():\n    # A comment about something else.\n    x = 1\n    from brokerage.clock import now\n"
    )
    assert _imports_inside_functions(module) == [(2, "brokerage.ledger"), (13, "brokerage.clock")]


def test_no_module_is_longer_than_450_lines():
    lengths = {str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in _modules()}
    too_long = {name: length for name, length in lengths.items() if length > MAX_LINES}
    assert not too_long, f"split these by responsibility (at most {MAX_LINES} lines each): {too_long}"


def _is_module(name: str) -> bool:
    """Tell whether a dotted name is a module (a class's _methods are its own business, as localstripe's `_api_*` are)."""
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name inside a module, not a module
        return False


def _private_names_imported(path: Path) -> list[tuple[int, str]]:
    """Return (line, "module.name") for each _private name this module takes from another project module."""
    found = []
    tree = ast.parse(path.read_text())
    aliases = {}  # a project module imported whole, by the name it is bound to here
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("brokerage"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append((node.lineno, f"{node.module}.{alias.name}"))
                if _is_module(f"{node.module}.{alias.name}"):
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("brokerage"):
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append((node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    return sorted(set(found))


def test_no_module_uses_another_modules_private_names():
    used = [f"{path.relative_to(ROOT)}:{line} {name}" for path in _modules() for line, name in _private_names_imported(path)]
    assert not used, "a name another module uses is part of its interface: drop the underscore\n" + "\n".join(used)


def test_the_private_name_check_finds_both_ways_of_reaching_in(tmp_path):
    module = tmp_path / "example.py"
    module.write_text(
        "from brokerage.matching import fixed_charge as fc\nfrom brokerage.matching.solver import _arc_capacity, optimise\n\n"
        "def f(m):\n    return fc._model(m), fc.model_of(m), m._own\n"
    )
    assert _private_names_imported(module) == [(2, "brokerage.matching.solver._arc_capacity"), (5, "brokerage.matching.fixed_charge._model")]
