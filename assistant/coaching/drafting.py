"""Optional LLM drafting: a coaching card for the agent's exact situation, written by a chat model
from exactly the retrieved entries, shown only when it cites them and passes the output guard.

Any LangChain chat model works (``COACH_LLM=<provider>:<model>`` through ``init_chat_model``).
Every failure (timeout, error, empty, uncited, unknown citation, flagged) gives the agent the
vetted composed card instead, with ``Answer.fallback`` naming why, and a log line.

>>> drafter = build_drafter(settings, guard, retriever.entries.get)  # wiring does this when COACH_LLM is set
>>> answer = drafter.draft(composed, hits, "客户说下周才能还，他妈妈接的电话")
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path

from assistant.coaching.compose import Lookup, labels, regulations_of, render, rules_from, source_of
from assistant.coaching.language import detect_lang
from assistant.types import Answer, Card
from guardrails.data_files import read_yaml
from guardrails.lines import check_lines
from knowledge_base import Entry, Hit

log = logging.getLogger(__name__)

PROMPT_PATH = Path(__file__).with_name("data") / "draft_prompt.yaml"
CITATION = re.compile(r"\[\[\s*([^\[\]\s]{1,120})\s*\]\]")
THINKING = re.compile(r"<think>.*?</think>", re.S)  # reasoning models served by Ollama/vLLM
LIST_MARK = re.compile(r"^(?:[-*•]|\d{1,2}[.)、．])\s*")
QUOTES = ("“”", '""', "「」", "''")
SECTIONS = ("say", "do", "dont", "why")
# Answer.fallback values: why the composed card was shown instead of the draft.
FALLBACKS = ("timeout", "error", "empty", "no_citation", "unknown_citation", "shape", "language", "flagged")


@cache
def prompt() -> dict:
    return read_yaml(PROMPT_PATH)


class Rejected(Exception):
    """A draft that must not be shown; ``reason`` is one of FALLBACKS."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def chat_model(settings):
    """The chat model named by ``settings.llm``, with base URL, key and timeout from settings."""
    from langchain.chat_models import init_chat_model

    provider = settings.llm.split(":", 1)[0]
    kwargs = {"temperature": 0, "timeout": settings.llm_timeout_s, "max_retries": 0}
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
    if settings.llm_api_key is not None:
        kwargs["api_key"] = settings.llm_api_key.get_secret_value()
    if provider == "ollama":  # ChatOllama ignores `timeout`; its HTTP client takes one
        kwargs["client_kwargs"] = {"timeout": settings.llm_timeout_s}
    try:
        return init_chat_model(settings.llm, **kwargs)
    except ImportError as exc:
        hint = (f"pip install 'collections-coach[{provider}]'" if provider in ("openai", "ollama")
                else f"install LangChain's package for {provider!r}")
        raise ImportError(f"COACH_LLM={settings.llm} needs its provider package: {hint}") from exc


def build_drafter(settings, guard, lookup: Lookup) -> Drafter:
    """The drafter for ``settings.llm`` (wiring calls this only when it is set)."""
    return Drafter(chat_model(settings), guard, lookup, timeout_s=settings.llm_timeout_s)


def entry_text(entry: Entry) -> str:
    """One entry as the model sees it: its id, then its own sections."""
    body = [f"Situation: {entry.situation}" if entry.situation else ""]
    for name, items in (("Say", entry.say), ("Do", entry.do), ("Don't", entry.dont)):
        if items:
            body.append(f"{name}:\n" + "\n".join(f"- {item}" for item in items))
    body.append(f"Why: {entry.why}" if entry.why else "")
    if entry.rule:
        body.append(f"Rule ({entry.citation or entry.title}): {entry.rule}")
    return prompt()["entry"].format(id=entry.id, title=entry.title, kind=entry.kind, lang=entry.lang,
                                    jurisdiction=entry.jurisdiction, body="\n".join(b for b in body if b))


def clean_item(line: str) -> str:
    """A card line without its list mark, citations and surrounding quotes."""
    item = LIST_MARK.sub("", CITATION.sub("", line).strip()).strip()
    for left, right in QUOTES:
        if len(item) > 1 and item[0] == left[0] and item[-1] == right[-1]:
            item = item[1:-1].strip()
    return item


def parse_card(text: str) -> Card:
    """The say / do / don't / why sections of a draft, under their headings in either language."""
    heads = {labels(lang)[s].lower(): s for lang in ("zh", "en") for s in SECTIONS}
    parts: dict[str, list[str]] = {s: [] for s in SECTIONS}
    section = None
    for line in text.splitlines():
        key = line.strip().strip("#*:： ").lower()
        if key in heads:
            section = heads[key]
        elif section is not None and (item := clean_item(line)):
            parts[section].append(item)
    return Card(say=tuple(parts["say"]), do=tuple(parts["do"]), dont=tuple(parts["dont"]),
                why=" ".join(parts["why"]))


