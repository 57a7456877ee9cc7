"""The shipped knowledge base's vectors, worked out ahead: every text a fresh install embeds before its first
answer (the entries' index texts, the calibration examples), keyed by the text's digest and valid only for
the model that made them. A text not in the table is embedded as usual, so stale data costs time, never
a wrong vector."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np

VECTORS_PATH = Path(__file__).with_name("vectors.npz")


def text_key(text: str) -> bytes:
    """The text's digest as hex (a raw digest ending in a zero byte would lose it in a numpy bytes array)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest().encode("ascii")


@cache
def shipped_vectors(model: str) -> dict[bytes, np.ndarray]:
    """text digest -> unit vector, when the table was made with ``model``; else empty."""
    try:
        with np.load(VECTORS_PATH) as data:
            if str(data["model"]) != model:
                return {}
            return dict(zip((bytes(k) for k in data["keys"]), data["vectors"].astype(np.float32)))
    except (OSError, KeyError, ValueError):
        return {}


class PrebuiltEmbeddings:
    """The embedding model, answering from the shipped vectors where it can (everything else is delegated)."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def encode(self, texts: list[str]) -> np.ndarray:
        table = shipped_vectors(self.inner.name)
        found = [table.get(text_key(t)) for t in texts]
        todo = [i for i, v in enumerate(found) if v is None]
        if len(todo) == len(found):
            return self.inner.encode(texts)
        for i, vector in zip(todo, self.inner.encode([texts[i] for i in todo]) if todo else ()):
            found[i] = vector
        return np.vstack(found).astype(np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


class Recorder:
    """An embedding model that remembers every text it embedded in batches (what a fresh install embeds)."""

    def __init__(self, inner):
        self.inner, self.seen = inner, {}

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.inner.encode(texts)
        if len(texts) > 1:
            self.seen.update((text_key(t), v) for t, v in zip(texts, vectors))
        return vectors


def write(model: str, seen: dict[bytes, np.ndarray]) -> None:
    keys = sorted(seen)
    np.savez_compressed(VECTORS_PATH, model=np.array(model), keys=np.array(keys, dtype="S40"),
                        vectors=np.vstack([seen[k] for k in keys]).astype(np.float16))
