"""Claims of legal authority checked against the fact sheet the project ships (``data/authorities.yaml``).

A passage of training material (or a line of an entry) that cites a law, an interpretation, a rule, a
numbered notice or bulletin, a court order or an official body must cite one the sheet lists, and an
article or section of it the sheet lists; anything else is returned as unverified authority for the
reviewer ("a judicial interpretation barring debtors' children from school", "the National Delinquent
Borrower Registry", "CFPB Bulletin 2022-07", "§ 1692k"). The approved regulation entries of the
knowledge base count as known too (the guard passes their citations in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from guardrails.data_files import read_yaml

DATA = Path(__file__).with_name("data")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_number(text: str) -> int | None:
    """一千零三十三 -> 1033, 二百九十三 -> 293, 十 -> 10; digits pass through; None when it is no number."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            total += (digit or 1) * _UNITS[ch]
            digit = 0
        else:
            return None
    return total + digit


@dataclass(frozen=True)
class Instrument:
    """One law, regulation, interpretation or guideline on the fact sheet."""

    names: tuple[str, ...]
    keys: tuple[tuple[str, ...], ...]  # word sets that identify it when it is cited loosely
    articles: tuple[str, ...]
    status: str

    def named_in(self, text: str) -> bool:
        low = text.lower()
        return any(n.lower() in low for n in self.names) or any(all(k in low for k in key) for key in self.keys)


@dataclass(frozen=True)
class Authorities:
    instruments: tuple[Instrument, ...]
    bodies: tuple[str, ...]
    claims: tuple[re.Pattern, ...]
    articles: tuple[re.Pattern, ...]

    def names(self) -> tuple[str, ...]:
        """Every name of every instrument on the sheet."""
        return tuple(n for i in self.instruments for n in i.names)

    def unverified(self, text: str, known: Iterable[str] = ()) -> str | None:
        """The first authority ``text`` claims that is not on the sheet (nor among ``known`` citations)."""
        known_text = "\n".join(known).lower()
        for pattern in self.claims:
            for m in pattern.finditer(text):
                claim = m.group(0).strip()
                if not self._known(claim, known_text):
                    return claim
        names = self._name_spans(text)
        for pattern in self.articles:
            for m in pattern.finditer(text):
                if any(s <= m.start() and m.end() <= e for s, e in names):
                    continue  # part of an instrument's own name ("12 CFR part 1006", "15 U.S.C. §§ 1692–1692p")
                if m.group(0).lower() not in known_text and not self._article_known(text, m):
                    return m.group(0).strip()
        return None

    def _name_spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` writes out a name of an instrument on the sheet."""
        return [m.span() for name in self.names() for m in re.finditer(re.escape(name), text, re.IGNORECASE)]

    def _known(self, claim: str, known_text: str) -> bool:
        low = claim.lower().strip("《》 ")
        if any(i.named_in(claim) for i in self.instruments):
            return True
        if any(b.lower() == low or (len(b) > 3 and b.lower() in low and _only_generic(low, b.lower()))
               for b in self.bodies):
            return True
        return bool(low) and low in known_text

    def _article_known(self, text: str, m: re.Match) -> bool:
        """An article or section is known when an instrument named within the same sentence lists it."""
        number = m.group("n")
        value = chinese_number(number)
        wanted = {number.lower(), str(value)} if value is not None else {number.lower()}
        start = max(text.rfind(c, 0, m.start()) for c in "。；;!?！？\n")
        ends = [i for i in (text.find(c, m.end()) for c in "。；;!?！？\n") if i >= 0]
        sentence = text[start + 1:min(ends, default=len(text))]
        cited = ([i for i in self.instruments if i.named_in(sentence)]
                 or [i for i in self.instruments if i.named_in(text)]
                 or [i for i in self.instruments if wanted & set(i.articles) or _section_in(number, i.articles)])
        return any(wanted & {a.lower() for a in i.articles} or _section_in(number, i.articles) for i in cited)


def _only_generic(claim: str, body: str) -> bool:
    """A known body named with only generic words around it ("当地人民法院", "the court") is that body."""
    rest = claim.replace(body, "")
    return len(re.sub(r"[\W_]|当地|本地|所在地|有关|相关|the|local|a|an", "", rest)) <= 2


def _section_in(number: str, articles: tuple[str, ...]) -> bool:
    """§ 1692c(b) is 1692c; 12 CFR 1006.14(b)(2) is 1006.14."""
    base = re.match(r"[\dA-Za-z.]+?(?=\(|$)", number)
    return bool(base) and base.group(0).rstrip(".").lower() in {a.lower() for a in articles}


@cache
def load_authorities(path: Path = DATA / "authorities.yaml") -> Authorities:
    data = read_yaml(path)
    instruments = tuple(Instrument(tuple(i["names"]), tuple(tuple(k) for k in i.get("keys") or ()),
                                   tuple(str(a) for a in i.get("articles") or ()), i["status"])
                        for i in data["instruments"])
    return Authorities(instruments, tuple(data["bodies"]["zh"] + data["bodies"]["en"]),
                       tuple(re.compile(p) for p in data["claims"]["zh"] + data["claims"]["en"]),
                       tuple(re.compile(p) for p in data["articles"]))
