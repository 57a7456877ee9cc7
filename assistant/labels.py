"""Words the pages show about answers: refusal reasons, category and topic labels, the card's main entry.

The pages import only ``assistant``; this module is where they reach the guardrails' refusal
wording and the taxonomy's labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.types import Answer, Source
from guardrails import refusal_wording
from knowledge_base.taxonomy import load_taxonomy


@dataclass(frozen=True)
class RefusalReason:
    """Why one category was refused and the compliant way instead, in one language."""

    category: str
    name: str
    why: str
    instead: str


def refusal_reasons(answer: Answer, lang: str | None = None) -> list[RefusalReason]:
    """One reason per refused category, in ``lang`` (default: the answer's language)."""
    lang = lang or answer.lang
    wording = refusal_wording()["categories"]
    out = []
    for cat in answer.categories:
        w = wording.get(cat, {}).get(lang)
        if w:
            out.append(RefusalReason(cat, w["name"], w["why"], w["instead"]))
        else:
            out.append(RefusalReason(cat, category_label(cat, lang), "", ""))
    return out


def category_label(category: str, lang: str) -> str:
    """A refusal category's short name in ``lang`` (the id when unknown)."""
    w = refusal_wording()["categories"].get(category, {}).get(lang)
    return w["name"] if w else category


def topic_label(topic: str, lang: str) -> str:
    """A topic's label in ``lang`` (the id when unknown)."""
    return load_taxonomy().topic_label(topic, lang)


def main_source(answer: Answer, kind_of) -> Source | None:
    """The entry the card was built from: the first advice entry among the top three sources.

    ``kind_of(entry_id)`` returns the entry's kind (``coach.entry(id).kind``); mirrors
    ``compose_answer``'s choice so the page can title the card.
    """
    if answer.refused or answer.abstained or not answer.sources:
        return None
    return next((s for s in answer.sources[:3] if kind_of(s.id) != "regulation"), answer.sources[0])
