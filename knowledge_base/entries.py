"""Read and validate Markdown entry files (front matter + body sections)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from knowledge_base.taxonomy import Taxonomy, load_taxonomy
from knowledge_base.types import JURISDICTIONS, KINDS, LANGS, STATUSES, Entry

MAX_FILE_BYTES = 200_000
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: the shipped base loads 10x faster
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,79}$")
_HEADINGS = {"situation": "situation", "say": "say", "do": "do", "don't": "dont",
             "dont": "dont", "why": "why", "rule": "rule"}
_LIST_SECTIONS = ("say", "do", "dont")
_REQUIRED = ("id", "title", "topic", "kind", "lang", "jurisdiction", "status", "version", "refs")


@dataclass(frozen=True)
class EntryProblem:
    """Why one entry file is unusable: the file, the field and the reason."""

    path: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.reason}"


class EntryError(ValueError):
    """One or more entries are malformed; ``problems`` lists each."""

    def __init__(self, problems: list[EntryProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _sections(body: str) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    current = None
    for line in body.splitlines():
        if line.startswith("## "):
            current = _HEADINGS.get(line[3:].strip().lower())
            if current is None:
                raise ValueError(f"unknown section heading {line.strip()!r}")
            found[current] = []
        elif current:
            found[current].append(line)
    return {k: "\n".join(v).strip() for k, v in found.items()}


def _items(text: str) -> tuple[str, ...]:
    items = [ln.strip()[2:].strip() for ln in text.splitlines() if ln.strip().startswith("- ")]
    return tuple(i for i in items if i)


def _date(value, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{name}: not an ISO date ({value!r})") from exc


def _str_list(value, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def parse_entry(text: str, path: str, taxonomy: Taxonomy | None = None) -> Entry:
    """Parse one entry file's text; raise EntryError naming the field and reason."""
    taxonomy = taxonomy or load_taxonomy()

    def fail(field: str, reason: str) -> EntryError:
        return EntryError([EntryProblem(path, field, reason)])

    match = _FRONT.match(text.lstrip("\ufeff"))
    if not match:
        raise fail("front matter", "missing: the file must start with a '---' YAML block")
    try:
        meta = yaml.load(match.group(1), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise fail("front matter", f"invalid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(meta, dict):
        raise fail("front matter", "must be a mapping of fields")
    for name in _REQUIRED:
        if meta.get(name) in (None, ""):
            raise fail(name, "required field is missing")
    checks = [("kind", KINDS), ("lang", LANGS), ("jurisdiction", JURISDICTIONS), ("status", STATUSES)]
    for name, allowed in checks:
        if meta[name] not in allowed:
            raise fail(name, f"{meta[name]!r} is not one of {', '.join(allowed)}")
    if not isinstance(meta["id"], str) or not _ID.match(meta["id"]):
        raise fail("id", "must be 3-80 characters of a-z, 0-9 and '-'")
    if meta["topic"] not in taxonomy.topics:
        raise fail("topic", f"unknown topic {meta['topic']!r} (not in taxonomy.yaml)")
    if not isinstance(meta["version"], int) or isinstance(meta["version"], bool) or meta["version"] < 1:
        raise fail("version", "must be an integer >= 1")
    try:
        refs = _str_list(meta["refs"], "refs")
        questions = _str_list(meta.get("questions"), "questions")
        alternative_for = _str_list(meta.get("alternative_for"), "alternative_for")
        effective = _date(meta.get("effective"), "effective")
        expires = _date(meta.get("expires"), "expires")
        sections = _sections(match.group(2))
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise fail(field if reason else "body", reason or str(exc)) from exc
    for cat in alternative_for:
        if cat not in taxonomy.categories:
            raise fail("alternative_for", f"unknown category {cat!r}")
    needed = ("rule",) if meta["kind"] == "regulation" else ("situation", "do", "dont", "why")
    if meta["kind"] == "script":
        needed += ("say",)
    for name in needed:
        if not sections.get(name):
            heading = "Don't" if name == "dont" else name.capitalize()
            raise fail(f"## {heading}", f"section is required for kind {meta['kind']}")
    if meta["kind"] == "regulation" and not meta.get("citation"):
        raise fail("citation", "required for regulation entries")
    lists = {name: _items(sections.get(name, "")) for name in _LIST_SECTIONS}
    for name in needed:
        if name in _LIST_SECTIONS and not lists[name]:
            raise fail(f"## {name}", "must contain '- ' list items")
    return Entry(
        id=meta["id"], title=str(meta["title"]).strip(), topic=meta["topic"], kind=meta["kind"],
        lang=meta["lang"], jurisdiction=meta["jurisdiction"], status=meta["status"],
        version=meta["version"], refs=refs, pair=meta.get("pair") or None, questions=questions,
        alternative_for=alternative_for, citation=meta.get("citation"), effective=effective,
        expires=expires, situation=sections.get("situation", ""), say=lists["say"],
        do=lists["do"], dont=lists["dont"], why=sections.get("why", ""),
        rule=sections.get("rule", ""), path=path,
    )


def read_entry_file(path: Path, taxonomy: Taxonomy | None = None) -> Entry:
    """Read and parse one entry file, checking its size, encoding and placement."""
    where = str(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise EntryError([EntryProblem(where, "file", f"larger than {MAX_FILE_BYTES} bytes")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError([EntryProblem(where, "file", "not UTF-8 text")]) from exc
    entry = parse_entry(text, where, taxonomy)
    if entry.id != path.stem:
        raise EntryError([EntryProblem(where, "id", f"{entry.id!r} differs from the file name")])
    if entry.topic != path.parent.name:
        raise EntryError([EntryProblem(where, "topic", f"{entry.topic!r} differs from the folder")])
    return entry


def check_links(entries: list[Entry]) -> list[EntryProblem]:
    """Cross-entry rules: unique ids, refs resolve to regulations, pairs are mutual."""
    problems: list[EntryProblem] = []
    by_id: dict[str, Entry] = {}
    for e in entries:
        if e.id in by_id:
            problems.append(EntryProblem(e.path or e.id, "id", f"duplicate id (also in {by_id[e.id].path})"))
        by_id.setdefault(e.id, e)
    for e in entries:
        where = e.path or e.id
        for ref in e.refs:
            target = by_id.get(ref)
            if target is None:
                problems.append(EntryProblem(where, "refs", f"dangling ref {ref!r}"))
            elif target.kind != "regulation":
                problems.append(EntryProblem(where, "refs", f"{ref!r} is not a regulation entry"))
        if e.pair:
            other = by_id.get(e.pair)
            if other is None:
                problems.append(EntryProblem(where, "pair", f"unknown entry {e.pair!r}"))
            elif other.lang == e.lang or other.pair != e.id:
                problems.append(EntryProblem(where, "pair",
                                             f"{e.pair!r} must be the other-language entry pointing back"))
    return problems


def load_entries(root: Path, taxonomy: Taxonomy | None = None) -> list[Entry]:
    """Load every entry under ``root``; raise EntryError listing every problem found."""
    taxonomy = taxonomy or load_taxonomy()
    entries: list[Entry] = []
    problems: list[EntryProblem] = []
    for path in sorted(root.rglob("*.md")):
        try:
            entries.append(read_entry_file(path, taxonomy))
        except EntryError as exc:
            problems.extend(exc.problems)
    problems.extend(check_links(entries))
    if problems:
        raise EntryError(problems)
    return entries
