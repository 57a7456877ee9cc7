"""Toneless pinyin typed for Chinese ("kehu yao jianmian faxi zenme hui ta") written back in characters
(客户要减免罚息怎么回他), so the guard and the retrieval read it as the Chinese it stands for.

A text is converted only when nearly all its latin words spell pinyin and at least one spells a Chinese
word of two or more syllables that is not also an English word ("can he pay" stays English). Each run of
pinyin words is segmented, across the spaces agents type or leave out, into the fewest known words
(ties: the more frequent), from a table of pinyin spellings and their most likely word
(``data/pinyin_words.tsv``: jieba's dictionary frequencies, words of this domain first). Rebuild it with
``python -m guardrails.pinyin`` (needs pypinyin, in the ``test`` extra) after the entries or training data
change a lot; the table is data, reviewed like the lexicons."""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

TABLE = Path(__file__).with_name("data") / "pinyin_words.tsv"
_WORD = re.compile(r"[a-zü]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TOKEN = re.compile(r"[a-zü]+|[^a-zü]+")
# English words that also spell pinyin: they never count as evidence that a text is pinyin
_ENGLISH = frozenset("""a an and as he she me men man can you long hang ran die lie tie pie fan pan ban tan pin
bang gang sun gun hen den pen zen change chin shin gene bin lean bean mean dean gin jean sue cue hue one none
bone tone zone gone gong song ping pong king ding dong hong kong yang ma pa la ha no go so yes mine nine shine
pine dine line wine fine""".split())
_MAX_KEY = 24


@cache
def _table() -> dict[str, tuple[str, float]]:
    table = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        key, word, weight = line.split("\t")
        table[key] = (word, float(weight))
    return table


@cache
def _syllable_set() -> frozenset[str]:
    """Every spelling of one character in the table: the syllables of pinyin."""
    return frozenset(key for key, (word, _) in _table().items() if len(word) == 1)


def _syllables(word: str) -> int:
    """How many syllables ``word`` spells as pinyin (0 when it does not)."""
    syllables = _syllable_set()
    best = [0] + [-1] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            if best[start] >= 0 and word[start:end] in syllables:
                best[end] = max(best[end], best[start] + 1)
    return max(best[-1], 0)


def looks_like_pinyin(text: str) -> bool:
    """Nearly every latin word spells pinyin, and one is a Chinese word of two or more syllables (in Chinese
    with a few latin words, one typed as a word: "bao 通讯录 de huashu", not "in Shenzhen said his 领导")."""
    words = _WORD.findall(text.lower())
    if len(words) < 2 or sum(1 for w in words if _syllables(w)) < 0.8 * len(words):
        return False
    table = _table()
    chinese = [w for w in words if w not in _ENGLISH]
    pairs = [] if _CJK.search(text) else [a + b for a, b in zip(chinese, chinese[1:])]  # "ke hu", typed apart
    return any(w in table and len(table[w][0]) >= 2 for w in chinese + pairs)


def _segment(letters: str) -> tuple[str, float]:
    """One typed word as the fewest known words spelling it (ties: the more frequent), and its score; a word
    the table cannot spell stays as typed."""
    table = _table()
    n = len(letters)
    best: list[tuple[int, float, str] | None] = [(0, 0.0, "")] + [None] * n
    for end in range(1, n + 1):
        for start in range(max(0, end - _MAX_KEY), end):
            prev = best[start]
            word, weight = table.get(letters[start:end], (None, 0.0))
            if prev is None or word is None:
                continue
            cand = (prev[0] + 1, prev[1] + weight, prev[2] + word)
            if best[end] is None or (cand[0], -cand[1]) < (best[end][0], -best[end][1]):
                best[end] = cand
    return (best[n][2], best[n][1]) if best[n] is not None else (f" {letters} ", -100.0)


def _run(words: list[str]) -> str:
    """A run of typed pinyin words in characters. Each typed word is read on its own, and a few typed words are
    read as one when that is the likelier reading ("ke hu" 客户, "shui bu zhao" 睡不着): the readings compete by
    the sum of their words' log-probabilities, a unigram language model over the table."""
    table = _table()
    best: list[tuple[float, str]] = [(0.0, "")]
    for end in range(1, len(words) + 1):
        text, score = _segment(words[end - 1])
        options = [(best[end - 1][0] + score, best[end - 1][1] + text)]
        for start in range(max(0, end - 6), end - 1):
            word, weight = table.get("".join(words[start:end]), (None, 0.0))
            if word is not None:
                options.append((best[start][0] + weight, best[start][1] + word))
        best.append(max(options, key=lambda o: o[0]))
    return best[-1][1]


def to_hanzi(text: str) -> str:
    """``text`` with its runs of pinyin written in characters, when it looks like pinyin; else unchanged."""
    if not looks_like_pinyin(text):
        return text
    out: list[str] = []
    run: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        if _WORD.fullmatch(token) and _syllables(token):
            run.append(token)
        elif run and token.isspace():
            continue  # the spaces between typed pinyin words: Chinese has none
        else:
            if run:
                out.append(_run(run))
                run = []
            out.append(token)
    if run:
        out.append(_run(run))
    return "".join(out)


def build(frequencies: dict[str, int], domain: dict[str, int], simplified) -> list[str]:
    """The table's lines: each toneless spelling, its likeliest word and that word's log-probability (the
    dictionary's counts and this domain's, weighed equally). A character read several ways is weighed by how
    often each reading occurs inside words (还 is huan in 还款 and 偿还, hai in 还是), so 还 answers huan but 说
    does not answer shui."""
    from collections import Counter, defaultdict

    from pypinyin import Style, lazy_pinyin, pinyin

    def spell(word: str) -> list[str]:
        return [s.replace("ü", "v") for s in lazy_pinyin(word, style=Style.NORMAL)]

    words = {w: f for w, f in frequencies.items()
             if 1 <= len(w) <= 4 and re.fullmatch(r"[\u4e00-\u9fff]+", w) and simplified(w) == w
             and (f >= 30 or w in domain)}
    total, in_domain = sum(words.values()), sum(domain.get(w, 0) for w in words) or 1
    readings: dict[str, Counter] = defaultdict(Counter)
    for word, freq in words.items():
        if len(word) > 1:
            for char, syllable in zip(word, spell(word)):
                readings[char][syllable] += freq + 1

    @cache
    def shares(char: str) -> dict[str, float]:
        """How often ``char`` is read each way inside words; its first reading is its own (了 alone is le,
        in words mostly liao), so it keeps half the weight."""
        seen = readings[char]
        options = [s.replace("ü", "v") for s in pinyin(char, style=Style.NORMAL, heteronym=True)[0]]
        prior = {o: (sum(seen.values()) + 1) if i == 0 else 1 for i, o in enumerate(options)}
        total_seen = sum(seen[o] + prior[o] for o in options)
        return {o: (seen[o] + prior[o]) / total_seen for o in options}

    best: dict[str, tuple[float, str]] = {}
    for word, freq in words.items():
        logp = math.log((freq + domain.get(word, 0) * total / in_domain + 1) / (2 * total))
        if len(word) == 1:
            keyed = [(o, logp + math.log(share)) for o, share in shares(word).items()]
        else:  # its dictionary spelling, and for a word of this domain the other readings of
            # its characters too (不还: buhuan, not only buhai)
            spelled = spell(word)
            keyed = [("".join(spelled), logp)]
            for i, char in enumerate(word if word in domain else ""):
                keyed += [("".join(spelled[:i] + [o] + spelled[i + 1:]), logp + math.log(share))
                          for o, share in shares(char).items() if o != spelled[i]]
        for key, score in keyed:
            if re.fullmatch(r"[a-z]+", key) and (key not in best or score > best[key][0]):
                best[key] = (score, word)
    return [f"{key}\t{word}\t{score:.3f}" for key, (score, word) in sorted(best.items())]


def main(out: Path = TABLE) -> None:
    """Rebuild the table from jieba's dictionary and the words of the guard's training data."""
    import json
    from collections import Counter

    import jieba

    frequencies = {}
    with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as lines:
        for line in lines:
            word, freq, *_ = line.split()
            frequencies[word] = int(freq)
    domain: Counter = Counter()
    for path in sorted((TABLE.parent / "train").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                tokens = jieba.lcut(json.loads(line)["text"])
                domain.update(tokens)
                domain.update(a + b for a, b in zip(tokens, tokens[1:]))  # 还钱, 打电话: phrases of the domain
    domain = Counter({w: n for w, n in domain.items() if n >= 3 or w in frequencies})
    for word in domain:
        frequencies.setdefault(word, 0)
    from opencc import OpenCC

    rows = build(frequencies, domain, OpenCC("t2s").convert)
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} spellings -> {out}")


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else TABLE)
