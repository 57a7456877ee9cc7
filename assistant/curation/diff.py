"""Versions side by side for reviewers, and the whole knowledge base as a zip of entry files."""

from __future__ import annotations

import difflib
import io
import tempfile
import zipfile
from pathlib import Path

from knowledge_base.curation import field_diff
from knowledge_base.sql_store import SqlStore
from knowledge_base.types import Entry


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
