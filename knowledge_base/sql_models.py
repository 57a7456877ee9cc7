"""The curation store's tables (entries, versions, audit log, users), its schema and its transactions.

The schema is created and upgraded by the Alembic migrations in knowledge_base/migrations;
SCHEMA_REVISION names the newest one so an up-to-date database is recognised without loading Alembic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    inspect,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

SCHEMA_REVISION = "0002_sessions_vetting"
_MIGRATING = threading.Lock()


class Base(DeclarativeBase):
    pass


class EntryRow(Base):
    """The working state of one entry: its newest version and its lifecycle status."""

    __tablename__ = "kb_entries"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(4), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(8), index=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)  # newest version (the working copy)
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # what agents are served
    last_editor: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # optimistic lock: every change bumps it; an UPDATE that finds another value fails
    revision: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": revision}


class VersionRow(Base):
    """One saved version's full content (the Entry fields as JSON), never changed after it is written."""

    __tablename__ = "kb_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("kb_entries.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    editor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the guardrails' verdict on every shown line, written when the version is approved (or re-vetted
    # after the guard changed): {"guard": fingerprint, "blocked": bool, "flagged": [{field, index, text, ...}]}
    vetting: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class AuditRow(Base):
    """Who did what to which entry, when, and the change (a field diff or a status move)."""

    __tablename__ = "kb_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    diff: Mapped[dict] = mapped_column(JSON, default=dict)


class UserRow(Base):
    __tablename__ = "kb_users"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    """A sign-in (password, a few hours) or an API token (until revoked), stored only as a SHA-256 hash."""

    __tablename__ = "kb_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the secret
    user: Mapped[str] = mapped_column(ForeignKey("kb_users.name"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # what it may do (a token's scope: at most the user's role)
    kind: Mapped[str] = mapped_column(String(16))  # password | token
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def now() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite waits on a busy file; server databases drop dead connections."""
    kwargs = {"connect_args": {"timeout": 15}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    return create_engine(url, **kwargs)


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for a new database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the newest migration (cheap when it is already there)."""
    if schema_revision(engine) == SCHEMA_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "knowledge_base:migrations")
    with _MIGRATING:  # Alembic keeps its migration context in module globals: one thread at a time
        if schema_revision(engine) == SCHEMA_REVISION:
            return
        try:
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except Exception:
            # two processes opening a new database at once: the one that lost finds the schema built
            if schema_revision(engine) != SCHEMA_REVISION:
                raise


def create_tables(metadata, engine: Engine) -> None:
    """The tables of ``metadata`` the database lacks (the question log's and the live calls', which have no
    migrations). Two processes opening a new database at once (the app and the API) race between checking
    and creating; the one that lost finds the tables there and goes on."""
    try:
        metadata.create_all(engine)
    except (OperationalError, ProgrammingError):
        metadata.create_all(engine)  # checks again: raises only when a table is still missing


class LostRace(Exception):
    """Another writer committed first: the optimistic lock's UPDATE found a newer revision, or the same new key."""


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error (a crash too)."""
    session = Session(engine, expire_on_commit=False)
    try:
        with session.begin():
            yield session
    except (StaleDataError, IntegrityError) as race:
        raise LostRace(str(race).splitlines()[0]) from race
    finally:
        session.close()
