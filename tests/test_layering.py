"""One-way imports (STYLE.md, docs/architecture.md): front doors -> assistant services -> knowledge_base,
guardrails. The two lower packages never import assistant or each other; no front door (the pages, app.py,
the CLI, the HTTP API) imports knowledge_base or guardrails; heavy libraries load lazily; and no module
imports itself back through others (no circle anywhere, imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("assistant", "knowledge_base", "guardrails", "app_pages")
FRONT_DOORS = ("app", "app_pages", "assistant.cli", "assistant.api")
FORBIDDEN = {
    "knowledge_base": {"assistant", "guardrails", "app", "app_pages"},
    "guardrails": {"assistant", "knowledge_base", "app", "app_pages"},
    "assistant": {"app", "app_pages"},
    "app_pages": {"knowledge_base", "guardrails"},
    "app": {"knowledge_base", "guardrails"},
}
HEAVY = {"torch", "sentence_transformers", "transformers", "langchain_openai", "langchain_ollama",
         "langchain_anthropic", "playwright", "jieba", "fastapi", "uvicorn"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    found = {module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    return {**found, "app": REPO / "app.py"}


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Dotted names of the absolute imports in a module (optionally only those run at import time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def project_edges() -> dict[str, set[str]]:
    """module -> the project modules it imports (a ``from pkg import name`` of a submodule counts as that)."""
    mods = sources()
    edges = {}
    for name, path in mods.items():
        targets = {i for i in imports(path) if i in mods}
        edges[name] = {t for t in targets if t != name}
    return edges


def test_lower_packages_and_front_doors_import_only_what_they_may():
    crossing = {}
    for name, path in sources().items():
        rules = FORBIDDEN.get(name.split(".")[0], set())
        door = any(name == d or name.startswith(d + ".") for d in FRONT_DOORS)
        banned = rules | ({"knowledge_base", "guardrails"} if door else set())
        bad = sorted({i.split(".")[0] for i in imports(path)} & banned)
        if bad:
            crossing[str(path.relative_to(REPO))] = bad
    assert crossing == {}


def test_no_import_circle_anywhere():
    edges = project_edges()
    visiting, done, circles = [], set(), []

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            circles.append(" -> ".join(visiting[visiting.index(node):] + [node]))
            return
        visiting.append(node)
        for target in sorted(edges.get(node, ())):
            if not node.startswith(target + ".") and not target.startswith(node + "."):  # a package and its modules
                visit(target)
        visiting.pop()
        done.add(node)

    for node in sorted(edges):
        visit(node)
    assert circles == []


# The API package is the web server: it may load its framework, and nothing else loads it at module level.
SERVER = "assistant.api"
SERVER_LIBS = {"fastapi", "uvicorn"}


def in_server(name: str) -> bool:
    return name == SERVER or name.startswith(SERVER + ".")


@pytest.mark.parametrize("package", [*PACKAGES, "app"])
def test_heavy_libraries_are_never_imported_at_module_level(package):
    mods = {n: p for n, p in sources().items() if n.split(".")[0] == package}
    eager = {n: sorted({i.split(".")[0] for i in imports(p, top_level_only=True)}
                       & (HEAVY - SERVER_LIBS if in_server(n) else HEAVY)) for n, p in mods.items()}
    assert {k: v for k, v in eager.items() if v} == {}


def test_only_the_server_loads_the_server_at_module_level():
    eager = {n: sorted(i for i in imports(p, top_level_only=True) if in_server(i))
             for n, p in sources().items() if not in_server(n)}
    assert {k: v for k, v in eager.items() if v} == {}


def test_the_checks_see_imports_inside_functions_and_circles(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom . import sibling\n\ndef f():\n    from assistant.coaching import pipeline\n")
    assert imports(sample) == {"os", "assistant.coaching", "assistant.coaching.pipeline"}
    assert imports(sample, top_level_only=True) == {"os"}
