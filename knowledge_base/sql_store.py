"""The curation store: entries and their full history in SQL, the source of truth for what agents see.

>>> store = SqlStore("sqlite:///coach.db", vet=vetter)
>>> store.bootstrap(SHIPPED_DIR)                                  # the shipped entries, proven by digest
>>> alice = store.users.sign_in("alice", password)
>>> rec = store.save(edited_entry, by=alice, expected_revision=rec.revision)
>>> store.submit(rec.entry.id, by=alice); store.approve(rec.entry.id, by=bob)
>>> store.list_approved()                                         # the EntrySource the coach reads

Every path into the served set goes through one gate: a live sign-in (``Principal``) re-checked
inside the transaction, the guardrails' verdict on every shown line (kept with the version), and a
second person's approval. The served set itself only holds versions that carry that proof. SQLite
by default, PostgreSQL (or any SQLAlchemy URL) when a call centre scales out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from knowledge_base import passwords, sql_import, sql_reads
from knowledge_base.curation import (
    APPROVED,
    DRAFT,
    PLACEHOLDER,
    ConflictError,
    CurationError,
    EntryRecord,
    EntryVetter,
    NotFoundError,
    Principal,
    TwoPersonError,
    VettingError,
    content_of,
    entry_from,
    field_diff,
    next_state,
    unfinished_fields,
)
from knowledge_base.entries import EntryError, EntryProblem
from knowledge_base.export import check_entry
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
from knowledge_base.users import Users, check

MAX_REASON_CHARS = 500


class SqlStore(sql_reads.Reads, sql_import.Imports):
    """Entries, versions, audit log and users behind the curation rules; an EntrySource for the coach."""

    def __init__(self, engine: Engine | str, *, vet: EntryVetter | None = None,
                 bcrypt_rounds: int = passwords.DEFAULT_ROUNDS):
        self.engine = make_engine(engine) if isinstance(engine, str) else engine
        self.vet = vet
        ensure_schema(self.engine)
        self.users = Users(self.engine, bcrypt_rounds)
        self._laws: tuple[int, tuple[str, ...]] = (-1, ())

    # --- vetting, again when the guard changes --------------------------------------------

    def stale_vetting(self, fingerprint: str) -> list[tuple[str, int]]:
        """(entry id, version) of published versions whose verdict is missing or from another guard."""
        with Session(self.engine) as session:
            return [(v.entry_id, v.version) for v in session.scalars(self._published())
                    if not v.vetting or v.vetting.get("guard") != fingerprint]

    def revet(self, vet: EntryVetter | None = None) -> list[str]:
        """Vet again the published versions the current guard has not judged; ids now withheld (flagged)."""
        vet = vet or self.vet
        stale = self.stale_vetting(vet.fingerprint)
        withheld = []
        for entry_id, version in stale:
            with self._change(entry_id) as session:
                row = self._version(session, entry_id, version)
                row.vetting = vet(entry_from(row.content, APPROVED, version))
                if row.vetting["blocked"]:
                    withheld.append(entry_id)
                    self._log(session, f"guard:{vet.fingerprint}", "withheld_by_guard", entry_id, version,
                              {"flagged": row.vetting["flagged"]})
        return withheld

    # --- changing entries --------------------------------------------------------------------

    def save(self, entry: Entry, *, by: Principal, expected_revision: int | None = None) -> EntryRecord:
        """Save ``entry`` as a new draft version (creating the entry when ``expected_revision`` is None).

        Editing an entry someone else changed since you read it (a stale ``expected_revision``)
        raises ConflictError and stores nothing.
        """
        entry = check_entry(entry)
        with self._change(entry.id) as session:
            check(session, by)
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
            self._write_version(session, row, new, by.name, DRAFT)
            self._log(session, by.name, "create" if old is None else "edit", new.id, new.version, field_diff(old, new))
            session.flush()
            return self._record(session, row)

    def submit(self, entry_id: str, *, by: Principal, expected_revision: int | None = None) -> EntryRecord:
        """Send a draft for review by a second person."""
        return self._move("submit", entry_id, by, expected_revision)

    def reject(self, entry_id: str, *, by: Principal, expected_revision: int | None = None,
               reason: str = "") -> EntryRecord:
        """Send an entry under review back to draft."""
        return self._move("reject", entry_id, by, expected_revision, reason)

    def retire(self, entry_id: str, *, by: Principal, expected_revision: int | None = None,
               reason: str = "") -> EntryRecord:
        """Take an entry out of service at once (its published version too); the reason is audited."""
        return self._move("retire", entry_id, by, expected_revision, reason)

    def restore(self, entry_id: str, *, by: Principal, expected_revision: int | None = None,
                reason: str = "") -> EntryRecord:
        """Bring a retired entry back as a draft: it is served again only after a second person approves it."""
        return self._move("restore", entry_id, by, expected_revision, reason)

    def approve(self, entry_id: str, *, by: Principal, expected_revision: int | None = None) -> EntryRecord:
        """Publish the version under review: a second person, and no shown line the guardrails flag."""
        try:
            return self._move("approve", entry_id, by, expected_revision)
        except (TwoPersonError, VettingError) as exc:
            with self._change() as session:
                self._log(session, by.name, "approve_refused", entry_id, None, {"reason": str(exc)})
            raise

    def _move(self, action: str, entry_id: str, by: Principal, expected_revision: int | None,
              reason: str = "") -> EntryRecord:
        reason = " ".join(reason.split())[:MAX_REASON_CHARS]
        with self._change(entry_id) as session:
            check(session, by)
            row = self._expect(session.get(EntryRow, entry_id), entry_id, expected_revision)
            target = next_state(action, row.status, entry_id)
            current = self._version(session, entry_id, row.version)
            entry = entry_from(current.content, row.status, row.version)
            if action in ("submit", "approve") and (unfinished := unfinished_fields(entry)):
                raise CurationError(f"{entry_id} still has {PLACEHOLDER} placeholders in "
                                    f"{', '.join(unfinished)}: write them, save, then submit")
            if action == "approve":
                self._publish(current, entry, by)
                row.published_version = row.version
            elif action == "retire":
                row.published_version = None
            diff = {"status": [row.status, target], **({"reason": reason} if reason else {})}
            if action == "restore":  # the restorer vouches for it: theirs is the version a second person approves
                self._write_version(session, row, entry_from(current.content, DRAFT, row.version + 1), by.name, DRAFT)
            self._log(session, by.name, action, entry_id, row.version, diff)
            row.status, row.updated_at = target, now()
            session.flush()
            return self._record(session, row)

    def _publish(self, current: VersionRow, entry: Entry, by: Principal) -> None:
        """The gate of every approval: a second person and a clean verdict on every shown line."""
        if by.name == current.editor:
            raise TwoPersonError(f"{by.name} wrote version {current.version} of {entry.id}; "
                                 "a second person must approve it")
        if self.vet is None:
            raise CurationError("approval needs the guardrails' vetting, and this store has none")
        verdict = self.vet(entry)
        if verdict["blocked"]:
            raise VettingError(entry.id, [(f["text"], tuple(f["categories"])) for f in verdict["flagged"]])
        current.vetting = verdict
        current.approved_by, current.approved_at = by.name, now()

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
    def _expect(row: EntryRow | None, entry_id: str, expected: int | None) -> EntryRow:
        if row is None:
            raise NotFoundError(f"no entry {entry_id!r}")
        if expected is not None and row.revision != expected:
            raise ConflictError(entry_id, expected, row.revision, row.last_editor)
        return row

    @staticmethod
    def _check_refs(session: Session, entry: Entry) -> None:
        for ref in entry.refs:
            target = session.get(EntryRow, ref)
            if target is None or target.kind != "regulation":
                raise EntryError([EntryProblem(entry.id, "refs", f"{ref!r} is not a regulation entry in the store")])

    @staticmethod
    def _write_version(session: Session, row: EntryRow, entry: Entry, editor: str, status: str) -> VersionRow:
        at = now()
        version = VersionRow(entry_id=entry.id, version=entry.version, content=content_of(entry), editor=editor,
                             created_at=at)
        session.add(version)
        row.topic, row.kind, row.lang, row.jurisdiction = entry.topic, entry.kind, entry.lang, entry.jurisdiction
        row.title, row.status, row.version = entry.title, status, entry.version
        row.last_editor, row.updated_at = editor, at
        return version

    @staticmethod
    def _log(session: Session, actor: str, action: str, entry_id: str | None, version: int | None,
             diff: dict) -> None:
        session.add(AuditRow(at=now(), actor=actor, action=action, entry_id=entry_id, version=version, diff=diff))
