"""What a blocked verdict says: the categories its evidence points to, and a reason per category (the
signals that matched, or the model's score when nothing else did)."""

from __future__ import annotations

from guardrails.signals import ACT_CATEGORY, TARGETS, Signals
from guardrails.types import CATEGORIES, Reason

THIRD_PARTY_TARGETS = ("family", "workplace", "contacts", "public")


def categories_of(signals: Signals, probs: dict[str, float], by_rule: bool) -> list[str]:
    """The refused categories: a rule's own acts decide (a threat that names the employer or the family is
    third-party pressure too); else the model's category heads."""
    if by_rule:
        found = {ACT_CATEGORY[a] for a in signals.acts}
        if signals.has("act_on_debtor") or signals.has("crisis"):
            found.add("pressure")
        if signals.has("act:conditional_threat") and any(signals.has(f"target:{t}") for t in THIRD_PARTY_TARGETS):
            found.add("third_party")
        if found:
            return [c for c in CATEGORIES if c in found]
    return [c for c in CATEGORIES if probs[c] >= 0.5] or [max(CATEGORIES, key=probs.get)]


def reasons(categories: list[str], signals: Signals, probs: dict[str, float]) -> list[Reason]:
    """Evidence per category: the intent signals that matched, else the model's score."""
    out: list[Reason] = []
    for cat in categories:
        acts = [a for a, c in ACT_CATEGORY.items() if c == cat and signals.has(f"act:{a}")]
        for act in acts:
            parts = [f"act:{act}"] + [f"target:{t}" for t in TARGETS if signals.has(f"target:{t}")][:1]
            parts += [m for m in ("framing", "permission", "actor_agent", "jailbreak") if signals.has(m)]
            out.append(Reason(cat, "+".join(parts), " + ".join(signals.found[p] for p in parts)))
        if not acts and cat == "pressure" and signals.has("act_on_debtor"):
            out.append(Reason(cat, "act_on_debtor", signals.found["act_on_debtor"]))
        elif not acts:
            out.append(Reason(cat, "model", f"intent model score {probs[cat]:.2f}"))
    return out
