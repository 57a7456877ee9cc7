"""The assistant's vocabulary: what an ask returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from guardrails import Verdict


@dataclass(frozen=True)
class Source:
    """A knowledge-base entry an answer was built from."""

    id: str
    title: str
    topic: str
    lang: str
    jurisdiction: str
    version: int


@dataclass(frozen=True)
class Card:
    """The coaching card's parts, for pages that lay them out."""

    say: tuple[str, ...] = ()
    do: tuple[str, ...] = ()
    dont: tuple[str, ...] = ()
    why: str = ""
    rules: tuple[tuple[str, str], ...] = ()  # (citation, plain-language rule)
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    """What the coach says to an agent, with where every word came from."""

    text: str
    refused: bool
    abstained: bool
    categories: tuple[str, ...]
    sources: tuple[Source, ...]
    verdict: Verdict
    lang: str = "zh"
    card: Card = field(default_factory=Card)
    latency_ms: float = 0.0
    ask_id: int | None = None
    fallback: str = ""  # why an LLM draft gave way to this composed card ("" = it did not); assistant/drafting.py

    def to_dict(self) -> dict:
        """The public JSON shape (``coach ask --json``): exactly the contract's fields."""
        return {
            "text": self.text,
            "refused": self.refused,
            "abstained": self.abstained,
            "categories": list(self.categories),
            "sources": [asdict(s) for s in self.sources],
            "verdict": self.verdict.to_dict(),
        }
