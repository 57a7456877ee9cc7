"""Find identifiers by format: numbers, IDs, e-mail, handles, plates, birth dates and street addresses (pii.yaml)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from guardrails.data_files import read_yaml

PII_PATH = Path(__file__).with_name("data") / "pii.yaml"
NUMBER_KINDS = frozenset({"cn_id", "bank_card", "mobile", "phone", "ssn", "number", "qq", "passport"})
CN_DIGITS = str.maketrans("零〇一二三四五六七八九幺两", "0012345678912")
FULL_WIDTH = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20, 0x2018: 0x27, 0x2019: 0x27}
CN_NUMERAL_RUN = re.compile(r"[零〇一二三四五六七八九幺两]{3,}")
O_FOR_ZERO = re.compile(r"(?<=\d)[Oo](?![A-Za-z])|(?<![A-Za-z])[Oo](?=\d)")
DIGIT_WORDS = frozenset("zero oh one two three four five six seven eight nine".split())
CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SENTENCE_END = re.compile(r"[。！？!?]|\.\s")


@dataclass(frozen=True)
class Detector:
    kind: str
    priority: int
    regex: re.Pattern
    view: str = "digits"
    check: str = ""
    context: str = ""


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    kind: str
    priority: int


def fold(text: str) -> str:
    """Full-width forms as ASCII, same length: ``１３８＠ｘ．ｃｏｍ`` -> ``138@x.com``."""
    return text.translate(FULL_WIDTH)


def digit_view(folded: str) -> str:
    """``folded`` with spoken Chinese digits (幺三八...) and O-for-0 typos as digits, same length."""
    text = CN_NUMERAL_RUN.sub(lambda m: m.group().translate(CN_DIGITS), folded)
    return O_FOR_ZERO.sub("0", text)


@cache
def config() -> dict:
    """The parsed pii.yaml."""
    return read_yaml(PII_PATH)


@cache
def detectors() -> tuple[Detector, ...]:
    """Every pattern detector of pii.yaml, fragments filled in and compiled."""
    data = config()
    frags = data["fragments"]

    def expand(pattern: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: frags.get(m.group(1), m.group()), pattern)

    return tuple(Detector(d["kind"], d["priority"], re.compile(expand(d["regex"])), d.get("view", "digits"),
                          d.get("check", ""), d.get("context", "")) for d in data["detectors"])


@cache
def _context() -> dict[str, re.Pattern]:
    ctx = config()["context"]
    return {name: re.compile(ctx[name]) for name in ("keep", "label", "ssn", "email", "dob")} | {
        "either": re.compile(f"(?P<keep>{ctx['keep']})|(?P<label>{ctx['label']})")}


def _luhn(digits: str) -> bool:
    total = sum(int(d) if i % 2 == 0 else sum(divmod(int(d) * 2, 10)) for i, d in enumerate(reversed(digits)))
    return len(digits) >= 13 and total % 10 == 0


def _valid_day(year: int, month: int, day: int) -> bool:
    try:
        return date(year, month, day) <= date.today()
    except ValueError:
        return False


def _cn_id(digits: str) -> bool:
    """A 身份证 number: a real birth date, and its check digit right unless the number is a valid card number
    (a wrong check digit is still an ID: typos, numbers read out)."""
    if len(digits) != 18 or not digits[:17].isdigit():
        return False
    if not _valid_day(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])):
        return False
    check = "10X98765432"[sum(int(d) * w for d, w in zip(digits, CN_ID_WEIGHTS)) % 11]
    return check == digits[17].upper() or not (digits.isdigit() and _luhn(digits))


def _cn_number(text: str) -> int:
    """A number written in Chinese numerals or digits: 八八 -> 88, 十二 -> 12, 一九八五 -> 1985."""
    text = text.translate(CN_DIGITS)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return int(tens or "1") * 10 + int(ones or "0")
    return int(text) if text.isdigit() else 0


def _birth_year(span: str) -> int | None:
    """The year of a complete date (day, month and year), or None."""
    if m := re.fullmatch(r"(\S{2,4})年(\S{1,3})月(\S{1,3})[日号]?", span):
        year = _cn_number(m.group(1))
    elif m := re.search(r"\b(\d{4})\b|/(\d{2})$", span):
        year = int(m.group(1) or m.group(2))
    else:
        return None
    if year < 100:
        year += 1900 if year > date.today().year % 100 else 2000
    return year


def _dob(view: str, start: int, end: int) -> bool:
    """A birth date: a birth-date word before it in the sentence, or a year long enough ago for an adult."""
    year = _birth_year(view[start:end])
    if year is None or not config()["context"]["dob_first_year"] <= year <= date.today().year:
        return False
    before = SENTENCE_END.split(view[max(0, start - 40):start])[-1]
    return bool(_context()["dob"].search(before)) or year <= date.today().year - config()["context"]["dob_min_age"]


def _alnum_id(span: str) -> bool:
    ctx = config()["context"]
    prefix = re.match(r"[A-Z]*", span).group()
    return len(re.sub(r"\D", "", span)) >= 5 and prefix not in ctx["keep_prefixes"] + ctx["label_prefixes"]


def _digits(span: str) -> str:
    return re.sub(r"\D", "", span) + ("X" if span[-1:] in ("X", "x") else "")


CHECKS: dict[str, Callable[[str, int, int], bool]] = {   # pii.yaml's `check`: (view, start, end) -> keep the span?
    "": lambda view, s, e: True,
    "luhn": lambda view, s, e: _luhn(_digits(view[s:e])),
    "cn_id": lambda view, s, e: _cn_id(_digits(view[s:e])),
    "digits:6": lambda view, s, e: len(re.sub(r"\D", "", view[s:e])) >= 6,
    "digits:9": lambda view, s, e: len(re.sub(r"\D", "", view[s:e])) >= 9,
    "alnum_id": lambda view, s, e: _alnum_id(view[s:e]),
    "plate": lambda view, s, e: bool(re.search(r"\d", view[s:e]) and re.search(r"[A-Z]", view[s:e])) and len(
        view[s:e].replace(" ", "")) >= 5,
    "handle": lambda view, s, e: bool(re.search(r"[\d_-]", view[s:e])),
    "dob": _dob,
}


def _kept(view: str, start: int, digits: str) -> bool:
    """A ticket, routing number or company hotline: the nearest label word before it says so, or its prefix does."""
    if any(digits.startswith(p) and len(digits) == 10 for p in config()["context"]["service_prefixes"]):
        return True
    before = SENTENCE_END.split(view[max(0, start - config()["context"]["window"]):start])[-1]
    words = list(_context()["either"].finditer(before))
    return bool(words) and words[-1].lastgroup == "keep"


def _spelled(folded: str) -> Iterator[Found]:
    """Digits read out as English words: a phone number, or an SSN after its label."""
    spelled = config()["spelled_digits"]
    for m in re.finditer(spelled["regex"], folded):
        count = sum(w.lower() in DIGIT_WORDS for w in re.findall(r"[A-Za-z]+", m.group()))
        ssn = count == 9 and _context()["ssn"].search(folded[max(0, m.start() - 30):m.start()])
        yield Found(m.start(), m.end(), "ssn" if ssn else "phone", spelled["priority"])


def find_identifiers(text: str) -> list[Found]:
    """Every candidate identifier span in ``text``, overlapping ones included (the caller picks)."""
    folded = fold(text)
    views: dict[str, str] = {"fold": folded, "digits": digit_view(folded)}
    found = list(_spelled(folded))
    for det in detectors():
        view = views[det.view]
        for m in det.regex.finditer(view):
            start, end = m.span("v") if "v" in m.re.groupindex else m.span()
            window = view[max(0, start - config()["context"]["window"]):start]
            if det.context and not _context()[det.context].search(window):
                continue
            if not CHECKS[det.check](view, start, end):
                continue
            if det.kind in NUMBER_KINDS and _kept(view, start, re.sub(r"\D", "", view[start:end])):
                continue
            found.append(Found(start, end, det.kind, det.priority))
    return found

