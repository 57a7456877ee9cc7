"""The contact actions an answer suggests or states, for the `must` / `must_not` of context-aware cases
(shared/reference/call-context.md), judged with the action lexicon of guardrails/data/contact/actions.yaml.

An action is *suggested* when a line to say or do proposes it (a negated mention proposes nothing; a
mention deferred to a named later time is a later contact). An action is *present* when anything shown
carries it: the lines, the notice, the explanation; the third-party script is the card of a script topic
(for a refusal, the first compliant alternative), and the next permitted time is stated when the notice gives
the verdict's next moment.
"""

from __future__ import annotations

from assistant.coaching.call_context import wording
from assistant.types import Answer
from guardrails.contact.actions import suggested


def script_topics() -> frozenset[str]:
    return frozenset(t for topics in wording()["scripts"].values() for t in topics)


def judge(answer: Answer) -> dict[str, list[str]]:
    """{"now": actions a say/do line proposes for now, "later": ... only for a named later time,
    "present": actions anything shown carries}."""
    card = answer.card
    now, later = set(), set()
    for line in (*card.say, *card.do):
        for action, deferred in suggested(line).items():
            (later if deferred else now).add(action)
    later -= now
    present = set(now | later)
    for line in (card.notice, card.why, *(r for _, r in card.rules)):
        present |= set(suggested(line)) if line else set()
    card_entry = answer.main if not answer.refused else next(iter(answer.sources), None)  # a refusal: its way instead
    if card_entry is not None and card_entry.topic in script_topics():
        present.add("third_party_script")
    nxt = (answer.contact or {}).get("next_allowed_at")
    if nxt and nxt[:16].replace("T", " ") in card.notice:
        present.add("state_next_allowed_time")
    return {"now": sorted(now), "later": sorted(later), "present": sorted(present)}
