"""The layout rules of docs/architecture.md, checked on the source: what each layer may import.

Imports are read with ``ast`` (module level and inside functions alike), so a lazy import counts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO / "search"
WEB = REPO / "web"

#: Whoosh modules and names below its public API: only the Whoosh boundary may use them.
WHOOSH_INTERNALS = ("whoosh.codec", "whoosh.filedb", "whoosh.reading", "whoosh.util",
                    "whoosh.matching", "whoosh.writing", "whoosh.index.TOC",
                    "whoosh.index.clean_files", "whoosh.system")


def imports(path: Path) -> set[str]:
    """The modules (and ``module.name`` for ``from module import name``) ``path`` imports,
    relative imports resolved against its package."""
    package = path.parent.name
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = f"{package}.{base}" if base else package
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def modules(folder: Path) -> dict[str, set[str]]:
    return {f"{folder.name}.{p.stem}": imports(p) for p in sorted(folder.glob("*.py"))}


def library_graph() -> dict[str, set[str]]:
    """Module -> the library modules it imports (the package ``__init__`` and ``__main__``,
    which import everything for the public API, left out)."""
    names = set(modules(LIBRARY)) - {"search.__init__", "search.__main__"}
    return {name: {m for m in found if m in names and m != name}
            for name, found in modules(LIBRARY).items() if name in names}


def test_the_library_never_imports_flask():
    for name, found in modules(LIBRARY).items():
        flask = {m for m in found if m.split(".")[0] in ("flask", "werkzeug", "markupsafe")}
        assert not flask, (name, flask)
    # The CLI starts the web app only inside ``serve``, lazily.
    cli = ast.parse((LIBRARY / "cli.py").read_text(encoding="utf-8"))
    top_level = {n.module for n in cli.body if isinstance(n, ast.ImportFrom)}
    assert not any(m and m.startswith("web") for m in top_level)


def test_web_uses_only_the_public_library():
    allowed = {"search", "search.errors", "search.models"}
    for name, found in modules(WEB).items():
        library = {m for m in found if m == "search" or m.startswith("search.")}
        reached = {m for m in library if m not in allowed and m.rsplit(".", 1)[0] not in allowed}
        assert not reached, (name, reached)


def test_library_imports_have_no_cycle():
    graph = library_graph()
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_whoosh_internals_stay_behind_one_boundary():
    users = sorted(name for name, found in modules(LIBRARY).items()
                   if any(m == w or m.startswith(w + ".") for m in found for w in WHOOSH_INTERNALS))
    assert len(users) <= 2, users
    assert "search.whoosh_w3" in users


def test_data_flows_one_way():
    """No module imports one of a later stage: sources -> repair -> sections -> analysis ->
    writing -> generation -> searcher -> CLI."""
    order = ["search.sources", "search.repair", "search.sections", "search.documents",
             "search.analysis", "search.writing", "search.indexer", "search.generation",
             "search.searcher", "search.cli"]
    graph = library_graph()
    for i, name in enumerate(order):
        later = set(order[i + 1:])
        assert not graph.get(name, set()) & later, (name, graph[name] & later)


def test_architecture_lists_every_module_in_import_order():
    """docs/architecture.md names every module of the library, each after those it imports."""
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    order = [f"search.{m}" for m in re.findall(r"^\| `search/(\w+)\.py`", doc, re.MULTILINE)]
    graph = library_graph()
    assert sorted(order) == sorted(graph)
    for i, name in enumerate(order):
        assert not graph[name] & set(order[i + 1:]), (name, graph[name] & set(order[i + 1:]))
