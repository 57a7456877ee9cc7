"""The question log: every ask (redacted), its outcome, sources, latency and the agent's feedback.

SQLAlchemy on a SQLite file in the data directory by default; any SQLAlchemy URL via
``COACH_DATABASE_URL`` (PostgreSQL when a call centre scales out).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from assistant.coaching.redaction import redact
from assistant.types import Answer

MAX_COMMENT_CHARS = 2000


class Base(DeclarativeBase):
    pass


class AskRecord(Base):
    __tablename__ = "asks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    agent: Mapped[str] = mapped_column(String(120), default="")
    question: Mapped[str] = mapped_column(Text)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(4))
    outcome: Mapped[str] = mapped_column(String(16), index=True)  # answered | refused | abstained
    categories: Mapped[list] = mapped_column(JSON, default=list)
    sources: Mapped[list] = mapped_column(JSON, default=list)  # [{"id", "version"}]
    latency_ms: Mapped[float] = mapped_column(Float)
    helpful: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)


def outcome_of(answer: Answer) -> str:
    return "refused" if answer.refused else "abstained" if answer.abstained else "answered"


class QuestionLog:
    """Records asks and feedback; reads them back for the Insights page."""

    def __init__(self, url: str):
        kwargs = {"connect_args": {"timeout": 15}} if url.startswith("sqlite") else {"pool_pre_ping": True}
        self.engine = create_engine(url, **kwargs)
        Base.metadata.create_all(self.engine)

    def record(self, question: str, answer: Answer, jurisdiction: str, agent: str = "") -> int:
        """Store one ask with personal data redacted; returns its id for feedback."""
        row = AskRecord(
            at=datetime.now(UTC), agent=redact(agent)[:120], question=redact(question),
            jurisdiction=jurisdiction, lang=answer.lang, outcome=outcome_of(answer),
            categories=list(answer.categories),
            sources=[{"id": s.id, "version": s.version} for s in answer.sources],
            latency_ms=round(answer.latency_ms, 2),
        )
        with Session(self.engine) as session, session.begin():
            session.add(row)
            session.flush()
            return row.id

    def feedback(self, ask_id: int, helpful: bool, comment: str = "") -> None:
        """Attach the agent's rating (and an optional, redacted comment) to an ask."""
        with Session(self.engine) as session, session.begin():
            row = session.get(AskRecord, ask_id)
            if row is None:
                raise KeyError(f"no logged question {ask_id}")
            row.helpful = helpful
            row.comment = redact(comment.strip())[:MAX_COMMENT_CHARS] or None

    def recent(self, limit: int = 1000) -> list[AskRecord]:
        with Session(self.engine) as session:
            rows = session.scalars(select(AskRecord).order_by(AskRecord.id.desc()).limit(limit)).all()
            session.expunge_all()
            return list(rows)
