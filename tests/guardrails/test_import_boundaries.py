"""One-way imports (STYLE.md): app -> assistant -> knowledge_base, guardrails; the two lower packages never
import assistant or each other, and heavy libraries are imported lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "knowledge_base": {"assistant", "guardrails", "app", "app_pages"},
    "guardrails": {"assistant", "knowledge_base", "app", "app_pages"},
    "assistant": {"app", "app_pages"},
}
HEAVY = {"torch", "sentence_transformers", "transformers", "langchain_openai", "langchain_ollama",
         "langchain_anthropic", "playwright"}


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Root names of the absolute imports in a module (optionally only those run at import time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", FORBIDDEN)
def test_a_package_never_imports_upwards_or_sideways(package):
    assert modules(package)
    crossing = {str(p.relative_to(REPO)): sorted(imports(p) & FORBIDDEN[package]) for p in modules(package)}
    assert {k: v for k, v in crossing.items() if v} == {}


@pytest.mark.parametrize("package", FORBIDDEN)
def test_heavy_libraries_are_never_imported_at_module_level(package):
    eager = {str(p.relative_to(REPO)): sorted(imports(p, top_level_only=True) & HEAVY) for p in modules(package)}
    assert {k: v for k, v in eager.items() if v} == {}


def test_the_parser_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom . import sibling\n\ndef f():\n    from assistant.coaching import Coach\n")
    assert imports(sample) == {"os", "assistant"}
    assert imports(sample, top_level_only=True) == {"os"}
