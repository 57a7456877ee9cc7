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
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.curation import (
    APPROVED,
    DRAFT,
    IN_REVIEW,
    RETIRED,
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
from knowledge_base.sql_models import AuditRow, EntryRow, VersionRow, now
from knowledge_base.types import Entry
from knowledge_base.users import check

SHIPPED_EDITOR = "shipped"  # the project's maintainers, who reviewed the files by pull request
Progress = Callable[[int], None] | None


class Imports:
    """The bulk operations of SqlStore (mixed in; uses its transaction and row helpers)."""

    def bootstrap(self, root: Path = SHIPPED_DIR, *, digest: str | None = None,
                  progress: Progress = None) -> dict[str, list[str]]:
        """Bring the store up to the shipped entries, in one transaction, if ``root`` is byte for byte the
        shipped folder (its digest is the recorded one); CurationError otherwise.

        Entries the store does not hold yet are published. An entry no person has touched since it was
        shipped is brought up to the new release: changed content becomes a new version, and one an older
        guard withheld is published once the guard passes it (so the files are brought in again whenever
        the guard changes, too). An entry a person has edited, approved,
        retired or restored is theirs: left as it is and reported as ``kept`` when the release changed it."""
        expected = digest or recorded_digest()
        found = folder_digest(root)
        if found != expected:
            raise CurationError(f"{root} is not the shipped knowledge base (digest {found[:12]}, recorded "
                                f"{expected[:12]}): import a folder with a sign-in, for review")
        report: dict[str, list[str]] = {"added": [], "flagged": [], "updated": [], "kept": []}
        if self.vet is None:
            raise CurationError("the bootstrap needs the guardrails' vetting, and this store has none")
        if self._bootstrapped(found, self.vet.fingerprint):
            return report
        entries = load_entries(root)
        verdicts = {e.id: self.vet(e) for e in entries}
        reviewer = f"shipped-review:{found[:12]}"
        with self._change() as session:
            untouched = self._shipped_only(session)
            held = {row.id: row for row in session.scalars(select(EntryRow))}  # one read, not one per entry
            for n, entry in enumerate(entries, 1):
                row = held.get(entry.id)
                if row is None:
                    row = EntryRow(id=entry.id, version=0, published_version=None)
                    session.add(row)
                    self._ship(session, row, entry, verdicts[entry.id], reviewer, None)
                    report["flagged" if verdicts[entry.id]["blocked"] else "added"].append(entry.id)
                else:
                    current = self._version(session, row.id, row.version)
                    fresh = current.content != content_of(entry)
                    withheld = row.published_version != row.version and entry.status == APPROVED
                    if entry.id not in untouched:
                        if fresh:
                            report["kept"].append(entry.id)
                    elif fresh or (withheld and not verdicts[entry.id]["blocked"]):
                        old = entry_from(current.content, row.status, row.version)
                        self._ship(session, row, replace(entry, version=row.version + (1 if fresh else 0)),
                                   verdicts[entry.id], reviewer, old, current=None if fresh else current)
                        report["updated"].append(entry.id)
                if progress:
                    progress(n)
            self._log(session, SHIPPED_EDITOR, "bootstrap", None, None,
                      {"digest": found, "guard": self.vet.fingerprint, "entries": len(entries)})
        return report

    def _ship(self, session: Session, row: EntryRow, entry: Entry, verdict: dict, reviewer: str,
              old: Entry | None, current: VersionRow | None = None) -> None:
        """Write ``entry`` as the shipped version of ``row`` (or vouch for ``current`` when its content is
        unchanged), published when its file says approved and the guard passes it."""
        served = entry.status == APPROVED and not verdict["blocked"]
        status = entry.status if (served or entry.status != APPROVED) else DRAFT
        if current is None:
            current = self._write_version(session, row, entry, SHIPPED_EDITOR, status)
        else:
            row.status, row.updated_at = status, now()
        current.vetting = verdict
        if served:
            current.approved_by, current.approved_at = reviewer, now()
            row.published_version = entry.version
        elif entry.status == RETIRED:
            row.published_version = None
        action = "bootstrap" if old is None else "shipped_update"
        diff = {"status": [old.status, status]} if old is not None and old.version == entry.version else \
            field_diff(old, entry)
        self._log(session, SHIPPED_EDITOR, action if served or entry.status != APPROVED else f"{action}_flagged",
                  entry.id, entry.version, diff)

    @staticmethod
    def _shipped_only(session: Session) -> set[str]:
        """Ids of the entries whose every change was the shipped release's or a guard's (no person's)."""
        actors = session.execute(select(AuditRow.entry_id, AuditRow.actor).where(AuditRow.entry_id.is_not(None)))
        out, touched = set(), set()
        for entry_id, actor in actors:
            (out if actor == SHIPPED_EDITOR or actor.startswith("guard:") else touched).add(entry_id)
        return out - touched

    def _bootstrapped(self, digest: str, guard: str) -> bool:
        """Whether these files were already brought in under this guard (a new guard may pass what an
        older one withheld)."""
        with Session(self.engine) as session:
            rows = session.scalars(select(AuditRow).where(AuditRow.action == "bootstrap",
                                                          AuditRow.entry_id.is_(None)))
            return any(r.diff.get("digest") == digest and r.diff.get("guard") == guard for r in rows)

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
