"""The live-call companion: one call's transcript segments in, unasked cards and alerts out, a note at the end.

>>> call = CallCompanion(services.coach, CallState.opened("c-1", "agent-07", context=None, lang="zh"))
>>> call.receive(parse_segment({"call_id": "c-1", "seq": 0, "speaker": "customer", "text": "我失业了还不上"}))
[{'type': 'ack', 'seq': 0, 'status': 'new'}, {'type': 'card', 'seq': 0, 'topic': 'financial_hardship', ...}]

A customer turn is read as the situation an agent would type and pushes a card when the knowledge base
covers it clearly (one card per situation, never for a confirmation); a final agent turn is judged as said to
the person on the line (the guard's "speech" checkpoint) and against the call's context (who is on the line,
the contact rules, the US disclosure). The state is a plain dataclass the service stores between segments.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np

from assistant.coaching.call_context import CallAdvice, advise
from assistant.coaching.compose import main_entry, refusal_reasons
from assistant.coaching.language import detect_lang, search_form
from assistant.coaching.questions import validate_context
from assistant.live.segments import Segment
from assistant.live.summary import call_note
from guardrails import Verdict
from guardrails.contact.actions import suggested
from guardrails.data_files import read_yaml

DATA = Path(__file__).with_name("data") / "live.yaml"
_CJK = re.compile(r"[\u4e00-\u9fff]")


@cache
def settings() -> dict:
    return read_yaml(DATA)


class CallClosed(Exception):
    """A segment for a call that has ended."""


@dataclass
class CallState:
    """Everything the companion remembers of one call (stored as JSON between segments)."""

    call_id: str
    agent: str
    lang: str
    jurisdiction: str
    context: dict | None = None
    started: str = ""  # ISO time the call was opened: the moment its contact rules are judged at
    stranger: bool = False  # the person on the line is not the debtor (context, or heard so)
    party_known: bool = False  # the context names who is on the line: only another voice answering the debtor's
    # number overrides it (a speaker "other" before the customer, when the context says "debtor"), never a card
    answered_by: str = ""  # "other": that override is in force (someone else answered, the debtor has not spoken);
    # "customer": the debtor spoke, or who answered said they stand for the consumer (the override is spent)
    agent_turns: list[str] = field(default_factory=list)  # the first agent turns, for the disclosure check
    disclosure_done: bool = False
    contact_checked: bool = False
    finals: dict[str, str] = field(default_factory=dict)  # seq -> final text received
    partials: dict[str, str] = field(default_factory=dict)
    readings: dict[str, str] = field(default_factory=dict)  # seq -> the situation (topic) a customer turn showed
    cards: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    closed: bool = False
    summary: dict | None = None

    @classmethod
    def opened(cls, call_id: str, agent: str, context: dict | None, lang: str | None = None,
               jurisdiction: str = "CN", now: datetime | None = None) -> CallState:
        started = (now or datetime.now(UTC)).isoformat()
        place = (context or {}).get("jurisdiction") or jurisdiction
        explicit = bool(context and context.get("party"))
        return cls(call_id, agent, lang or "", str(place).upper(), context, started, party_known=explicit)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CallState:
        return cls(**data)


class CallCompanion:
    """Judges one call's segments as they come, with the coach's retrieval, guard and contact rules."""

    def __init__(self, coach, state: CallState):
        self.coach, self.state = coach, state
        now = datetime.fromisoformat(state.started) if state.started else coach.clock()
        self.context = validate_context(state.context, state.jurisdiction, now)
        self.advice: CallAdvice | None = (advise("", self.context, state.jurisdiction, state.lang or "zh",
                                                 coach.contact_rules, now) if self.context else None)
        if self.context is not None and state.party_known and not state.stranger:
            state.stranger = self.context.party in coach.contact_rules.rulesets[state.jurisdiction].not_the_debtor

    # --- segments ---------------------------------------------------------------------------

    def receive(self, segment: Segment) -> list[dict]:
        """The events one segment causes: an ack (new, replaced, duplicate or late), then any card or alert."""
        state, key = self.state, str(segment.seq)
        if state.closed:
            raise CallClosed(f"call {state.call_id} has ended")
        if segment.final:
            if state.finals.get(key) == segment.text:
                return [_ack(segment, "duplicate")]
            status = "replaced" if key in state.finals or key in state.partials else "new"
            state.finals[key] = segment.text
            state.partials.pop(key, None)
        else:
            if key in state.finals:
                return [_ack(segment, "late")]  # the final is in: a partial of it changes nothing
            if state.partials.get(key) == segment.text:
                return [_ack(segment, "duplicate")]
            status = "replaced" if key in state.partials else "new"
            state.partials[key] = segment.text
        if not state.lang and segment.text:
            state.lang = detect_lang(segment.text)
        events = [_ack(segment, status)]
        if not segment.text:
            return events
        if segment.speaker == "agent":
            if segment.final:
                events += self._agent_turn(segment)
        else:
            events += self._customer_turn(segment)
        return events

    def close(self) -> dict:
        """End the call: the alerts still due (a disclosure never given) and the note for the record."""
        state = self.state
        if not state.closed:
            events = self._disclosure(None, final_check=True)
            state.summary = call_note(state, settings())
            state.closed = True
            state.summary["late_alerts"] = events
        return state.summary

    # --- customer and other voices ------------------------------------------------------------

    def _customer_turn(self, segment: Segment) -> list[dict]:
        state, cfg = self.state, settings()
        lang = state.lang or detect_lang(segment.text)
        self._who_answered(segment, cfg)
        if _length(segment.text) < cfg["min_chars"][detect_lang(segment.text)]:
            return []
        if segment.speaker == "other" and not state.party_known:
            state.stranger = True
        # the turn's meaning is embedded as the situation an agent would report ("客户说：…"); its words alone are
        # searched lexically (the reporting words are in nearly every entry's questions)
        template = cfg["reported_other" if segment.speaker == "other" else "reported"][detect_lang(segment.text)]
        coach = self.coach
        vector = np.asarray(coach.embeddings.encode([search_form(template.format(text=segment.text))])[0])
        margin = cfg["card_margin"] + (0 if segment.final else cfg["partial_margin"])
        hits = coach.retriever.search(search_form(segment.text), lang=lang, jurisdiction=state.jurisdiction,
                                      vector=vector, margin=margin)
        if not hits:
            return []
        entry = main_entry(hits)
        if entry.topic in cfg["never_push"]:
            return []
        if segment.final:
            state.readings[str(segment.seq)] = entry.topic
        if entry.topic in cfg["stranger_topics"] and not state.party_known:
            state.stranger = True
        if any(card["topic"] == entry.topic for card in state.cards):
            return []  # one card per situation: the agent already has it
        answer = coach.compose(hits, lang, state.jurisdiction, Verdict(False), advice=self.advice)
        if answer.main is None:
            return []
        card = {"type": "card", "seq": segment.seq, "topic": answer.main.topic, "entry": answer.main.id,
                "version": answer.main.version, "title": answer.main.title, "final": segment.final,
                "card": _card_dict(answer.card), "sources": [s.id for s in answer.sources], "text": answer.text}
        state.cards.append({k: card[k] for k in ("seq", "topic", "entry", "version", "title")})
        return [card]

    def _who_answered(self, segment: Segment, cfg: dict) -> None:
        """The context's "debtor" is whom the dialer called: another voice heard before the customer's answered the
        number (a parent, a colleague), and the debt is not theirs to hear until the customer speaks; a voice in the
        background of the customer's call changes nothing, nor does one who says they stand for the consumer (the
        jurisdiction's `consumer_voices`: an estate's executor, a US spouse)."""
        state = self.state
        if state.answered_by == "customer" or not segment.final:
            return
        if segment.speaker == "customer":
            if state.answered_by == "other":
                state.stranger = False
            state.answered_by = "customer"
            return
        if (segment.speaker != "other" or not state.party_known or self.context is None
                or self.context.party != "debtor"):
            return
        voices = cfg["consumer_voices"].get(state.jurisdiction)
        if voices and re.search(voices, segment.text, re.IGNORECASE):
            state.stranger, state.answered_by = False, "customer"
            return
        state.stranger, state.answered_by = True, "other"

    # --- the agent's own words ----------------------------------------------------------------

    def _agent_turn(self, segment: Segment) -> list[dict]:
        events = self._contact_rule(segment)
        alert = self._guard_alert(segment) or self._third_party_alert(segment)
        if alert is not None:
            events.append(self._alert(alert))
        return events + self._disclosure(segment)

    def _contact_rule(self, segment: Segment) -> list[dict]:
        state = self.state
        if state.contact_checked or self.context is None:
            return []
        state.contact_checked = True
        verdict = self.advice.verdict
        if verdict.allowed:
            return []
        lang, wording = state.lang or "zh", settings()["alerts"]
        reason = next(r for r in verdict.reasons if r.effect == "forbid")
        nxt = verdict.next_allowed_at
        suggestion = (wording["contact_next"][lang].format(when=f"{nxt:%Y-%m-%d %H:%M} ({nxt.tzinfo})") if nxt
                      else wording["contact_never"][lang])
        return [self._alert({"seq": segment.seq, "category": "contact_rule", "rule": reason.citation,
                             "rule_id": reason.rule,
                             "text": wording["contact_rule"][lang].format(reason=reason.text(lang)),
                             "suggestion": suggestion})]

    def _guard_alert(self, segment: Segment) -> dict | None:
        state, coach = self.state, self.coach
        said = self._without_disclosure(segment.text)
        if not said.strip():
            return None
        verdict = coach.guard.check_speech(said, jurisdiction=state.jurisdiction)
        if not verdict.blocked:
            return None
        lang = state.lang or "zh"
        reason = refusal_reasons(verdict.categories[:1], lang)[0]
        regs = [e for e in (coach.entry(ref) for ref in verdict.rule_refs) if e is not None]
        # what to say instead fits the call so far, as an ask's compliant way does; the situation an entry needs
        # (a crisis, a relative's offer) is read in what was said before, never in the agent's own crossing words
        earlier = [search_form(text) for seq, text in sorted(state.finals.items(), key=lambda kv: int(kv[0]))
                   if int(seq) < segment.seq][-2:]
        situation = " ".join(earlier)
        texts = [search_form(segment.text), *([situation] if earlier else [])]
        vectors = [np.asarray(v) for v in coach.embeddings.encode(texts)]
        teaching = coach.alternatives(verdict.categories[:1], lang, state.jurisdiction, vectors, situation, k=1,
                                      situations=set(state.readings.values()))
        line = next((s for e in teaching for s in e.say), reason.instead)
        return {"seq": segment.seq, "category": reason.category,
                "rule": regs[0].citation if regs and regs[0].citation else reason.name,
                "text": settings()["alerts"]["guard"][lang].format(name=reason.name, why=reason.why),
                "suggestion": line, "sources": [e.id for e in (*teaching, *regs)]}

    def _without_disclosure(self, text: str) -> str:
        """What the guard judges of an agent's turn: to the consumer, the required disclosure ("this is an attempt
        to collect a debt ...") is set aside, as it is the law's own words there (told to anyone else it would be
        a disclosure of the debt, and it stays); the rest of the turn is judged as said."""
        rule = settings()["disclosure"]
        party = self.context.party if self.context is not None else "debtor"
        if self.state.jurisdiction not in rule["jurisdictions"] or self.state.stranger or party not in rule["parties"]:
            return text
        return re.sub(rule["wording"], " ", text, flags=re.IGNORECASE)

    def _third_party_alert(self, segment: Segment) -> dict | None:
        state = self.state
        if not state.stranger or "discuss_debt" not in suggested(segment.text):
            return None
        lang, coach = state.lang or "zh", self.coach
        rules = coach.contact_rules.rulesets[state.jurisdiction]
        reason = next((r for r in rules.rules if r.check == "party" and "third_party" in r.parties), None)
        vector = np.asarray(coach.embeddings.encode([search_form(segment.text)])[0])
        script = coach.retriever.best_of("", topics=settings()["stranger_topics"][:1], lang=lang,
                                         jurisdiction=state.jurisdiction, vector=vector, k=1)
        line = next((s for h in script for s in h.entry.say), refusal_reasons(("third_party",), lang)[0].instead)
        return {"seq": segment.seq, "category": "third_party", "rule": reason.citation if reason else "",
                "text": settings()["alerts"]["third_party"][lang], "suggestion": line,
                "sources": [h.entry.id for h in script]}

    def _disclosure(self, segment: Segment | None, final_check: bool = False) -> list[dict]:
        """The US debt-collector disclosure: due within the agent's first turns of a call with the consumer."""
        state, rule = self.state, settings()["disclosure"]
        if state.disclosure_done or state.jurisdiction not in rule["jurisdictions"]:
            return []
        party = self.context.party if self.context is not None else "debtor"
        if segment is not None:
            state.agent_turns.append(segment.text)
        said = " ".join(state.agent_turns)
        if re.search(rule["given"], said, re.IGNORECASE):
            state.disclosure_done = True
            return []
        due = len(state.agent_turns) >= rule["within_turns"] or (final_check and state.agent_turns)
        if not due:
            return []
        state.disclosure_done = True  # judged once per call
        if state.stranger or party not in rule["parties"]:
            return []
        lang = state.lang or "en"
        line = self._disclosure_line(lang)
        seq = segment.seq if segment is not None else -1
        return [self._alert({"seq": seq, "category": "disclosure", "rule": rule["rule"],
                             "text": rule["text"][lang], "suggestion": line})]

    def _disclosure_line(self, lang: str) -> str:
        """A vetted line that gives the disclosure: a say line of the jurisdiction's entries that has it."""
        patterns = settings()["disclosure"]["patterns"]
        for entry in self.coach.retriever.entries.values():
            if entry.jurisdiction != self.state.jurisdiction:
                continue
            for line in entry.say:
                if all(re.search(p, line, re.IGNORECASE) for p in patterns):
                    return line
        return ""

    def _alert(self, alert: dict) -> dict:
        self.state.alerts.append({k: alert[k] for k in ("seq", "category", "rule", "text", "suggestion")})
        return {"type": "alert", **alert}


def _ack(segment: Segment, status: str) -> dict:
    return {"type": "ack", "seq": segment.seq, "status": status}


def _length(text: str) -> int:
    """Characters that carry meaning: every Chinese character, and English letters."""
    return len(_CJK.findall(text)) or sum(ch.isalpha() for ch in text)


def _card_dict(card) -> dict:
    out = asdict(card)
    out["rules"] = [list(r) for r in card.rules]
    return out
