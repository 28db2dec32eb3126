"""Mutation-test the pure rules: each module against its own fast tests, with mutmut 3.

    python scripts/mutation.py                      # every brokerage/*/rules.py and ledger/merkle.py
    python scripts/mutation.py ledger/rules.py      # a subset (paths below brokerage/)
    python scripts/mutation.py --survivors ...      # also print the diff of every surviving mutant

For each module it lays out a scratch project in mutants/<module>/ (links to brokerage/ and tests/,
and this project's pyproject.toml with a [tool.mutmut] section naming only that module and its
tests), runs `mutmut run` there from scratch, and reads the verdicts back. The score is killed
mutants (a test failed or timed out) over all mutants, after setting apart the message-only ones
(see `message_only` below and README's Tests section). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants"

# Each module and its fast tests (pure: no database, no app). Globs are relative to the project root.
TESTS = {
    "accounts/rules.py": ["tests/accounts/test_rules.py"],
    # The transition tables of every status are pinned in one place, beside the check that nothing bypasses them.
    "clusters/rules.py": ["tests/clusters/test_rules.py", "tests/test_statuses.py"],
    "contracts/rules.py": ["tests/contracts/test_rules.py", "tests/test_statuses.py"],
    "ledger/rules.py": ["tests/ledger/test_rules.py", "tests/ledger/test_vectors.py"],
    "ledger/merkle.py": ["tests/ledger/test_merkle*.py", "tests/ledger/test_vectors.py"],
    "matching/rules.py": ["tests/matching/test_rules.py", "tests/test_statuses.py"],
    # vetting_state's tests have lived beside the cluster rules.
    "providers/rules.py": ["tests/providers/test_rules*.py", "tests/clusters/test_rules.py"],
    "surplus/rules.py": ["tests/surplus/test_rules.py", "tests/test_statuses.py"],
}

# mutmut's exit codes that mean the tests caught the mutant (failed, crashed or ran out of time).
KILLED = {1, 3, 36, -24, 24, 152, 255, -11, -9}


def all_modules() -> list[str]:
    """Return every module to mutate, as a path below brokerage/."""
    found = sorted(str(p.relative_to(ROOT / "brokerage")) for p in (ROOT / "brokerage").glob("*/rules.py"))
    return found + ["ledger/merkle.py"]


def tests_for(module: str) -> list[str]:
    """Return the existing test files mapped to a module."""
    patterns = TESTS.get(module, [f"tests/{module.split('/')[0]}/test_rules.py"])
    files = sorted({str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern)})
    if not files:
        raise SystemExit(f"error: no tests for {module} (looked for {', '.join(patterns)})")
    return files


def toml_list(items: list[str]) -> str:
    """Return a TOML array of strings."""
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def lay_out(module: str, tests: list[str]) -> Path:
    """Make a fresh scratch project for one module and return its folder."""
    work = WORK / module.replace("/", "-").removesuffix(".py")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / "brokerage").symlink_to(ROOT / "brokerage")
    (work / "tests").symlink_to(ROOT / "tests")
    pyproject = (ROOT / "pyproject.toml").read_text()
    if "[tool.mutmut]" in pyproject:
        raise SystemExit("error: pyproject.toml must not have its own [tool.mutmut]: this script writes one per module")
    pyproject += (
        "\n[tool.mutmut]\n"
        'source_paths = ["brokerage"]\n'
        f"only_mutate = {toml_list(['brokerage/' + module])}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        # Every mutant meets the same Hypothesis examples (the profile is in tests/conftest.py).
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "--hypothesis-profile=mutation"]\n'
    )
    (work / "pyproject.toml").write_text(pyproject)
    return work


_SELECT_BY_ID = """
import sys, pytest
class Ids:
    nodeids = []
    def pytest_collection_modifyitems(self, items):
        self.nodeids = [item.nodeid for item in items]
ids = Ids()
options = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--collect-only"]
if pytest.main(options + sys.argv[1:], plugins=[ids]) != 0 or not ids.nodeids:
    sys.exit("cannot collect the tests")
again = Ids()
if pytest.main(options + ids.nodeids, plugins=[again]) != 0 or sorted(again.nodeids) != sorted(ids.nodeids):
    sys.exit("these tests cannot be selected by id: " + ", ".join(sorted(set(ids.nodeids) - set(again.nodeids))[:5]))
"""


def check_test_ids(work: Path, tests: list[str]) -> None:
    """Refuse tests that cannot be run by their own ids, as mutmut runs them: pytest's usage error would count as a kill."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(work)
    result = subprocess.run([sys.executable, "-c", _SELECT_BY_ID, *tests], cwd=work, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"error: {result.stderr.strip().splitlines()[-1]} (use plain parametrize ids)")


