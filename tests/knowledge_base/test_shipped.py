"""The shipped knowledge base is provably itself: its recorded digest (knowledge_base/entries.sha256) is the
digest of the files, and any change to a file's bytes or to the set of files changes it."""

from __future__ import annotations

import shutil

import pytest

from knowledge_base.shipped import SHIPPED_DIR, folder_digest, laws_in, recorded_digest, shipped_laws


def test_the_recorded_digest_is_the_shipped_files_digest():
    """Else a fresh install refuses to bootstrap its own knowledge base (after reviewing an edit to the entries,
    record it: python -m knowledge_base.shipped --write)."""
    assert folder_digest(SHIPPED_DIR) == recorded_digest()


def test_the_recorded_laws_are_the_ones_the_shipped_regulation_entries_name():
    """The guard a bootstrap vets with knows them (python -m knowledge_base.shipped --write records them)."""
    assert shipped_laws() == laws_in(SHIPPED_DIR) and len(shipped_laws()) >= 10


@pytest.mark.parametrize("change", ["one byte", "a file renamed", "a file added", "a file removed"])
def test_any_change_to_the_files_changes_the_digest(tmp_path, change):
    folder = tmp_path / "entries"
    shutil.copytree(SHIPPED_DIR, folder)
    victim = sorted(folder.rglob("*.md"))[0]
    if change == "one byte":
        data = bytearray(victim.read_bytes())
        data[-1] ^= 1
        victim.write_bytes(bytes(data))
    elif change == "a file renamed":
        victim.rename(victim.with_name("z" + victim.name))
    elif change == "a file added":
        (victim.parent / "extra.md").write_text("---\n", encoding="utf-8")
    else:
        victim.unlink()
    assert folder_digest(folder) != recorded_digest()
