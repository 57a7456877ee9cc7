"""Which contact actions a line of advice suggests ("call him back tonight", "让他姐姐提醒他"), read from
data/contact/actions.yaml: the coach drops a line whose action the call context forbids, and the evaluation
judges answers by the same action ids (shared/reference/call-context.md).

>>> suggested("今晚再打一次试试")
{'call_debtor': False}
>>> suggested("Do not call back tonight; call back tomorrow after 8 am")
{'call_debtor': True}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from guardrails.data_files import read_yaml

ACTIONS_FILE = Path(__file__).parents[1] / "data" / "contact" / "actions.yaml"
_CLAUSE = re.compile(r"[，,。；;！!？?：:\n]|(?<=[A-Za-z)])\.\s+"  # a sentence's full stop, not a decimal point
                     r"|\s(?:but|and then|then|or|instead)\s|(?:但是|但|然后|或者|而是)")


@dataclass(frozen=True)
class Action:
    """One contact action and the words that suggest it."""

    id: str
    channel: str | None
    negatable: bool
    deferrable: bool
    patterns: tuple[re.Pattern, ...]


@dataclass(frozen=True)
class Lexicon:
    actions: dict[str, Action]
    negation: re.Pattern
    deferral: re.Pattern


@cache
def lexicon() -> Lexicon:
    data = read_yaml(ACTIONS_FILE)
    actions = {
        name: Action(name, raw.get("channel"), raw["negatable"], raw["deferrable"],
                     tuple(re.compile(p, re.IGNORECASE) for lang in ("zh", "en") for p in raw[lang]))
        for name, raw in data["actions"].items()
    }
    both = lambda key: re.compile("|".join(f"(?:{data[key][lang]})" for lang in ("zh", "en")), re.IGNORECASE)  # noqa: E731
    return Lexicon(actions, both("negations"), both("deferrals"))


def clauses(line: str) -> list[str]:
    """A line cut where a negation or a time stops applying: punctuation and joining words."""
    return [c for c in _CLAUSE.split(line) if c and c.strip()]


def suggested(line: str) -> dict[str, bool]:
    """Action id -> whether every mention of it is deferred to a named later time, for each action the line
    suggests (a negated mention suggests nothing)."""
    lex = lexicon()
    found: dict[str, bool] = {}
    for clause in clauses(line):
        for action in lex.actions.values():
            match = next((m for p in action.patterns if (m := p.search(clause))), None)
            if match is None:
                continue
            if action.negatable and lex.negation.search(clause[:match.start()]):
                continue
            deferred = action.deferrable and bool(lex.deferral.search(clause))
            found[action.id] = found.get(action.id, True) and deferred
    return found

