"""Redact personal data before anything is stored: names, street addresses, phones, ID, card and account numbers,
e-mail, chat ids, plates and birth dates, in Chinese and English. Formats, label words and name lists are data
(data/pii.yaml, data/pii_names.yaml); jieba is imported on the first Chinese text.

    >>> redact("客户张伟的手机138 1234 5678停机了")
    '客户[姓名/NAME]的手机[手机/PHONE]停机了'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.coaching.pii_identifiers import Found, config, find_identifiers, fold
from assistant.coaching.pii_names import english_names, is_ambiguous
from assistant.coaching.pii_names_zh import HAN, chinese_names

NAME_PRIORITY = 30


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    label: str   # the kind of identifier: a key of pii.yaml's labels, e.g. "mobile", "person_name"


def _names(folded: str, pos: bool) -> list[Found]:
    """Name spans, and every further mention of a name found (蒋欣的老公说蒋欣出国了)."""
    spans = english_names(folded) if re.search("[A-Za-z]", folded) else []
    if HAN.search(folded):
        spans += chinese_names(folded, pos=pos)
    names = {folded[s:e] for s, e in spans if e - s >= 2 and not is_ambiguous(folded[s:e])}
    spans += [m.span() for name in names for m in re.finditer(re.escape(name), folded)]
    return [Found(s, e, "person_name", NAME_PRIORITY) for s, e in set(spans)]


def _resolve(found: list[Found]) -> list[Found]:
    """Non-overlapping spans: the longer first (a card number is no phone inside it), then higher priority."""
    chosen: list[Found] = []
    for f in sorted(found, key=lambda f: (f.start - f.end, -f.priority, f.start)):
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)


def find_pii(text: str, *, pos_tags: bool = True) -> list[PiiSpan]:
    """The personal identifiers in ``text``, in order, as spans of ``text`` itself (``pos_tags=False``: no jieba)."""
    if not text:
        return []
    found = find_identifiers(text) + _names(fold(text), pos_tags)
    return [PiiSpan(f.start, f.end, f.kind) for f in _resolve(found)]


def redact(text: str) -> str:
    """``text`` with every personal identifier replaced by its kind, e.g. ``[手机/PHONE]``; the rest unchanged."""
    labels = config()["labels"]
    out, at = [], 0
    for span in find_pii(text):
        out += [text[at:span.start], labels[span.label]]
        at = span.end
    return "".join(out) + text[at:]
