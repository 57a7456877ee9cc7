"""The API's request and response bodies (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MAX_HISTORY = 20


class AskIn(BaseModel):
    question: str = Field(description="The situation or question, in Chinese or English.")
    history: list[str] = Field(default_factory=list, max_length=MAX_HISTORY,
                               description="Earlier questions of this conversation, oldest first.")
    jurisdiction: Literal["CN", "US"] | None = Field(
        None, description="Default: the call context's, else the server's.")
    lang: Literal["zh", "en"] | None = Field(None, description="Answer language; default: the question's.")
    context: dict | None = Field(None, description="The call context (shared/reference/call-context.md).")
    conversation: str = Field("", max_length=64, description="A conversation id the question log groups by.")


class SourceOut(BaseModel):
    id: str
    title: str
    topic: str
    lang: str
    jurisdiction: str
    version: int


class AnswerOut(BaseModel):
    text: str
    refused: bool
    abstained: bool
    categories: list[str]
    sources: list[SourceOut]
    verdict: dict
    outcome: str
    lang: str
    main: SourceOut | None
    related: list[SourceOut]
    card: dict
    reasons: list[dict]
    contact: dict | None
    latency_ms: float
    ask_id: str | None


class FeedbackIn(BaseModel):
    ask_id: str = Field(max_length=64)
    helpful: bool
    comment: str = Field("", max_length=2000)


class ContactIn(BaseModel):
    context: dict = Field(description="The call context (shared/reference/call-context.md).")
    channel: Literal["call", "sms", "email", "visit", "social"] = "call"
    party: Literal["debtor", "spouse", "guarantor", "attorney", "third_party", "unknown"] | None = None
    lang: Literal["en", "zh"] = "en"


class ContactOut(BaseModel):
    allowed: bool
    reasons: list[dict]
    next_allowed_at: str | None
    local_time: str
    status: str


class EntryOut(BaseModel):
    id: str
    version: int
    title: str
    topic: str
    kind: str
    lang: str
    jurisdiction: str
    status: str
    situation: str
    say: list[str]
    do: list[str]
    dont: list[str]
    why: str
    rule: str
    citation: str | None
    refs: list[str]