class Drafter:
    """Drafts a card with a chat model from the retrieved entries; falls back to the composed card."""

    def __init__(self, model, guard, lookup: Lookup, *, timeout_s: float = 4.0):
        self.model = model
        self.guard = guard
        self.lookup = lookup
        self.timeout_s = timeout_s

    def draft(self, composed: Answer, hits: list[Hit], question: str, history: tuple[str, ...] = (),
              jurisdiction: str = "CN") -> Answer:
        """The model's card when grounded and clean; otherwise ``composed`` with ``fallback`` set."""
        try:
            raw = self.write(self.messages(hits, question, history, composed.lang))
            return self.accept(raw, hits, composed, jurisdiction)
        except Rejected as exc:
            reason, detail = exc.reason, exc.detail
        except TimeoutError:
            reason, detail = "timeout", f"no complete draft within {self.timeout_s:g} s"
        except Exception as exc:  # noqa: BLE001 - any model or client failure means the vetted card
            reason, detail = "error", type(exc).__name__  # the type only: messages may echo request data
        log.warning("LLM draft replaced by the composed card: %s (%s); entries %s", reason, detail,
                    ", ".join(h.entry.id for h in hits))
        return replace(composed, fallback=reason)

    def messages(self, hits: list[Hit], question: str, history: tuple[str, ...], lang: str) -> list:
        """The system prompt holding only the retrieved entries, then the conversation and question."""
        from langchain_core.messages import HumanMessage, SystemMessage

        p, lab = prompt(), labels(lang)
        system = p["system"].format(
            example_id=hits[0].entry.id, no_answer=p["no_answer"], language=p["languages"][lang],
            say=lab["say"], do=lab["do"], dont=lab["dont"], why=lab["why"],
            entries="\n".join(entry_text(h.entry) for h in hits))
        turns = "\n".join(f"- {h}" for h in history)
        conversation = p["conversation"].format(turns=turns) if turns else ""
        return [SystemMessage(system), HumanMessage(p["user"].format(conversation=conversation, question=question))]

    def write(self, messages: list) -> str:
        """The model's whole reply, streamed into a hidden buffer; TimeoutError past the deadline."""
        buffer: list[str] = []
        failed: list[BaseException] = []
        stop = threading.Event()

        def run() -> None:
            try:
                for chunk in self.model.stream(messages):
                    if stop.is_set():  # abandoned after the deadline: stop reading
                        return
                    buffer.append(chunk.text)
            except Exception as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failed.append(exc)

        worker = threading.Thread(target=run, name="coach-draft", daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        if worker.is_alive():
            stop.set()
            raise TimeoutError
        if failed:
            raise failed[0]
        return "".join(buffer)

    def accept(self, raw: str, hits: list[Hit], composed: Answer, jurisdiction: str) -> Answer:
        """The draft as an Answer, or Rejected: it must cite given entries only, fit the card, pass the guard."""
        lang = composed.lang
        text = THINKING.sub("", raw).strip()
        if not text.rstrip(".。") or text.rstrip(".。") == prompt()["no_answer"]:
            raise Rejected("empty")
        given = {h.entry.id: h.entry for h in hits}
        cited = set(CITATION.findall(text))
        unknown = sorted(cited - set(given))
        if unknown:
            raise Rejected("unknown_citation", f"{len(unknown)} cited id(s) not among the retrieved entries")
        if not cited:
            raise Rejected("no_citation")
        card = parse_card(text)
        if not (card.say or card.do):
            raise Rejected("shape", "no lines to say or do under the expected headings")
        if detect_lang("\n".join((*card.say, *card.do))) != lang:
            raise Rejected("language", f"not written in {lang}")
        verdict = self.check(text, card, jurisdiction)
        if verdict.blocked:
            raise Rejected("flagged", ",".join(sorted({c for f in verdict.flagged for c in f.categories})))
        used = [e for e in given.values() if e.id in cited]  # retrieval order, never the model's ids
        card = replace(card, rules=self.rules(used, lang))
        sources = tuple(source_of(e) for e in used)
        return replace(composed, text=render(card, lang, sources, prompt()["note"][lang]), card=card,
                       sources=sources, fallback="")

    def check(self, text: str, card: Card, jurisdiction: str):
        """The output guard on every line the agent will be shown (say, do, don't, why), each read for what it
        is, and on the lines to say and do together, as an approved entry's lines are checked when published;
        the draft is new text, so this runs on every draft."""
        lines = [(name, i, line) for name in ("say", "do", "dont") for i, line in enumerate(getattr(card, name))]
        lines += [("why", 0, card.why)] if card.why else []
        return check_lines(self.guard, lines, jurisdiction)

    def rules(self, used: list[Entry], lang: str) -> tuple[tuple[str, str], ...]:
        """The rules the cited entries rely on, from the knowledge base (never from the model)."""
        out: list[tuple[str, str]] = []
        for entry in used:
            own = [(entry.citation or entry.title, entry.rule)] if entry.kind == "regulation" else []
            out += [r for r in (*own, *rules_from(regulations_of(entry.refs, lang, self.lookup))) if r not in out]
        return tuple(out)


def replay(answer: Answer) -> Iterator[str]:
    """A committed answer's text a line at a time, for ``st.write_stream`` (its sources come last)."""
    yield from answer.text.splitlines(keepends=True)
