"""The store's reading side: the served set, entries' working state, versions, history and the audit log.
A mixin of SqlStore (knowledge_base/sql_store.py), which holds the engine and every change."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge_base.curation import (
    APPROVED,
    DRAFT,
    AuditEvent,
    EntryRecord,
    NotFoundError,
    VersionInfo,
    entry_from,
    is_served,
)
from knowledge_base.sql_models import AuditRow, EntryRow, VersionRow
from knowledge_base.types import Entry, laws_named


class Reads:
    engine: object
    _laws: tuple[int, tuple[str, ...]]

    def list_approved(self, today: date | None = None) -> list[Entry]:
        """The published version of every approved entry that is in date on ``today`` and carries its proof:
        approved by someone other than its editor, every shown line vetted clean."""
        today = today or date.today()
        with Session(self.engine) as session:
            rows = session.scalars(self._published()).all()
            entries = [entry_from(v.content, APPROVED, v.version) for v in rows if is_served(v)]
        return [e for e in entries if e.in_date(today)]

    def known_laws(self) -> tuple[str, ...]:
        """What the published regulation entries cite (worked out again only after a change)."""
        revision = self.revision()
        if self._laws[0] != revision:
            self._laws = (revision, laws_named(self.list_approved()))
        return self._laws[1]

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
            return [VersionInfo(r.entry_id, r.version, r.editor, r.created_at, r.approved_by) for r in rows]

    def audit(self, entry_id: str | None = None, limit: int = 200) -> list[AuditEvent]:
        """The newest audit lines first, for one entry or all."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if entry_id:
            query = query.where(AuditRow.entry_id == entry_id)
        with Session(self.engine) as session:
            return [AuditEvent(r.id, r.at, r.actor, r.action, r.entry_id, r.version, r.diff)
                    for r in session.scalars(query)]

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _published():
        return (select(VersionRow).join(EntryRow, (EntryRow.id == VersionRow.entry_id)
                                        & (EntryRow.published_version == VersionRow.version))
                .order_by(EntryRow.topic, EntryRow.id))

    @staticmethod
    def _row(session: Session, entry_id: str) -> EntryRow:
        row = session.get(EntryRow, entry_id)
        if row is None:
            raise NotFoundError(f"no entry {entry_id!r}")
        return row

    @staticmethod
    def _version(session: Session, entry_id: str, version: int) -> VersionRow:
        row = session.scalar(select(VersionRow).where(VersionRow.entry_id == entry_id,
                                                      VersionRow.version == version))
        if row is None:
            raise NotFoundError(f"no version {version} of {entry_id!r}")
        return row

    @staticmethod
    def _record(session: Session, row: EntryRow, version: VersionRow | None = None) -> EntryRecord:
        version = version or Reads._version(session, row.id, row.version)
        return EntryRecord(entry_from(version.content, row.status, row.version), row.revision,
                           row.published_version, row.last_editor, row.updated_at)


