"""Evaluation cases (docs/eval-format.md): one JSON Lines file in, validated ``Case``s out; bad lines named."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class CaseError(ValueError):
    """A case file cannot be read; names the file and line."""


@dataclass(frozen=True)
class Case:
    id: str
    mode: str
    expect: str
    text: str
    topics: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    lang: str = ""
    jurisdiction: str | None = None
    history: tuple[str, ...] = ()
    hard_negative: bool = False
    source_file: str = ""
    extra: dict = field(default_factory=dict, compare=False)


EXPECTS = {"ask": ("answer", "refuse", "abstain"), "vet": ("ok", "violation")}
# Optional fields the runner and the metrics read: the call context (call-context.md), the contact verdict
# it expects, actions the answer must (not) suggest, and informational tags.
EXTRA = ("context", "contact_allowed", "must", "must_not", "pattern", "harmful", "persona")


def load_cases(path: Path) -> list[Case]:
    """Parse one JSON Lines case file; unknown fields are ignored, bad lines named."""
    cases, seen = [], set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"{path}: cannot read ({exc})") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CaseError(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or not row.get("id") or not row.get("expect"):
            raise CaseError(f"{where}: a case needs 'id' and 'expect'")
        mode = row.get("mode", "ask")
        if mode not in EXPECTS or row["expect"] not in EXPECTS[mode]:
            raise CaseError(f"{where}: expect {row['expect']!r} is not valid for mode {mode!r}")
        if row["id"] in seen:
            raise CaseError(f"{where}: duplicate id {row['id']!r}")
        seen.add(row["id"])
        text = row.get("question" if mode == "ask" else "text")
        if not isinstance(text, str):
            raise CaseError(f"{where}: missing {'question' if mode == 'ask' else 'text'}")
        cases.append(Case(
            id=str(row["id"]), mode=mode, expect=row["expect"], text=text,
            topics=tuple(row.get("topics") or ()), categories=tuple(row.get("categories") or ()),
            lang=row.get("lang", ""), jurisdiction=row.get("jurisdiction"),
            history=tuple(row.get("history") or ()), hard_negative=bool(row.get("hard_negative")),
            source_file=path.name, extra={k: v for k, v in row.items() if k in EXTRA},
        ))
    return cases
