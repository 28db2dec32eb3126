"""People read "group", never "cluster": in pages, messages, flashes, downloads (issue 9, words).

"Cluster" stays in code (names, docstrings, comments) and in the matching file format, whose engine
modules say "cluster" about format files when the caller gives no group names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORD = re.compile(r"\bclusters?\b", re.IGNORECASE)
# The matching engine writes and reads the file format (../shared/matching-instance.md).
FORMAT_MODULES = {"instance.py", "solver.py", "pairs.py", "generator.py", "check.py", "files.py", "explain.py"}
JINJA = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)


def _template_text(path: Path) -> str:
    """Return what a template shows people: its text outside Jinja tags (and the phrases passed inside them), not HTML attributes."""
    source = path.read_text()
    # A phrase given to a macro (a table caption, a summary row's label) is read too: a quoted string with a space.
    literals = (m.group(0)[1:-1] for tag in JINJA.finditer(source) for m in re.finditer(r"'[^']*'|\"[^\"]*\"", tag.group(0)))
    phrases = [literal for literal in literals if " " in literal]
    text = JINJA.sub(" ", source) + " " + " ".join(phrases)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.DOTALL)
    # Attribute values people never read (ids, classes, hrefs); aria-label and title are read, so kept.
    return re.sub(r'\s(?:id|class|href|name|for|action|method|data-[\w-]+|aria-(?!label)[\w-]+)="[^"]*"', " ", text)


def _messages(path: Path) -> list[tuple[int, str]]:
    """Return the string literals in a module that a person could read: not docstrings, and with a space."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings and " " in node.value
    ]


def test_no_page_says_cluster():
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)!r}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for match in WORD.finditer(_template_text(path))
    ]
    assert not found, "say 'group' to people:\n" + "\n".join(found)


def test_no_message_says_cluster():
    modules = [
        path for path in sorted((ROOT / "brokerage").rglob("*.py"))
        if "migrations" not in path.parts and not (path.parent.name == "matching" and path.name in FORMAT_MODULES)
    ]
    found = [f"{path.relative_to(ROOT)}:{line}: {text!r}" for path in modules for line, text in _messages(path) if WORD.search(text)]
    assert not found, "say 'group' to people:\n" + "\n".join(found)


def test_the_checks_find_the_word(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<h1 class="clusters">Your clusters</h1>{% if clusters %}{{ cluster.name }}{% endif %}'
                    "{% call data_table('Clusters in this council', 'clusters') %}{% endcall %}")
    module = tmp_path / "module.py"
    module.write_text('"""About clusters."""\nMESSAGE = "There is no such cluster."\nKEY = "cluster"\n')
    assert [m.group(0) for m in WORD.finditer(_template_text(page))] == ["clusters", "Clusters"]
    assert [text for _, text in _messages(module) if WORD.search(text)] == ["There is no such cluster."]
