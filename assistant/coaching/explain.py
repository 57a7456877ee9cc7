"""Why a question got this card, or none: the guard's verdict with its evidence, every candidate entry's
lexical, dense and fused scores, the abstention bar, and the entry that would be the card. The same path
as an ask (nothing is logged), for the trainers' retrieval test page and any logged question."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.coaching.compose import main_entry
from assistant.coaching.language import detect_lang, search_form
from assistant.coaching.questions import validate_question
from guardrails import Verdict


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str
    topic: str
    lang: str
    dense: float
    lexical: float
    fused: float


@dataclass(frozen=True)
class Explanation:
    question: str
    verdict: Verdict
    followup: bool
    relevance: float
    threshold: float
    candidates: tuple[Candidate, ...]
    card: str | None  # the entry id the card would be built from (None: refused or no vetted guidance)
    outcome: str


def explain(coach, question: str, history=(), jurisdiction: str | None = None, lang: str | None = None,
            top: int = 10) -> Explanation:
    """The explanation of what ``coach.ask`` would do with this question (see the module docstring)."""
    q = validate_question(question, jurisdiction, coach.settings, history, lang)
    lang = q.lang or detect_lang(q.text)
    query = search_form(q.text)
    vector = np.asarray(coach.embeddings.encode([query])[0])
    verdict = coach.guard.check_request(q.text, jurisdiction=q.jurisdiction,
                                        embedding=vector if coach.shares_embedding else None)
    retriever = coach.retriever
    history = tuple(search_form(h) for h in q.history)
    scores = retriever.score(query, lang=lang, jurisdiction=q.jurisdiction, history=history, vector=vector)
    ranked = sorted(scores.fused, key=scores.fused.get, reverse=True)[:top]
    entries = scores.served.entries
    candidates = tuple(Candidate(i, entries[i].title, entries[i].topic, entries[i].lang,
                                 round(scores.dense.get(i, 0.0), 4), round(scores.lexical.get(i, 0.0), 4),
                                 round(scores.fused[i], 4)) for i in ranked)
    hits = [] if verdict.blocked else retriever.search(query, lang=lang, jurisdiction=q.jurisdiction,
                                                       history=history, vector=vector)
    outcome = "refused" if verdict.blocked else "answered" if hits else "abstained"
    return Explanation(q.text, verdict, scores.followup, round(scores.relevance, 4), round(retriever.threshold, 4),
                       candidates, main_entry(hits).id if hits else None, outcome)
