"""The pipeline: check the question, guard the request, retrieve, abstain or compose, check the card, log.

>>> coach = build_services(Settings()).coach
>>> coach.ask("客户要求打折才肯还款，我该怎么说？").main.topic
'discount_request'

Every line a composed card shows was judged, line by line, when its entry version was approved
(knowledge_base.sql_store): at ask time only what is new is checked: the question, and that the card
is assembled from exactly those vetted lines. An LLM draft is new text and passes the output guard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.coaching.compose import Composed, compose_answer, compose_refusal, fixed_reply
from assistant.coaching.language import detect_lang, search_form
from assistant.coaching.question_log import QuestionLog
from assistant.coaching.questions import validate_question
from assistant.settings import Settings
from assistant.types import Answer
from guardrails import Guard, Verdict
from knowledge_base import Entry
from knowledge_base.library import Library

if TYPE_CHECKING:
    from assistant.coaching.drafting import Drafter


# The guard's special intents and the outcome each gets: a fixed reply of the policy data, never a card or a gap.
FIXED = {"safety": "safety", "harm": "declined", "small_talk": "small_talk"}


def assembled_from(composed: Composed, entries: list[Entry]) -> bool:
    """Whether every line of the card is a line of the entries it cites (a card is a choice of vetted lines)."""
    vetted = {line for e in entries for line in (*e.say, *e.do, *e.dont, e.why, e.rule) if line}
    card = composed.card
    shown = [*card.say, *card.do, *card.dont, *(r for _, r in card.rules)] + ([card.why] if card.why else [])
    return all(line in vetted for line in shown)


@dataclass
class Coach:
    """Answers agents' questions from approved entries only; refuses and abstains with reasons."""

    library: Library
    guard: Guard
    embeddings: object
    settings: Settings
    log: QuestionLog | None = None
    drafter: Drafter | None = None  # optional LLM drafting (COACH_LLM); None: composed cards only

    def entry(self, entry_id: str) -> Entry | None:
        """A served entry by id."""
        return self.library.entry(entry_id)

    def source(self, entry_id: str, version: int) -> Entry:
        """An entry exactly as it was at a version that was published (so a logged answer can be replayed);
        KeyError for a version that never was."""
        entry = self.library.source.get_version(entry_id, version)
        if entry.status != "approved":
            raise KeyError(f"version {version} of {entry_id!r} was never published")
        return entry

    @property
    def retriever(self):
        return self.library.retriever

    def ask(self, question: str, history: tuple[str, ...] | list[str] = (), jurisdiction: str | None = None,
            *, lang: str | None = None, agent: str = "", conversation: str = "") -> Answer:
        """Coach one question (in the context of ``history``), in the asker's language (or ``lang``)."""
        started = time.perf_counter()
        q = validate_question(question, jurisdiction, self.settings, tuple(history), lang)
        self.library.refresh()
        lang = q.lang or detect_lang(q.text)
        query = search_form(q.text)
        vector = np.asarray(self.embeddings.encode([query])[0])
        verdict = self.guard.check_request(q.text, jurisdiction=q.jurisdiction, history=q.history,
                                           embedding=vector if self.shares_embedding else None)
        guarded = time.perf_counter()
        if verdict.blocked:
            answer = self.refuse(verdict, lang, q.jurisdiction, vector)
        elif verdict.intent in FIXED:  # self-harm, harm outside collections, small talk: no card, no gap
            outcome = FIXED[verdict.intent]
            answer = Answer(fixed_reply(outcome, lang), outcome == "declined", outcome != "declined", (), (),
                            verdict, lang, outcome=outcome)
        else:
            hits = self.retriever.search(query, lang=lang, jurisdiction=q.jurisdiction,
                                         history=tuple(search_form(h) for h in q.history), vector=vector)
            answer = (self.compose(hits, lang, q.jurisdiction, verdict, q.text, q.history) if hits
                      else self.abstain(lang, verdict))
        composed = time.perf_counter()
        answer = replace(answer, latency_ms=(composed - started) * 1000, stages={
            "guard": (guarded - started) * 1000, "retrieve_compose": (composed - guarded) * 1000})
        if self.log is not None:
            answer = replace(answer, ask_id=self.log.record(q.text, answer, q.jurisdiction, agent, conversation))
        return answer

    @property
    def shares_embedding(self) -> bool:
        return getattr(self.embeddings, "name", "") == self.guard.model.embedding_model

    def compose(self, hits, lang: str, jurisdiction: str, verdict: Verdict, question: str = "",
                history: tuple[str, ...] = ()) -> Answer:
        composed = compose_answer(hits, lang, self.entry)
        cited = [e for e in (self.entry(s.id) for s in composed.sources) if e is not None]
        if not assembled_from(composed, cited):  # never show a line no approval vetted
            return Answer(fixed_reply("withheld", lang), False, True, (), (), verdict, lang, outcome="withheld")
        answer = Answer(composed.text, False, False, (), composed.sources, verdict, lang, card=composed.card,
                        main=composed.main, related=composed.related)
        if self.drafter is not None:  # an LLM draft from exactly these hits; this card is its fallback
            answer = self.drafter.draft(answer, hits, question, history, jurisdiction)
        return answer

    def refuse(self, verdict: Verdict, lang: str, jurisdiction: str, vector: np.ndarray) -> Answer:
        composed = compose_refusal(verdict, lang, self.alternatives(verdict.categories, lang, jurisdiction, vector),
                                   self.entry)
        return Answer(composed.text, True, False, verdict.categories, composed.sources, verdict, lang,
                      outcome="refused", card=composed.card, reasons=composed.reasons)

    def abstain(self, lang: str, verdict: Verdict) -> Answer:
        return Answer(fixed_reply("abstain", lang), False, True, (), (), verdict, lang, outcome="abstained")

    def alternatives(self, categories, lang: str, jurisdiction: str, vector: np.ndarray, k: int = 2) -> list[Entry]:
        """Approved entries that teach the compliant way for these categories, closest first."""
        retriever = self.retriever
        allowed = retriever.allowed(jurisdiction)
        pool = [e for e in retriever.teaching(categories) if e.id in allowed and e.lang == lang]
        if not pool:
            return []
        scores = retriever.vectors.query(vector, allowed, k=200, jurisdiction=jurisdiction)
        pool.sort(key=lambda e: scores.get(e.id, 0.0), reverse=True)
        picked: list[Entry] = []
        for cat in categories:  # at least one per refused category
            best = next((e for e in pool if cat in e.alternative_for and e not in picked), None)
            if best is not None:
                picked.append(best)
        return picked[: max(k, len(categories))]
