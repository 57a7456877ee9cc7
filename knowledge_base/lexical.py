"""BM25 over words and Chinese character bigrams: the lexical half of hybrid retrieval (domain
terms, short slang).

Chinese is indexed as overlapping character pairs rather than segmented words: no dictionary to
load (jieba's took 0.9 s of every start), no unknown-word misses on slang, and on the evaluation
set retrieval was as good (hit@1 0.849 vs 0.836, hit@3 0.931 vs 0.937). The built index is saved
in the data directory under a fingerprint of the entries, so a restart loads it instead of
rebuilding it (about 2 s at 10,000 entries).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import uuid
from collections.abc import Container
from functools import cache
from pathlib import Path

import numpy as np

from knowledge_base.types import Entry, content_key

log = logging.getLogger(__name__)
TOKENIZER = "bigram-2-snowball"  # part of the saved index's name: a tokenizer change never reuses an old index
_RUN = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+")
_STOP = frozenset(
    "的 了 吗 呢 吧 啊 我 你 他 她 是 在 有 就 都 也 和 要 说 "
    "a an the to of and or is are was be i he she it we you my his her do does did can could would should what how "
    "me him them they their our us your that this so if then just like get got say says said tell told ask asks asked "
    "customer customers cx want wants know about with for on in at from but not no any some there here now".split()
)


@cache
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@cache
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased English words as their stems (visits, visited: visit) and numbers; each Chinese run as its
    character bigrams (a lone character as itself)."""
    tokens: list[str] = []
    for run in _RUN.findall(text.lower()):
        if run.isascii() or len(run) == 1:
            if run not in _STOP:
                tokens.append(_stem(run) if run.isalpha() else run)
        else:
            tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
    return tokens


class LexicalIndex:
    """A BM25 index of the entries' lexical text, saved in ``cache`` (a directory) when given."""

    def __init__(self, entries: list[Entry], cache: Path | None = None):
        self.cache = cache
        saved = cache / f"{TOKENIZER}-{content_key(entries)}" if cache is not None else None
        loaded = self._load(saved) if saved is not None and saved.is_dir() else None
        if loaded is not None:
            self.ids, self._bm25 = loaded
            return
        self.ids = [e.id for e in entries]
        self._bm25 = self._build(entries)
        if saved is not None:
            self._save(saved)

    @staticmethod
    def _build(entries: list[Entry]):
        import bm25s

        bm25 = bm25s.BM25()
        if entries:
            bm25.index([tokenize(e.lexical_text()) or ["_"] for e in entries], show_progress=False)
        return bm25

    @staticmethod
    def _load(saved: Path):
        """The saved ids and index, or None when the directory is damaged (then it is rebuilt)."""
        import bm25s

        try:
            ids = json.loads((saved / "ids.json").read_text(encoding="utf-8"))
            return ids, bm25s.BM25.load(str(saved), mmap=False, show_progress=False)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("saved lexical index %s is unreadable (%s): rebuilding it", saved, exc)
            shutil.rmtree(saved, ignore_errors=True)
            return None

    def _save(self, saved: Path) -> None:
        """Write beside, then rename into place: a reader sees a whole index or none; older ones go."""
        tmp = saved.with_name(f".{saved.name}.{uuid.uuid4().hex}")
        try:
            self._bm25.save(str(tmp), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
            tmp.rename(saved)
        except OSError as exc:  # another process saved the same index first, or the disk is full
            shutil.rmtree(tmp, ignore_errors=True)
            if not saved.is_dir():
                log.warning("could not save the lexical index in %s: %s", saved.parent, exc)
            return
        for old in saved.parent.iterdir():  # indexes of earlier content (names starting "." are being written)
            if old != saved and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)

    def search(self, text: str, allowed: Container[str], k: int = 30) -> dict[str, float]:
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
