"""Where approved entries come from: the one seam between content and retrieval."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Protocol

from knowledge_base.entries import load_entries
from knowledge_base.types import Entry

ENTRIES_DIR = Path(__file__).with_name("entries")


class EntrySource(Protocol):
    """Anything that can list the entries agents may be shown."""

    def list_approved(self, today: date | None = None) -> list[Entry]:
        """Approved entries that are in date on ``today`` (default: now)."""
        ...


class FileEntrySource:
    """Entries read from Markdown files (the shipped starter content)."""

    def __init__(self, root: Path = ENTRIES_DIR):
        self.root = root

    def list_all(self) -> list[Entry]:
        return load_entries(self.root)

    def list_approved(self, today: date | None = None) -> list[Entry]:
        today = today or date.today()
        return [e for e in self.list_all() if e.status == "approved" and e.in_date(today)]
