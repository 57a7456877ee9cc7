"""Vetting imported material: split a document into passages and judge each one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from guardrails.guard import Guard
from guardrails.normalize import normalize
from guardrails.types import Verdict

MAX_PASSAGE_CHARS = 600
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+")
_TERMINAL = re.compile(r"[。！？!?；;”\"]\s*$|[.:：]\s*$")


_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$")  # a Markdown heading (a .docx/.pptx heading reads as one)


@dataclass(frozen=True)
class VettedPassage:
    """One passage of a document, the heading of its section ("" before any) and the guard's verdict on it."""

    text: str
    verdict: Verdict
    heading: str = ""

    def to_dict(self) -> dict:
        return {"text": self.text, "heading": self.heading, "verdict": "violation" if self.verdict.blocked else "ok",
                "categories": list(self.verdict.categories),
                "reasons": [r.__dict__ for r in self.verdict.reasons]}


def _paragraphs(text: str) -> list[tuple[str, str]]:
    """(section heading, paragraph) of blank-line separated blocks; inside a block, lines broken mid-sentence
    (PDF and slide exports) are joined back, a line ending a sentence ends the paragraph, and a heading line
    ends it too and names the paragraphs after it (it is never glued to the first of them)."""
    out: list[tuple[str, str]] = []
    heading = ""
    for block in re.split(r"\n\s*\n", text):
        current = ""
        for raw in block.splitlines():
            if match := _HEADING.match(raw):
                if current:
                    out.append((heading, current))
                heading, current = " ".join(match.group(1).split()), ""
                continue
            line = " ".join(raw.split())
            if not line:
                continue
            glue = " " if current and re.search(r"[A-Za-z0-9,]$", current) and re.match(r"[A-Za-z0-9]", line) else ""
            current = f"{current}{glue}{line}"
            if _TERMINAL.search(current):
                out.append((heading, current))
                current = ""
        if current:
            out.append((heading, current))
    return out


def split_passages(text: str, max_chars: int = MAX_PASSAGE_CHARS) -> list[str]:
    """Paragraphs, long ones cut at sentence ends (or hard at ``max_chars``); no headings, no empty or
    punctuation-only passages; exact repeats kept once."""
    return [passage for _, passage in sections(text, max_chars)]


def sections(text: str, max_chars: int = MAX_PASSAGE_CHARS) -> list[tuple[str, str]]:
    """(heading, passage) for every passage of ``split_passages``: the heading of the section it is in."""
    passages: list[tuple[str, str]] = []
    seen: set[str] = set()
    for heading, paragraph in _paragraphs(text):
        if len(re.sub(r"[\W\d_]+", "", paragraph)) < 4:
            continue
        pieces, current = [], ""
        for sentence in _SENTENCE_END.split(paragraph):
            if current and len(current) + len(sentence) > max_chars:
                pieces.append(current)
                current = ""
            current += sentence
        pieces.append(current)
        for piece in pieces:
            for start in range(0, len(piece), max_chars):  # a piece with no sentence end at all
                chunk = piece[start:start + max_chars].strip()
                if chunk and chunk not in seen:
                    seen.add(chunk)
                    passages.append((heading, chunk))
    return passages


def vet_document(guard: Guard, text: str, jurisdiction: str = "CN") -> list[VettedPassage]:
    """Split ``text`` into passages and vet each (embeddings computed in one batch)."""
    passages = sections(text)
    vectors = guard.embed([normalize(p) for _, p in passages]) if passages else []
    return [VettedPassage(p, guard.check(p, checkpoint="vet", jurisdiction=jurisdiction, embedding=v), heading)
            for (heading, p), v in zip(passages, vectors)]
