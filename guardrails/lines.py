"""Judge a card line by line: every line an agent can be shown, each read for what it is.

A line to say or do must not be a violation if said or done: it is judged as an answer (the structural
rules and the trained model). A "don't" line is the prohibition its heading makes it, and an explanation
(why, rule, title) names prohibited acts to explain them: both are judged by the structural rules with
negation scope, and every cited authority must be on the fact sheet (checkpoint "explain"). The lines
to say and do are also judged together, so a tactic split over two lines is caught.
Used once per published version (its verdict is kept with it), and on every LLM draft or summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from guardrails.guard import Guard
from guardrails.normalize import normalize
from guardrails.types import Verdict

SPOKEN = ("say", "do")


@dataclass(frozen=True)
class FlaggedLine:
    """One shown line the guard flags, with why."""

    field: str
    index: int
    text: str
    categories: tuple[str, ...]
    evidence: str


@dataclass(frozen=True)
class LinesVerdict:
    """The verdict on a card's lines: blocked when any line, or the spoken lines together, is flagged."""

    blocked: bool
    flagged: tuple[FlaggedLine, ...] = ()

    def to_dict(self) -> dict:
        return {"blocked": self.blocked, "flagged": [asdict(f) | {"categories": list(f.categories)}
                                                     for f in self.flagged]}


def reading(field: str, text: str) -> tuple[str, str]:
    """(text as judged, checkpoint) for one line of ``field``: a "don't" line is a prohibition by its heading,
    so only the authority it cites is checked."""
    return text, ("answer" if field in SPOKEN else "prohibition" if field == "dont" else "explain")


def check_lines(guard: Guard, lines: Sequence[tuple[str, int, str]], jurisdiction: str = "CN") -> LinesVerdict:
    """Judge every (field, index, text) line on its own, and the say/do lines together."""
    units = [(f, i, t, *reading(f, t)) for f, i, t in lines if t.strip()]
    spoken = "\n".join(t for f, _, t in lines if f in SPOKEN and t.strip())
    if spoken and sum(f in SPOKEN for f, *_ in units) > 1:
        units.append(("spoken", -1, spoken, spoken, "answer"))
    if not units:
        return LinesVerdict(False)
    vectors = guard.embed([normalize(u[3]) for u in units])
    flagged = []
    for (field, index, text, judged, checkpoint), vector in zip(units, vectors):
        verdict: Verdict = guard.check(judged, checkpoint=checkpoint, jurisdiction=jurisdiction, embedding=vector)
        if verdict.blocked:
            evidence = "; ".join(r.evidence for r in verdict.reasons)[:300]
            flagged.append(FlaggedLine(field, index, text, verdict.categories, evidence))
    return LinesVerdict(bool(flagged), tuple(flagged))
