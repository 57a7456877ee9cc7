"""Entries back to Markdown files in the entry format (docs/entry-format.md), so content can be reviewed as files."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import fields, replace
from pathlib import Path

import yaml

from knowledge_base.entries import EntryError, EntryProblem, parse_entry
from knowledge_base.types import STATUSES, Entry

_FRONT = ("id", "title", "topic", "kind", "lang", "jurisdiction", "status", "version", "refs", "pair",
          "questions", "alternative_for", "citation", "effective", "expires")
_OPTIONAL = ("pair", "questions", "alternative_for", "citation", "effective", "expires")
_HEADINGS = (("situation", "Situation"), ("say", "Say"), ("do", "Do"), ("dont", "Don't"), ("why", "Why"),
             ("rule", "Rule"))


def file_status(status: str) -> str:
    """The file format knows approved, draft and retired; an entry under review is a draft on file."""
    return status if status in STATUSES else "draft"


def render_entry(entry: Entry) -> str:
    """The entry as one Markdown file: YAML front matter, then the body sections."""
    meta = {}
    for name in _FRONT:
        value = getattr(entry, name)
        if name in _OPTIONAL and not value:
            continue
        meta[name] = list(value) if isinstance(value, tuple) else value
    meta["status"] = file_status(entry.status)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None, width=10**6)
    parts = [f"---\n{front}---\n"]
    for name, heading in _HEADINGS:
        value = getattr(entry, name)
        if value:
            body = "\n".join(f"- {item}" for item in value) if isinstance(value, tuple) else value
            parts.append(f"## {heading}\n{body}\n")
    return "\n".join(parts)


def _tidy(entry: Entry) -> Entry:
    changes = {}
    for f in fields(Entry):
        value = getattr(entry, f.name)
        if isinstance(value, str) and f.name != "path":
            changes[f.name] = value.strip()
        elif isinstance(value, tuple):
            changes[f.name] = tuple(v.strip() for v in value if v.strip())
    changes["citation"] = changes.get("citation") or None
    changes["pair"] = changes.get("pair") or None
    return replace(entry, **changes)


def check_entry(entry: Entry) -> Entry:
    """The entry tidied (whitespace) if it follows the entry format and survives a file round trip.

    Raises EntryError naming the field: the same rules as `coach kb validate`, plus one line per list item.
    """
    tidy = _tidy(entry)
    parsed = parse_entry(render_entry(replace(tidy, status="draft", version=1)), tidy.id or "(new entry)")
    for f in fields(Entry):
        if f.name in ("path", "status", "version"):
            continue
        if getattr(parsed, f.name) != getattr(tidy, f.name):
            reason = "list items must be single lines" if isinstance(getattr(tidy, f.name), tuple) \
                else "would not read back the same from a file (a line starting with '## '?)"
            raise EntryError([EntryProblem(tidy.id, f.name, reason)])
    return tidy


def write_entries(entries: list[Entry], root: Path) -> None:
    """Write ``root/<topic>/<id>.md`` for each entry; ``root`` appears complete or not at all."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root} exists and is not an empty folder")
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        for entry in entries:
            path = staging / entry.topic / f"{entry.id}.md"
            path.parent.mkdir(exist_ok=True)
            path.write_text(render_entry(entry), encoding="utf-8")
        if root.exists():
            root.rmdir()
        os.replace(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
