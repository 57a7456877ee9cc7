"""Training material into draft entries: document → passages → vetting → one draft per sound passage.

>>> result = services.curation.import_document(Path("deck.pdf"), by=alice)   # one transaction
>>> result.added, [p.text for p in result.flagged]                          # drafts stored, passages refused

Each draft is grouped under its source file (ids ``import-<file-name-slug>-<n>``, n = the passage's
number in the dry run; the title is the heading of its section and its first words), with a suggested
topic (nearest by embeddings) and its language. The Situation is the passage; the Do/Don't/Why lines
the entry format requires are PLACEHOLDER lines for the trainer, and the store refuses to submit an
entry while any is left. Drafts never reach agents: only approved versions are served.

A knowledge gap (agents' questions the base did not serve, grouped on Insights) becomes a draft the same way
(``draft_from_gap``): the questions as its example questions, a suggested topic, placeholders for the rest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.coaching.language import detect_lang
from guardrails.vetting import VettedPassage
from knowledge_base.curation import DRAFT, PLACEHOLDER, Principal
from knowledge_base.sql_store import SqlStore
from knowledge_base.topic_suggestion import TopicSuggester
from knowledge_base.types import Entry

KIND = "guidance"  # no Say lines required: the trainer decides whether the passage becomes a script
_TODO = {
    "zh": {"do": "写出坐席应该怎么做", "dont": "写出坐席不能怎么做", "why": "写出理由（合规要求、客户的处境）"},
    "en": {"do": "write what the agent should do", "dont": "write what the agent must not do",
           "why": "write why (the rule, the customer's situation)"},
}
_GAP = {
    "zh": {"title": "知识缺口：{example}", "situation": "写出这些问题描述的情况"},
    "en": {"title": "Gap: {example}", "situation": "describe the situation these questions are about"},
}
_TITLE_CHARS = 40
GAP_QUESTIONS = 8  # example questions a gap draft keeps (the group's first, most recent ones)


@dataclass(frozen=True)
class DocumentImport:
    """What importing one file did: drafts added, drafts already there, passages flagged (not stored)."""

    source: str
    added: tuple[Entry, ...]
    unchanged: tuple[str, ...]
    flagged: tuple[VettedPassage, ...]

    def to_dict(self) -> dict:
        return {"file": self.source,
                "drafts": [{"id": e.id, "title": e.title, "topic": e.topic, "lang": e.lang} for e in self.added],
                "unchanged": list(self.unchanged),
                "flagged": [p.to_dict() for p in self.flagged]}


def file_slug(name: str) -> str:
    """A file name as an id part: ASCII letters and digits (a short hash for names with none)."""
    slug = "-".join(re.findall(r"[a-z0-9]+", name.lower()))[:40].strip("-")
    stem = Path(name).stem
    if not re.search(r"[a-z0-9]", Path(name.lower()).stem):  # e.g. 催收培训.pdf: keep names apart by hash
        slug = f"{slug}-{hashlib.sha1(stem.encode('utf-8')).hexdigest()[:8]}".strip("-")
    return slug


def draft_for(source: str, number: int, passage: str, topic: str, jurisdiction: str, heading: str = "") -> Entry:
    """The draft entry for passage ``number`` of file ``source`` (its id names them), titled by the heading of
    its section and its first words."""
    lang = detect_lang(passage)
    todo = _TODO[lang]
    title = f"{snippet(heading)} — {snippet(passage)}" if heading else snippet(passage)
    return Entry(id=f"import-{file_slug(source)}-{number}", title=title,
                 topic=topic, kind=KIND, lang=lang, jurisdiction=jurisdiction, status=DRAFT, version=1,
                 situation=passage, do=(f"{PLACEHOLDER}: {todo['do']}",), dont=(f"{PLACEHOLDER}: {todo['dont']}",),
                 why=f"{PLACEHOLDER}: {todo['why']}")


def snippet(text: str) -> str:
    return text if len(text) <= _TITLE_CHARS else text[:_TITLE_CHARS].rstrip() + "…"


def draft_for_gap(questions: list[str], topic: str, jurisdiction: str) -> Entry:
    """The draft entry for a knowledge gap: its questions (one line each, at most GAP_QUESTIONS), same id for the
    same questions (drafting a gap twice stores it once)."""
    kept = list(dict.fromkeys(" ".join(q.split()) for q in questions if q.strip()))[:GAP_QUESTIONS]
    if not kept:
        raise ValueError("a knowledge gap without questions cannot become a draft")
    lang = detect_lang(kept[0])
    digest = hashlib.sha1("\n".join(kept).encode("utf-8")).hexdigest()[:10]
    todo, gap = _TODO[lang], _GAP[lang]
    return Entry(id=f"gap-{digest}", title=gap["title"].format(example=snippet(kept[0])), topic=topic, kind=KIND,
                 lang=lang, jurisdiction=jurisdiction, status=DRAFT, version=1,
                 situation=f"{PLACEHOLDER}: {gap['situation']}", questions=tuple(kept),
                 do=(f"{PLACEHOLDER}: {todo['do']}",), dont=(f"{PLACEHOLDER}: {todo['dont']}",),
                 why=f"{PLACEHOLDER}: {todo['why']}")


class Drafter:
    """Turns a document's vetted passages into draft entries with a suggested topic, stored in one go."""

    def __init__(self, store: SqlStore, suggester: TopicSuggester):
        self.store, self.suggester = store, suggester

    def store_drafts(self, source: str, vetted: list[VettedPassage], *, by: Principal,
                     jurisdiction: str = "CN") -> DocumentImport:
        """Store one draft per passage that passed vetting, all in one transaction."""
        sound = [(n, p) for n, p in enumerate(vetted, 1) if not p.verdict.blocked]
        topics = self.suggester.suggest([f"{p.heading}\n{p.text}".strip() for _, p in sound])  # the heading says much
        drafts = [draft_for(source, n, p.text, topic, jurisdiction, p.heading) for (n, p), topic in zip(sound, topics)]
        report = self.store.import_drafts(drafts, by=by)
        added = set(report["added"])
        return DocumentImport(source, tuple(d for d in drafts if d.id in added), tuple(report["unchanged"]),
                              tuple(p for p in vetted if p.verdict.blocked))

    def draft_from_gap(self, questions: list[str], *, by: Principal, jurisdiction: str = "CN") -> Entry:
        """Store a knowledge gap as a draft entry (unchanged when it was drafted before); returns the draft."""
        topic = self.suggester.suggest([" ".join(questions[:GAP_QUESTIONS])])[0]
        draft = draft_for_gap(questions, topic, jurisdiction)
        self.store.import_drafts([draft], by=by)
        return draft
