"""The dense index: entry texts embedded into Chroma, one collection per jurisdiction, kept in
step idempotently.

Each entry contributes several vectors (its summary, each agent question, its advice); a record's
id names the entry and a hash of its content, so a re-run embeds only what changed. Each agent
jurisdiction has one collection holding its own entries and the ALL ones, so a question makes one
query, without Chroma's metadata filter, which scans every record (0.3 s at 10,000 entries). Each
collection records the embedding model that built it; opening it with another model rebuilds it
rather than mixing vectors.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge_base.partition import Partition, record_ids
from knowledge_base.types import ASK_JURISDICTIONS, JURISDICTIONS, Entry

COLLECTION = "coach_entries"  # collections are named coach_entries-cn and coach_entries-us


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
    """Dense vectors of approved entries, one Chroma collection per jurisdiction."""

    def __init__(self, client, embeddings, collection: str = COLLECTION):
        self.client = client
        self.embeddings = embeddings
        self.model = getattr(embeddings, "name", type(embeddings).__name__)
        self.collection_name = collection
        present = _names(client)
        for legacy in (collection, partition_name(collection, "ALL")):  # layouts of earlier versions: derived, dropped
            if legacy in present:
                client.delete_collection(legacy)
        self.partitions = {j: Partition(client, partition_name(collection, j), embeddings, self.model)
                           for j in ASK_JURISDICTIONS}

    def count(self) -> int:
        """How many vectors the index holds."""
        return sum(p.collection.count() for p in self.partitions.values())

    def records(self, entry_id: str, include: Iterable[str] = ("metadatas",)) -> dict[str, list]:
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
        by_place = _by_place(entries, self.partitions)
        if not rebuilt and all(p.holds(by_place[j]) for j, p in self.partitions.items()):
            vectors = sum(p.size() for p in self.partitions.values())
            return SyncReport(added=0, updated=0, removed=0, unchanged=len(entries), vectors=vectors)
        stored = self._vouched(previous) if previous is not None and not rebuilt else None
        if stored is None:
            stored = {j: p.stored() for j, p in self.partitions.items()}
        held = set().union(*stored.values())
        known_ids = {rid.split("::", 1)[0] for rid in held}
        missing = {j: [e for e in by_place[j] if not stored[j].issuperset(record_ids(e))] for j in self.partitions}
        changed = list({e.id: e for group in missing.values() for e in group}.values())
        updated = sum(1 for e in changed if e.id in known_ids)
        vectors = _embed_once(self.embeddings, changed)  # an ALL entry is written to every collection, embedded once
        for j, part in self.partitions.items():
            part.add(missing[j], vectors)
        for j, part in self.partitions.items():
            wanted = {rid for e in by_place[j] for rid in record_ids(e)}
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
        before = _by_place(previous, self.partitions)
        if not all(p.holds(before[j]) for j, p in self.partitions.items()):
            return None
        return {j: {rid for e in before[j] for rid in record_ids(e)} for j in self.partitions}

    def query(self, vector: np.ndarray, allowed: Collection[str] | None = None, k: int = 60,
              jurisdiction: str | None = None) -> dict[str, float]:
        """Best cosine similarity per entry among the ``k`` nearest vectors of ``allowed`` entries (any entry when
        None) in the collection of ``jurisdiction`` (its own entries and the ALL ones: one query), or in all."""
        if allowed is not None and not allowed:
            return {}
        query = [np.asarray(vector, dtype=np.float32)]
        places = [jurisdiction] if jurisdiction else list(self.partitions)
        hits = [hit for j in places for hit in self.partitions[j].nearest(query, allowed, k)]
        found = sorted(hits, reverse=True)[:k]
        best: dict[str, float] = {}
        for sim, entry_id in found:
            best.setdefault(entry_id, sim)
        return best


def _by_place(entries: list[Entry], places) -> dict[str, list[Entry]]:
    """The entries each agent jurisdiction's collection holds: its own and the ALL ones."""
    return {j: [e for e in entries if e.jurisdiction in (j, "ALL")] for j in places}


def _embed_once(embeddings, entries: list[Entry]) -> dict[str, np.ndarray]:
    """Record id -> vector for every text of ``entries``, embedded in one batch."""
    ids = [rid for e in entries for rid in record_ids(e)]
    texts = [t for e in entries for t in e.index_texts()]
    return dict(zip(ids, embeddings.encode(texts))) if texts else {}


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
