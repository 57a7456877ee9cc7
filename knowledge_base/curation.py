"""The curation rules: lifecycle states, who may do what, and the errors that say why not.

An entry moves draft → in_review → approved (published) → retired. Any edit makes a new version
and puts the entry back to draft; the last approved version keeps serving until a second person
approves the new one. The store enforces these rules (knowledge_base/sql_store.py); this module
holds them as data and small pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Protocol

from knowledge_base.types import Entry

DRAFT, IN_REVIEW, APPROVED, RETIRED = "draft", "in_review", "approved", "retired"
LIFECYCLE = (DRAFT, IN_REVIEW, APPROVED, RETIRED)
ROLES = ("agent", "trainer", "admin")
EDITOR_ROLES = ("trainer", "admin")

# action -> the states it may start from, and the state it leads to
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((DRAFT,), IN_REVIEW),
    "reject": ((IN_REVIEW,), DRAFT),
    "approve": ((IN_REVIEW,), APPROVED),
    "retire": ((DRAFT, IN_REVIEW, APPROVED), RETIRED),
    "restore": ((RETIRED,), DRAFT),  # back to draft: a restored entry is published only after a new review
}

# Imported drafts carry this in the Do/Don't/Why lines a trainer still has to write (the entry format
# requires them); such an entry cannot be submitted or approved until every one is replaced.
PLACEHOLDER = "TODO(trainer)"

_NOT_CONTENT = ("path", "status", "version")


class CurationError(Exception):
    """An action the curation rules refuse; the message says why."""


class NotFoundError(CurationError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class ConflictError(CurationError):
    """Someone changed the entry since the caller read it: reload and redo the change."""

    def __init__(self, entry_id: str, expected: int | None, current: int | None, by: str):
        self.entry_id, self.expected, self.current, self.by = entry_id, expected, current, by
        if expected is None and current is not None:
            what = (f"{entry_id} already exists (revision {current}, last edited by {by}); to change it, "
                    f"save with the revision you read (CLI: --revision {current})")
        else:
            seen = f" (now revision {current}, you had {expected})" if current is not None else ""
            what = f"{entry_id} was changed by {by or 'someone'} since you read it{seen}"
        super().__init__(f"{what} — nothing was saved; reload it and apply your change again")


class TransitionError(CurationError):
    """The action does not apply to the entry's current state."""


class TwoPersonError(CurationError):
    """The approver is the last editor."""


class RoleError(CurationError):
    """The user is unknown or not allowed to curate."""


class SignInError(RoleError):
    """No valid sign-in: a wrong password, or a session or token that is unknown, expired or revoked."""


class VettingError(CurationError):
    """The guardrails flag some of the entry's Say/Do lines; ``flagged`` lists (text, categories)."""

    def __init__(self, entry_id: str, flagged: list[tuple[str, tuple[str, ...]]]):
        self.entry_id, self.flagged = entry_id, flagged
        lines = "; ".join(f"{text[:60]!r} ({', '.join(cats) or 'flagged'})" for text, cats in flagged)
        super().__init__(f"{entry_id} cannot be approved: the guardrails flag {len(flagged)} line(s): {lines}")


@dataclass(frozen=True)
class EntryRecord:
    """An entry's working state: its latest version (with lifecycle status) and what is published."""

    entry: Entry
    revision: int
    published_version: int | None
    last_editor: str
    updated_at: datetime | None = None

    @property
    def status(self) -> str:
        return self.entry.status


@dataclass(frozen=True)
class VersionInfo:
    """One saved version: who wrote it and when, and whether it was approved (and by whom)."""

    entry_id: str
    version: int
    editor: str
    created_at: datetime
    approved_by: str | None


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    entry_id: str | None
    version: int | None
    diff: dict


@dataclass(frozen=True)
class User:
    name: str
    role: str


@dataclass(frozen=True)
class Principal:
    """A signed-in user: only ``Users.sign_in`` or ``Users.from_token`` make one, and every change the
    store makes checks ``session`` against the sessions it issued (a typed name is not a sign-in)."""

    name: str
    role: str
    session: str = field(repr=False)

    @property
    def curates(self) -> bool:
        return self.role in EDITOR_ROLES


def next_state(action: str, status: str, entry_id: str) -> str:
    """The state ``action`` leads to from ``status``; TransitionError when it does not apply."""
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise TransitionError(f"cannot {action} {entry_id}: it is {status} (needs {' or '.join(sources)})")
    return target


def content_of(entry: Entry) -> dict:
    """An entry's content as JSON-ready data: every field but path, status and version."""
    out = {}
    for f in fields(Entry):
        if f.name in _NOT_CONTENT:
            continue
        value = getattr(entry, f.name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, date):
            value = value.isoformat()
        out[f.name] = value
    return out


def entry_from(content: dict, status: str, version: int) -> Entry:
    """The Entry for stored ``content`` at ``version`` in lifecycle ``status``."""
    data = dict(content)
    for name in ("effective", "expires"):
        data[name] = date.fromisoformat(data[name]) if data.get(name) else None
    for f in fields(Entry):
        if isinstance(data.get(f.name), list):
            data[f.name] = tuple(data[f.name])
    return Entry(**data, status=status, version=version)


def field_diff(old: Entry | None, new: Entry) -> dict:
    """``{field: [old, new]}`` for every content field that differs (all non-empty ones when new)."""
    before = content_of(old) if old else {}
    after = content_of(new)
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v and (old or v not in (None, "", []))}


def unfinished_fields(entry: Entry) -> list[str]:
    """The content fields that still hold the import PLACEHOLDER."""
    out = []
    for name, value in content_of(entry).items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and PLACEHOLDER in v for v in values):
            out.append(name)
    return out


# What a card can show of an entry, each line judged on its own when the version is approved.
SHOWN_FIELDS = ("title", "say", "do", "dont", "why", "rule")


def shown_lines(entry: Entry) -> list[tuple[str, int, str]]:
    """(field, index, text) of every line an agent can be shown from ``entry``."""
    out = []
    for name in SHOWN_FIELDS:
        value = getattr(entry, name)
        items = value if isinstance(value, tuple) else (value,)
        out += [(name, i, text) for i, text in enumerate(items) if text and text.strip()]
    return out


class EntryVetter(Protocol):
    """The guardrails' verdict on a whole entry and each shown line (wired in by the assistant):
    ``{"guard": fingerprint, "blocked": bool, "flagged": [{"field", "index", "text", "categories", ...}]}``."""

    fingerprint: str

    def __call__(self, entry: Entry) -> dict: ...


def is_served(version: Any) -> bool:
    """Whether a stored version carries the proof the served set requires: approved by someone other
    than its editor, and a clean verdict on every shown line."""
    vetting = version.vetting or {}
    return bool(version.approved_by) and version.approved_by != version.editor and vetting.get("blocked") is False
