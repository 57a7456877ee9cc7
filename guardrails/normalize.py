"""Normalise text before any check: traditional → simplified, full-width → half-width,
separators inside words removed, case folded, frequent pinyin/homophone spellings mapped."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).with_name("data")
_CJK = r"[\u3400-\u9fff]"
# "威 胁", "威-胁", "恐*吓": separators between two CJK characters
_CJK_GAP = re.compile(rf"(?<={_CJK})[\s\-_*.·~|/\\+#@^=]+(?={_CJK})")
# "t h r e a t", "t-h-r-e-a-t": single latin letters separated one by one
_SPACED_LETTERS = re.compile(r"\b(?:[a-z][\s\-_*.]){2,}[a-z]\b")
_SPACES = re.compile(r"\s+")
_MARKUP = re.compile(r"<[^<>]{1,200}>|!?\[([^\]]*)\]\([^)]*\)")  # HTML tags; Markdown links keep their text


@cache
def _converter():
    from opencc import OpenCC

    return OpenCC("t2s")


@cache
def _homophones() -> tuple[tuple[str, str], ...]:
    data = yaml.safe_load((DATA / "homophones.yaml").read_text(encoding="utf-8"))
    pairs = [(k.lower(), v) for k, v in data["replace"].items()]
    return tuple(sorted(pairs, key=lambda kv: -len(kv[0])))  # longest first


def normalize(text: str) -> str:
    """The canonical form all checks and features see."""
    text = _MARKUP.sub(lambda m: m.group(1) or " ", unicodedata.normalize("NFKC", text)).lower()
    text = _converter().convert(text)
    text = _SPACED_LETTERS.sub(lambda m: re.sub(r"[\s\-_*.]", "", m.group(0)), text)
    text = _CJK_GAP.sub("", text)
    for old, new in _homophones():
        if old in text:
            text = text.replace(old, new)
    return _SPACES.sub(" ", text).strip()
