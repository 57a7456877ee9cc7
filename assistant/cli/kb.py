"""The trainer workflow on the command line: `coach kb list|show|history|save|submit|approve|retire|export|audit`
and `coach users add|list` (wired into assistant/cli.py by ``register``).

Exit codes: 0 done; 1 refused by the curation rules (two-person rule, vetting, role, state);
2 bad input (unknown entry or version, malformed file, bad option); 3 conflict (the entry changed
since the --revision you read: reload it and redo your change).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_CONFLICT = 1, 2, 3

users_app = typer.Typer(help="Logins for trainers, admins and agents (passwords stored as bcrypt hashes).",
                        no_args_is_help=True)

User = Annotated[str, typer.Option("--user", help="Who does it (a trainer or admin from `coach users add`); "
                                   "their password is asked for, or read from COACH_PASSWORD.")]
Revision = Annotated[int | None, typer.Option(help="The revision you read (from `kb show`); refuses if it changed.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _exit(message: str, code: int) -> typer.Exit:
    print(f"coach: {message}", file=sys.stderr)
    return typer.Exit(code)


@contextmanager
def _reported() -> Iterator[None]:
    """Curation errors become a message on stderr and a meaningful exit code."""
    from knowledge_base import EntryError
    from knowledge_base.curation import ConflictError, CurationError, NotFoundError, VettingError

    try:
        yield
    except ConflictError as exc:
        raise _exit(str(exc), EXIT_CONFLICT) from None
    except VettingError as exc:
        for text, categories in exc.flagged:
            print(f"flagged ({', '.join(categories) or 'violation'}): {text}", file=sys.stderr)
        raise _exit(str(exc).split(":")[0] + ": edit the flagged lines, save and submit again", EXIT_REFUSED) from None
    except NotFoundError as exc:
        raise _exit(str(exc), EXIT_BAD_INPUT) from None
    except CurationError as exc:
        raise _exit(str(exc), EXIT_REFUSED) from None
    except EntryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise _exit("nothing was stored", EXIT_BAD_INPUT) from None
    except (ValueError, OSError) as exc:
        raise _exit(str(exc), EXIT_BAD_INPUT) from None


def _store():
    from assistant.cli.common import settings
    from assistant.curation.store import open_store

    return open_store(settings())


def _sign_in(store, user: str) -> None:
    """Nothing is done in a user's name without their password (from COACH_PASSWORD, else asked for
    on the terminal or read from piped stdin): the audit log and the two-person rule rest on it."""
    from assistant.cli.common import settings

    secret = settings().password
    if secret is not None:
        password = secret.get_secret_value()
    elif sys.stdin.isatty():
        password = typer.prompt(f"Password for {user}", hide_input=True, err=True)
    else:  # piped: one line
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _exit(f"no password for {user!r}: type it when asked, pipe it on stdin or set COACH_PASSWORD; "
                        "nothing was changed", EXIT_BAD_INPUT)
    if store.users.authenticate(user, password) is None:
        raise _exit(f"wrong user name or password for {user!r}: nothing was changed", EXIT_REFUSED)


def _record_dict(rec) -> dict:
    e = rec.entry
    return {"id": e.id, "title": e.title, "topic": e.topic, "kind": e.kind, "lang": e.lang,
            "jurisdiction": e.jurisdiction, "status": rec.status, "version": e.version,
            "published_version": rec.published_version, "revision": rec.revision, "last_editor": rec.last_editor}


def _said(rec, file=None) -> None:
    served = f"v{rec.published_version} published" if rec.published_version else "not published"
    print(f"{rec.entry.id}: {rec.status}, version {rec.entry.version} ({served}), revision {rec.revision}", file=file)


def import_folder(settings, path: Path, as_json: bool) -> None:
    """`coach kb import FOLDER`: every entry file, validated, into the store in one transaction."""
    from assistant.curation.store import open_store

    if not path.is_dir():
        raise _exit(f"{path}: importing into the store takes a folder of entry files "
                    "(<topic>/<id>.md); vet a document with --dry-run", EXIT_BAD_INPUT)
    with _reported():
        report = open_store(settings).import_folder(path)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"imported {len(report['added'])} entries, {len(report['unchanged'])} unchanged, "
          f"{len(report['kept'])} kept as the store has them")
    for entry_id in report["kept"]:
        print(f"  kept (the store's version differs from the file): {entry_id}")


def import_document(settings, path: Path, user: str | None, jurisdiction: str, as_json: bool) -> None:
    """`coach kb import FILE --user U`: a document's sound passages as drafts (one transaction); flagged
    passages are listed, not stored."""
    from assistant.curation.documents import read_document
    from assistant.curation.drafts import Importer
    from assistant.curation.store import open_store

    if not user:
        raise _exit(f"{path}: importing a document as drafts needs --user (a trainer or admin); a folder of "
                    "entry files imports as it is, and --dry-run vets a document without storing anything",
                    EXIT_BAD_INPUT)
    with _reported():
        read_document(path)  # a bad file is refused before any model loads
        store = open_store(settings)
        _sign_in(store, user)
        result = Importer.from_store(settings, store).import_file(path, user=user, jurisdiction=jurisdiction)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    for entry in result.added:
        print(f"draft  {entry.id:<40} {entry.topic:<26} {entry.lang}  {entry.situation[:60]}")
    for p in result.flagged:
        print(f"FLAGGED ({', '.join(p.verdict.categories) or 'violation'}), not stored: {p.text[:80]}")
    print(f"{path.name}: {len(result.added)} drafts added, {len(result.unchanged)} already imported, "
          f"{len(result.flagged)} passages flagged and not stored")


def kb_list(
    topic: Annotated[str | None, typer.Option(help="A topic id from taxonomy.yaml.")] = None,
    lang: Annotated[str | None, typer.Option(help="zh or en.")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="CN, US or ALL.")] = None,
    status: Annotated[str | None, typer.Option(help="draft, in_review, approved or retired.")] = None,
    as_json: AsJson = False,
):
    """List the store's entries (their working state), filtered."""
    from knowledge_base.curation import LIFECYCLE

    if status and status not in LIFECYCLE:
        raise _exit(f"unknown status {status!r}; use one of {', '.join(LIFECYCLE)}", EXIT_BAD_INPUT)
    records = _store().list(topic=topic, lang=lang, jurisdiction=jurisdiction and jurisdiction.upper(),
                            status=status)
    if as_json:
        print(json.dumps([_record_dict(r) for r in records], ensure_ascii=False, indent=2))
        return
    for r in records:
        served = f"v{r.published_version}" if r.published_version else "-"
        print(f"{r.entry.id:<52} {r.status:<9} v{r.entry.version:<3} served {served:<4} "
              f"{r.entry.lang} {r.entry.jurisdiction:<3} {r.entry.title}")
    print(f"{len(records)} entries", file=sys.stderr)


