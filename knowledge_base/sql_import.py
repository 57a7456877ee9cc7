"""Bulk paths into the store: the shipped bootstrap, folder imports for review, document drafts, export.

Only ``bootstrap`` publishes without a second person in the app, and only the folder whose digest
is the one recorded for the shipped entries (knowledge_base/shipped.py). A folder of entry files
from anywhere else (a deployment's own repository, reviewed by pull request) is imported by a
signed-in author as new versions submitted for review, each line vetted; a second signed-in person
approves the batch (``approve_batch``), and the audit shows who imported it, with the note they gave
(the pull request or commit), and who vouched for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.curation import (
    APPROVED,
    DRAFT,
    IN_REVIEW,
    ConflictError,
    CurationError,
    NotFoundError,
    Principal,
    content_of,
    entry_from,
    field_diff,
)
from knowledge_base.entries import EntryError, EntryProblem, load_entries
from knowledge_base.export import check_entry, write_entries
from knowledge_base.shipped import SHIPPED_DIR, folder_digest, recorded_digest
from knowledge_base.sql_models import AuditRow, EntryRow
from knowledge_base.types import Entry
from knowledge_base.users import check

SHIPPED_EDITOR = "shipped"  # the project's maintainers, who reviewed the files by pull request
Progress = Callable[[int], None] | None


class Imports:
    """The bulk operations of SqlStore (mixed in; uses its transaction and row helpers)."""

    def bootstrap(self, root: Path = SHIPPED_DIR, *, digest: str | None = None,
                  progress: Progress = None) -> dict[str, list[str]]:
        """Publish the shipped entries that the store does not hold yet, in one transaction, if ``root``
        is byte for byte the shipped folder (its digest is the recorded one); CurationError otherwise."""
        expected = digest or recorded_digest()
        found = folder_digest(root)
        if found != expected:
            raise CurationError(f"{root} is not the shipped knowledge base (digest {found[:12]}, recorded "
                                f"{expected[:12]}): import a folder with a sign-in, for review")
        if self._bootstrapped(found):
            return {"added": [], "flagged": []}
        if self.vet is None:
            raise CurationError("the bootstrap needs the guardrails' vetting, and this store has none")
        entries = load_entries(root)
        verdicts = {e.id: self.vet(e) for e in entries}
        report: dict[str, list[str]] = {"added": [], "flagged": []}
        reviewer = f"shipped-review:{found[:12]}"
        with self._change() as session:
            for n, entry in enumerate(entries, 1):
                if session.get(EntryRow, entry.id) is None:
                    verdict = verdicts[entry.id]
                    served = entry.status == APPROVED and not verdict["blocked"]
                    row = EntryRow(id=entry.id, version=0, published_version=entry.version if served else None)
                    session.add(row)
                    status = entry.status if (served or entry.status != APPROVED) else DRAFT
                    version = self._write_version(session, row, entry, SHIPPED_EDITOR, status)
                    version.vetting = verdict
                    if served:
                        version.approved_by, version.approved_at = reviewer, version.created_at
                    self._log(session, SHIPPED_EDITOR, "bootstrap" if not verdict["blocked"] else "bootstrap_flagged",
                              entry.id, entry.version, field_diff(None, entry))
                    report["flagged" if verdict["blocked"] else "added"].append(entry.id)
                if progress:
                    progress(n)
            self._log(session, SHIPPED_EDITOR, "bootstrap", None, None, {"digest": found, "entries": len(entries)})
        return report

    def _bootstrapped(self, digest: str) -> bool:
        with Session(self.engine) as session:
            rows = session.scalars(select(AuditRow).where(AuditRow.action == "bootstrap",
                                                          AuditRow.entry_id.is_(None)))
            return any(r.diff.get("digest") == digest for r in rows)

    def import_folder(self, root: Path, *, by: Principal, note: str = "",
                      progress: Progress = None) -> dict:
        """Every entry file under ``root`` as a new version by ``by``, all in one transaction: vetted ones
        submitted for review, flagged ones left as drafts; nothing is published. EntryError lists every
        malformed file and nothing is stored."""
        if not root.is_dir():
            raise EntryError([EntryProblem(str(root), "folder", "not a folder of entry files")])
        entries = load_entries(root)
        if self.vet is None:
            raise CurationError("importing needs the guardrails' vetting, and this store has none")
        verdicts = {e.id: self.vet(e) for e in entries}
        batch = f"import-{uuid.uuid4().hex[:10]}"
        report: dict = {"batch": batch, "submitted": [], "flagged": {}, "unchanged": []}
        with self._change() as session:
            check(session, by)
            for n, entry in enumerate(entries, 1):
                row = session.get(EntryRow, entry.id)
                old = None if row is None else entry_from(self._version(session, row.id, row.version).content,
                                                          row.status, row.version)
                if old is not None and content_of(old) == content_of(entry):
                    report["unchanged"].append(entry.id)
                    continue
                if row is None:
                    row = EntryRow(id=entry.id, version=0, published_version=None)
                    session.add(row)
                new = entry_from(content_of(entry), DRAFT, row.version + 1)
                flagged = verdicts[entry.id]["flagged"]
                self._write_version(session, row, new, by.name, DRAFT if flagged else IN_REVIEW)
                self._log(session, by.name, "import", new.id, new.version,
                          {**field_diff(old, new), "batch": batch, "note": note[:300]})
                if flagged:
                    report["flagged"][entry.id] = [f["text"] for f in flagged]
                else:
                    report["submitted"].append(entry.id)
                if progress:
                    progress(n)
        return report

    def approve_batch(self, batch: str, *, by: Principal) -> dict[str, list[str]]:
        """Approve every entry of an import batch still under review with the version it imported;
        each approval is checked (two-person rule, vetting) and stored on its own."""
        with Session(self.engine) as session:
            rows = session.scalars(select(AuditRow).where(AuditRow.action == "import"))
            wanted = {(r.entry_id, r.version) for r in rows if r.diff.get("batch") == batch}
        if not wanted:
            raise NotFoundError(f"no import batch {batch!r}")
        report: dict[str, list[str]] = {"approved": [], "refused": [], "skipped": []}
        for entry_id, version in sorted(wanted):
            rec = self.get(entry_id)
            if rec.status != IN_REVIEW or rec.entry.version != version:
                report["skipped"].append(entry_id)
                continue
            try:
                self.approve(entry_id, by=by, expected_revision=rec.revision)
                report["approved"].append(entry_id)
            except CurationError as exc:
                report["refused"].append(f"{entry_id}: {exc}")
        return report

    def import_drafts(self, entries: Iterable[Entry], *, by: Principal) -> dict[str, list[str]]:
        """New draft entries from imported material, saved by ``by`` (a trainer or admin), all in one
        transaction: a failure part-way stores none of them.

        Re-importing the same drafts changes nothing (``unchanged``); an id the store holds with other
        content is a ConflictError and nothing is stored.
        """
        report: dict[str, list[str]] = {"added": [], "unchanged": []}
        with self._change() as session:
            check(session, by)
            for entry in entries:
                entry = check_entry(entry)
                if entry.status != DRAFT:
                    raise CurationError(f"{entry.id}: imported material is stored as a draft, not {entry.status}")
                row = session.get(EntryRow, entry.id)
                if row is not None:
                    if self._version(session, row.id, 1).content != content_of(entry):
                        raise ConflictError(entry.id, None, row.revision, row.last_editor)
                    report["unchanged"].append(entry.id)
                    continue
                row = EntryRow(id=entry.id, version=0, published_version=None)
                session.add(row)
                new = entry_from(content_of(entry), DRAFT, 1)
                self._write_version(session, row, new, by.name, DRAFT)
                self._log(session, by.name, "import_draft", new.id, new.version, field_diff(None, new))
                report["added"].append(entry.id)
        return report

    def export(self, root: Path) -> int:
        """Write every entry's newest version as Markdown under ``root`` (which must be new or empty)."""
        records = self.list()
        write_entries([r.entry for r in records], root)
        return len(records)
