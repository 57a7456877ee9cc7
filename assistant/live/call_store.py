"""Live calls in SQL, so a reconnect (to this process or another behind the load balancer) resumes a call:
its state, every segment received, every event pushed. SQLite in the data directory by default, the
shared database (COACH_DATABASE_URL) when several servers serve calls.

A segment is written with the state it leaves behind in one transaction, guarded by the state's
revision: two processes handling one call at once cannot both apply a segment (the second retries on
the fresh state), and nothing already received is lost when a process dies between segments.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from assistant.live.companion import CallState
from assistant.live.segments import Segment
from knowledge_base.sql_models import create_tables, make_engine


class Base(DeclarativeBase):
    pass


class CallRow(Base):
    __tablename__ = "live_calls"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent: Mapped[str] = mapped_column(String(120), index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict] = mapped_column(JSON)


class SegmentRow(Base):
    __tablename__ = "live_segments"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    speaker: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    start_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EventRow(Base):
    __tablename__ = "live_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CallConflict(Exception):
    """Another process changed the call since its state was read."""


class CallStore:
    """Reads and writes live calls."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        create_tables(Base.metadata, self.engine)

    def create(self, state: CallState) -> bool:
        """Store a new call; False when the call id exists already (then resume it)."""
        with Session(self.engine) as session, session.begin():
            if session.get(CallRow, state.call_id) is not None:
                return False
            session.add(CallRow(call_id=state.call_id, agent=state.agent, opened_at=datetime.now(UTC),
                                revision=0, state=state.to_json()))
        return True

    def load(self, call_id: str) -> tuple[CallState, int] | None:
        """A call's state and revision, or None for an unknown call."""
        with Session(self.engine) as session:
            row = session.get(CallRow, call_id)
            return None if row is None else (CallState.from_json(row.state), row.revision)

    def save(self, state: CallState, revision: int, segment: Segment | None, events: list[dict]) -> int:
        """The segment, the events it caused and the state after it, in one transaction (CallConflict when the
        call moved on meanwhile); the new revision."""
        at = datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            moved = session.execute(
                update(CallRow).where(CallRow.call_id == state.call_id, CallRow.revision == revision)
                .values(revision=revision + 1, state=state.to_json(),
                        closed_at=at if state.closed else None))
            if moved.rowcount != 1:
                raise CallConflict(state.call_id)
            if segment is not None:
                key = (segment.call_id, segment.seq, segment.final)
                row = session.get(SegmentRow, key) or SegmentRow(call_id=key[0], seq=key[1], final=key[2])
                row.speaker, row.text, row.received_at = segment.speaker, segment.text, at
                row.start_ms, row.end_ms = segment.start_ms, segment.end_ms
                session.add(row)
            for event in events:
                if event["type"] != "ack":
                    session.add(EventRow(call_id=state.call_id, seq=event.get("seq", -1), kind=event["type"],
                                         payload=event, at=at))
        return revision + 1

    def events(self, call_id: str) -> list[dict]:
        """Every card, alert and summary pushed for a call, in order."""
        with Session(self.engine) as session:
            rows = session.scalars(select(EventRow).where(EventRow.call_id == call_id).order_by(EventRow.id))
            return [r.payload for r in rows]

    def segments(self, call_id: str) -> list[dict]:
        """Every segment received (the final of a turn, or its latest partial), in seq order."""
        with Session(self.engine) as session:
            rows = session.scalars(select(SegmentRow).where(SegmentRow.call_id == call_id)
                                   .order_by(SegmentRow.seq, SegmentRow.final))
            latest = {}
            for r in rows:
                latest[r.seq] = {"call_id": r.call_id, "seq": r.seq, "speaker": r.speaker, "text": r.text,
                                 "start_ms": r.start_ms, "end_ms": r.end_ms, "final": r.final}
            return list(latest.values())

    def recent(self, agent: str | None = None, limit: int = 50) -> list[dict]:
        """The newest calls (of one agent), with when they opened and closed."""
        with Session(self.engine) as session:
            query = select(CallRow).order_by(CallRow.opened_at.desc()).limit(limit)
            if agent:
                query = query.where(CallRow.agent == agent)
            return [{"call_id": r.call_id, "agent": r.agent, "opened_at": r.opened_at.isoformat(),
                     "closed": r.closed_at is not None} for r in session.scalars(query)]
