"""Which language an agent asked in."""

from __future__ import annotations

import re

from guardrails import normalize

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]+")


def detect_lang(text: str) -> str:
    """'zh' when the text has Chinese characters carrying at least a little of it, else 'en'."""
    cjk = len(_CJK.findall(text))
    latin_words = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 2 >= latin_words else "en"


def search_form(text: str) -> str:
    """The question as the knowledge base is written: simplified Chinese, half-width characters, chat-box English
    spelled out (cx, pmt, acct, b/c, dont) and pinyin written in characters; the guard reads the same form."""
    return normalize(text)
