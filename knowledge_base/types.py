"""The knowledge base's vocabulary: entries and retrieval hits."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cached_property

KINDS = ("script", "policy", "regulation", "guidance")
LANGS = ("zh", "en")
JURISDICTIONS = ("CN", "US", "ALL")  # where an entry applies (ALL: advice that holds everywhere)
ASK_JURISDICTIONS = ("CN", "US")  # where an agent works: every question is asked in one of these
STATUSES = ("approved", "draft", "retired")
SECTIONS = ("situation", "say", "do", "dont", "why", "rule")


@dataclass(frozen=True)
class Entry:
    """One vetted knowledge-base entry (front matter + parsed body sections)."""

    id: str
    title: str
    topic: str
    kind: str
    lang: str
    jurisdiction: str
    status: str
    version: int
    refs: tuple[str, ...] = ()
    pair: str | None = None
    questions: tuple[str, ...] = ()
    alternative_for: tuple[str, ...] = ()
    citation: str | None = None
    effective: date | None = None
    expires: date | None = None
    situation: str = ""
    say: tuple[str, ...] = ()
    do: tuple[str, ...] = ()
    dont: tuple[str, ...] = ()
    why: str = ""
    rule: str = ""
    path: str | None = field(default=None, compare=False)

    @cached_property
    def content_hash(self) -> str:
        """Hash of everything that affects indexing and display (not the file path); worked out
        once per entry (the fields are plain values, so no deep copy is needed)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "path"}
        blob = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def in_date(self, today: date) -> bool:
        """True when the entry may be served on ``today``."""
        if self.effective and today < self.effective:
            return False
        return not (self.expires and today > self.expires)

    def index_texts(self) -> list[str]:
        """The texts embedded for this entry: its summary, each agent question, its advice."""
        head = f"{self.title}\n{self.situation or self.rule}"
        body = "\n".join((*self.say, *self.do, self.rule))
        return [head, *self.questions, body] if body.strip() else [head, *self.questions]

    def lexical_text(self) -> str:
        """The text the lexical (BM25) index sees."""
        return "\n".join((self.title, self.situation, *self.questions, *self.say, self.rule))


def laws_named(entries: list[Entry]) -> tuple[str, ...]:
    """What the regulation entries cite, so vetting can tell a real citation from an invented one."""
    return tuple(f"{e.citation} {e.title} {e.rule}" for e in entries if e.kind == "regulation")


def content_key(entries: list[Entry]) -> str:
    """A short fingerprint of a set of entry versions (what an index was built from)."""
    blob = "\n".join(sorted(f"{e.id}:{e.content_hash}" for e in entries))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Hit:
    """An entry found for a question, with the evidence of how well it matched."""

    entry: Entry
    score: float
    dense: float