def kb_show(
    entry_id: Annotated[str, typer.Argument(help="The entry id.")],
    version: Annotated[int | None, typer.Option(help="A past version (default: the newest).")] = None,
    as_json: AsJson = False,
):
    """Show an entry as its Markdown file, with its state (status, revision, published version)."""
    from knowledge_base.curation import content_of
    from knowledge_base.export import render_entry

    store = _store()
    with _reported():
        rec = store.get(entry_id)
        entry = rec.entry if version is None else store.get_version(entry_id, version)
    if as_json:
        print(json.dumps({**_record_dict(rec), "shown_version": entry.version, "content": content_of(entry)},
                         ensure_ascii=False, indent=2))
        return
    _said(rec, file=sys.stderr)  # stdout stays a valid entry file: `coach kb show ID > ID.md`
    print(render_entry(entry), end="")


def kb_history(entry_id: Annotated[str, typer.Argument(help="The entry id.")]):
    """Every saved version of an entry: who wrote it, when, and who approved it."""
    with _reported():
        versions = _store().history(entry_id)
    for v in versions:
        approved = f"approved by {v.approved_by}" if v.approved_by else "not approved"
        print(f"v{v.version}  {v.created_at:%Y-%m-%d %H:%M}  by {v.editor}  {approved}")


def kb_save(
    path: Annotated[Path, typer.Argument(help="An entry file (<topic>/<id>.md), e.g. edited from `kb export`.")],
    user: User,
    revision: Revision = None,
):
    """Save an entry file as a new draft version (a new entry when --revision is not given)."""
    from knowledge_base.entries import read_entry_file

    store = _store()
    _sign_in(store, user)
    with _reported():
        rec = store.save(read_entry_file(path), user=user, expected_revision=revision)
    _said(rec)


