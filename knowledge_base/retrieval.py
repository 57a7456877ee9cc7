"""Hybrid retrieval: dense (Chroma) + BM25 (jieba), fused by reciprocal rank.

Filtered to approved, in-date entries of the asked jurisdiction (+ ALL); the asker's language
is preferred, and when the best entry exists in both languages the asker's version is shown.
A follow-up question is searched both alone and with the conversation so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from knowledge_base.index import VectorIndex
from knowledge_base.lexical import LexicalIndex
from knowledge_base.types import Entry, Hit


@dataclass(frozen=True)
class RetrievalConfig:
    """Fusion knobs; the abstention bar comes from calibration, not from here."""

    rrf_k: int = 60
    same_lang_bonus: float = 0.3
    history_turns: int = 2
    dense_k: int = 60
    lexical_k: int = 30
    use_lexical: bool = True


def _rrf(ranked: dict[str, float], weight: float, k: int, into: dict[str, float]) -> None:
    for rank, entry_id in enumerate(sorted(ranked, key=ranked.get, reverse=True)):
        into[entry_id] = into.get(entry_id, 0.0) + weight / (k + rank + 1)


class Retriever:
    """Finds the entries that answer a question, or nothing when none clears the bar."""

    def __init__(self, entries: list[Entry], vectors: VectorIndex, embeddings,
                 threshold: float, config: RetrievalConfig | None = None):
        self.entries = {e.id: e for e in entries}
        self.vectors = vectors
        self.embeddings = embeddings
        self.threshold = threshold
        self.config = config or RetrievalConfig()
        self.lexical = LexicalIndex(entries) if self.config.use_lexical else None

    def allowed(self, jurisdiction: str, today: date | None = None) -> set[str]:
        today = today or date.today()
        return {i for i, e in self.entries.items()
                if e.jurisdiction in (jurisdiction, "ALL") and e.in_date(today)}

    def search(self, question: str, *, lang: str, jurisdiction: str, history: tuple[str, ...] = (),
               vector: np.ndarray | None = None, k: int = 5) -> list[Hit]:
        """The best ``k`` entries, best first; empty when nothing is relevant enough."""
        cfg = self.config
        allowed = self.allowed(jurisdiction)
        queries = [(question, vector)]
        context = [h for h in history if h.strip()][-cfg.history_turns:]
        if context:
            queries.append(("\n".join([*context, question]), None))
        texts = [t for t, v in queries if v is None]
        fresh = iter(self.embeddings.encode(texts)) if texts else iter(())
        fused: dict[str, float] = {}
        dense_best: dict[str, float] = {}
        for text, vec in queries:
            vec = next(fresh) if vec is None else vec
            dense = self.vectors.query(vec, (jurisdiction, "ALL"), k=cfg.dense_k)
            dense = {i: s for i, s in dense.items() if i in allowed}
            for i, s in dense.items():
                dense_best[i] = max(s, dense_best.get(i, -1.0))
            _rrf(dense, 1.0, cfg.rrf_k, fused)
            if self.lexical is not None:
                _rrf(self.lexical.search(text, allowed, k=cfg.lexical_k), 1.0, cfg.rrf_k, fused)
        if not dense_best or max(dense_best.values()) < self.threshold:
            return []
        bonus = cfg.same_lang_bonus / (cfg.rrf_k + 1)
        for i in fused:
            if self.entries[i].lang == lang:
                fused[i] += bonus
        return self._dedupe_pairs(fused, dense_best, allowed, lang, k)

    def _dedupe_pairs(self, fused, dense_best, allowed, lang, k) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[str] = set()
        for entry_id in sorted(fused, key=fused.get, reverse=True):
            entry = self.entries[entry_id]
            group = frozenset({entry.id, entry.pair} - {None})
            if group & seen:
                continue
            seen |= group
            twin = self.entries.get(entry.pair) if entry.pair else None
            if entry.lang != lang and twin is not None and twin.lang == lang and twin.id in allowed:
                entry = twin
            hits.append(Hit(entry=entry, score=fused[entry_id], dense=dense_best.get(entry_id, 0.0)))
            if len(hits) == k:
                break
        return hits
