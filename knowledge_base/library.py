"""The published knowledge one process serves: the store's served set, indexed, calibrated, and the laws it names.

>>> library = Library(store, VectorIndex(open_chroma(path), embeddings), embeddings, data_dir)
>>> library.retriever.search("客户要求打折", lang="zh", jurisdiction="CN")
>>> library.refresh()   # after a publish anywhere (this process or another): serve what is published now

Publishing is the store's approve / retire / restore; ``refresh`` follows the store's revision (the
audit log is the event every process can follow, the scale-out setup included): the vectors are
written before the switch, so no ask sees a half-built index; the known laws change with the
switch; the abstention bar is recalibrated in the background and swapped in when ready.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from knowledge_base.calibration import load_calibration
from knowledge_base.index import VectorIndex
from knowledge_base.lexical import LexicalIndex
from knowledge_base.retrieval import Retriever
from knowledge_base.store import EntrySource
from knowledge_base.types import Entry, laws_named

log = logging.getLogger(__name__)


class Library:
    """The served set of one store, kept in step with it."""

    def __init__(self, source: EntrySource, vectors: VectorIndex, embeddings, data_dir: Path | None = None, *,
                 in_domain: list[str] = (), background: bool = True):
        self.source, self.vectors, self.embeddings = source, vectors, embeddings
        self.data_dir, self.in_domain, self.background = data_dir, list(in_domain), background
        self._lock = threading.Lock()
        self.revision = source.revision() if hasattr(source, "revision") else 0
        entries = source.list_approved()
        vectors.sync(entries)
        lexical = LexicalIndex(entries, data_dir / "bm25" if data_dir else None)
        bar = self._calibrate(entries, lexical)
        self.retriever = Retriever(entries, vectors, embeddings, lexical, bar.threshold, bar.lexical_weight)
        self.known_laws = laws_named(entries)

    @property
    def entries(self) -> dict[str, Entry]:
        return self.retriever.entries

    def entry(self, entry_id: str) -> Entry | None:
        """A served entry by id (None when it is not served)."""
        return self.retriever.entries.get(entry_id)

    def refresh(self) -> bool:
        """Serve the newest published entries if the store changed since the last look (one cheap query);
        a failure leaves the previous state serving."""
        revision_of = getattr(self.source, "revision", None)
        if revision_of is None or revision_of() == self.revision:
            return False
        with self._lock:
            revision = revision_of()
            if revision == self.revision:
                return False
            entries = self.source.list_approved()
            self.vectors.sync(entries, previous=list(self.retriever.entries.values()))
            self.retriever.publish(entries)
            self.known_laws = laws_named(entries)
            self.revision = revision
        if self.background:
            threading.Thread(target=self._recalibrate, args=(entries,), name="recalibrate", daemon=True).start()
        else:
            self._recalibrate(entries)
        return True

    def _calibrate(self, entries: list[Entry], lexical: LexicalIndex):
        cache = self.data_dir / "calibration.json" if self.data_dir else None
        return load_calibration(cache, entries, self.vectors, self.embeddings, lexical, self.in_domain)

    def _recalibrate(self, entries: list[Entry]) -> None:
        try:
            bar = self._calibrate(entries, self.retriever.lexical)
        except Exception:  # noqa: BLE001 - the previous bar keeps serving
            log.exception("recalibration after a publish failed; the previous abstention bar stays")
            return
        if self.retriever.entries.keys() == {e.id for e in entries}:  # still what is served
            self.retriever.recalibrated(bar.threshold, bar.lexical_weight)
