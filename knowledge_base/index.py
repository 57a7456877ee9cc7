"""The dense index: entry texts embedded into a Chroma collection, kept in step idempotently.

Each entry contributes several vectors (its summary, each agent question, its advice); a
record's metadata holds the entry id and a hash of the entry's content, so a re-run embeds
only what changed. The collection records the embedding model that built it; opening it with
another model rebuilds it rather than mixing vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge_base.types import Entry, content_key

log = logging.getLogger(__name__)
COLLECTION = "coach_entries"
PAGE = 5000
OVERFETCH = 4  # neighbours asked for per neighbour wanted, before filtering to the allowed entries


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


def _record_ids(entry: Entry) -> list[str]:
    """One record per indexed text, named ``entry id::content hash::n`` (ids are slugs, never "::")."""
    return [f"{entry.id}::{entry.content_hash}::{i}" for i in range(len(entry.index_texts()))]


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
        meta = {"embedding_model": self.model, "hnsw:space": "cosine"}
        coll = self.client.get_or_create_collection(self.collection_name, embedding_function=self._ef(),
                                                    metadata=meta)
        built_with = (coll.metadata or {}).get("embedding_model")
        if built_with != self.model:
            log.warning("index was built with %r, not %r: rebuilding it", built_with, self.model)
            self.client.delete_collection(self.collection_name)
            coll = self.client.create_collection(self.collection_name, embedding_function=self._ef(), metadata=meta)
            self._rebuilt = True
        return coll

    def _ef(self) -> _ChromaEmbedding:
        return _ChromaEmbedding(self.embeddings)

    def _holds(self, entries: list[Entry]) -> bool:
        """Whether the last finished sync (by any process) was to exactly ``entries`` and the record
        count still agrees: then a start needs no read of every record (seconds at 10,000 entries)."""
        marked = self.client.get_collection(self.collection_name, embedding_function=self._ef()).metadata or {}
        return (marked.get("content") == content_key(entries)
                and self.collection.count() == sum(len(_record_ids(e)) for e in entries))

    def stored(self) -> set[str]:
        """Ids of the records the index holds (each names its entry and content hash), read in
        pages: Chroma refuses one read of tens of thousands of records."""
        out: set[str] = set()
        for offset in range(0, self.collection.count(), PAGE):
            out.update(self.collection.get(include=[], limit=PAGE, offset=offset)["ids"])
        return out

    def sync(self, entries: list[Entry]) -> SyncReport:
        """Make the index hold exactly ``entries``; embed only new or changed ones.

        New vectors are written before stale ones are deleted, so a reader (or a failure half-way)
        never finds an entry without vectors; records are keyed by content hash, so processes
        syncing the same change at once write the same records, and an entry missing any of its
        records is written again. When finished, the collection is marked with what it holds; a
        start trusts the mark only while the record count agrees, else it compares every record."""
        if not self._rebuilt and self._holds(entries):
            self._count = None
            return SyncReport(added=0, updated=0, removed=0, unchanged=len(entries), vectors=self.collection.count())
        stored = self.stored()
        known_ids = {rid.split("::", 1)[0] for rid in stored}
        wanted = {rid for e in entries for rid in _record_ids(e)}
        changed = [e for e in entries if not stored.issuperset(_record_ids(e))]
        updated = sum(1 for e in changed if e.id in known_ids)
        self._add(changed)
        stale = [rid for rid in stored if rid not in wanted]
        for start in range(0, len(stale), PAGE):
            self.collection.delete(ids=stale[start:start + PAGE])
        removed = len(known_ids - {e.id for e in entries})
        self._count = None
        self.collection.modify(metadata={"embedding_model": self.model, "content": content_key(entries)})
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
            for rid, text in zip(_record_ids(e), e.index_texts()):
                ids.append(rid)
                docs.append(text)
                metas.append({"entry_id": e.id, "hash": e.content_hash, "lang": e.lang,
                              "jurisdiction": e.jurisdiction, "topic": e.topic})
        for start in range(0, len(ids), batch):
            chunk = slice(start, start + batch)
            vectors = self.embeddings.encode(docs[chunk])
            self.collection.upsert(ids=ids[chunk], documents=docs[chunk], metadatas=metas[chunk],
                                   embeddings=vectors)

    def query(self, vector: np.ndarray, allowed: Container[str] | None = None, k: int = 60) -> dict[str, float]:
        """Best cosine similarity per entry among the ``k`` nearest vectors of ``allowed`` entries
        (any entry when None).

        Chroma's metadata filter costs a scan of every record (0.3 s at 10,000 entries), so the
        query asks for more neighbours than needed without a filter, reads the entry id from the
        record id, and asks again for more only when too few of them are allowed."""
        count = self._count if self._count is not None else self.collection.count()
        self._count = count
        if count == 0:
            return {}
        query = [np.asarray(vector, dtype=np.float32)]
        wanted = min(k * OVERFETCH, count)
        while True:
            res = self.collection.query(query_embeddings=query, n_results=wanted, include=["distances"])
            best: dict[str, float] = {}
            kept = 0
            for record_id, dist in zip(res["ids"][0], res["distances"][0]):
                entry_id = record_id.split("::", 1)[0]
                if allowed is not None and entry_id not in allowed:
                    continue
                sim = 1.0 - float(dist)
                if sim > best.get(entry_id, -1.0):
                    best[entry_id] = sim
                kept += 1
                if kept == k:
                    return best
            if wanted >= count:
                return best
            wanted = min(wanted * OVERFETCH, count)
