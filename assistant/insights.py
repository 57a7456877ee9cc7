"""What the question log says: knowledge gaps, refusals over time, entry usage, latency.

Works on the rows ``QuestionLog.recent`` returns (anything with their attributes); the Insights
page only renders what these functions compute.

>>> gaps = knowledge_gaps(coach.log.recent(1000), coach.embeddings.encode)
>>> gaps[0].example, gaps[0].count
('明天天气怎么样', 3)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from assistant.types import GAP_OUTCOMES

Encode = Callable[[list[str]], np.ndarray]
GAP_SIMILARITY = 0.55  # cosine to a group's centre; USE paraphrases score ~0.6-0.9, unrelated questions < 0.4


@dataclass(frozen=True)
class Summary:
    """Counts and latency over a window of asks."""

    total: int
    answered: int
    refused: int
    abstained: int
    rated: int
    helpful: int
    latency_p50: float | None
    latency_p95: float | None
    lifted: int = 0  # answered although the guard was unsure: an approved entry answered strongly (second opinion)

    @property
    def helpful_rate(self) -> float | None:
        return self.helpful / self.rated if self.rated else None


@dataclass(frozen=True)
class Gap:
    """Similar questions the knowledge base did not serve: abstained, or rated not helpful."""

    questions: tuple[str, ...]  # distinct wordings, most frequent first
    count: int  # asks in the group, repeats included
    abstained: int
    unhelpful: int
    last_at: datetime
    comments: tuple[str, ...] = ()
    jurisdiction: str = "CN"  # where most of its questions were asked (a draft from it is for there)

    @property
    def example(self) -> str:
        return self.questions[0]


def summarize(records: Sequence) -> Summary:
    """How many asks were answered (and of them, lifted by the second opinion), refused and abstained; ratings;
    latency percentiles."""
    outcomes = Counter(r.outcome for r in records)
    rated = [r for r in records if r.helpful is not None]
    latency = [r.latency_ms for r in records]
    p50, p95 = (float(np.percentile(latency, q)) for q in (50, 95)) if latency else (None, None)
    return Summary(len(records), outcomes["answered"], outcomes["refused"], outcomes["abstained"],
                   len(rated), sum(bool(r.helpful) for r in rated), p50, p95,
                   lifted=sum(r.intent == "entry_match" for r in records))


def is_gap(record) -> bool:
    """An ask the knowledge base did not serve: no guidance, or the agent said it did not help. Refusals,
    declined harmful requests, safety replies and small talk are never gaps."""
    return record.outcome in GAP_OUTCOMES or (record.helpful is False and record.outcome == "answered")


def group_similar(vectors: np.ndarray, threshold: float = GAP_SIMILARITY,
                  weights: Sequence[int] | None = None) -> list[list[int]]:
    """Greedy clustering: each row joins the closest group centre at or above ``threshold``, else starts one.

    Rows are taken in order, so pass the most important (most frequent) first. Returns groups of
    row indices, in the order they were started.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) == 0:
        return []
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    weights = np.ones(len(vectors)) if weights is None else np.asarray(weights, dtype=np.float64)
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i, vec in enumerate(vectors):
        if sums:
            centres = np.stack([s / max(np.linalg.norm(s), 1e-12) for s in sums])
            scores = centres @ vec
            best = int(np.argmax(scores))
            if scores[best] >= threshold:
                groups[best].append(i)
                sums[best] = sums[best] + weights[i] * vec
                continue
        groups.append([i])
        sums.append(weights[i] * vec.astype(np.float64))
    return groups


def knowledge_gaps(records: Sequence, encode: Encode, threshold: float = GAP_SIMILARITY) -> list[Gap]:
    """Abstained and negatively rated questions grouped by meaning, biggest group first."""
    gaps = [r for r in records if is_gap(r) and r.question.strip()]
    if not gaps:
        return []
    by_text: dict[str, list] = defaultdict(list)
    for r in gaps:
        by_text[r.question.strip()].append(r)
    texts = sorted(by_text, key=lambda q: (-len(by_text[q]), q))
    vectors = np.asarray(encode(texts))
    out = []
    for members in group_similar(vectors, threshold, [len(by_text[q]) for q in texts]):
        rows = [r for i in members for r in by_text[texts[i]]]
        out.append(Gap(
            questions=tuple(texts[i] for i in members),
            count=len(rows),
            abstained=sum(r.outcome == "abstained" for r in rows),
            unhelpful=sum(r.helpful is False for r in rows),
            last_at=max(r.at for r in rows),
            comments=tuple(dict.fromkeys(r.comment for r in rows if r.helpful is False and r.comment)),
            jurisdiction=Counter(r.jurisdiction for r in rows).most_common(1)[0][0],
        ))
    out.sort(key=lambda g: (-g.count, -g.last_at.timestamp()))
    return out


def refusals_by_day(records: Sequence) -> list[tuple[date, str, int]]:
    """(day, category, refusals) for every day and category with at least one refusal, oldest first."""
    counts: Counter = Counter()
    for r in records:
        if r.outcome == "refused":
            for cat in r.categories or ["unknown"]:
                counts[(r.at.date(), cat)] += 1
    return [(day, cat, n) for (day, cat), n in sorted(counts.items())]


def entry_usage(records: Sequence, limit: int = 15) -> list[tuple[str, int]]:
    """(entry id, cards built from it), most used first: the entry each answer's card was built from."""
    counts = Counter(r.main["id"] for r in records if isinstance(r.main, dict) and r.main.get("id"))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def latency_points(records: Sequence) -> list[tuple[datetime, float, str]]:
    """(time, latency in ms, outcome) for each ask, oldest first."""
    return sorted((r.at, float(r.latency_ms), r.outcome) for r in records)


class Insights:
    """The question log for trainers and admins only: the sign-in is checked here, below every page."""

    TRAINER_ROLES = ("trainer", "admin")

    def __init__(self, services):
        self.services = services

    def records(self, *, by, limit: int = 1000, **filters) -> list:
        """The newest asks (redacted); RoleError or SignInError unless ``by`` is a signed-in trainer or admin."""
        self.services.auth.require(by, self.TRAINER_ROLES)
        log = self.services.question_log
        return log.recent(limit, **filters) if log is not None else []

    def gaps(self, records) -> list[Gap]:
        return knowledge_gaps(records, self.services.embeddings.encode)
