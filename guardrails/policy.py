"""The policy and refusal wording, read once from ``data/``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Policy:
    """Rule refs per category and jurisdiction, clause splitting and the law-citation pattern."""

    rule_refs: dict[str, dict[str, tuple[str, ...]]]
    clause_breaks: re.Pattern
    min_clause_chars: int
    max_clauses: int
    law_citation: re.Pattern

    def refs_for(self, categories, jurisdiction: str) -> tuple[str, ...]:
        refs: list[str] = []
        for cat in categories:
            refs += [r for r in self.rule_refs.get(cat, {}).get(jurisdiction, ()) if r not in refs]
        return tuple(refs)


@cache
def load_policy(path: Path = DATA / "policy.yaml") -> Policy:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    breaks = "|".join(re.escape(b) for b in data["clause_breaks"])
    return Policy(
        rule_refs={c: {j: tuple(r) for j, r in by_j.items()} for c, by_j in data["categories"].items()},
        clause_breaks=re.compile(breaks, re.I),
        min_clause_chars=int(data["min_clause_chars"]),
        max_clauses=int(data["max_clauses"]),
        law_citation=re.compile(data["law_citation"]),
    )


@cache
def refusal_wording(path: Path = DATA / "refusals.yaml") -> dict:
    """Refusal wording per category and language, plus the intro and labels."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))