def _move(action: str, entry_id: str, user: str, revision: int | None) -> None:
    store = _store()
    _sign_in(store, user)
    with _reported():
        rec = getattr(store, action)(entry_id, user=user, expected_revision=revision)
    _said(rec)


def kb_submit(entry_id: Annotated[str, typer.Argument()], user: User, revision: Revision = None):
    """Send a draft for review by a second person."""
    _move("submit", entry_id, user, revision)


def kb_approve(entry_id: Annotated[str, typer.Argument()], user: User, revision: Revision = None):
    """Publish the version under review (not its last editor; every Say/Do line must pass vetting)."""
    _move("approve", entry_id, user, revision)


def kb_retire(entry_id: Annotated[str, typer.Argument()], user: User, revision: Revision = None):
    """Take an entry out of service at once."""
    _move("retire", entry_id, user, revision)


def kb_export(directory: Annotated[Path, typer.Argument(help="A new or empty folder.")]):
    """Write every entry's newest version as Markdown files (<topic>/<id>.md) for review as files."""
    with _reported():
        count = _store().export(directory)
    print(f"exported {count} entries to {directory}")


def kb_audit(
    entry_id: Annotated[str | None, typer.Argument(help="One entry (default: all).")] = None,
    limit: Annotated[int, typer.Option(help="How many lines, newest first.")] = 50,
    as_json: AsJson = False,
):
    """The audit log: who did what, when, and the change."""
    events = _store().audit(entry_id, limit)
    if as_json:
        print(json.dumps([{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "entry_id": e.entry_id,
                           "version": e.version, "diff": e.diff} for e in events], ensure_ascii=False, indent=2))
        return
    for e in events:
        change = ", ".join(e.diff) if e.action in ("create", "edit", "import", "import_draft") else json.dumps(e.diff,
                                                                                               ensure_ascii=False)
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<12} {e.action:<15} {e.entry_id or '-'} "
              f"v{e.version or '-'}  {change}")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option(help="agent, trainer or admin.")],
    by: Annotated[str | None, typer.Option("--by", help="The admin adding it: required once the store has an "
                                           "admin (their password is asked for, or read from COACH_PASSWORD).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
):
    """Add a login; the password is asked for (or read from stdin) and stored only as a bcrypt hash.
    The first logins may be added freely (to set up the first admin); after that only by an admin."""
    store = _store()
    if any(u.role == "admin" for u in store.users.list()):
        if not by:
            raise _exit("this store has an admin: adding a login needs --by ADMIN", EXIT_REFUSED)
        _sign_in(store, by)
        if next(u for u in store.users.list() if u.name == by).role != "admin":
            raise _exit(f"{by} is not an admin: only admins add logins", EXIT_REFUSED)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _reported():
        user = store.users.add(name, role, password, by=by or "system")
    print(f"added {user.name} ({user.role})")


@users_app.command("list")
def users_list():
    """List the logins and their roles."""
    for user in _store().users.list():
        print(f"{user.name:<24} {user.role}")


def register(kb_app: typer.Typer, app: typer.Typer) -> None:
    """Add the curation commands to `coach kb` and `coach users`."""
    for name, command in (("list", kb_list), ("show", kb_show), ("history", kb_history), ("save", kb_save),
                          ("submit", kb_submit), ("approve", kb_approve), ("retire", kb_retire),
                          ("export", kb_export), ("audit", kb_audit)):
        kb_app.command(name)(command)
    app.add_typer(users_app, name="users")
