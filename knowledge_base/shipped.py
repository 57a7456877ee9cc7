"""The knowledge base shipped in the repository, and the digest that proves a folder is exactly it.

The shipped entries are the project's own reviewed content (reviewed as files, by pull request),
so they are the one import that publishes without a second approver in the app. The digest over
every file's path and bytes is recorded in ``entries.sha256``; a bootstrap recomputes it and
refuses any folder that differs by a byte. After reviewing a change to the entries, a maintainer
records the new digest, and the laws the entries name, with ``python -m knowledge_base.shipped --write``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import cache
from pathlib import Path

SHIPPED_DIR = Path(__file__).with_name("entries")
DIGEST_PATH = Path(__file__).with_name("entries.sha256")
LAWS_PATH = Path(__file__).with_name("entries.laws.json")


def folder_digest(root: Path) -> str:
    """SHA-256 over the sorted relative paths and contents of every ``.md`` file under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.md")):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def recorded_digest() -> str:
    """The digest recorded for the shipped entries."""
    return DIGEST_PATH.read_text(encoding="ascii").split()[0]


def laws_in(root: Path) -> tuple[str, ...]:
    """The laws the approved regulation entries under ``root`` name (reads every entry file)."""
    from knowledge_base.entries import load_entries
    from knowledge_base.types import laws_named

    return laws_named([e for e in load_entries(root) if e.status == "approved"])


@cache
def shipped_laws() -> tuple[str, ...]:
    """The laws the shipped regulation entries name: what a store holding the shipped knowledge base knows,
    so the bootstrap vets with the guard the store will have once it is published. Recorded beside the digest
    (reading every entry file would cost each start 0.3 s); a bootstrap refuses files that are not the
    recorded ones, so the record cannot describe other files."""
    return tuple(json.loads(LAWS_PATH.read_text(encoding="utf-8")))


if __name__ == "__main__":  # python -m knowledge_base.shipped [--write]
    value = folder_digest(SHIPPED_DIR)
    if "--write" in sys.argv:
        DIGEST_PATH.write_text(value + "\n", encoding="ascii")
        LAWS_PATH.write_text(json.dumps(laws_in(SHIPPED_DIR), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(value)
