"""The guard's vocabulary: a verdict and the reasons behind it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

CATEGORIES = ("pressure", "deception", "third_party")


@dataclass(frozen=True)
class Reason:
    """One piece of evidence: which category, which signal, and the words that matched."""

    category: str
    signal: str
    evidence: str


@dataclass(frozen=True)
class Verdict:
    """The guard's decision on one text at one checkpoint (request, answer or vet)."""

    blocked: bool
    categories: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    rule_refs: tuple[str, ...] = ()
    score: float = 0.0
    checkpoint: str = "request"
    intent: str = ""  # for a request that is no violation: "safety", "harm" (outside collections), "small_talk"

    @property
    def model_only(self) -> bool:
        """Blocked on the trained model's score alone, with no structural rule or lexicon behind it."""
        return self.blocked and all(r.signal == "model" for r in self.reasons)

    def to_dict(self) -> dict:
        return {
            "blocked": self.blocked,
            "categories": list(self.categories),
            "reasons": [asdict(r) for r in self.reasons],
            "rule_refs": list(self.rule_refs),
            "score": round(self.score, 4),
            "checkpoint": self.checkpoint,
            "intent": self.intent,
        }
