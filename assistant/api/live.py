"""The live-call stream: a WebSocket per call at /v1/calls. The client opens (or resumes) a call, sends
transcript segments as the speech engine produces them, and closes it; the server answers each segment with
an ack and pushes cards and alerts, and the summary at the end. Messages are JSON text frames:

    → {"type": "open", "call_id": "c-1", "context": {...}, "lang": "zh"}      ← {"type": "opened", ...}
    → {"type": "segment", "seq": 3, "speaker": "customer", "text": "...", "final": true}
                                              ← {"type": "ack", ...}, {"type": "card", ...}, {"type": "alert", ...}
    → {"type": "close"}                                                       ← {"type": "summary", ...}

A bad message gets {"type": "error", "code", "message"} and the stream stays open; nothing received before
is lost (every segment is stored before its events are sent). A bad or revoked token closes it (4401).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from assistant.api.auth import agent, principal_of
from assistant.api.errors import ApiError
from assistant.curation import Principal
from assistant.live.segments import MAX_TEXT
from assistant.live.service import CallError

router = APIRouter()
MAX_MESSAGE = 4 * MAX_TEXT + 16_384  # a segment's text plus its fields and a context


@router.websocket("/v1/calls")
async def call_stream(socket: WebSocket):
    services = socket.app.state.services
    try:
        who = principal_of(services, socket.headers)
    except ApiError as exc:
        await socket.close(code=4401, reason=exc.message[:120])
        return
    await socket.accept()
    calls, call_id = services.live, None
    try:
        while True:
            raw = await socket.receive_text()
            try:
                socket.app.state.rate_limit.check(socket.headers["authorization"].partition(" ")[2].strip())
                message = _message(raw)
                kind = message.get("type")
                if kind == "open":
                    opened = await run_in_threadpool(calls.open, message.get("call_id"), agent=who,
                                                      context=message.get("context"), lang=message.get("lang"))
                    call_id = opened["call_id"]
                    await socket.send_json({"type": "opened", **opened})
                elif call_id is None:
                    raise CallError("not_open", 'open a call first: {"type": "open", "call_id": ...}')
                elif kind == "segment":
                    segment = {k: v for k, v in message.items() if k != "type"}
                    for event in await run_in_threadpool(calls.receive, call_id, segment, agent=who):
                        await socket.send_json(event)
                elif kind == "close":
                    summary = await run_in_threadpool(calls.close, call_id, agent=who)
                    await socket.send_json({"type": "summary", "call_id": call_id, **summary})
                    await socket.close(code=1000)
                    return
                else:
                    raise CallError("bad_request", f"unknown message type {kind!r}; use open, segment or close")
            except (CallError, ApiError) as exc:
                message = str(getattr(exc, "message", exc))
                await socket.send_json({"type": "error", "code": exc.code, "message": message})
                if getattr(exc, "code", "") == "rate_limited":
                    continue
    except WebSocketDisconnect:
        return  # the call stays open in the store: the client resumes it by its id


def _message(raw: str) -> dict:
    if len(raw) > MAX_MESSAGE:
        raise CallError("payload_too_large", f"a message holds at most {MAX_MESSAGE} characters")
    try:
        message = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CallError("bad_request", f"not JSON: {exc.msg}") from None
    if not isinstance(message, dict):
        raise CallError("bad_request", "a message is a JSON object")
    return message


@router.get("/v1/calls/{call_id}", tags=["live calls"])
def call_events(request: Request, call_id: str, who: Principal = Depends(agent)) -> dict:
    """What a call has received and pushed so far (its agent, or a trainer)."""
    calls = request.app.state.services.live
    found = calls.store.load(call_id)
    if found is None:
        raise ApiError("unknown_call", f"no call {call_id!r}")
    state, _ = found
    if state.agent != who.name and who.role not in ("trainer", "admin"):
        raise ApiError("not_your_call", f"call {call_id} belongs to another agent")
    return {"call_id": call_id, "agent": state.agent, "closed": state.closed,
            "segments": calls.store.segments(call_id), "events": calls.store.events(call_id)}


@router.get("/v1/calls", tags=["live calls"])
def recent_calls(request: Request, agent_name: str | None = Query(None, alias="agent"),
                 who: Principal = Depends(agent)) -> list[dict]:
    """The newest calls: an agent's own, or (trainers) anyone's."""
    if who.role not in ("trainer", "admin"):
        agent_name = who.name
    return request.app.state.services.live.store.recent(agent_name)
