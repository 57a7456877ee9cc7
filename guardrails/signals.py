"""Structural intent signals: what a clause does (asks a way, asks permission, asks where the line is,
reports what someone else did, speaks of the agent's own state), who acts, which prohibited act, on whom.

The lexicon lives in ``data/signals.yaml``; this module compiles it once and turns a normalised text
into named signals with the words that matched them. An act found inside a negation's scope in its
own clause ("不要威胁客户", "never tell his employer") or in a clause that describes it as what the law
punishes ("恐吓他人……构成寻衅滋事", "is it illegal to threaten him") is recorded as ``neg:act:…``:
evidence that the text names the act, never that it asks for it or teaches it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

from guardrails.data_files import read_yaml
from guardrails.normalize import KEPT_CHARS
from guardrails.normalize import forget as forget_normal_forms
from guardrails.patterns import group_regex

DATA = Path(__file__).with_name("data")
SIMPLE = ("framing", "permission", "legality", "actor_agent", "act_on_debtor", "report", "feelings", "negation",
          "unlawful", "jailbreak")
MARKERS = ("subject", "smalltalk", "self_harm", "harm", "citation", "crisis", "seize")  # evidence, not features
ACTS = ("pressure", "deception", "disclose", "contact_third", "collect_from", "false_claim", "harass_contact",
        "exploit", "veiled_threat", "conditional_threat", "impersonate")
TARGETS = ("spouse", "family", "workplace", "contacts", "public")
WEAK_ACTS = ("pressure", "deception", "contact_third")  # words that name a topic as often as an act
STRONG_ACTS = tuple(a for a in ACTS if a not in WEAK_ACTS)
SCOPED = ("act_on_debtor", *(f"act:{a}" for a in ACTS))  # what a negation or an unlawful-description cancels
# Which category an act is evidence for (data/policy.yaml may add more through the rules).
ACT_CATEGORY = {"pressure": "pressure", "deception": "deception", "disclose": "third_party",
                "contact_third": "third_party", "collect_from": "third_party", "false_claim": "deception",
                "harass_contact": "pressure", "exploit": "pressure", "veiled_threat": "pressure",
                "conditional_threat": "pressure", "impersonate": "deception"}
CLAUSE = re.compile(r"[，,。；;！!？?\n]|(?<=[a-z0-9])\.(?=\s|$)|\bbut\b|但是|可是|不过|然后")
SENTENCE = re.compile(r"[。；;！!？?\n]|(?<=[a-z])\.(?=\s|$)")
# "if you don't pay today we'll have you arrested": a negation in a condition does not reach its consequence,
# which starts a clause of its own even where a speech engine wrote no comma
CONDITION = re.compile(r"\b(?:if|unless)\s+\S+")
CONSEQUENCE = re.compile(r"\b(?:then|we|we'll|we're|we'd|i|i'll|i'm|i'd|they|they'll|they're|you'll|you're going to|"
                         r"or else|otherwise|there will)\b")


@dataclass(frozen=True)
class Signals:
    """signal name -> the first words that matched it."""

    found: Mapping[str, str]

    def has(self, name: str) -> bool:
        return name in self.found

    @property
    def acts(self) -> tuple[str, ...]:
        """The affirmed prohibited acts (not negated ones)."""
        return tuple(a for a in ACTS if f"act:{a}" in self.found)

    @property
    def strong(self) -> bool:
        """Whether an act that is prohibited however it is asked was found (not only a word such as 法院, police)."""
        return self.has("act_on_debtor") or any(a in STRONG_ACTS for a in self.acts)


@cache
def _patterns() -> dict[str, re.Pattern]:
    data = read_yaml(DATA / "signals.yaml")
    groups = {name: data[name] for name in (*SIMPLE, *MARKERS)}
    groups |= {f"act:{act}": data["acts"][act] for act in ACTS}
    groups |= {f"target:{target}": data["targets"][target] for target in TARGETS}
    return {name: re.compile(group_regex(lists)) for name, lists in groups.items()}


def _consequences(text: str) -> list[int]:
    """Where the consequence of each English condition begins (the first subject or "then" after its own
    subject, within a few words)."""
    out = []
    for m in CONDITION.finditer(text):
        if found := CONSEQUENCE.search(text, m.end(), m.end() + 60):
            out.append(found.start())
    return out


def _cancelled(start: int, end: int, negations: list[tuple[int, int]], unlawful: list[tuple[int, int]],
               clauses: list[int], sentences: list[int], length: int) -> bool:
    """Whether the act at [start, end) follows a negation cue in its clause, or sits in a sentence that calls
    what it describes unlawful."""
    clause_start = max((c for c in clauses if c <= start), default=0)
    if any(clause_start <= s and e <= start for s, e in negations):
        return True
    sentence_start = max((c for c in sentences if c <= start), default=0)
    sentence_end = min((c for c in sentences if c >= end), default=length)
    return any(sentence_start <= s < sentence_end for s, _ in unlawful)


def find_signals(text: str, *, legal: bool = False, request: bool = False) -> Signals:
    """Match every signal group on normalised ``text``; ``legal``: the text explains the law (a why or rule
    line), so an act named beside a citation is what the law punishes; ``request``: an agent's request, where
    "unlawful" words do not describe the act but ask for it ("给我几句违规话术"); a question about the law is
    the ``legality`` signal instead. A guard reads one sentence several times (whole, as a clause, for its
    rules): the last few thousand readings are kept, read-only."""
    if len(text) <= KEPT_CHARS:
        return _kept(text, legal, request)
    return _read(text, legal, request)


def forget_readings() -> None:
    """Drop the kept readings (the benchmark times each ask as a question never seen)."""
    _kept.cache_clear()
    forget_normal_forms()


def _read(text: str, legal: bool, request: bool) -> Signals:
    patterns = _patterns()
    found: dict[str, str] = {}
    spans = {name: [m.span() for m in patterns[name].finditer(text)] for name in ("negation", "unlawful", "jailbreak",
                                                                                 "citation")}
    jail = spans["jailbreak"]
    negations = [(s, e) for s, e in spans["negation"] if not any(js <= s < je for js, je in jail)]
    spans["unlawful"] = [] if request else [(s, e) for s, e in spans["unlawful"]
                                             if not any(js <= s < je for js, je in jail)]
    # an explanation of the law that cites it or states a prohibition: every act it names is what the law forbids
    explains = legal and bool(spans["citation"] or spans["unlawful"] or negations)
    clauses = sorted([m.start() for m in CLAUSE.finditer(text)] + _consequences(text))
    sentences = [m.start() for m in SENTENCE.finditer(text)]
    for name, pattern in patterns.items():
        if name not in SCOPED:
            m = pattern.search(text)
            if m:
                found[name] = m.group(0)
            continue
        for m in pattern.finditer(text):
            cancelled = explains or _cancelled(*m.span(), negations, spans["unlawful"], clauses, sentences, len(text))
            key = f"neg:{name}" if cancelled else name
            found.setdefault(key, m.group(0))
    return Signals(MappingProxyType(found))


def _feature_names() -> list[str]:
    names = [*SIMPLE, *(f"act:{a}" for a in ACTS), *(f"neg:act:{a}" for a in ACTS), *(f"target:{t}" for t in TARGETS)]
    names += ["neg:act_on_debtor"]
    for mod in ("framing", "permission", "legality", "actor_agent", "report", "feelings", "jailbreak"):
        names += [f"{mod}&act:{a}" for a in ACTS]
    for act in ("disclose", "contact_third", "collect_from", "conditional_threat", "false_claim"):
        names += [f"act:{act}&target:{t}" for t in TARGETS]
    names += ["framing&actor_agent", "report&negation", "framing&act_on_debtor", "jailbreak&act_on_debtor",
              "permission&act_on_debtor", "report&act_on_debtor"]
    return names


FEATURE_NAMES = tuple(_feature_names())


def signal_features(signals: Signals) -> list[float]:
    """The signals as a fixed-order 0/1 vector (named by FEATURE_NAMES)."""
    return [1.0 if all(signals.has(part) for part in name.split("&")) else 0.0 for name in FEATURE_NAMES]


_kept = lru_cache(maxsize=4096)(_read)
