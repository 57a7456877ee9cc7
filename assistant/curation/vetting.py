"""Vet a document of training material (.txt, .md, .docx, .pptx, .pdf) with the knowledge base's known rules."""

from __future__ import annotations

from pathlib import Path

from assistant.curation.documents import read_document
from assistant.settings import Settings
from assistant.wiring import known_laws
from guardrails import Guard
from guardrails.vetting import VettedPassage, vet_document
from knowledge_base.store import FileEntrySource


def vet_file(settings: Settings, path: Path, jurisdiction: str = "CN") -> list[VettedPassage]:
    """Passages of ``path`` with the guard's verdict on each; nothing is stored."""
    text = read_document(path)
    entries = FileEntrySource(settings.entries_dir).list_approved()
    guard = Guard(known_laws=known_laws(entries))
    return vet_document(guard, text, jurisdiction)
