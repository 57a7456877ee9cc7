"""Choose the abstention bar from data instead of a magic constant.

A question's relevance is its best dense cosine plus ``lexical_weight`` times its best BM25
score: meaning and domain words together. In-domain examples: agents' questions written apart
from the knowledge base (the caller passes them; the coach uses the guard corpus's legitimate
requests), plus each entry's own agent questions searched against every *other* entry (so a
question cannot find itself). Off-topic examples: the shipped off-topic questions. The lexical
weight and the bar are chosen together to maximise balanced accuracy between the two; the bar is
the midpoint of the best gap.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from knowledge_base.index import VectorIndex
from knowledge_base.lexical import TOKENIZER, LexicalIndex
from knowledge_base.types import Entry

OFF_TOPIC_PATH = Path(__file__).with_name("calibration") / "off_topic.txt"
log = logging.getLogger(__name__)
LEXICAL_WEIGHTS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08)


@dataclass(frozen=True)
class Calibration:
    """The chosen bar and the evidence behind it."""

    threshold: float
    lexical_weight: float
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


def _sample(items: list, n: int, seed: int, text=lambda item: item) -> list:
    """``n`` of ``items``, chosen by a digest of each one's question (``text``): adding or dropping a question
    changes the sample by that question at most (a shuffle re-dealt all of it, and the bar moved by 0.07 when two
    of 10,000 corpus lines were dropped)."""
    def rank(item) -> bytes:
        return hashlib.blake2b(f"{seed}\x00{text(item)}".encode(), digest_size=8).digest()

    return sorted(items, key=rank)[:n]


def _best(vectors: VectorIndex, lexical: LexicalIndex, vec, text: str, exclude: set) -> tuple[float, float]:
    dense = vectors.query(vec, k=40)
    words = lexical.search(text, set(lexical.ids) - exclude, k=5)
    return (max((s for i, s in dense.items() if i not in exclude), default=0.0), max(words.values(), default=0.0))


def calibrate(entries: list[Entry], vectors: VectorIndex, embeddings, lexical: LexicalIndex,
              in_domain: list[str] = (), weights: tuple[float, ...] = LEXICAL_WEIGHTS, sample: int = 400,
              seed: int = 0) -> Calibration:
    """Measure in-domain and off-topic relevance and pick the lexical weight and the bar."""
    pairs = _sample([(e.id, e.pair, q) for e in entries for q in e.questions], sample // 2, seed, lambda p: p[2])
    pairs += [(None, None, q) for q in _sample(list(in_domain), sample // 2, seed)]
    off = off_topic_questions()
    inside = np.array([_best(vectors, lexical, v, q, {i, p} - {None})
                       for (i, p, q), v in zip(pairs, embeddings.encode([q for *_, q in pairs]))]).reshape(-1, 2)
    outside = np.array([_best(vectors, lexical, v, q, set()) for q, v in zip(off, embeddings.encode(off))])
    best = None
    for weight in weights:
        ins, outs = inside @ (1.0, weight), outside @ (1.0, weight)
        threshold, acc = choose_threshold(ins, outs) if len(ins) else (float(outs.max()) + 1e-3, 0.0)
        if best is None or acc > best[0] + 1e-9:
            best = (acc, weight, threshold, ins, outs)
    acc, weight, threshold, ins, outs = best
    return Calibration(threshold=threshold, lexical_weight=weight,
                       in_domain_p05=float(np.percentile(ins, 5)) if len(ins) else 0.0,
                       off_topic_max=float(outs.max()), balanced_accuracy=acc,
                       n_in_domain=len(ins), n_off_topic=len(outs))


def fingerprint(entries: list[Entry], model: str, *texts: list[str]) -> str:
    """Changes whenever the entries, the model or the calibration examples change."""
    blob = model + "".join(sorted(e.content_hash for e in entries)) + "\n".join(t for group in texts for t in group)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_calibration(cache: Path | None, entries: list[Entry], vectors: VectorIndex, embeddings,
                     lexical: LexicalIndex, in_domain: list[str] = ()) -> Calibration:
    """The abstention bar for these entries and this model, cached in the file ``cache`` when given."""
    key = fingerprint(entries, f"{vectors.model} {TOKENIZER}", list(in_domain), off_topic_questions())
    try:
        cached = json.loads(cache.read_text(encoding="utf-8")) if cache is not None else {}
        if cached.get("fingerprint") == key:
            return Calibration(**cached["calibration"])
    except (OSError, ValueError, TypeError, KeyError):
        pass
    result = calibrate(entries, vectors, embeddings, lexical, in_domain)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fingerprint": key, "calibration": asdict(result)}, indent=2), encoding="utf-8")
        tmp.replace(cache)
    log.info("abstention bar %.3f, lexical weight %.2f (balanced accuracy %.3f)",
             result.threshold, result.lexical_weight, result.balanced_accuracy)
    return result
