"""The plain baseline `coach eval --baseline` compares with: the same embeddings, dense retrieval only,
no BM25, no guardrails, no vetting."""

from __future__ import annotations

import time

from assistant.coaching.language import detect_lang
from assistant.evaluation.cases import Case
from knowledge_base.calibration import calibrate
from knowledge_base.retrieval import RetrievalConfig, Retriever


def run_baseline(services, cases: list[Case]) -> list[dict]:
    """One result per case, in the result format of the coach's own."""
    retriever = services.library.retriever
    entries = list(retriever.entries.values())
    bar = calibrate(entries, retriever.vectors, services.embeddings, retriever.lexical, weights=(0.0,))
    dense = Retriever(entries, retriever.vectors, services.embeddings, None, bar.threshold, 0.0,
                      RetrievalConfig(same_lang_bonus=0.0))
    return [_case(dense, case, services.settings.jurisdiction) for case in cases]


def _case(dense: Retriever, case: Case, default_jurisdiction: str) -> dict:
    started = time.perf_counter()
    if case.mode == "vet":
        return {"id": case.id, "verdict": "ok", "categories": [], "latency_ms": 0.0}
    jurisdiction = (case.jurisdiction or default_jurisdiction).upper()
    hits = dense.search(case.text, lang=detect_lang(case.text), jurisdiction=jurisdiction, history=case.history)
    return {"id": case.id, "refused": False, "abstained": not hits, "categories": [],
            "topics": [h.entry.topic for h in hits], "sources": [h.entry.id for h in hits],
            "latency_ms": round((time.perf_counter() - started) * 1000, 2), "outcome": "answered", "gap": not hits}
