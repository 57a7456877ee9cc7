"""The assistant's vocabulary: what an ask returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from guardrails import Verdict

# What happened to a question. answered: a card from approved entries; refused: a collections violation
# (category, rule, compliant way); declined: harm outside collections (no card, no gap); safety: the agent
# spoke of hurting themselves (a fixed reply that points to help); abstained: no vetted guidance (a gap);
# small_talk: a greeting or thanks (no gap); withheld: an approved entry failed the final check.
OUTCOMES = ("answered", "refused", "declined", "safety", "abstained", "small_talk", "withheld")
GAP_OUTCOMES = ("abstained",)  # only these are knowledge gaps for trainers


@dataclass(frozen=True)
class Source:
    """A knowledge-base entry an answer was built from (or offered as another reading)."""

    id: str
    title: str
    topic: str
    lang: str
    jurisdiction: str
    version: int


@dataclass(frozen=True)
class RefusalReason:
    """Why one category was refused and the compliant way instead, in the answer's language."""

    category: str
    name: str
    why: str
    instead: str


@dataclass(frozen=True)
class Card:
    """The coaching card's parts, for pages that lay them out."""

    say: tuple[str, ...] = ()
    do: tuple[str, ...] = ()
    dont: tuple[str, ...] = ()
    why: str = ""
    rules: tuple[tuple[str, str], ...] = ()  # (citation, plain-language rule)
    alternatives: tuple[str, ...] = ()
    notice: str = ""  # one line put first when the call context changes the answer (with its rule)


@dataclass(frozen=True)
class Answer:
    """What the coach says to an agent, with where every word came from."""

    text: str
    refused: bool
    abstained: bool
    categories: tuple[str, ...]
    sources: tuple[Source, ...]  # exactly the entries the card's words come from, the main one first
    verdict: Verdict
    lang: str = "zh"
    outcome: str = "answered"
    card: Card = field(default_factory=Card)
    main: Source | None = None  # the entry the card was built from (its title heads the card)
    related: tuple[Source, ...] = ()  # other readings of an ambiguous question, offered by title
    reasons: tuple[RefusalReason, ...] = ()
    contact: dict | None = None  # the contact rules' verdict when the question or the call context asked one
    latency_ms: float = 0.0
    stages: dict = field(default_factory=dict, compare=False)  # ms per stage: guard, retrieve, compose, log
    ask_id: str | None = None
    fallback: str = ""  # why an LLM draft gave way to this composed card ("" = it did not); coaching/drafting.py

    @property
    def shown(self) -> tuple[Source, ...]:
        """What the agent is shown from the knowledge base, best first: the card's entry, the other readings of the
        question offered beside it, then the rules the card cites."""
        head = self.sources[:1] if self.main is None else (self.main,)
        rest = (*self.related, *self.sources)
        return tuple(dict.fromkeys((*head, *rest)))

    def to_dict(self) -> dict:
        """The public JSON shape (``coach ask --json``): the contract's fields first, then the extras."""
        return {
            "text": self.text,
            "refused": self.refused,
            "abstained": self.abstained,
            "categories": list(self.categories),
            "sources": [asdict(s) for s in self.sources],
            "verdict": self.verdict.to_dict(),
            "outcome": self.outcome,
            "lang": self.lang,
            "main": asdict(self.main) if self.main else None,
            "related": [asdict(s) for s in self.related],
            "card": {**asdict(self.card), "rules": [list(r) for r in self.card.rules]},
            "reasons": [asdict(r) for r in self.reasons],
            "contact": self.contact,
            "latency_ms": round(self.latency_ms, 2),
            "ask_id": self.ask_id,
        }
