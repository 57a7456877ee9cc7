"""Find Chinese personal names by surnames and cue words (data/pii_names.yaml), helped by jieba's words and
part-of-speech tags: 客户陆遥说, 王女士, 老李, 叫高兴, 欧阳文轩的账户, 他老婆丁一接电话."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

from assistant.coaching.pii_names import name_lists

KNOWN_WORD_FREQ = 100     # a jieba dictionary word (夏天, 方言, 屈服) is a name only before a person's predicate
COMMON_WORD_FREQ = 5000   # and one this frequent only after a role word too
HAN = re.compile(r"[\u4e00-\u9fff]")
FUNCTION_TAGS = "upcrye"   # jieba tags of particles, prepositions, conjunctions, pronouns, modal words


@cache
def _posseg() -> ModuleType:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)   # no "Building prefix dict" chatter on stderr
    jieba.initialize()
    return jieba.posseg


@dataclass(frozen=True)
class Words:
    """What jieba says about a text: where words start and end, the names it guessed (words its dictionary lacks,
    tagged 'nr': its dictionary's own 'nr' tags are unreliable, 安静 and 陈述 have them), single characters it reads
    as ordinary words (向 in 向客户说明), function words, and its dictionary."""
    starts: frozenset[int] = frozenset()
    ends: frozenset[int] = frozenset()
    guessed: frozenset[int] = frozenset()
    plain_chars: frozenset[int] = frozenset()
    particles: frozenset[int] = frozenset()   # function words (地, 了, 和, 你), never inside a name
    freq: dict = field(default_factory=dict)
    tag: dict = field(default_factory=dict)


def jieba_words(text: str) -> Words:
    """Segment ``text`` with jieba (imported on first use)."""
    posseg = _posseg()
    spans, at = [], 0
    for word, flag in posseg.cut(text):
        spans.append((at, at + len(word), word, flag))
        at += len(word)
    freq = posseg.dt.FREQ
    guessed = frozenset(s for s, _, w, f in spans if f.startswith("nr") and not freq.get(w))
    plain = frozenset(s for s, e, _, f in spans if e - s == 1 and not f.startswith("nr"))
    particles = frozenset(s for s, _, _, f in spans if f[0] in FUNCTION_TAGS)
    return Words(frozenset(s for s, *_ in spans), frozenset(e for _, e, *_ in spans), guessed, plain, particles,
                 freq, posseg.dt.word_tag_tab)


def _end(text: str, start: int, lengths: range, words: Words, n: dict) -> tuple[int, int] | None:
    """Where a name starting at ``start`` ends, and how strongly what follows says "person": 2 for a person's
    predicate or a title (说, 的手机, 先生), 1 for a word boundary; the shortest length the text itself marks wins,
    else a jieba word end (同事彭博备注说), which says nothing (0)."""
    ends = []
    for length in lengths:
        end = start + length
        if end > len(text) or not all(HAN.match(c) for c in text[start:end]):
            break
        if any(q in words.particles for q in range(start + 1, end)):   # 高兴地 is no name
            continue
        if n["zh_predicate"].match(text[end:]) or any(text.startswith(t, end) for t in n["zh_titles"]):
            return end, 2
        if n["zh_boundary"].match(text[end:]):
            return end, 1
        ends.append(end)
    return next(((end, 0) for end in ends if end in words.ends), None)


def _named(text: str, words: Words, n: dict) -> list[tuple[int, int]]:
    """Whatever follows 名字是, 名叫, 户名, 外号 (客户名字就叫高兴), unless jieba reads a verb there (外号羞辱他)."""
    spans = []
    for m in n["zh_naming"].finditer(text):
        surname = 2 if text[m.end():m.end() + 2] in n["zh_compound"] else 1
        found = _end(text, m.end(), range(surname + 1, surname + 3), words, n)
        if found and text[m.end()] not in n["zh_not_first"] and (
                words.tag.get(text[m.end():found[0]]) not in n["zh_not_name_tags"]):
            spans.append((m.end(), found[0]))
    return spans


def _familiar(text: str, p: int, before: str, words: Words, n: dict) -> bool:
    """老李, 小周; 阿强 or 小雨 only after a role word (女儿小雨) and, with jieba, when it knows no other word there."""
    word = text[p:p + 2]
    if len(word) < 2 or word in n["zh_not_name"]:
        return False
    if text[p] != "阿" and word[1] in n["zh_common"]:
        cued = True
    else:
        cued = text[p] != "老" and bool(n["zh_role"].search(before)) and (
            not words.freq or p in words.guessed or words.tag.get(word, "nr").startswith("nr"))
    return cued and bool(n["zh_verb"].search(before) or _end(text, p, range(2, 3), words, n))


def _surname_name(text: str, p: int, surname: int, before: str, words: Words, n: dict) -> int | None:
    """The end of a name that starts with a surname at ``p``, when the cues before and after add up."""
    found = _end(text, p, range(surname + 1, surname + 3), words, n)
    if not found:
        return None
    word = text[p:found[0]]
    if any(text.startswith(w, p) for w in n["zh_not_name"] if w[0] == text[p]) or words.tag.get(word) in n[
            "zh_not_name_tags"]:
        return None
    cue = 2 if n["zh_role"].search(before) else int(bool(n["zh_verb"].search(before) or
                                                         n["zh_clause_start"].search(before)))
    known = words.freq.get(word) or 0
    if known >= KNOWN_WORD_FREQ and found[1] < 2:
        return None
    return found[0] if cue + found[1] + (p in words.guessed) - 2 * (known >= COMMON_WORD_FREQ) >= 3 else None


def chinese_names(text: str, *, pos: bool = True) -> list[tuple[int, int]]:
    """Spans of Chinese personal names; ``pos=False`` does without jieba (surnames and cue words only)."""
    n = name_lists()
    words = jieba_words(text) if pos else Words()
    spans = _named(text, words, n)
    for p, char in enumerate(text):
        before = text[max(0, p - 6):p]
        if char in "老小阿":
            if _familiar(text, p, before, words, n):
                spans.append((p, p + 2))
            continue
        surname = 2 if text[p:p + 2] in n["zh_compound"] else 1 if char in n["zh_surnames"] else 0
        counted = char in n["zh_measure_words"] and n["zh_counted"].search(before)   # 那张卡
        if not surname or counted or (pos and p not in words.starts) or p in words.particles:   # 监管总局, 向律师
            continue
        if title := next((t for t in n["zh_titles"] if text.startswith(t, p + surname)), None):   # 钱先生
            spans.append((p, p + surname + len(title)))
            continue
        if surname == 1 and p in words.plain_chars:                                   # 常/问, 钱/该
            continue
        if end := _surname_name(text, p, surname, before, words, n):
            spans.append((p, end))
    return spans
