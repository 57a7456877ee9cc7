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
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.coaching.call_context import CallAdvice, advise, check_contact, restrict
from assistant.coaching.compose import Composed, compose_answer, compose_refusal, fixed_reply
from assistant.coaching.language import detect_lang, search_form
from assistant.coaching.question_log import QuestionLog
from assistant.coaching.questions import validate_question
from assistant.settings import Settings
from assistant.types import Answer
from guardrails import Guard, Verdict
from guardrails.contact import CallContext, ContactRules, load_rules
from guardrails.data_files import read_yaml
from knowledge_base import Entry
from knowledge_base.library import Library

if TYPE_CHECKING:
    from assistant.coaching.drafting import Drafter


# The guard's special intents and the outcome each gets: a fixed reply of the policy data, never a card or a gap.
FIXED = {"safety": "safety", "harm": "declined", "small_talk": "small_talk"}
ALTERNATIVES_PATH = Path(__file__).with_name("data") / "alternatives.yaml"
OVERRULE_PATH = Path(__file__).with_name("data") / "overrule.yaml"
CONTACT_TOPICS = ("contact_time_frequency",)  # the card under the contact rules' verdict when retrieval finds none


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
    contact_rules: ContactRules = field(default_factory=load_rules)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # injected so tests fix the time

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

    def check_contact(self, context: dict | CallContext, channel: str = "call", party: str | None = None):
        """May this contact happen now (a call, by default, to the context's party)? The contact rules' verdict
        at the injected time; QuestionError for a context that breaks the contract."""
        return check_contact(context, self.clock(), channel, party, self.contact_rules)

    @property
    def retriever(self):
        return self.library.retriever

    @cached_property
    def alternatives_need(self) -> dict[str, str]:
        return read_yaml(ALTERNATIVES_PATH)["need"]

    @cached_property
    def overrule(self) -> dict[str, float]:
        return read_yaml(OVERRULE_PATH)

    def ask(self, question: str, history: tuple[str, ...] | list[str] = (), jurisdiction: str | None = None,
            *, lang: str | None = None, agent: str = "", conversation: str = "",
            context: dict | CallContext | None = None) -> Answer:
        """Coach one question (in the context of ``history`` and of the call, ``context``: the JSON contract of
        shared/reference/call-context.md), in the asker's language (or ``lang``)."""
        started = time.perf_counter()
        now = self.clock()
        q = validate_question(question, jurisdiction, self.settings, history, lang, context, now)
        self.library.refresh()
        lang = q.lang or detect_lang(q.text)
        query = search_form(q.text)
        vector = np.asarray(self.embeddings.encode([query])[0])
        verdict = self.guard.check_request(q.text, jurisdiction=q.jurisdiction, history=q.history,
                                           embedding=vector if self.shares_embedding else None)
        advice = advise(q.text, q.context, q.jurisdiction, lang, self.contact_rules, now)
        if advice is not None and advice.asked and verdict.model_only:
            # "may I call at 9:30 pm / a fourth time today?" is for the contact rules to answer; the model alone
            # reads timing and frequency words as harassment. A tactic named outright still has its rule.
            verdict = replace(verdict, blocked=False, categories=(), reasons=(), intent="contact_question")
        if verdict.model_only and verdict.score < self.overrule["max_score"]:
            verdict = self.second_opinion(verdict, query, lang, q, vector)
        guarded = time.perf_counter()
        if verdict.blocked:
            answer = self.refuse(verdict, lang, q.jurisdiction, self.situation(vector, query, q.history), advice)
        elif verdict.intent in FIXED:  # self-harm, harm outside collections, small talk: no card, no gap
            outcome = FIXED[verdict.intent]
            answer = Answer(fixed_reply(outcome, lang), outcome == "declined", outcome != "declined", (), (),
                            verdict, lang, outcome=outcome)
        else:
            hits = self.retrieve(query, lang, q, vector, advice)
            answer = (self.compose(hits, lang, q.jurisdiction, verdict, q.text, q.history, advice) if hits
                      else self.abstain(lang, verdict))
        if advice is not None:
            answer = replace(answer, contact=advice.to_dict(lang))
        composed = time.perf_counter()
        answer = replace(answer, latency_ms=(composed - started) * 1000, stages={
            "guard": (guarded - started) * 1000, "retrieve_compose": (composed - guarded) * 1000})
        if self.log is not None:
            answer = replace(answer, ask_id=self.log.record(q.text, answer, q.jurisdiction, agent, conversation))
        return answer

    def second_opinion(self, verdict: Verdict, query: str, lang: str, q, vector: np.ndarray) -> Verdict:
        """An unsure model-only refusal of a question an approved entry answers strongly is lifted (data/
        overrule.yaml): the card is reviewed words for the question agents ask in them."""
        history = tuple(search_form(h) for h in q.history)
        if not self.retriever.search(query, lang=lang, jurisdiction=q.jurisdiction, history=history, vector=vector,
                                     k=1, margin=self.overrule["margin"]):
            return verdict
        return replace(verdict, blocked=False, categories=(), reasons=(), intent="entry_match")

    def retrieve(self, query: str, lang: str, q, vector: np.ndarray, advice: CallAdvice | None):
        """The hits a card is built from: the script for who is on the line when that is not the debtor; else
        the question's own, with the contact rules' card under a contact question retrieval finds nothing for."""
        retriever, history = self.retriever, tuple(search_form(h) for h in q.history)
        if advice is not None and advice.script:
            return retriever.best_of(query, topics=advice.script, lang=lang, jurisdiction=q.jurisdiction,
                                     vector=vector)
        hits = retriever.search(query, lang=lang, jurisdiction=q.jurisdiction, history=history, vector=vector)
        if not hits and advice is not None and (advice.asked or advice.notice):
            hits = retriever.best_of(query, topics=CONTACT_TOPICS, lang=lang, jurisdiction=q.jurisdiction,
                                     vector=vector)
        return hits

    @property
    def shares_embedding(self) -> bool:
        return getattr(self.embeddings, "name", "") == self.guard.model.embedding_model

    def compose(self, hits, lang: str, jurisdiction: str, verdict: Verdict, question: str = "",
                history: tuple[str, ...] = (), advice: CallAdvice | None = None) -> Answer:
        composed = compose_answer(hits, lang, self.entry, _adjust(advice, lang))
        cited = [e for e in (self.entry(s.id) for s in composed.sources) if e is not None]
        if not assembled_from(composed, cited):  # never show a line no approval vetted
            return Answer(fixed_reply("withheld", lang), False, True, (), (), verdict, lang, outcome="withheld")
        answer = Answer(composed.text, False, False, (), composed.sources, verdict, lang, card=composed.card,
                        main=composed.main, related=composed.related)
        # An LLM draft from exactly these hits (none under a call context); this card is its fallback.
        if self.drafter is not None and advice is None:
            answer = self.drafter.draft(answer, hits, question, history, jurisdiction)
        return answer

    def situation(self, vector: np.ndarray, query: str, history: tuple[str, ...]) -> tuple[list[np.ndarray], str]:
        """What a refusal's compliant way is chosen by: the request, and with earlier turns the conversation too
        (a request to squeeze a customer who just spoke of suicide needs the crisis entry, not a payment plan)."""
        if not history:
            return [vector], query
        said = " ".join((*(search_form(h) for h in history[-2:]), query))
        return [vector, np.asarray(self.embeddings.encode([said])[0])], said

    def refuse(self, verdict: Verdict, lang: str, jurisdiction: str, situation: tuple[list[np.ndarray], str],
               advice: CallAdvice | None = None) -> Answer:
        vectors, said = situation
        alternatives = self.alternatives(verdict.categories, lang, jurisdiction, vectors, said)
        if advice is not None and advice.script:  # the compliant way with a third party on the line: its script
            script = self.retriever.best_of("", topics=advice.script, lang=lang, jurisdiction=jurisdiction,
                                            vector=vectors[0], k=1)
            alternatives = list({e.id: e for e in [*(h.entry for h in script), *alternatives]}.values())
        composed = compose_refusal(verdict, lang, alternatives, self.entry, _adjust(advice, lang))
        return Answer(composed.text, True, False, verdict.categories, composed.sources, verdict, lang,
                      outcome="refused", card=composed.card, reasons=composed.reasons)

    def abstain(self, lang: str, verdict: Verdict) -> Answer:
        return Answer(fixed_reply("abstain", lang), False, True, (), (), verdict, lang, outcome="abstained")

    def alternatives(self, categories, lang: str, jurisdiction: str, vectors: list[np.ndarray], said: str,
                     k: int = 2, situations: Collection[str] = ()) -> list[Entry]:
        """Approved entries that teach the compliant way for these categories, closest to any of ``vectors``
        first; an entry of a topic that needs a signal (data/alternatives.yaml) only when what was
        ``said`` names it, and then before the others: one of the ``situations`` already read in the call (its
        topics) first, then the one closest to the situation (the last of ``vectors``: the conversation). A job
        loss gets the hardship script, not the suicide callback."""
        retriever, need = self.retriever, self.alternatives_need
        allowed = retriever.allowed(jurisdiction)
        named = self.guard.mentioned(said, set(need.values()))
        pool = [e for e in retriever.teaching(categories) if e.id in allowed and e.lang == lang
                and (e.topic not in need or need[e.topic] in named)]
        if not pool:
            return []
        near = [retriever.vectors.query(v, allowed, k=200, jurisdiction=jurisdiction) for v in vectors]
        scores = {i: max(found.get(i, 0.0) for found in near) for i in set().union(*near)}
        closest = {e.id: (near[-1] if e.topic in need else scores).get(e.id, 0.0) for e in pool}
        pool.sort(key=lambda e: (e.topic in need, e.topic in situations, closest[e.id]), reverse=True)
        picked: list[Entry] = []
        for cat in categories:  # at least one per refused category
            best = next((e for e in pool if cat in e.alternative_for and e not in picked), None)
            if best is not None:
                picked.append(best)
        return picked[: max(k, len(categories))]


def _adjust(advice: CallAdvice | None, lang: str):
    """What the call context changes in a card (None: nothing, there is no context)."""
    return None if advice is None else lambda card: restrict(card, advice, lang)[0]
