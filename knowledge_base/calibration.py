"""Choose the abstention bar from data instead of a magic constant.

In-domain scores: each entry's own agent questions, searched against every *other* entry
(so a question cannot find itself). Off-topic scores: the shipped off-topic questions. The bar
is the midpoint of the widest gap that maximises balanced accuracy between the two.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge_base.index import VectorIndex
from knowledge_base.types import Entry

OFF_TOPIC_PATH = Path(__file__).with_name("calibration") / "off_topic.txt"


@dataclass(frozen=True)
class Calibration:
    """The chosen bar and the evidence behind it."""

    threshold: float
    in_domain_p05: float
    off_topic_max: float
    balanced_accuracy: float
    n_in_domain: int
    n_off_topic: int


def off_topic_questions(path: Path = OFF_TOPIC_PATH) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def choose_threshold(inside: np.ndarray, outside: np.ndarray) -> tuple[float, float]:
    """Midpoint of the gap with the best balanced accuracy: (threshold, balanced accuracy)."""
    points = np.unique(np.concatenate([inside, outside]))
    best = (-1.0, 0.0)
    for lo, hi in zip(points[:-1], points[1:]):
        t = (lo + hi) / 2
        acc = ((inside >= t).mean() + (outside < t).mean()) / 2
        if acc > best[0] + 1e-9:
            best = (acc, t)
    return float(best[1]), float(best[0])


def calibrate(entries: list[Entry], vectors: VectorIndex, embeddings,
              sample: int = 400, seed: int = 0) -> Calibration:
    """Measure in-domain and off-topic best-match scores and pick the bar between them."""
    pairs = [(e, q) for e in entries for q in e.questions]
    random.Random(seed).shuffle(pairs)
    pairs = pairs[:sample]
    inside = []
    if pairs:
        qvecs = embeddings.encode([q for _, q in pairs])
        for (entry, _), vec in zip(pairs, qvecs):
            own = {entry.id, entry.pair}
            scores = vectors.query(vec, ("CN", "US", "ALL"), k=40)
            others = [s for i, s in scores.items() if i not in own]
            inside.append(max(others, default=0.0))
    off = off_topic_questions()
    outside = [max(vectors.query(v, ("CN", "US", "ALL"), k=10).values(), default=0.0)
               for v in embeddings.encode(off)]
    inside_a, outside_a = np.array(inside), np.array(outside)
    if not len(inside_a):
        return Calibration(float(outside_a.max()) + 1e-3, 0.0, float(outside_a.max()), 0.0, 0, len(off))
    threshold, acc = choose_threshold(inside_a, outside_a)
    return Calibration(threshold=threshold, in_domain_p05=float(np.percentile(inside_a, 5)),
                       off_topic_max=float(outside_a.max()), balanced_accuracy=acc,
                       n_in_domain=len(inside_a), n_off_topic=len(outside_a))
