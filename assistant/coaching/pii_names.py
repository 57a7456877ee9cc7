"""Find English (and romanised Asian) personal names by first-name and surname lists plus cue words. The lists and
cue words of both languages are data: data/pii_names.yaml."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from guardrails.data_files import read_yaml

NAMES_PATH = Path(__file__).with_name("data") / "pii_names.yaml"
ZH_CHAR_SETS = ("surnames", "common", "not_first", "measure_words")   # written as runs of characters
WORD = re.compile(r"(?<![\w'’-])(?:[A-ZÀ-Þ]['’])?[A-ZÀ-Þ][a-zß-ÿ]+(?:[A-ZÀ-Þ][a-zß-ÿ]+)*"   # O'Brien, DeShawn
                  r"(?:-[A-ZÀ-Þ][a-zß-ÿ]+)?(?![\w-])")                               # Lopez-Garcia
PINYIN = re.compile(r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|"
                    r"ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|ue|er|a|o|e|i|u|v))+")


def name_key(word: str) -> str:
    """The lookup form of a name: no accents or apostrophes, title case (José -> Jose, O'Brien -> Obrien)."""
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"['’-]", "", plain).title()


@cache
def name_lists() -> dict:
    """pii_names.yaml as sets (English names by lookup key, Chinese words), titles longest first, cues compiled."""
    data = read_yaml(NAMES_PATH)
    out = {f"{lang}_{k}": frozenset(map(name_key, words.split()))
           for lang in ("en", "asian") for k, words in data[lang].items()}
    out["en_first"] |= out.pop("en_first_extra")
    out |= {f"zh_{k}": frozenset(re.sub(r"\s", "", words) if k in ZH_CHAR_SETS else words.split())
            for k, words in data["zh"].items()}
    out["zh_titles"] = tuple(sorted(out["zh_titles"], key=len, reverse=True))
    return out | {k: re.compile(v) for k, v in data["cues"].items()}


def _cued(text: str, start: int, end: int, n: dict) -> bool:
    """A cue says "person": spoke with _, her daughter _, _ said, "ok, _,"."""
    before, after = text[max(0, start - 40):start], text[end:end + 40]
    if n["en_before"].search(before) or n["en_after"].search(after):
        return True
    return bool(n["en_vocative"].search(before) and re.match(r"\s*[,.!?]", after))


def _single(text: str, tok: re.Match, n: dict) -> bool:
    key = name_key(tok.group())
    if key not in n["en_first"]:
        return False
    if key not in n["en_ambiguous"]:
        return True
    if re.match(r"\s*(?:the\s+)?\d", text[tok.end():]):   # May 2, April the 1st
        return False
    return _cued(text, tok.start(), tok.end(), n)


def _full(text: str, run: list[re.Match], n: dict) -> bool:
    """Two to four capitalised words form a name: a clear first name or surname leads, or a cue or surname backs it."""
    head, second = name_key(run[0].group()), name_key(run[1].group())
    if (head in n["en_first"] and head not in n["en_ambiguous"]) or (
            head in n["asian_last"] and head not in n["asian_ambiguous"]):
        return True
    if head in n["asian_last"] and PINYIN.fullmatch(second.lower()):   # He Jun, but not "He Said"
        return True
    surname = second in n["en_last"] or second in n["asian_last"]
    return head in n["en_first"] and (surname or _cued(text, run[0].start(), run[-1].end(), n))


def _names_in_run(text: str, run: list[re.Match], n: dict) -> list[tuple[int, int]]:
    spans, j = [], 0
    while j < len(run):
        k = j + 1
        while k < len(run) and k - j < 4 and name_key(run[k].group()) not in n["en_not_name"]:
            k += 1
        unknown = j == 0 and n["en_person_before"].search(text[max(0, run[0].start() - 40):run[0].start()])
        if k - j >= 2 and (_full(text, run[j:k], n) or unknown):   # Talked to Ngozi Okafor
            spans.append((run[j].start(), run[k - 1].end()))
            j = k
            continue
        if _single(text, run[j], n):
            spans.append(run[j].span())
        j += 1
    return spans


def english_names(text: str) -> list[tuple[int, int]]:
    """Spans of English (and romanised Asian) names: Mr. Lopez, Dawn Whitaker, Zhang Wei, Tanisha, "Will said"."""
    n = name_lists()
    spans = [m.span() for m in re.finditer(n["en_title"].pattern + r"\s+" + WORD.pattern, text)]
    run: list[re.Match] = []
    for tok in [*WORD.finditer(text), None]:
        if run and (tok is None or text[run[-1].end():tok.start()] != " "):
            spans += _names_in_run(text, run, n)
            run = []
        if tok is not None:
            run.append(tok)
    return spans


def is_ambiguous(name: str) -> bool:
    """A name that is also a word or place (May, Austin): other mentions of it are not redacted on its account."""
    return name_key(name) in name_lists()["en_ambiguous"]
