"""The pipeline: guard the request, retrieve, abstain or compose, guard the answer, log.

>>> from assistant import Coach
>>> coach = Coach.from_settings()
>>> coach.ask("客户要求打折才肯还款，我该怎么说？").sources[0].topic
'discount_request'
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.coaching.compose import compose_abstention, compose_answer, compose_refusal, compose_withheld
from assistant.coaching.language import detect_lang, search_form
from assistant.coaching.question_log import QuestionLog
from assistant.settings import JURISDICTIONS, Settings
from assistant.types import Answer
from guardrails import Guard, Verdict
from knowledge_base import Entry
from knowledge_base.retrieval import Retriever
from knowledge_base.store import EntrySource

if TYPE_CHECKING:
    from assistant.coaching.drafting import Drafter


class QuestionError(ValueError):
    """The question cannot be asked as given (empty, too long, unknown jurisdiction)."""


def validate_question(question: str, jurisdiction: str | None, settings: Settings) -> tuple[str, str]:
    """The stripped question and the jurisdiction to use, or QuestionError saying why not."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("the question is empty")
    question = question.strip()
    limit = settings.max_question_chars
    if len(question) > limit:
        raise QuestionError(f"the question is {len(question)} characters; the limit is {limit}")
    jurisdiction = (jurisdiction or settings.jurisdiction).upper()
    if jurisdiction not in JURISDICTIONS:
        raise QuestionError(f"unknown jurisdiction {jurisdiction!r}; use one of {', '.join(JURISDICTIONS)}")
    return question, jurisdiction


@dataclass
class Coach:
    """Answers agents' questions from approved entries only; refuses and abstains with reasons."""

    retriever: Retriever
    guard: Guard
    embeddings: object
    settings: Settings
    log: QuestionLog | None = None
    drafter: Drafter | None = None  # optional LLM drafting (COACH_LLM); None: composed cards only
    source: EntrySource | None = None  # where published entries come from; watched for changes
    revision: int = 0  # the source's revision this coach serves
    _refreshing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _checked: dict = field(default_factory=dict, repr=False)  # card text -> output verdict (cards are fixed text)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, log_questions: bool = True) -> Coach:
        """Build the coach once: index in step, abstention bar calibrated, guard loaded."""
        from assistant.wiring import build_coach

        return build_coach(settings or Settings(), log_questions=log_questions)

    def entry(self, entry_id: str) -> Entry | None:
        return self.retriever.entries.get(entry_id)

    def ask(self, question: str, history: tuple[str, ...] | list[str] = (), jurisdiction: str | None = None,
            *, lang: str | None = None, agent: str = "") -> Answer:
        """Coach one question (in the context of ``history``), in the asker's language."""
        started = time.perf_counter()
        question, jurisdiction = validate_question(question, jurisdiction, self.settings)
        self.refresh()
        history = tuple(h for h in history if isinstance(h, str) and h.strip())
        lang = lang or detect_lang(question)
        query = search_form(question)
        vector = np.asarray(self.embeddings.encode([query])[0])
        verdict = self.guard.check_request(question, jurisdiction=jurisdiction,
                                           embedding=vector if self.shares_embedding else None)
        if verdict.blocked:
            answer = self.refuse(verdict, lang, jurisdiction, vector)
        else:
            hits = self.retriever.search(query, lang=lang, jurisdiction=jurisdiction,
                                         history=tuple(search_form(h) for h in history), vector=vector)
            answer = (self.compose(hits, lang, jurisdiction, verdict, question, history) if hits
                      else self.abstain(lang, verdict))
        answer = replace(answer, latency_ms=(time.perf_counter() - started) * 1000)
        if self.log is not None:
            answer = replace(answer, ask_id=self.log.record(question, answer, jurisdiction, agent))
        return answer

    def refresh(self) -> bool:
        """Serve the newest published entries if the source changed since the last look (one cheap
        query per ask). Vectors are written before the switch, so no ask sees a half-built index;
        a retired entry is gone from the next answer; a failure leaves the previous state serving."""
        revision_of = getattr(self.source, "revision", None)
        if revision_of is None or revision_of() == self.revision:
            return False
        with self._refreshing:
            revision = revision_of()
            if revision == self.revision:
                return False
            entries = self.source.list_approved()
            self.retriever.vectors.sync(entries, previous=list(self.retriever.entries.values()))
            self.retriever.publish(entries)
            self.revision = revision
            return True

    @property
    def shares_embedding(self) -> bool:
        return getattr(self.embeddings, "name", "") == self.guard.model.embedding_model

    def compose(self, hits, lang: str, jurisdiction: str, verdict: Verdict, question: str = "",
                history: tuple[str, ...] = ()) -> Answer:
        text, card, sources = compose_answer(hits, lang, self.entry)
        spoken = "\n".join((*card.say, *card.do))
        key = (spoken, jurisdiction)
        if key not in self._checked:
            self._checked[key] = self.guard.check_answer(spoken, jurisdiction=jurisdiction)
        check = self._checked[key]
        if check.blocked:  # an approved entry failed the final check: withhold it, never show it
            return Answer(compose_withheld(lang), False, True, (), (), check, lang)
        answer = Answer(text, False, False, (), sources, verdict, lang, card)
        if self.drafter is not None:  # an LLM draft from exactly these hits; this card is its fallback
            answer = self.drafter.draft(answer, hits, question, history, jurisdiction)
        return answer

    def refuse(self, verdict: Verdict, lang: str, jurisdiction: str, vector: np.ndarray) -> Answer:
        alternatives = self.alternatives(verdict.categories, lang, jurisdiction, vector)
        text, card, sources = compose_refusal(verdict, lang, alternatives, self.entry)
        return Answer(text, True, False, verdict.categories, sources, verdict, lang, card)

    def abstain(self, lang: str, verdict: Verdict) -> Answer:
        return Answer(compose_abstention(lang), False, True, (), (), verdict, lang)

    def alternatives(self, categories, lang: str, jurisdiction: str, vector: np.ndarray, k: int = 2) -> list[Entry]:
        """Approved entries that teach the compliant way for these categories, closest first."""
        allowed = self.retriever.allowed(jurisdiction)
        pool = [e for e in self.retriever.teaching(categories) if e.id in allowed and e.lang == lang]
        if not pool:
            return []
        scores = self.retriever.vectors.query(vector, allowed, k=200, jurisdictions=(jurisdiction, "ALL"))
        pool.sort(key=lambda e: scores.get(e.id, 0.0), reverse=True)
        picked: list[Entry] = []
        for cat in categories:  # at least one per refused category
            best = next((e for e in pool if cat in e.alternative_for and e not in picked), None)
            if best is not None:
                picked.append(best)
        return picked[: max(k, len(categories))]
