"""Live calls as one service for every front door (the API's WebSocket, the Live call page): open or resume a
call, feed it segments, close it; the state lives in the store between segments.

>>> calls = services.live
>>> calls.open("c-1", agent=carol, context={"jurisdiction": "CN", "timezone": "Asia/Shanghai"})
>>> calls.receive("c-1", {"seq": 0, "speaker": "customer", "text": "我最近失业了"}, agent=carol)
[{'type': 'ack', ...}, {'type': 'card', 'topic': 'financial_hardship', ...}]
>>> calls.close("c-1", agent=carol)["note"]
"""

from __future__ import annotations

from assistant.coaching.questions import QuestionError
from assistant.live.call_store import CallConflict, CallStore
from assistant.live.companion import CallClosed, CallCompanion, CallState
from assistant.live.segments import SegmentError, parse_segment

MAX_CALL_ID = 64
RETRIES = 5


class CallError(ValueError):
    """A call cannot be opened or fed as asked; ``code`` is the stable code the API sends."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class LiveCalls:
    """Opens, resumes, feeds and closes live calls for signed-in agents."""

    def __init__(self, services):
        self.services = services
        self.store = CallStore(services.settings.sql_url)

    @property
    def coach(self):
        return self.services.coach

    def open(self, call_id: str, *, agent, context: dict | None = None, lang: str | None = None) -> dict:
        """Open a call, or resume it when it exists (the same agent only): its state and the events so far."""
        if not isinstance(call_id, str) or not call_id.strip() or len(call_id) > MAX_CALL_ID:
            raise CallError("bad_call_id", f"a call id is 1 to {MAX_CALL_ID} characters")
        if lang not in (None, "zh", "en"):
            raise CallError("bad_lang", f"unknown language {lang!r}; use zh or en")
        found = self.store.load(call_id)
        if found is not None:
            state, _ = found
            if state.agent != agent.name:
                raise CallError("not_your_call", f"call {call_id} belongs to another agent")
            return {"call_id": call_id, "resumed": True, "closed": state.closed,
                    "received": sorted(int(s) for s in state.finals), "events": self.store.events(call_id)}
        state = CallState.opened(call_id, agent.name, context, lang, self.services.settings.jurisdiction,
                                 self.coach.clock())
        try:
            CallCompanion(self.coach, state)  # the context is checked before anything is stored
        except QuestionError as exc:
            raise CallError("bad_context", str(exc)) from None
        if not self.store.create(state):
            return self.open(call_id, agent=agent, context=context, lang=lang)  # opened meanwhile elsewhere
        return {"call_id": call_id, "resumed": False, "closed": False, "received": [], "events": []}

    def receive(self, call_id: str, segment: dict, *, agent) -> list[dict]:
        """One segment of an open call: its ack and the cards and alerts it causes (stored before returned)."""
        try:
            parsed = parse_segment(segment, call_id)
        except SegmentError as exc:
            raise CallError("bad_segment", str(exc)) from None
        for _ in range(RETRIES):
            state, revision = self._mine(call_id, agent)
            companion = CallCompanion(self.coach, state)
            try:
                events = companion.receive(parsed)
            except CallClosed as exc:
                raise CallError("call_closed", str(exc)) from None
            try:
                self.store.save(companion.state, revision, parsed, events)
                return events
            except CallConflict:
                continue
        raise CallError("busy", f"call {call_id} is being changed by another connection; send the segment again")

    def close(self, call_id: str, *, agent) -> dict:
        """End a call: its summary (the note for the collection record), stored; closing twice returns it again."""
        for _ in range(RETRIES):
            state, revision = self._mine(call_id, agent)
            if state.closed:
                return state.summary
            companion = CallCompanion(self.coach, state)
            summary = companion.close()
            events = [*summary.get("late_alerts", []), {"type": "summary", "seq": -1, **summary}]
            try:
                self.store.save(companion.state, revision, None, events)
                return summary
            except CallConflict:
                continue
        raise CallError("busy", f"call {call_id} is being changed by another connection; close it again")

    def _mine(self, call_id: str, agent) -> tuple[CallState, int]:
        found = self.store.load(call_id)
        if found is None:
            raise CallError("unknown_call", f"no call {call_id!r}: open it first")
        state, revision = found
        if state.agent != agent.name:
            raise CallError("not_your_call", f"call {call_id} belongs to another agent")
        return state, revision
