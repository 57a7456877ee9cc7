"""Wiring of the curation store: built from Settings, with the guardrails vetting every approval.

>>> store = open_store(Settings())          # SQLite in the data directory, or COACH_DATABASE_URL
>>> store.approve("discount-request-insists-zh", user="bob")   # vetted by the Guard first
>>> entry_source(Settings()).list_approved()                    # what build_index can serve from
"""

from __future__ import annotations

import difflib
import io
import tempfile
import zipfile
from functools import cache
from pathlib import Path

from assistant.settings import Settings
from knowledge_base.curation import ConflictError, field_diff, lines_to_vet
from knowledge_base.sql_store import SqlStore
from knowledge_base.types import Entry


def open_store(settings: Settings) -> SqlStore:
    """The store at ``settings.sql_url``; approvals are vetted by a Guard loaded on first use."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    @cache
    def guard():
        from assistant.wiring import known_laws
        from guardrails import Guard

        # citations of laws the knowledge base's regulation entries do not name are flagged too
        return Guard(known_laws=known_laws(store.list_approved()))

    store = SqlStore(settings.sql_url, vet=lambda text: guard().vet(text))
    return store


def entry_source(settings: Settings) -> SqlStore:
    """The store as the coach's EntrySource; an empty store first imports the shipped entries."""
    store = open_store(settings)
    if store.count() == 0:
        try:
            store.import_folder(settings.entries_dir)
        except ConflictError:  # another process ran the first import at the same moment
            pass
    return store


def vet_lines(store: SqlStore, entry: Entry) -> list[tuple[str, object]]:
    """Each Say/Do line of ``entry`` with the guard's verdict on it (what approval will check)."""
    return [(line, store.vet(line)) for line in lines_to_vet(entry)]


def version_diff(old: Entry | None, new: Entry) -> list[tuple[str, str]]:
    """(field, unified diff) for every content field that differs between two versions."""
    out = []
    for name, (before, after) in field_diff(old, new).items():
        lines = difflib.unified_diff(_lines(before), _lines(after), lineterm="", n=2)
        out.append((name, "\n".join(list(lines)[2:])))
    return out


def _lines(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else str(value).splitlines()


def export_zip(store: SqlStore) -> bytes:
    """Every entry's newest version as Markdown files (<topic>/<id>.md) in a zip archive."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "entries"
        store.export(root)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*.md")):
                archive.write(path, path.relative_to(root.parent))
        return buffer.getvalue()
