"""Curation as one service for every front door: sign-in, import, edit, review, publish, retire, restore.

>>> curation = services.curation
>>> alice = services.auth.sign_in("alice", password)
>>> curation.import_document(Path("deck.pptx"), by=alice)        # sound passages -> drafts; flagged listed
>>> curation.save(entry, by=alice, expected_revision=3); curation.submit(entry.id, by=alice)
>>> curation.approve(entry.id, by=bob)                           # a second person; every shown line vetted

The rules live below (knowledge_base's store re-checks the sign-in, the two-person rule and the
verdict on every shown line in the same transaction); this service only puts the parts together,
so the page, the CLI and the API cannot differ in what they check. A publish here is served at once
by this process and by every other process at its next ask (they follow the store's revision).
"""

from __future__ import annotations

from pathlib import Path

from assistant.curation.diff import export_zip, version_diff
from assistant.curation.documents import read_document
from assistant.curation.drafts import DocumentImport, Drafter
from assistant.curation.vetting import vet_text
from guardrails.vetting import VettedPassage
from knowledge_base.curation import EntryRecord, Principal, content_of
from knowledge_base.entries import load_entries, read_entry_file
from knowledge_base.export import render_entry
from knowledge_base.shipped import SHIPPED_DIR
from knowledge_base.types import Entry


class Curation:
    """What trainers and admins do to the knowledge base (every change needs a ``Principal``)."""

    def __init__(self, services):
        self.services = services
        self._drafter: Drafter | None = None

    @property
    def store(self):
        return self.services.store

    # --- reading ------------------------------------------------------------------------------

    def list(self, **filters) -> list[EntryRecord]:
        return self.store.list(**filters)

    def get(self, entry_id: str) -> EntryRecord:
        return self.store.get(entry_id)

    def get_version(self, entry_id: str, version: int) -> Entry:
        return self.store.get_version(entry_id, version)

    def history(self, entry_id: str):
        return self.store.history(entry_id)

    def audit(self, entry_id: str | None = None, limit: int = 200):
        return self.store.audit(entry_id, limit)

    def diff(self, old: Entry | None, new: Entry) -> list[tuple[str, str]]:
        return version_diff(old, new)

    def export(self, root: Path) -> int:
        return self.store.export(root)

    def export_zip(self) -> bytes:
        return export_zip(self.store)

    def validate(self, root: Path | None = None) -> list[Entry]:
        """Every entry file under ``root`` (default: the shipped knowledge base), checked; EntryError lists problems."""
        return load_entries(root or SHIPPED_DIR)

    @staticmethod
    def read_file(path: Path) -> Entry:
        """One entry file, checked (size, encoding, fields, placement)."""
        return read_entry_file(path)

    @staticmethod
    def as_file(entry: Entry) -> str:
        """An entry as its Markdown file."""
        return render_entry(entry)

    @staticmethod
    def content(entry: Entry) -> dict:
        """An entry's content as JSON-ready data."""
        return content_of(entry)

    def vet_entry(self, entry: Entry) -> dict:
        """The verdict approval will give: every shown line of ``entry`` (the editor shows it live)."""
        return self.store.vet(entry)

    # --- changing -----------------------------------------------------------------------------

    def save(self, entry: Entry, *, by: Principal, expected_revision: int | None = None) -> EntryRecord:
        return self._published(self.store.save(entry, by=by, expected_revision=expected_revision))

    def submit(self, entry_id: str, *, by: Principal, expected_revision: int | None = None) -> EntryRecord:
        return self._published(self.store.submit(entry_id, by=by, expected_revision=expected_revision))

    def reject(self, entry_id: str, *, by: Principal, expected_revision: int | None = None,
               reason: str = "") -> EntryRecord:
        return self._published(self.store.reject(entry_id, by=by, expected_revision=expected_revision,
                                                 reason=reason))

    def approve(self, entry_id: str, *, by: Principal, expected_revision: int | None = None) -> EntryRecord:
        return self._published(self.store.approve(entry_id, by=by, expected_revision=expected_revision))

    def retire(self, entry_id: str, *, by: Principal, reason: str, expected_revision: int | None = None) -> EntryRecord:
        if not reason.strip():
            raise ValueError("retiring an entry needs a reason (it is kept in the audit log)")
        return self._published(self.store.retire(entry_id, by=by, expected_revision=expected_revision,
                                                 reason=reason))

    def restore(self, entry_id: str, *, by: Principal, reason: str = "",
                expected_revision: int | None = None) -> EntryRecord:
        return self._published(self.store.restore(entry_id, by=by, expected_revision=expected_revision,
                                                  reason=reason))

    def import_folder(self, root: Path, *, by: Principal, note: str = "") -> dict:
        """A folder of entry files as new versions submitted for review (nothing is published)."""
        return self.store.import_folder(root, by=by, note=note)

    def approve_batch(self, batch: str, *, by: Principal) -> dict:
        """A second person approves every entry of an import batch (each vetted again)."""
        return self._published(self.store.approve_batch(batch, by=by))

    # --- documents ----------------------------------------------------------------------------

    def dry_run(self, path: Path, jurisdiction: str = "CN") -> list[VettedPassage]:
        """Every passage of a document with the guard's verdict; nothing is stored."""
        text = read_document(path)  # a bad file is refused before any model loads
        return vet_text(self.services.guard, text, jurisdiction)

    def import_document(self, path: Path, *, by: Principal, jurisdiction: str = "CN") -> DocumentImport:
        """A document's sound passages as drafts (one transaction); flagged passages listed, not stored."""
        text = read_document(path)  # a bad file is refused before any model loads
        self.store.users.require(by)
        return self.store_drafts(path.name, vet_text(self.services.guard, text, jurisdiction), by=by,
                                 jurisdiction=jurisdiction)

    def store_drafts(self, source: str, vetted: list[VettedPassage], *, by: Principal,
                     jurisdiction: str = "CN") -> DocumentImport:
        """Drafts from passages vetted in a dry run (the page shows the dry run, then stores)."""
        return self.drafter.store_drafts(source, vetted, by=by, jurisdiction=jurisdiction)

    def draft_from_gap(self, questions: list[str], *, by: Principal, jurisdiction: str = "CN") -> Entry:
        """A knowledge gap of Insights as a draft entry for review (stored once however often it is drafted)."""
        self.store.users.require(by)
        return self.drafter.draft_from_gap(questions, by=by, jurisdiction=jurisdiction)

    @property
    def drafter(self) -> Drafter:
        if self._drafter is None:
            from knowledge_base.topic_suggestion import TopicSuggester

            suggester = TopicSuggester(self.services.embeddings, self.store.list_approved())
            self._drafter = Drafter(self.store, suggester)
        return self._drafter

    def _published(self, result):
        """Serve what was just published in this process at once (others follow the store's revision)."""
        library = self.services.__dict__.get("library")
        if library is not None:
            library.refresh()
        return result
