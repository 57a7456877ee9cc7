"""The question log: every ask (redacted), its outcome, the entries shown, latency and the agent's feedback.

Writes are off the answer's path: ``record`` gives the ask its id at once and queues the row; one
writer thread redacts and commits queued rows together every ``FLUSH_S`` (or sooner when many
wait). A process killed outright loses at most the asks of its last ``FLUSH_S`` (the README says
so); a normal exit, ``close`` and ``flush`` write everything. SQLAlchemy on the SQLite file in the
data directory by default; any SQLAlchemy URL via ``COACH_DATABASE_URL``.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, String, Text, delete, func, inspect, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from assistant.coaching.redaction import redact
from assistant.types import GAP_OUTCOMES, Answer
from knowledge_base.sql_models import create_tables, make_engine

log = logging.getLogger(__name__)
MAX_COMMENT_CHARS = 2000
FLUSH_S = 0.05
BATCH = 256
MAX_ROWS = 2_000_000  # oldest asks are pruned past this: one client cannot fill the disk
LOGGED_INTENTS = ("entry_match", "contact_question")  # why an unsure guard did not refuse (AskRecord.intent)
NEW_COLUMNS = {"intent": "VARCHAR(32) NOT NULL DEFAULT ''"}  # added since the log's first release


class Base(DeclarativeBase):
    pass


class AskRecord(Base):
    __tablename__ = "ask_log"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    agent: Mapped[str] = mapped_column(String(120), default="", index=True)
    conversation: Mapped[str] = mapped_column(String(64), default="", index=True)
    question: Mapped[str] = mapped_column(Text)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(4))
    outcome: Mapped[str] = mapped_column(String(16), index=True)  # assistant.types.OUTCOMES
    categories: Mapped[list] = mapped_column(JSON, default=list)
    main: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # {"id", "version"} of the card's entry
    sources: Mapped[list] = mapped_column(JSON, default=list)  # [{"id", "version"}] shown (card entries, then related)
    latency_ms: Mapped[float] = mapped_column(Float)
    helpful: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # why an unsure guard did not refuse: "entry_match" (an approved entry answered the question strongly, the
    # second opinion), "contact_question" (a question for the contact rules); "" for every other ask
    intent: Mapped[str] = mapped_column(String(32), default="", server_default="")

    @property
    def gap(self) -> bool:
        return self.outcome in GAP_OUTCOMES


def _add_new_columns(engine) -> None:
    """A log written before a column existed gets it (its old rows with the column's default): the log's table
    is made by ``create_all``, which adds tables, never columns."""
    have = {c["name"] for c in inspect(engine).get_columns(AskRecord.__tablename__)}
    for name, ddl in NEW_COLUMNS.items():
        if name not in have:
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"ALTER TABLE {AskRecord.__tablename__} ADD COLUMN {name} {ddl}"))
            except (OperationalError, ProgrammingError):  # another process added it at the same moment
                if name not in {c["name"] for c in inspect(engine).get_columns(AskRecord.__tablename__)}:
                    raise
            log.info("question log: added column %s", name)


def ref(source) -> dict:
    return {"id": source.id, "version": source.version}


class QuestionLog:
    """Records asks and feedback through one writer thread; reads them back for Insights."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        create_tables(Base.metadata, self.engine)
        _add_new_columns(self.engine)
        self._queue: queue.Queue = queue.Queue()
        self._writer = threading.Thread(target=self._write_loop, name="question-log", daemon=True)
        self._writer.start()
        atexit.register(self.close)

    def record(self, question: str, answer: Answer, jurisdiction: str, agent: str = "",
               conversation: str = "") -> str:
        """Queue one ask (redacted when written); returns its id for feedback at once."""
        ask_id = uuid.uuid4().hex
        row = dict(id=ask_id, at=datetime.now(UTC), agent=agent[:120], conversation=conversation[:64],
                   question=question, jurisdiction=jurisdiction, lang=answer.lang, outcome=answer.outcome,
                   categories=list(answer.categories), main=ref(answer.main) if answer.main else None,
                   sources=[ref(s) for s in answer.shown], latency_ms=round(answer.latency_ms, 2),
                   intent=answer.verdict.intent if answer.verdict and answer.verdict.intent in LOGGED_INTENTS else "")
        self._queue.put(("ask", row))
        return ask_id

    def feedback(self, ask_id: str, helpful: bool, comment: str = "") -> None:
        """Attach the agent's rating (and an optional, redacted comment) to an ask; KeyError if unknown."""
        self.flush()
        with Session(self.engine) as session, session.begin():
            row = session.get(AskRecord, ask_id)
            if row is None:
                raise KeyError(f"no logged question {ask_id}")
            row.helpful = helpful
            row.comment = redact(comment.strip()[:MAX_COMMENT_CHARS]) or None

    def flush(self) -> None:
        """Wait until every queued ask is written."""
        done = threading.Event()
        self._queue.put(("flush", done))
        done.wait(timeout=30)

    def close(self) -> None:
        if self._writer.is_alive():
            self._queue.put(("stop", None))
            self._writer.join(timeout=30)

    def recent(self, limit: int = 1000, *, agent: str | None = None, conversation: str | None = None,
               contains: str = "") -> list[AskRecord]:
        """The newest asks first, optionally of one agent or conversation, or containing a text."""
        self.flush()
        query = select(AskRecord).order_by(AskRecord.at.desc()).limit(limit)
        if agent:
            query = query.where(AskRecord.agent == agent)
        if conversation:
            query = query.where(AskRecord.conversation == conversation)
        if contains:
            query = query.where(AskRecord.question.contains(contains))
        with Session(self.engine) as session:
            rows = session.scalars(query).all()
            session.expunge_all()
            return list(rows)

    def _write_loop(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            batch, waiters = [], []
            while item is not None:
                kind, payload = item
                if kind == "ask":
                    batch.append(payload)
                elif kind == "flush":
                    waiters.append(payload)
                else:
                    stop = True
                try:
                    item = self._queue.get(timeout=FLUSH_S) if len(batch) < BATCH and not stop else None
                except queue.Empty:
                    item = None
            self._write(batch)
            for waiter in waiters:
                waiter.set()

    def _write(self, rows: list[dict]) -> None:
        if not rows:
            return
        try:
            with Session(self.engine) as session, session.begin():
                session.add_all(AskRecord(**{**r, "question": redact(r["question"]), "agent": redact(r["agent"])})
                                for r in rows)
                if session.scalar(select(func.count()).select_from(AskRecord)) > MAX_ROWS:
                    oldest = select(AskRecord.id).order_by(AskRecord.at).limit(len(rows))
                    session.execute(delete(AskRecord).where(AskRecord.id.in_(oldest)))
        except Exception:  # noqa: BLE001 - the log must never take the coach down; the rows are reported
            log.exception("could not write %d asks to the question log", len(rows))
