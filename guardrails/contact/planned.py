"""The contact a question asks permission for ("可以晚上九点半打给他吗", "is it OK to text her at 8 am?"): its
medium, who it reaches, where, and the local clock time named, read with data/contact/questions.yaml. All of
it comes from the clause that asks (the rest of a question tells the story: "his sister picked up two days
ago", "the dialer clock says 13:30").

>>> planned_contact("is it OK to call him at 9:30 pm?")
PlannedContact(channel='call', party=None, at=datetime.time(21, 30), tomorrow=False, place=None)
>>> planned_contact("客户说的情况我该怎么回应") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path

from guardrails.contact.context import CallContext
from guardrails.data_files import read_yaml

QUESTIONS_FILE = Path(__file__).parents[1] / "data" / "contact" / "questions.yaml"
_NUMERALS = {c: i for i, c in enumerate("零一二三四五六七八九十")} | {"两": 2}
_ZH_NUMBER = "[零一二两三四五六七八九十]{1,3}"
_ZH_TIME = re.compile(rf"(?P<h>\d{{1,2}}|{_ZH_NUMBER})\s*(?:点|时)\s*(?P<m>半|一刻|三刻|\d{{1,2}}|{_ZH_NUMBER})?\s*分?"
                      r"|(?P<h2>\d{1,2})\s*[:：]\s*(?P<m2>\d\d)")
_CLAUSES = re.compile(r"[，,。；;！!？?\n—]|\.\s|\s-\s")
_EN_TIME = re.compile(r"\b(?P<h>\d{1,2})(?::(?P<m>\d\d))?\s*(?=a\.?m\b|p\.?m\b|a\.m\.|p\.m\.|o'?clock)"
                      r"|\b(?P<h2>\d{1,2}):(?P<m2>\d\d)\b|\bat (?P<h3>\d{1,2})\b", re.IGNORECASE)


@dataclass(frozen=True)
class PlannedContact:
    """A contact a question asks about: medium, party (None: whoever the call context names), local time."""

    channel: str
    party: str | None = None
    at: time | None = None
    tomorrow: bool = False
    place: str | None = None  # "work" when the contact would reach the debtor at work

    def moment(self, context: CallContext) -> datetime:
        """When the contact would happen: the next time the named clock time comes round in the debtor's
        (first candidate) zone, tomorrow's if the question says so; the context's now when no time is named."""
        zone = context.zones[0]
        local = context.now.astimezone(zone)
        if self.at is None:
            return local
        day = local.date() + timedelta(days=1 if self.tomorrow else 0)
        planned = datetime.combine(day, self.at, tzinfo=zone)
        if not self.tomorrow and planned < local - timedelta(minutes=1):
            planned = datetime.combine(day + timedelta(days=1), self.at, tzinfo=zone)
        return planned


@cache
def _lexicon() -> dict:
    data = read_yaml(QUESTIONS_FILE)

    def both(entry: dict) -> re.Pattern:
        return re.compile(f"(?:{entry['zh']})|(?:{entry['en']})", re.IGNORECASE)

    return {
        "permission": both(data["permission"]),
        "channels": {name: both(words) for name, words in data["channels"].items()},
        "parties": {name: both(words) for name, words in data["parties"].items()},
        "places": {name: both(words) for name, words in data["places"].items()},
        "periods": {name: both(words) for name, words in data["periods"].items()},
        "now_said": both(data["now_said"]),
        "deadline": both(data["deadline"]),
        "past": both(data["past"]),
        "stop_request": both(data["stop_request"]),
        "tomorrow": both(data["tomorrow"]),
    }


def planned_contact(question: str) -> PlannedContact | None:
    """The contact the question asks permission for, or None when it asks none."""
    lex = _lexicon()
    clause = _asking_clause(question)
    if clause is None:
        return None
    channel = next(name for name, p in lex["channels"].items() if p.search(clause))
    party = next((name for name, p in lex["parties"].items() if p.search(clause)), None)
    place = next((name for name, p in lex["places"].items() if p.search(clause)), None)
    return PlannedContact(channel, party, named_time(clause), bool(lex["tomorrow"].search(clause)), place)


def _asking_clause(question: str) -> str | None:
    """The clause that asks permission for a contact: asks and names a medium; else, in a question that
    asks somewhere, the last clause naming a medium that is not a request to stop."""
    lex = _lexicon()
    if not lex["permission"].search(question):
        return None
    clauses = [c for c in _CLAUSES.split(question) if c and c.strip()]
    medium = [c for c in clauses if any(p.search(c) for p in lex["channels"].values())]
    asking = [c for c in medium if lex["permission"].search(c)]
    own = [c for c in medium if not lex["stop_request"].search(c)]  # a request to stop plans no contact
    return (asking or own or [None])[-1]


def named_time(question: str) -> time | None:
    """The first clock time the question plans (not one it says is now, nor a deadline), as a local time."""
    lex = _lexicon()
    for pattern, lookback, lookahead in ((_ZH_TIME, 6, 4), (_EN_TIME, 12, 16)):
        for m in pattern.finditer(question):
            head, tail = question[max(0, m.start() - lookback):m.start()], question[m.end():m.end() + lookahead]
            if (lex["now_said"].search(head) or lex["deadline"].search(head) or lex["deadline"].search(tail)
                    or lex["past"].search(tail)):
                continue
            hour, minute = _clock(m)
            if hour is not None:
                return _with_period(hour, minute, f"{question[max(0, m.start() - 4):m.start()]} {tail}", question)
    return None


def _clock(m: re.Match) -> tuple[int | None, int]:
    groups = m.groupdict()
    raw_h = groups.get("h") or groups.get("h2") or groups.get("h3")
    raw_m = groups.get("m") or groups.get("m2")
    hour = int(raw_h) if raw_h.isdigit() else _zh_number(raw_h)
    minute = {"半": 30, "一刻": 15, "三刻": 45}.get(raw_m or "", None)
    if minute is None:
        minute = 0 if not raw_m else int(raw_m) if raw_m.isdigit() else _zh_number(raw_m)
    if hour is None or minute is None or hour > 24 or minute > 59:
        return None, 0
    return hour, minute


def _zh_number(text: str) -> int | None:
    if text == "十":
        return 10
    if "十" in text:
        tens, _, units = text.partition("十")
        return _NUMERALS.get(tens, 1 if not tens else -100) * 10 + (_NUMERALS.get(units, -100) if units else 0)
    return _NUMERALS.get(text) if len(text) == 1 else None


def _with_period(hour: int, minute: int, around: str, question: str) -> time:
    periods = _lexicon()["periods"]
    period = next((name for name, p in periods.items() if p.search(around)), None)
    period = period or next((name for name, p in periods.items() if p.search(question)), None)
    if period == "pm" and hour < 12:
        hour += 12
    elif period == "am" and hour == 12:
        hour = 0
    elif period == "noon" and hour < 3:
        hour += 12
    elif period is None and 1 <= hour < 8:  # "两点" with no period word: the afternoon's, not the small hours
        hour += 12
    return time(hour % 24, minute)
