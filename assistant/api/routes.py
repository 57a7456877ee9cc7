"""The API's HTTP endpoints: ask (plain or streamed), feedback, an entry by id and version, the contact check,
knowledge gaps for trainers, health and readiness. Every one calls the same service the app and the CLI call."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.api.auth import agent, bearer, trainer
from assistant.api.errors import ApiError, question_error
from assistant.api.schemas import AnswerOut, AskIn, ContactIn, ContactOut, EntryOut, FeedbackIn
from assistant.coaching.questions import QuestionError
from assistant.curation import Principal

router = APIRouter()


def services(request: Request):
    return request.app.state.services


def limited(request: Request, who: Principal = Depends(agent)) -> Principal:
    """A signed-in caller within the rate limit."""
    request.app.state.rate_limit.check(bearer(request.headers))
    return who


@router.get("/health", tags=["operations"])
def health() -> dict:
    """The process is up (no sign-in)."""
    return {"status": "ok"}


@router.get("/ready", tags=["operations"])
def ready(request: Request):
    """The coach is built and the store answers: the load balancer may send traffic (no sign-in)."""
    svc = services(request)
    try:
        entries = len(svc.coach.retriever.entries)
        revision = svc.store.revision()
    except Exception as exc:  # any failure to build or reach a part means "not ready", with why
        return JSONResponse(ApiError("not_ready", f"{type(exc).__name__}: {exc}").body(), status_code=503)
    return {"ready": True, "entries": entries, "revision": revision}


def _ask(svc, body: AskIn, who: Principal):
    try:
        return svc.coach.ask(body.question, tuple(body.history), body.jurisdiction, lang=body.lang, agent=who.name,
                             conversation=body.conversation, context=body.context)
    except QuestionError as exc:
        raise question_error(exc) from None


@router.post("/v1/ask", response_model=AnswerOut, tags=["coaching"],
             responses={200: {"content": {"text/event-stream": {}}}})
async def ask(request: Request, body: AskIn, who: Principal = Depends(limited),
              stream: bool = Query(False, description="Stream server-sent events (also: Accept: text/event-stream).")):
    """The card, its sources and the verdict, exactly as the app shows them. Streamed: a `verdict` event as soon
    as the question is judged, then `answer` (the whole card) and `done`."""
    svc = services(request)
    if stream or "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(_events(svc, body, who), media_type="text/event-stream")
    answer = await run_in_threadpool(_ask, svc, body, who)
    return answer.to_dict()


async def _events(svc, body: AskIn, who: Principal):
    try:
        answer = await run_in_threadpool(_ask, svc, body, who)
    except ApiError as exc:
        yield _sse("error", exc.body())
        return
    data = answer.to_dict()
    yield _sse("verdict", {"verdict": data["verdict"], "outcome": data["outcome"], "ask_id": data["ask_id"]})
    yield _sse("answer", data)
    yield _sse("done", {"ask_id": data["ask_id"]})


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/v1/feedback", tags=["coaching"], status_code=204)
def feedback(request: Request, body: FeedbackIn, who: Principal = Depends(limited)):
    """The agent's rating of an answer (and an optional comment, redacted before it is stored)."""
    log = services(request).question_log
    if log is None:
        raise ApiError("unknown_ask", "this server keeps no question log")
    try:
        log.feedback(body.ask_id, body.helpful, body.comment)
    except KeyError:
        raise ApiError("unknown_ask", f"no logged answer {body.ask_id}") from None


@router.get("/v1/entries/{entry_id}", response_model=EntryOut, tags=["knowledge base"])
def entry(request: Request, entry_id: str, version: int | None = Query(None, ge=1),
          who: Principal = Depends(limited)):
    """A published entry, as served now or exactly as it was at ``version`` (to replay a logged answer)."""
    coach = services(request).coach
    try:
        found = coach.source(entry_id, version) if version is not None else coach.entry(entry_id)
    except KeyError as exc:
        raise ApiError("not_found", str(exc).strip("'\"")) from None
    if found is None:
        raise ApiError("not_found", f"no published entry {entry_id!r}")
    return {"id": found.id, "version": found.version, "title": found.title, "topic": found.topic,
            "kind": found.kind, "lang": found.lang, "jurisdiction": found.jurisdiction, "status": found.status,
            "situation": found.situation, "say": list(found.say), "do": list(found.do), "dont": list(found.dont),
            "why": found.why, "rule": found.rule, "citation": found.citation, "refs": list(found.refs)}


@router.post("/v1/contact/check", response_model=ContactOut, tags=["call context"])
def contact_check(request: Request, body: ContactIn, who: Principal = Depends(limited)):
    """May this contact happen now (shared/reference/call-context.md): allowed, the rules, the next moment."""
    try:
        verdict = services(request).coach.check_contact(body.context, body.channel, body.party)
    except QuestionError as exc:
        raise ApiError("bad_context", str(exc), exc.fields.get("field")) from None
    return verdict.to_dict(body.lang)


@router.get("/v1/gaps", tags=["trainers"])
def gaps(request: Request, limit: int = Query(1000, ge=1, le=10000), who: Principal = Depends(trainer)):
    """The knowledge gaps agents hit (grouped similar questions, redacted): trainers and admins only."""
    request.app.state.rate_limit.check(bearer(request.headers))
    insights = services(request).insights
    records = insights.records(by=who, limit=limit)
    return [{"count": g.count, "example": g.example, "questions": list(g.questions)[:10]}
            for g in insights.gaps(records)]
