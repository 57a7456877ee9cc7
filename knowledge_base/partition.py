"""One Chroma collection holding the records of one jurisdiction's entries.

A record is one embedded text of an entry (its summary, each agent question, its advice), named
``entry id::content hash::n``, so the id alone says which entry and which version it belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

import numpy as np

from knowledge_base.types import Entry, content_key

log = logging.getLogger(__name__)
PAGE = 5000  # records per Chroma read or write (it refuses one read of tens of thousands)
OVERFETCH = 4  # neighbours asked for per neighbour wanted, before keeping the in-date ones
UNFILTERED_ROUNDS = 3  # 4k, 16k, 64k neighbours, then Chroma's own (slow) filter


class ChromaEmbedding:
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
        return ChromaEmbedding(None)  # reopened without the coach: usable for reads only

    def is_legacy(self) -> bool:
        return False


def record_ids(entry: Entry) -> list[str]:
    """One record per indexed text, named ``entry id::content hash::n`` (ids are slugs, never "::")."""
    return [f"{entry.id}::{entry.content_hash}::{i}" for i in range(len(entry.index_texts()))]


class Partition:
    """The records of one jurisdiction's entries in one Chroma collection."""

    def __init__(self, client, name: str, embeddings, model: str):
        self.client, self.name, self.embeddings, self.model = client, name, embeddings, model
        self.rebuilt = False
        self.count: int | None = None  # cached between syncs: asks read it on every query
        meta = {"embedding_model": model, "hnsw:space": "cosine"}
        coll = client.get_or_create_collection(name, embedding_function=self._ef(), metadata=meta)
        built_with = (coll.metadata or {}).get("embedding_model")
        if built_with != model:
            log.warning("index %s was built with %r, not %r: rebuilding it", name, built_with, model)
            client.delete_collection(name)
            coll = client.create_collection(name, embedding_function=self._ef(), metadata=meta)
            self.rebuilt = True
        self.collection = coll

    def _ef(self) -> ChromaEmbedding:
        return ChromaEmbedding(self.embeddings)

    def size(self) -> int:
        if self.count is None:
            self.count = self.collection.count()
        return self.count

    def holds(self, entries: list[Entry]) -> bool:
        """Whether the last finished sync (by any process) was to exactly ``entries`` and the record
        count still agrees: then a start needs no read of every record (seconds at 10,000 entries)."""
        marked = self.client.get_collection(self.name, embedding_function=self._ef()).metadata or {}
        if marked.get("content") != content_key(entries):
            return False
        self.count = self.collection.count()  # kept for the queries that follow (a count costs ~50 ms)
        return self.count == sum(len(e.index_texts()) for e in entries)

    def stored(self) -> set[str]:
        """Ids of the records held, read in pages (Chroma refuses one read of tens of thousands)."""
        out: set[str] = set()
        for offset in range(0, self.collection.count(), PAGE):
            out.update(self.collection.get(include=[], limit=PAGE, offset=offset)["ids"])
        return out

    def add(self, entries: list[Entry], vectors: dict[str, np.ndarray]) -> None:
        """Write the records of ``entries`` with their vectors (record id -> vector, embedded by the caller). A
        record holds no copy of its text: the store has it, and Chroma's full-text index of documents would
        more than double the time of a fresh install's first start."""
        ids, metas = [], []
        for e in entries:
            for rid in record_ids(e):
                ids.append(rid)
                metas.append({"entry_id": e.id, "hash": e.content_hash, "lang": e.lang,
                              "jurisdiction": e.jurisdiction, "topic": e.topic})
        for start in range(0, len(ids), PAGE):
            chunk = slice(start, start + PAGE)
            self.collection.upsert(ids=ids[chunk], metadatas=metas[chunk],
                                   embeddings=[vectors[rid] for rid in ids[chunk]])

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), PAGE):
            self.collection.delete(ids=ids[start:start + PAGE])

    def mark(self, entries: list[Entry]) -> None:
        self.count = None
        self.collection.modify(metadata={"embedding_model": self.model, "content": content_key(entries)})

    def nearest(self, query: list[np.ndarray], allowed: Collection[str] | None, k: int) -> list[tuple[float, str]]:
        """(similarity, entry id) of the ``k`` nearest records of allowed entries, nearest first.

        Within a jurisdiction nearly every entry is allowed (only out-of-date ones are not), so an
        unfiltered search asking for a few more neighbours suffices; Chroma's filter is the last resort."""
        count = self.size()
        if count == 0:
            return []
        wanted = min(k * OVERFETCH, count)
        for _ in range(UNFILTERED_ROUNDS):
            res = self.collection.query(query_embeddings=query, n_results=wanted, include=["distances"])
            found = _allowed_records(res, allowed, k)
            if len(found) == k or wanted == count:
                return found
            wanted = min(wanted * OVERFETCH, count)
        res = self.collection.query(query_embeddings=query, n_results=min(k, count), include=["distances"],
                                    where={"entry_id": {"$in": sorted(allowed)}})
        return _allowed_records(res, None, k)


def _allowed_records(res, allowed: Collection[str] | None, k: int) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    for record_id, dist in zip(res["ids"][0], res["distances"][0]):
        entry_id = record_id.split("::", 1)[0]
        if allowed is None or entry_id in allowed:
            out.append((1.0 - float(dist), entry_id))
            if len(out) == k:
                break
    return out
