"""Normalise text before any check: traditional → simplified, full-width → half-width,
separators inside words removed, case folded, frequent pinyin/homophone spellings mapped, and a text typed in
pinyin written in characters (``pinyin.py``)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from guardrails.data_files import read_yaml
from guardrails.pinyin import to_hanzi

DATA = Path(__file__).with_name("data")
_CJK = r"[\u3400-\u9fff]"
# "威 胁", "威-胁", "恐*吓": separators between two CJK characters
# "客户说他老婆刚生完孩子 他自己跑外卖": spaces between longer runs of Chinese separate clauses, as commas do;
# only spaces inside a word ("威 胁", "恐 吓 客 户") are removed, below.
_CJK_CLAUSE_SPACE = re.compile(rf"(?<={_CJK}{{3}})\s+(?={_CJK}{{3}})")
_CJK_GAP = re.compile(rf"(?<={_CJK})[\s\-_*.·~|/\\+#@^=]+(?={_CJK})")
# "t h r e a t", "t-h-r-e-a-t": single latin letters separated one by one
_SPACED_LETTERS = re.compile(r"\b(?:[a-z][\s\-_*.]){2,}[a-z]\b")
_SPACES = re.compile(r"\s+")
# zero-width and other invisible format characters hidden inside a word ("威\u200b胁"): they carry nothing
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,30}\]")  # a template slot of an entry: [公司名], [amount], [date]
_MARKUP = re.compile(r"<[^<>]{1,200}>|!?\[([^\]]*)\]\([^)]*\)")  # HTML tags; Markdown links keep their text


@cache
def _converter():
    from opencc import OpenCC

    return OpenCC("t2s")


@cache
def _homophones() -> tuple[tuple[str, str], ...]:
    data = read_yaml(DATA / "homophones.yaml")
    pairs = [(k.lower(), v) for k, v in data["replace"].items()]
    return tuple(sorted(pairs, key=lambda kv: -len(kv[0])))  # longest first


@cache
def _slang() -> re.Pattern | None:
    data = read_yaml(DATA / "slang.yaml")["replace"]
    words = sorted(data, key=len, reverse=True)
    table = {w.lower(): v for w, v in data.items()}
    pattern = re.compile(r"(?<![A-Za-z0-9_/&'’])(" + "|".join(re.escape(w) for w in words) + r")(?![A-Za-z0-9_/&'’])")
    return pattern, table


def expand_slang(text: str) -> str:
    """Chat-box English (cx, pmt, acct, b/c, dont) as the words it stands for; lower-cased text in and out."""
    pattern, table = _slang()
    return pattern.sub(lambda m: table[m.group(1)], text)


KEPT_CHARS = 2000  # readings of texts up to this long are kept (a question's default limit): memory stays bounded


def normalize(text: str) -> str:
    """The canonical form all checks and features see (the last few thousand short ones are kept: a guard reads
    a sentence whole, as a clause and for its rules)."""
    return _kept(text) if len(text) <= KEPT_CHARS else _normalize(text)


def _normalize(text: str) -> str:
    text = _MARKUP.sub(lambda m: m.group(1) or " ", unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)))
    text = _PLACEHOLDER.sub(" ", text).lower()
    text = _converter().convert(text)
    text = _SPACED_LETTERS.sub(lambda m: re.sub(r"[\s\-_*.]", "", m.group(0)), text)
    text = _CJK_CLAUSE_SPACE.sub("，", text)
    text = _CJK_GAP.sub("", text)
    text = to_hanzi(text)
    for old, new in _homophones():
        if old in text:
            text = text.replace(old, new)
    return _SPACES.sub(" ", expand_slang(text)).strip()


_kept = lru_cache(maxsize=4096)(_normalize)


def forget() -> None:
    """Drop the kept normal forms."""
    _kept.cache_clear()
