"""BM25 over jieba tokens: the lexical half of hybrid retrieval (domain terms, short slang)."""

from __future__ import annotations

import json
import logging
import re
import threading
from functools import cache
from pathlib import Path

import numpy as np

from knowledge_base.types import Entry

_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")
_STOP = frozenset(
    "的 了 吗 呢 吧 啊 我 你 他 她 是 在 有 就 都 也 和 要 说 怎么 怎么办 该 "
    "a an the to of and or is are i he she it we you my his her do does can what how".split()
)


@cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Lower-cased words; Chinese segmented by jieba (with single characters of long words)."""
    tokens: list[str] = []
    for word in _jieba().lcut_for_search(text.lower()):
        word = word.strip()
        if not word or word in _STOP or not _WORD.search(word):
            continue
        tokens.append(word)
    return tokens


class TokenCache:
    """Segmented entry texts kept on disk by content hash, so a restart does not re-run jieba over
    the whole knowledge base (about 3 ms an entry)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.tokens: dict[str, list[str]] = {}
        if path is not None and path.exists():
            try:
                self.tokens = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.tokens = {}  # a damaged cache is rebuilt, never trusted

    def corpus(self, entries: list[Entry]) -> list[list[str]]:
        fresh = {e.content_hash: tokenize(e.lexical_text()) for e in entries if e.content_hash not in self.tokens}
        wanted = {e.content_hash for e in entries}
        changed = bool(fresh) or len(wanted) != len(self.tokens)
        self.tokens = {h: t for h, t in {**self.tokens, **fresh}.items() if h in wanted}
        if changed and self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.tokens, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.path)  # atomic: readers see the old or the new file, never half of one
        return [self.tokens[e.content_hash] or ["_"] for e in entries]


class LexicalIndex:
    """An in-memory BM25 index of the entries' lexical text."""

    def __init__(self, entries: list[Entry], cache: Path | None = None):
        import bm25s

        self.ids = [e.id for e in entries]
        self.cache = cache
        self._bm25 = bm25s.BM25()
        corpus = TokenCache(cache).corpus(entries)
        threading.Thread(target=_jieba, name="jieba-load", daemon=True).start()  # ready for the first query
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def search(self, text: str, allowed: set[str], k: int = 30) -> dict[str, float]:
        """BM25 score per entry id (only ids in ``allowed``, zero scores dropped)."""
        query = tokenize(text)
        if not query or not self.ids:
            return {}
        scores = self._bm25.get_scores(query)
        order = np.argsort(-scores)
        out: dict[str, float] = {}
        for i in order:
            if scores[i] <= 0 or len(out) >= k:
                break
            if self.ids[i] in allowed:
                out[self.ids[i]] = float(scores[i])
        return out
