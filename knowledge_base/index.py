"""The dense index: entry texts embedded into a Chroma collection, kept in step idempotently.

Each entry contributes several vectors (its summary, each agent question, its advice); a
record's metadata holds the entry id and a hash of the entry's content, so a re-run embeds
only what changed. The collection records the embedding model that built it; opening it with
another model rebuilds it rather than mixing vectors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge_base.types import Entry

log = logging.getLogger(__name__)
COLLECTION = "coach_entries"
PAGE = 5000


class _ChromaEmbedding:
    """Adapter so Chroma never falls back to its own (downloading) embedding function."""

    def __init__(self, embeddings):
        self._embeddings = embeddings

    def __call__(self, input):  # noqa: A002 - Chroma's parameter name
        if self._embeddings is None:
            raise RuntimeError("open the index through the coach, which supplies the embedding model")
        return [np.asarray(v, dtype=np.float32) for v in self._embeddings.embed_documents(list(input))]

    @staticmethod
    def name() -> str:
        return "collections-coach"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model": getattr(self._embeddings, "name", "unknown")}

    @staticmethod
    def build_from_config(config: dict[str, Any]):
        return _ChromaEmbedding(None)  # reopened without the coach: usable for reads only

    def is_legacy(self) -> bool:
        return False


def open_chroma(path: Path | None = None, url: str | None = None):
    """An embedded Chroma at ``path``, or a Chroma server at ``url`` (http://host:port)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1", port=parsed.port or 8000,
            ssl=parsed.scheme == "https", settings=settings,
        )
    if path is None:
        raise ValueError("an embedded Chroma needs a data directory")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


@dataclass(frozen=True)
class SyncReport:
    """What one synchronisation of the index did."""

    added: int
    updated: int
    removed: int
    unchanged: int
    vectors: int
    rebuilt: bool = False


class VectorIndex:
    """Dense vectors of approved entries in one Chroma collection."""

    def __init__(self, client, embeddings, collection: str = COLLECTION):
        self.client = client
        self.embeddings = embeddings
        self.model = getattr(embeddings, "name", type(embeddings).__name__)
        self.collection_name = collection
        self._rebuilt = False
        self._count: int | None = None
        self.collection = self._open()

    def _open(self):
        ef = _ChromaEmbedding(self.embeddings)
        meta = {"embedding_model": self.model, "hnsw:space": "cosine"}
        coll = self.client.get_or_create_collection(self.collection_name, embedding_function=ef, metadata=meta)
        built_with = (coll.metadata or {}).get("embedding_model")
        if built_with != self.model:
            log.warning("index was built with %r, not %r: rebuilding it", built_with, self.model)
            self.client.delete_collection(self.collection_name)
            coll = self.client.create_collection(self.collection_name, embedding_function=ef, metadata=meta)
            self._rebuilt = True
        return coll

    def stored(self) -> dict[str, tuple[str, str]]:
        """record id -> (entry id, content hash) of what the index holds (read in pages: Chroma
        refuses one query over tens of thousands of records)."""
        out: dict[str, tuple[str, str]] = {}
        for offset in range(0, self.collection.count(), PAGE):
            got = self.collection.get(include=["metadatas"], limit=PAGE, offset=offset)
            out.update({i: (m["entry_id"], m["hash"]) for i, m in zip(got["ids"], got["metadatas"] or [])})
        return out

    def sync(self, entries: list[Entry]) -> SyncReport:
        """Make the index hold exactly ``entries``; embed only new or changed ones.

        New vectors are written before stale ones are deleted, so a reader (or a failure half-way)
        never finds an entry without vectors; records are keyed by content hash, so processes
        syncing the same change at once write the same records."""
        stored = self.stored()
        current = {(entry_id, h) for entry_id, h in stored.values()}
        known_ids = {entry_id for entry_id, _ in current}
        wanted = {(e.id, e.content_hash) for e in entries}
        changed = [e for e in entries if (e.id, e.content_hash) not in current]
        updated = sum(1 for e in changed if e.id in known_ids)
        self._add(changed)
        stale = [rid for rid, key in stored.items() if key not in wanted]
        for start in range(0, len(stale), PAGE):
            self.collection.delete(ids=stale[start:start + PAGE])
        removed = len(known_ids - {e.id for e in entries})
        self._count = None
        report = SyncReport(
            added=len(changed) - updated, updated=updated, removed=removed,
            unchanged=len(entries) - len(changed), vectors=self.collection.count(),
            rebuilt=self._rebuilt,
        )
        self._rebuilt = False
        return report

    def _add(self, entries: list[Entry], batch: int = PAGE) -> None:
        ids, docs, metas = [], [], []
        for e in entries:
            for i, text in enumerate(e.index_texts()):
                ids.append(f"{e.id}::{e.content_hash}::{i}")
                docs.append(text)
                metas.append({"entry_id": e.id, "hash": e.content_hash, "lang": e.lang,
                              "jurisdiction": e.jurisdiction, "topic": e.topic})
        for start in range(0, len(ids), batch):
            chunk = slice(start, start + batch)
            vectors = self.embeddings.encode(docs[chunk])
            self.collection.upsert(ids=ids[chunk], documents=docs[chunk], metadatas=metas[chunk],
                                   embeddings=vectors)

    def query(self, vector: np.ndarray, jurisdictions: tuple[str, ...], k: int = 60) -> dict[str, float]:
        """Best cosine similarity per entry among the ``k`` nearest vectors."""
        count = self._count if self._count is not None else self.collection.count()
        self._count = count
        if count == 0:
            return {}
        where = {"jurisdiction": {"$in": list(jurisdictions)}}
        res = self.collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)],
                                    n_results=min(k, count), where=where,
                                    include=["metadatas", "distances"])
        best: dict[str, float] = {}
        for meta, dist in zip(res["metadatas"][0], res["distances"][0]):
            sim = 1.0 - float(dist)
            if sim > best.get(meta["entry_id"], -1.0):
                best[meta["entry_id"]] = sim
        return best
