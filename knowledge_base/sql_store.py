"""The curation store: entries and their full history in SQL, the source of truth for what agents see.

>>> store = SqlStore("sqlite:///coach.db", vet=guard.vet)
>>> store.import_folder(Path("knowledge_base/entries"))          # the first import, one transaction
>>> rec = store.save(edited_entry, user="alice", expected_revision=rec.revision)
>>> store.submit(rec.entry.id, user="alice"); store.approve(rec.entry.id, user="bob")
>>> store.list_approved()                                        # the EntrySource the coach reads

SQLite file by default, PostgreSQL (or any SQLAlchemy URL) when a call centre scales out.
Every change is one transaction that also writes its audit line; rules live in curation.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from knowledge_base import passwords
from knowledge_base.curation import (
    APPROVED,
    DRAFT,
    PLACEHOLDER,
    AuditEvent,
    ConflictError,
    CurationError,
    EntryRecord,
    NotFoundError,
    TwoPersonError,
    VersionInfo,
    Vet,
    VettingError,
    content_of,
    entry_from,
    field_diff,
    flagged_lines,
    next_state,
    unfinished_fields,
)
from knowledge_base.entries import EntryError, EntryProblem, load_entries
from knowledge_base.export import check_entry, write_entries
from knowledge_base.sql_models import (
    AuditRow,
    EntryRow,
    LostRace,
    VersionRow,
    ensure_schema,
    make_engine,
    now,
    transaction,
)
from knowledge_base.types import Entry
from knowledge_base.users import Users, require_editor

IMPORT_ACTOR = "import"


class SqlStore:
    """Entries, versions, audit log and users behind the curation rules; an EntrySource for the coach."""

    def __init__(self, engine: Engine | str, *, vet: Vet | None = None,
                 bcrypt_rounds: int = passwords.DEFAULT_ROUNDS):
        self.engine = make_engine(engine) if isinstance(engine, str) else engine
        self.vet = vet
        ensure_schema(self.engine)
        self.users = Users(self.engine, bcrypt_rounds)

    # --- reading ---------------------------------------------------------------------------

    def list_approved(self, today: date | None = None) -> list[Entry]:
        """The published version of every approved entry that is in date on ``today``."""
        today = today or date.today()
        query = (select(VersionRow).join(EntryRow, (EntryRow.id == VersionRow.entry_id)
                                         & (EntryRow.published_version == VersionRow.version))
                 .order_by(EntryRow.topic, EntryRow.id))
        with Session(self.engine) as session:
            entries = [entry_from(v.content, APPROVED, v.version) for v in session.scalars(query)]
        return [e for e in entries if e.in_date(today)]

    def get(self, entry_id: str) -> EntryRecord:
        """The entry's working state (newest version, status, revision); NotFoundError if unknown."""
        with Session(self.engine) as session:
            return self._record(session, self._row(session, entry_id))

    def list(self, *, topic: str | None = None, lang: str | None = None, jurisdiction: str | None = None,
             status: str | None = None) -> list[EntryRecord]:
        """Entries' working state, filtered by any of topic, language, jurisdiction and status."""
        query = (select(EntryRow, VersionRow).join(VersionRow, (EntryRow.id == VersionRow.entry_id)
                                                   & (EntryRow.version == VersionRow.version))
                 .order_by(EntryRow.topic, EntryRow.id))
        for column, value in ((EntryRow.topic, topic), (EntryRow.lang, lang),
                              (EntryRow.jurisdiction, jurisdiction), (EntryRow.status, status)):
            if value:
                query = query.where(column == value)
        with Session(self.engine) as session:
            return [self._record(session, row, version) for row, version in session.execute(query)]

    def revision(self) -> int:
        """Grows with every recorded change: readers compare it to know when to refresh."""
        with Session(self.engine) as session:
            return session.scalar(select(func.max(AuditRow.id))) or 0

    def count(self) -> int:
        """How many entries the store holds, in any state."""
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(EntryRow))

    def get_version(self, entry_id: str, version: int) -> Entry:
        """One saved version exactly as written (status: approved if it was ever approved, else draft)."""
        with Session(self.engine) as session:
            row = self._version(session, entry_id, version)
            return entry_from(row.content, APPROVED if row.approved_by else DRAFT, row.version)

    def history(self, entry_id: str) -> list[VersionInfo]:
        """Every saved version of an entry, oldest first."""
        with Session(self.engine) as session:
            self._row(session, entry_id)
            rows = session.scalars(select(VersionRow).where(VersionRow.entry_id == entry_id)
                                   .order_by(VersionRow.version))
            return [VersionInfo(r.entry_id, r.version, r.editor, r.created_at, r.approved_by)
                    for r in rows]

    def audit(self, entry_id: str | None = None, limit: int = 200) -> list[AuditEvent]:
        """The newest audit lines first, for one entry or all."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if entry_id:
            query = query.where(AuditRow.entry_id == entry_id)
        with Session(self.engine) as session:
            return [AuditEvent(r.id, r.at, r.actor, r.action, r.entry_id, r.version, r.diff)
                    for r in session.scalars(query)]

    # --- changing entries --------------------------------------------------------------------

    def save(self, entry: Entry, *, user: str, expected_revision: int | None = None) -> EntryRecord:
        """Save ``entry`` as a new draft version (creating the entry when ``expected_revision`` is None).

        Editing an entry someone else changed since you read it (a stale ``expected_revision``)
        raises ConflictError and stores nothing.
        """
        entry = check_entry(entry)
        with self._change(entry.id) as session:
            require_editor(session, user)
            self._check_refs(session, entry)
            row = session.get(EntryRow, entry.id)
            if expected_revision is None:
                if row is not None:
                    raise ConflictError(entry.id, None, row.revision, row.last_editor)
                row = EntryRow(id=entry.id, version=0, published_version=None)
                session.add(row)
                old = None
            else:
                self._expect(row, entry.id, expected_revision)
                old = entry_from(self._version(session, row.id, row.version).content, row.status, row.version)
            new = entry_from(content_of(entry), DRAFT, row.version + 1)
            self._write_version(session, row, new, user, DRAFT)
            self._audit(session, user, "create" if old is None else "edit", new, field_diff(old, new))
            session.flush()
            return self._record(session, row)

    def submit(self, entry_id: str, *, user: str, expected_revision: int | None = None) -> EntryRecord:
        """Send a draft for review by a second person."""
        return self._move("submit", entry_id, user, expected_revision)

    def reject(self, entry_id: str, *, user: str, expected_revision: int | None = None) -> EntryRecord:
        """Send an entry under review back to draft."""
        return self._move("reject", entry_id, user, expected_revision)

    def retire(self, entry_id: str, *, user: str, expected_revision: int | None = None) -> EntryRecord:
        """Take an entry out of service at once (its published version too)."""
        return self._move("retire", entry_id, user, expected_revision)

    def approve(self, entry_id: str, *, user: str, expected_revision: int | None = None) -> EntryRecord:
        """Publish the version under review: a second person, and no Say/Do line the guardrails flag."""
        try:
            return self._move("approve", entry_id, user, expected_revision)
        except (TwoPersonError, VettingError) as exc:
            with self._change() as session:
                session.add(AuditRow(at=now(), actor=user, action="approve_refused", entry_id=entry_id,
                                     version=None, diff={"reason": str(exc)}))
            raise

    def _move(self, action: str, entry_id: str, user: str, expected_revision: int | None) -> EntryRecord:
        with self._change(entry_id) as session:
            require_editor(session, user)
            row = self._expect(session.get(EntryRow, entry_id), entry_id, expected_revision)
            target = next_state(action, row.status, entry_id)
            current = self._version(session, entry_id, row.version)
            if action in ("submit", "approve"):
                unfinished = unfinished_fields(entry_from(current.content, row.status, row.version))
                if unfinished:
                    raise CurationError(f"{entry_id} still has {PLACEHOLDER} placeholders in "
                                        f"{', '.join(unfinished)}: write them, save, then submit")
            if action == "approve":
                if user == current.editor:
                    raise TwoPersonError(f"{user} wrote version {row.version} of {entry_id}; "
                                         "a second person must approve it")
                if self.vet is None:
                    raise CurationError("approval needs the guardrails' vetting, and this store has none")
                flagged = flagged_lines(entry_from(current.content, row.status, row.version), self.vet)
                if flagged:
                    raise VettingError(entry_id, flagged)
                current.approved_by, current.approved_at = user, now()
                row.published_version = row.version
            elif action == "retire":
                row.published_version = None
            session.add(AuditRow(at=now(), actor=user, action=action, entry_id=entry_id, version=row.version,
                                 diff={"status": [row.status, target]}))
            row.status, row.updated_at = target, now()
            session.flush()
            return self._record(session, row)

    # --- import and export ---------------------------------------------------------------------

    def import_entries(self, entries: Iterable[Entry], *, user: str = IMPORT_ACTOR,
                       progress: Callable[[int], None] | None = None) -> dict[str, list[str]]:
        """Add entries as they are (status and version kept), all in one transaction.

        Entries already in the store are left alone: ``unchanged`` when identical, ``kept`` when the
        store has different content (the store is the source of truth once imported).
        """
        report: dict[str, list[str]] = {"added": [], "unchanged": [], "kept": []}
        with self._change() as session:
            for n, entry in enumerate(entries, 1):
                row = session.get(EntryRow, entry.id)
                if row is None:
                    row = EntryRow(id=entry.id, version=0, published_version=None)
                    session.add(row)
                    self._write_version(session, row, entry, user, entry.status)
                    if entry.status == APPROVED:
                        row.published_version = entry.version
                    self._audit(session, user, "import", entry, field_diff(None, entry))
                    report["added"].append(entry.id)
                else:
                    same = self._version(session, row.id, row.version).content == content_of(entry)
                    report["unchanged" if same and row.status == entry.status else "kept"].append(entry.id)
                if progress:
                    progress(n)
        return report

    def import_drafts(self, entries: Iterable[Entry], *, user: str) -> dict[str, list[str]]:
        """New draft entries from imported material, saved by ``user`` (a trainer or admin), all in one
        transaction: a failure part-way stores none of them.

        Re-importing the same drafts changes nothing (``unchanged``); an id the store holds with other
        content is a ConflictError and nothing is stored.
        """
        report: dict[str, list[str]] = {"added": [], "unchanged": []}
        with self._change() as session:
            require_editor(session, user)
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
                self._write_version(session, row, new, user, DRAFT)
                self._audit(session, user, "import_draft", new, field_diff(None, new))
                report["added"].append(entry.id)
        return report

    def import_folder(self, root: Path, *, user: str = IMPORT_ACTOR,
                      progress: Callable[[int], None] | None = None) -> dict[str, list[str]]:
        """Validate every entry file under ``root`` (EntryError lists all problems), then import them."""
        if not root.is_dir():
            raise EntryError([EntryProblem(str(root), "folder", "not a folder of entry files")])
        return self.import_entries(load_entries(root), user=user, progress=progress)

    def export(self, root: Path) -> int:
        """Write every entry's newest version as Markdown under ``root`` (which must be new or empty)."""
        records = self.list()
        write_entries([r.entry for r in records], root)
        return len(records)

    # --- helpers ---------------------------------------------------------------------------------

    @contextmanager
    def _change(self, entry_id: str | None = None) -> Iterator[Session]:
        """One transaction; losing a race to a concurrent writer is a ConflictError."""
        try:
            with transaction(self.engine) as session:
                yield session
        except LostRace as race:
            raise ConflictError(entry_id or "the store", None, None, "another user at the same time") from race

    @staticmethod
    def _row(session: Session, entry_id: str) -> EntryRow:
        row = session.get(EntryRow, entry_id)
        if row is None:
            raise NotFoundError(f"no entry {entry_id!r}")
        return row

    @staticmethod
    def _expect(row: EntryRow | None, entry_id: str, expected: int | None) -> EntryRow:
        if row is None:
            raise NotFoundError(f"no entry {entry_id!r}")
        if expected is not None and row.revision != expected:
            raise ConflictError(entry_id, expected, row.revision, row.last_editor)
        return row

    @staticmethod
    def _version(session: Session, entry_id: str, version: int) -> VersionRow:
        row = session.scalar(select(VersionRow).where(VersionRow.entry_id == entry_id,
                                                      VersionRow.version == version))
        if row is None:
            raise NotFoundError(f"no version {version} of {entry_id!r}")
        return row

    @staticmethod
    def _check_refs(session: Session, entry: Entry) -> None:
        for ref in entry.refs:
            target = session.get(EntryRow, ref)
            if target is None or target.kind != "regulation":
                raise EntryError([EntryProblem(entry.id, "refs", f"{ref!r} is not a regulation entry in the store")])

    @staticmethod
    def _write_version(session: Session, row: EntryRow, entry: Entry, user: str, status: str) -> None:
        at = now()
        approver, approved_at = (user, at) if status == APPROVED else (None, None)
        session.add(VersionRow(entry_id=entry.id, version=entry.version, content=content_of(entry), editor=user,
                               created_at=at, approved_by=approver, approved_at=approved_at))
        row.topic, row.kind, row.lang, row.jurisdiction = entry.topic, entry.kind, entry.lang, entry.jurisdiction
        row.title, row.status, row.version = entry.title, status, entry.version
        row.last_editor, row.updated_at = user, at

    @staticmethod
    def _audit(session: Session, user: str, action: str, entry: Entry, diff: dict) -> None:
        session.add(AuditRow(at=now(), actor=user, action=action, entry_id=entry.id, version=entry.version,
                             diff=diff))

    @staticmethod
    def _record(session: Session, row: EntryRow, version: VersionRow | None = None) -> EntryRecord:
        version = version or SqlStore._version(session, row.id, row.version)
        return EntryRecord(entry_from(version.content, row.status, row.version), row.revision,
                           row.published_version, row.last_editor, row.updated_at)
