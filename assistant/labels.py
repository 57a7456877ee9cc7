"""Words the pages show about answers and reports: refusal category and topic labels in either language.

The pages import only ``assistant``; this is where they reach the guardrails' refusal wording and the
taxonomy's labels.
"""

from __future__ import annotations

from guardrails import refusal_wording
from knowledge_base.taxonomy import load_taxonomy


def category_label(category: str, lang: str) -> str:
    """A refusal category's short name in ``lang`` (the id when unknown)."""
    w = refusal_wording()["categories"].get(category, {}).get(lang)
    return w["name"] if w else category


def topic_label(topic: str, lang: str) -> str:
    """A topic's label in ``lang`` (the id when unknown)."""
    return load_taxonomy().topic_label(topic, lang)


def topics() -> list[str]:
    """Every topic id of the taxonomy, in its order."""
    return list(load_taxonomy().topics)
