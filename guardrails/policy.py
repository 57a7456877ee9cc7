"""The policy and refusal wording, read once from ``data/``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from guardrails.data_files import read_yaml

DATA = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Policy:
    """Rule refs per category and jurisdiction, the structural rules and clause splitting."""

    rule_refs: dict[str, dict[str, tuple[str, ...]]]
    clause_breaks: re.Pattern
    min_clause_chars: int
    max_clauses: int
    rules: tuple[dict, ...] = ()

    def rule_fired(self, found, checkpoint: str, scope: str = "text") -> str | None:
        """The name of the first structural rule of ``scope`` (text, or conversation: the earlier turns and the
        question together) that the matched signals satisfy, if any."""
        for rule in self.rules:
            if rule.get("scope", "text") != scope:
                continue
            groups = rule.get("any") or []
            groups = groups if groups and isinstance(groups[0], list) else ([groups] if groups else [])
            if checkpoint in rule.get("at", ()) and (all(s in found for s in rule.get("all", ())) and
                    all(any(s in found for s in group) for group in groups) and
                    not any(s in found for s in rule.get("none", ()))):
                return rule["name"]
        return None

    def refs_for(self, categories, jurisdiction: str) -> tuple[str, ...]:
        refs: list[str] = []
        for cat in categories:
            refs += [r for r in self.rule_refs.get(cat, {}).get(jurisdiction, ()) if r not in refs]
        return tuple(refs)


@cache
def load_policy(path: Path = DATA / "policy.yaml") -> Policy:
    data = read_yaml(path)
    breaks = "|".join(re.escape(b) for b in data["clause_breaks"])
    return Policy(
        rule_refs={c: {j: tuple(r) for j, r in by_j.items()} for c, by_j in data["categories"].items()},
        clause_breaks=re.compile(breaks, re.I),
        min_clause_chars=int(data["min_clause_chars"]),
        max_clauses=int(data["max_clauses"]),
        rules=tuple(data.get("rules", ())),
    )


@cache
def refusal_wording(path: Path = DATA / "refusals.yaml") -> dict:
    """Refusal wording per category and language, plus the intro and labels."""
    return read_yaml(path)