def run_mutmut(work: Path, jobs: int, log) -> None:
    """Run mutmut in a scratch project, copying its output to the log."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)]
    result = subprocess.run(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        log.flush()
        tail = Path(log.name).read_text(errors="replace").splitlines()[-30:]
        raise SystemExit(f"error: mutmut failed in {work} (exit {result.returncode}):\n" + "\n".join(tail))


def functions_by_name(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Return mutmut's generated functions (module level and in classes) by name."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "__mutmut_" in node.name:
            found[node.name] = node
    return found


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a) == ast.dump(b)


def _differences(a, b) -> list[tuple[object, object]]:
    """Return the smallest differing pairs of nodes between two ASTs, ignoring raise-message changes."""
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)) or len(a) != len(b):
            return [(a, b)]
        return [d for x, y in zip(a, b) for d in _differences(x, y)]
    if not isinstance(a, ast.AST) or not isinstance(b, ast.AST):
        return [] if a == b else [(a, b)]
    if type(a) is not type(b):
        return [(a, b)]
    if isinstance(a, ast.Raise) and _raise_message_only(a, b):
        return []
    if isinstance(a, ast.Constant):
        return [] if (type(a.value), a.value) == (type(b.value), b.value) else [(a, b)]
    found = []
    for field in a._fields:
        if field in ("ctx", "type_comment"):
            continue
        found += _differences(getattr(a, field, None), getattr(b, field, None))
    return found


def _raise_message_only(a: ast.Raise, b: ast.Raise) -> bool:
    """Tell whether two raise statements raise the same exception class, differing at most in its arguments."""
    return (
        isinstance(a.exc, ast.Call) and isinstance(b.exc, ast.Call)
        and _same(a.exc.func, b.exc.func)
        and (a.cause is None) == (b.cause is None) and (a.cause is None or _same(a.cause, b.cause))
    )


def _is_message_text(a, b) -> bool:
    return (
        isinstance(a, ast.Constant) and isinstance(b, ast.Constant)
        and isinstance(a.value, str) and isinstance(b.value, str) and " " in a.value
    )


def message_only(original: ast.FunctionDef, mutant: ast.FunctionDef) -> bool:
    """Tell whether a mutant changes only the wording of a message.

    It does when every difference from the original function is either
    - in the arguments of the exception a `raise` statement builds (the class stays the same), or
    - in the text of a string literal that contains a space (a phrase for a person to read; the
      codes, keys, separators and tokens the rules compare or hash never contain one).
    """
    a = ast.Module(body=original.body, type_ignores=[])
    b = ast.Module(body=mutant.body, type_ignores=[])
    if not _same(original.args, mutant.args):
        return False
    differences = _differences(a, b)
    if not differences:
        return not _same(a, b)  # the only changes were in raised exceptions' arguments
    return all(_is_message_text(x, y) for x, y in differences)


def collect(work: Path, module: str) -> dict:
    """Read mutmut's verdicts for one module and score it."""
    mutated = work / "mutants" / "brokerage" / module
    meta = json.loads(mutated.with_name(mutated.name + ".meta").read_text())
    functions = functions_by_name(ast.parse(mutated.read_text()))
    prefix = "brokerage." + module.removesuffix(".py").replace("/", ".") + "."
    killed = total = excluded = 0
    survivors, excluded_names = [], []
    for key, code in sorted(meta["exit_code_by_key"].items()):
        name = key.removeprefix(prefix)
        orig_name = name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"
        if name in functions and orig_name in functions and message_only(functions[orig_name], functions[name]):
            excluded += 1
            excluded_names.append(key)
            continue
        total += 1
        if code in KILLED:
            killed += 1
        else:
            survivors.append((key, code))
    return {
        "killed": killed, "total": total, "score": round(killed / total, 4) if total else None,
        "message_only_excluded": excluded, "survivors": survivors, "excluded": excluded_names,
    }


def show(work: Path, key: str) -> str:
    """Return mutmut's diff of one mutant."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-m", "mutmut", "show", key], cwd=work, env=env, capture_output=True, text=True)
    return result.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    """Mutation-test the chosen modules and print a JSON summary as the last line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths below brokerage/, e.g. ledger/rules.py (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", os.cpu_count() or 2)))
    parser.add_argument("--survivors", action="store_true", help="print the diff of each surviving mutant")
    parser.add_argument("--excluded", action="store_true", help="print the diff of each message-only mutant set apart")
    args = parser.parse_args(argv)

    known = all_modules()
    modules = args.modules or known
    for module in modules:
        if module not in known:
            parser.error(f"unknown module {module!r}; choose from {', '.join(known)}")
    summary = {}
    for number, module in enumerate(modules, 1):
        tests = tests_for(module)
        print(f"[{number}/{len(modules)}] {module}: mutating against {' '.join(tests)}", flush=True)
        work = lay_out(module, tests)
        check_test_ids(work, tests)
        with open(work / "mutmut.log", "w") as log:
            run_mutmut(work, args.jobs, log)
        result = collect(work, module)
        print(
            f"[{number}/{len(modules)}] {module}: {result['killed']}/{result['total']} killed"
            f" ({result['score']:.1%}), {len(result['survivors'])} survived,"
            f" {result['message_only_excluded']} message-only set apart (log: {work / 'mutmut.log'})",
            flush=True,
        )
        if args.survivors:
            for key, code in result["survivors"]:
                print(f"--- survived ({code}): {key}\n{show(work, key)}\n", flush=True)
        if args.excluded:
            for key in result["excluded"]:
                print(f"--- message-only: {key}\n{show(work, key)}\n", flush=True)
        summary[module] = {k: result[k] for k in ("killed", "total", "score", "message_only_excluded")}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
