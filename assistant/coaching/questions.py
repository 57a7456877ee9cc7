"""What a question must be before the coach reads it: checked once, here, for every front door."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from assistant.settings import ASK_JURISDICTIONS, Settings
from guardrails.contact import CallContext, ContextError, parse_context

MAX_HISTORY_TURNS = 20
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")  # zero-width, joiners, BOM, soft hyphen
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class QuestionError(ValueError):
    """The question cannot be asked as given; ``kind`` says why (a stable code the front doors show)."""

    KINDS = ("empty", "too_long", "jurisdiction", "lang", "history", "encoding", "control", "context")

    def __init__(self, kind: str, message: str, **fields):
        super().__init__(message)
        self.kind, self.fields = kind, fields


@dataclass(frozen=True)
class Question:
    """A question fit to ask: stripped, in a known jurisdiction, with its conversation."""

    text: str
    jurisdiction: str
    history: tuple[str, ...]
    lang: str | None
    context: CallContext | None = None


def clean_text(text, what: str, limit: int) -> str:
    """``text`` stripped of invisible characters, or QuestionError (empty, too long, control bytes, bad encoding)."""
    if not isinstance(text, str):
        raise QuestionError("empty", f"the {what} is empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise QuestionError("encoding", f"the {what} is not valid UTF-8 text") from None
    if _CONTROL.search(text):
        raise QuestionError("control", f"the {what} contains control characters (e.g. NUL bytes)")
    text = _INVISIBLE.sub("", text).strip()
    if not text:
        raise QuestionError("empty", f"the {what} is empty")
    if len(text) > limit:
        raise QuestionError("too_long", f"the {what} is {len(text)} characters; the limit is {limit}",
                            n=len(text), limit=limit)
    return text


def validate_context(context, jurisdiction: str | None, now: datetime) -> CallContext | None:
    """The call context (the JSON contract of shared/reference/call-context.md, or one already parsed), or
    QuestionError naming the field that breaks the contract; it must agree with an explicit jurisdiction."""
    if context is None:
        return None
    try:
        parsed = context if isinstance(context, CallContext) else parse_context(context, now=now)
    except ContextError as exc:
        raise QuestionError("context", f"call context: {exc}", field=exc.field) from None
    if jurisdiction and jurisdiction.upper() != parsed.jurisdiction:
        raise QuestionError("context", f"call context: jurisdiction: the call is in {parsed.jurisdiction}, the "
                                       f"question was asked for {jurisdiction.upper()}", field="jurisdiction")
    return parsed


def validate_question(question, jurisdiction: str | None, settings: Settings, history=(),
                      lang: str | None = None, context=None, now: datetime | None = None) -> Question:
    """The question as the coach will read it, or QuestionError saying why not."""
    limit = settings.max_question_chars
    text = clean_text(question, "question", limit)
    call = validate_context(context, jurisdiction, now or datetime.now().astimezone())
    place = (jurisdiction or (call.jurisdiction if call else settings.jurisdiction)).upper()
    if place not in ASK_JURISDICTIONS:
        raise QuestionError("jurisdiction",
                            f"unknown jurisdiction {place!r}; use one of {', '.join(ASK_JURISDICTIONS)}")
    if lang not in (None, "zh", "en"):
        raise QuestionError("lang", f"unknown answer language {lang!r}; use zh or en")
    if isinstance(history, str):  # one string is no list of earlier questions (iterated, it is characters)
        raise QuestionError("history", "the history is a list of earlier questions, not one string")
    history = tuple(history or ())
    if len(history) > MAX_HISTORY_TURNS:
        raise QuestionError("history", f"the history holds at most {MAX_HISTORY_TURNS} earlier questions")
    turns = []
    for turn in history:
        try:
            turns.append(clean_text(turn, "history turn", limit))
        except QuestionError as exc:
            if exc.kind != "empty":  # an empty earlier turn is simply no turn
                raise QuestionError("history", f"an earlier question: {exc}") from None
    return Question(text, place, tuple(turns), lang, call)
