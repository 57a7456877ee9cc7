"""Structural intent signals (framing, actor, handling, negation, jailbreak, acts, targets).

The lexicon lives in ``data/signals.yaml``; this module compiles it once and turns a
normalised text into named signals with the words that matched them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).with_name("data")
SIMPLE = ("framing", "actor_agent", "act_on_debtor", "handling", "negation", "jailbreak")
ACTS = ("pressure", "deception", "disclose", "contact_third", "collect_from")
TARGETS = ("family", "workplace", "contacts", "public")
# Which category an act or target is evidence for.
ACT_CATEGORY = {"pressure": "pressure", "deception": "deception", "disclose": "third_party",
                "contact_third": "third_party", "collect_from": "third_party"}


@dataclass(frozen=True)
class Signals:
    """signal name -> the first words that matched it."""

    found: dict[str, str]

    def has(self, name: str) -> bool:
        return name in self.found


@cache
def _patterns() -> dict[str, re.Pattern]:
    data = yaml.safe_load((DATA / "signals.yaml").read_text(encoding="utf-8"))
    groups: dict[str, list[str]] = {}
    for name in (*SIMPLE, "subject"):
        groups[name] = data[name]["zh"] + data[name]["en"]
    for act in ACTS:
        groups[f"act:{act}"] = data["acts"][act]["zh"] + data["acts"][act]["en"]
    for target in TARGETS:
        groups[f"target:{target}"] = data["targets"][target]["zh"] + data["targets"][target]["en"]
    return {name: re.compile("|".join(f"(?:{p})" for p in pats)) for name, pats in groups.items()}


def find_signals(text: str) -> Signals:
    """Match every signal group on normalised ``text``."""
    found = {}
    for name, pattern in _patterns().items():
        m = pattern.search(text)
        if m:
            found[name] = m.group(0)
    return Signals(found)


def _feature_names() -> list[str]:
    names = list(SIMPLE) + [f"act:{a}" for a in ACTS] + [f"target:{t}" for t in TARGETS]
    for mod in ("framing", "actor_agent", "handling", "negation", "jailbreak"):
        names += [f"{mod}&act:{a}" for a in ACTS]
    for act in ("disclose", "contact_third", "collect_from"):
        names += [f"act:{act}&target:{t}" for t in TARGETS]
    names += ["framing&actor_agent", "handling&negation", "framing&act_on_debtor", "jailbreak&act_on_debtor",
              "negation&act_on_debtor", "handling&act_on_debtor"]
    return names


FEATURE_NAMES = tuple(_feature_names())


def signal_features(signals: Signals) -> list[float]:
    """The signals as a fixed-order 0/1 vector (named by FEATURE_NAMES)."""
    return [1.0 if all(signals.has(part) for part in name.split("&")) else 0.0 for name in FEATURE_NAMES]
