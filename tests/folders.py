"""Folders of shipped entry files for the tests that publish a few topics the way a deployment does (imported
for review, approved as a batch by a second person) instead of bootstrapping the whole knowledge base."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def entry_folder(dest: Path, shipped_entries, *, topics=(), ids=()) -> Path:
    """A folder of shipped entry files (<topic>/<id>.md): some topics or ids, with every entry they cite or pair."""
    by_id = {e.id: e for e in shipped_entries}
    wanted = {e.id for e in shipped_entries if e.topic in topics} | set(ids)
    todo = list(wanted)
    while todo:
        entry = by_id[todo.pop()]
        for linked in (*entry.refs, entry.pair):
            if linked and linked not in wanted:
                wanted.add(linked)
                todo.append(linked)
    for entry_id in wanted:
        src = Path(by_id[entry_id].path)
        (dest / src.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / src.parent.name / src.name)
    return dest


def use_data(mp: pytest.MonkeyPatch, data: Path) -> None:
    """Point the coach at ``data``, with no shipped bootstrap: what is served there came through review."""
    mp.setenv("COACH_DATA_DIR", str(data))
    mp.setenv("COACH_SHIPPED_ENTRIES", "false")
