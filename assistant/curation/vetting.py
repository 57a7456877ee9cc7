"""Vetting for curation: every shown line of an entry (kept with the version when it is approved), and
every passage of a document in a dry run, by the one guard of the process."""

from __future__ import annotations

from collections.abc import Callable

from assistant.prebuilt import shipped_verdicts
from guardrails import Guard
from guardrails.lines import check_lines
from guardrails.vetting import VettedPassage, vet_document
from knowledge_base.curation import shown_lines
from knowledge_base.types import Entry


class EntryVetting:
    """The store's EntryVetter: the guard's verdict on every shown line of an entry, worked out once per
    content and guard (a guard retrained or new regulation entries change the fingerprint)."""

    def __init__(self, guard: Callable[[], Guard], *, prebuilt: bool = True):
        self._guard = guard  # built on the first verdict: reading the store needs no model
        self._prebuilt = prebuilt  # the shipped entries' verdicts, worked out ahead (assistant/prebuilt)
        self._done: dict[tuple[str, str], dict] = {}

    @property
    def guard(self) -> Guard:
        return self._guard()

    @property
    def fingerprint(self) -> str:
        return self.guard.fingerprint

    def __call__(self, entry: Entry) -> dict:
        key = (entry.content_hash, self.fingerprint)
        if key not in self._done and self._prebuilt:
            ahead = shipped_verdicts(key[1]).get(key[0])
            if ahead is not None:
                self._done[key] = ahead
        if key not in self._done:
            jurisdiction = entry.jurisdiction if entry.jurisdiction != "ALL" else "CN"
            verdict = check_lines(self.guard, shown_lines(entry), jurisdiction)
            self._done[key] = {"guard": key[1], **verdict.to_dict()}
        return self._done[key]


def vet_text(guard: Guard, text: str, jurisdiction: str = "CN") -> list[VettedPassage]:
    """A document's passages with the guard's verdict on each (the dry run: nothing is stored)."""
    return vet_document(guard, text, jurisdiction)
