"""The dense index: entry texts embedded into Chroma, one collection per jurisdiction, kept in
step idempotently.

Each entry contributes several vectors (its summary, each agent question, its advice); a record's
id names the entry and a hash of its content, so a re-run embeds only what changed. An agent's
question searches only the collections of the entries it may be shown (its jurisdiction and ALL),
without Chroma's metadata filter, which scans every record (0.3 s at 10,000 entries). Each
collection records the embedding model that built it; opening it with another model rebuilds it
rather than mixing vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge_base.types import JURISDICTIONS, Entry, content_key

log = logging.getLogger(__name__)
COLLECTION = "coach_entries"  # collections are named coach_entries-cn, -us and -all
PAGE = 5000
OVERFETCH = 4  # neighbours asked for per neighbour wanted, before keeping the in-date ones
UNFILTERED_ROUNDS = 3  # 4k, 16k, 64k neighbours, then Chroma's own (slow) filter


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


class _Partition:
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

    def _ef(self) -> _ChromaEmbedding:
        return _ChromaEmbedding(self.embeddings)

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

    def add(self, entries: list[Entry]) -> None:
        ids, docs, metas = [], [], []
        for e in entries:
            for rid, text in zip(_record_ids(e), e.index_texts()):
                ids.append(rid)
                docs.append(text)
                metas.append({"entry_id": e.id, "hash": e.content_hash, "lang": e.lang,
                              "jurisdiction": e.jurisdiction, "topic": e.topic})
        for start in range(0, len(ids), PAGE):
            chunk = slice(start, start + PAGE)
            self.collection.upsert(ids=ids[chunk], documents=docs[chunk], metadatas=metas[chunk],
                                   embeddings=self.embeddings.encode(docs[chunk]))

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


class VectorIndex:
    """Dense vectors of approved entries, one Chroma collection per jurisdiction."""

    def __init__(self, client, embeddings, collection: str = COLLECTION):
        self.client = client
        self.embeddings = embeddings
        self.model = getattr(embeddings, "name", type(embeddings).__name__)
        self.collection_name = collection
        if collection in _names(client):  # the single collection of earlier versions: derived, so dropped
            client.delete_collection(collection)
        self.partitions = {j: _Partition(client, partition_name(collection, j), embeddings, self.model)
                           for j in JURISDICTIONS}

    def count(self) -> int:
        """How many vectors the index holds."""
        return sum(p.collection.count() for p in self.partitions.values())

    def records(self, entry_id: str, include: Iterable[str] = ("documents", "metadatas")) -> dict[str, list]:
        """The stored records of one entry (ids, and whatever ``include`` asks for)."""
        out: dict[str, list] = {"ids": [], **{key: [] for key in include}}
        for part in self.partitions.values():
            got = part.collection.get(where={"entry_id": entry_id}, include=list(include))
            for key in out:
                out[key] += list(got[key] or [])
        return out

    def built_with(self) -> set[str]:
        """The embedding model(s) the collections record."""
        return {(p.collection.metadata or {}).get("embedding_model") for p in self.partitions.values()}

    def stored(self) -> set[str]:
        """Ids of every record the index holds."""
        return set().union(*(p.stored() for p in self.partitions.values()))

    def sync(self, entries: list[Entry], previous: list[Entry] | None = None) -> SyncReport:
        """Make the index hold exactly ``entries``; embed only new or changed ones.

        New vectors are written before stale ones are deleted, so a reader (or a failure half-way)
        never finds an entry without vectors; records are keyed by content hash, so processes
        syncing the same change at once write the same records, and an entry missing any of its
        records is written again. When finished, each collection is marked with what it holds; a
        start trusts the mark only while the record count agrees, else it compares every record.
        A publish passes the entries served until now as ``previous``: when the marks vouch that the
        index holds exactly those, the change is applied from the difference, without reading every
        record (a second at 10,000 entries)."""
        rebuilt = any(p.rebuilt for p in self.partitions.values())
        by_place = {j: [e for e in entries if e.jurisdiction == j] for j in self.partitions}
        if not rebuilt and all(p.holds(by_place[j]) for j, p in self.partitions.items()):
            vectors = sum(p.size() for p in self.partitions.values())
            return SyncReport(added=0, updated=0, removed=0, unchanged=len(entries), vectors=vectors)
        stored = self._vouched(previous) if previous is not None and not rebuilt else None
        if stored is None:
            stored = {j: p.stored() for j, p in self.partitions.items()}
        held = set().union(*stored.values())
        known_ids = {rid.split("::", 1)[0] for rid in held}
        changed = [e for e in entries if not stored[e.jurisdiction].issuperset(_record_ids(e))]
        updated = sum(1 for e in changed if e.id in known_ids)
        for j, part in self.partitions.items():
            part.add([e for e in changed if e.jurisdiction == j])
        for j, part in self.partitions.items():
            wanted = {rid for e in by_place[j] for rid in _record_ids(e)}
            part.delete([rid for rid in stored[j] if rid not in wanted])
            part.mark(by_place[j])
            part.rebuilt = False
        return SyncReport(
            added=len(changed) - updated, updated=updated, removed=len(known_ids - {e.id for e in entries}),
            unchanged=len(entries) - len(changed), vectors=self.count(), rebuilt=rebuilt,
        )

    def _vouched(self, previous: list[Entry]) -> dict[str, set[str]] | None:
        """The record ids of ``previous``, per jurisdiction, if every collection's mark says it holds
        exactly those; else None."""
        before = {j: [e for e in previous if e.jurisdiction == j] for j in self.partitions}
        if not all(p.holds(before[j]) for j, p in self.partitions.items()):
            return None
        return {j: {rid for e in before[j] for rid in _record_ids(e)} for j in self.partitions}

    def query(self, vector: np.ndarray, allowed: Collection[str] | None = None, k: int = 60,
              jurisdictions: Iterable[str] = JURISDICTIONS) -> dict[str, float]:
        """Best cosine similarity per entry among the ``k`` nearest vectors of ``allowed`` entries
        (any entry when None) in the collections of ``jurisdictions``."""
        if allowed is not None and not allowed:
            return {}
        query = [np.asarray(vector, dtype=np.float32)]
        hits = [hit for j in dict.fromkeys(jurisdictions) for hit in self.partitions[j].nearest(query, allowed, k)]
        found = sorted(hits, reverse=True)[:k]
        best: dict[str, float] = {}
        for sim, entry_id in found:
            best.setdefault(entry_id, sim)
        return best


def partition_name(collection: str, jurisdiction: str) -> str:
    return f"{collection}-{jurisdiction.lower()}"


def _names(client) -> list[str]:
    return [c.name if hasattr(c, "name") else c for c in client.list_collections()]


def drop_index(client, collection: str = COLLECTION) -> None:
    """Delete every collection of the index (`coach index --rebuild` embeds everything again)."""
    present = _names(client)
    for name in (collection, *(partition_name(collection, j) for j in JURISDICTIONS)):
        if name in present:
            client.delete_collection(name)
