"""`coach kb …`: validate, import (documents as drafts, folders for review), curate, export, audit.

Every change is made in a signed-in user's name (``--user``; the password is asked for, piped or
read from COACH_PASSWORD) and goes through services.curation, the same service the Knowledge base
page and the API use. Exit codes: see assistant/cli/common.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import fail, reported, services, sign_in

app = typer.Typer(help="Validate, import, curate (save, submit, approve, reject, retire, restore) and export "
                       "knowledge-base content.", no_args_is_help=True)
User = Annotated[str, typer.Option("--user", help="Who does it (a trainer or admin from `coach users add`); "
                                   "their password is asked for, or read from COACH_PASSWORD.")]
Revision = Annotated[int | None, typer.Option(help="The revision you read (from `kb show`); refuses if it changed.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _said(rec, file=None) -> None:
    served = f"v{rec.published_version} published" if rec.published_version else "not published"
    print(f"{rec.entry.id}: {rec.status}, version {rec.entry.version} ({served}), revision {rec.revision}", file=file)


def _record_dict(rec) -> dict:
    e = rec.entry
    return {"id": e.id, "title": e.title, "topic": e.topic, "kind": e.kind, "lang": e.lang,
            "jurisdiction": e.jurisdiction, "status": rec.status, "version": e.version,
            "published_version": rec.published_version, "revision": rec.revision, "last_editor": rec.last_editor}


@app.command("validate")
def kb_validate(path: Annotated[Path | None, typer.Argument(help="Entries folder (default: the shipped one).")] = None):
    """Check every entry: fields, topics, refs, pairs, duplicate ids. Exit 1 on problems."""
    from assistant.curation import EntryError

    if path is not None and not path.is_dir():
        raise fail(f"{path} is not a folder")
    try:
        entries = services().curation.validate(path)
    except EntryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise typer.Exit(1) from None
    print(f"{len(entries)} entries valid ({sum(e.status == 'approved' for e in entries)} approved)")


@app.command("import")
def kb_import(
    path: Annotated[Path, typer.Argument(help="A document of training material (.txt, .md, .docx, .pptx, .pdf), "
                                               "or a folder of entry files (<topic>/<id>.md).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Vet a document and print; store nothing.")] = False,
    as_json: AsJson = False,
    jurisdiction: Annotated[str, typer.Option(help="Jurisdiction whose rules are cited.")] = "CN",
    user: Annotated[str | None, typer.Option("--user", help="Who imports (a trainer or admin).")] = None,
    note: Annotated[str, typer.Option(help="Where a folder comes from, e.g. the pull request or commit.")] = "",
):
    """Vet a document (--dry-run), import its sound passages as drafts, or import a folder of entry files as
    new versions submitted for review (a second person approves them: `kb approve --batch`). Nothing an import
    stores reaches agents before that approval; each import is one transaction."""
    jurisdiction = jurisdiction.upper()
    if dry_run:
        with reported():
            passages = services().curation.dry_run(path, jurisdiction)
        if as_json:
            print(json.dumps({"passages": [p.to_dict() for p in passages]}, ensure_ascii=False, indent=2))
            return
        for p in passages:
            mark = "VIOLATION " + ",".join(p.verdict.categories) if p.verdict.blocked else "ok"
            print(f"[{mark}] {p.text[:120]}")
        print(f"\n{len(passages)} passages, {sum(p.verdict.blocked for p in passages)} flagged")
        return
    if not path.exists():
        raise fail(f"{path}: no such file or folder")
    if not user:
        raise fail(f"{path}: importing needs --user (a trainer or admin); --dry-run vets a document without "
                   "storing anything")
    if path.is_dir():
        return _import_folder(path, user, note, as_json)
    with reported():
        from assistant.curation.documents import read_document

        read_document(path)  # a bad file is refused before any model loads or anyone signs in
        result = services().curation.import_document(path, by=sign_in(user), jurisdiction=jurisdiction)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    for entry in result.added:
        print(f"draft  {entry.id:<40} {entry.topic:<26} {entry.lang}  {entry.situation[:60]}")
    for p in result.flagged:
        print(f"FLAGGED ({', '.join(p.verdict.categories) or 'violation'}), not stored: {p.text[:80]}")
    print(f"{path.name}: {len(result.added)} drafts added, {len(result.unchanged)} already imported, "
          f"{len(result.flagged)} passages flagged and not stored")


def _import_folder(path: Path, user: str, note: str, as_json: bool) -> None:
    with reported():
        report = services().curation.import_folder(path, by=sign_in(user), note=note)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"batch {report['batch']}: {len(report['submitted'])} entries submitted for review, "
          f"{len(report['unchanged'])} unchanged, {len(report['flagged'])} flagged and kept as drafts")
    for entry_id, lines in report["flagged"].items():
        print(f"  flagged {entry_id}: {lines[0][:80]}")
    if report["submitted"]:
        print(f"a second person approves them: coach kb approve --batch {report['batch']} --user NAME")


@app.command("list")
def kb_list(
    topic: Annotated[str | None, typer.Option(help="A topic id from taxonomy.yaml.")] = None,
    lang: Annotated[str | None, typer.Option(help="zh or en.")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="CN, US or ALL.")] = None,
    status: Annotated[str | None, typer.Option(help="draft, in_review, approved or retired.")] = None,
    as_json: AsJson = False,
):
    """List the store's entries (their working state), filtered."""
    from assistant.curation import LIFECYCLE

    if status and status not in LIFECYCLE:
        raise fail(f"unknown status {status!r}; use one of {', '.join(LIFECYCLE)}")
    records = services().curation.list(topic=topic, lang=lang, jurisdiction=jurisdiction and jurisdiction.upper(),
                                       status=status)
    if as_json:
        print(json.dumps([_record_dict(r) for r in records], ensure_ascii=False, indent=2))
        return
    for r in records:
        served = f"v{r.published_version}" if r.published_version else "-"
        print(f"{r.entry.id:<52} {r.status:<9} v{r.entry.version:<3} served {served:<4} "
              f"{r.entry.lang} {r.entry.jurisdiction:<3} {r.entry.title}")
    print(f"{len(records)} entries", file=sys.stderr)


@app.command("show")
def kb_show(entry_id: Annotated[str, typer.Argument(help="The entry id.")],
            version: Annotated[int | None, typer.Option(help="A past version (default: the newest).")] = None,
            as_json: AsJson = False):
    """Show an entry as its Markdown file, with its state (status, revision, published version)."""
    curation = services().curation
    with reported():
        rec = services().curation.get(entry_id)
        entry = rec.entry if version is None else services().curation.get_version(entry_id, version)
    if as_json:
        print(json.dumps({**_record_dict(rec), "shown_version": entry.version, "content": curation.content(entry)},
                         ensure_ascii=False, indent=2))
        return
    _said(rec, file=sys.stderr)  # stdout stays a valid entry file: `coach kb show ID > ID.md`
    print(curation.as_file(entry), end="")


@app.command("history")
def kb_history(entry_id: Annotated[str, typer.Argument(help="The entry id.")]):
    """Every saved version of an entry: who wrote it, when, and who approved it."""
    with reported():
        versions = services().curation.history(entry_id)
    for v in versions:
        approved = f"approved by {v.approved_by}" if v.approved_by else "not approved"
        print(f"v{v.version}  {v.created_at:%Y-%m-%d %H:%M}  by {v.editor}  {approved}")


@app.command("save")
def kb_save(path: Annotated[Path, typer.Argument(help="An entry file (<topic>/<id>.md), e.g. from `kb show`.")],
            user: User, revision: Revision = None):
    """Save an entry file as a new draft version (a new entry when --revision is not given)."""
    with reported():
        entry = services().curation.read_file(path)
        _said(services().curation.save(entry, by=sign_in(user), expected_revision=revision))


def _move(action: str, entry_id: str, user: str, revision: int | None, **extra) -> None:
    with reported():
        _said(getattr(services().curation, action)(entry_id, by=sign_in(user), expected_revision=revision, **extra))


@app.command("submit")
def kb_submit(entry_id: Annotated[str, typer.Argument()], user: User, revision: Revision = None):
    """Send a draft for review by a second person."""
    _move("submit", entry_id, user, revision)


@app.command("approve")
def kb_approve(entry_id: Annotated[str | None, typer.Argument()] = None, *, user: User, revision: Revision = None,
               batch: Annotated[str | None, typer.Option(help="Approve every entry of a folder import.")] = None):
    """Publish the version under review (not by its last editor; every shown line must pass vetting)."""
    if batch:
        with reported():
            report = services().curation.approve_batch(batch, by=sign_in(user))
        print(f"approved {len(report['approved'])}, refused {len(report['refused'])}, "
              f"skipped {len(report['skipped'])} (changed since the import or not under review)")
        for line in report["refused"]:
            print(f"  refused {line}", file=sys.stderr)
        raise typer.Exit(1 if report["refused"] else 0)
    if not entry_id:
        raise fail("give an entry id, or --batch with the id of a folder import")
    _move("approve", entry_id, user, revision)


@app.command("reject")
def kb_reject(entry_id: Annotated[str, typer.Argument()], user: User, reason: Reason = "", revision: Revision = None):
    """Send an entry under review back to draft."""
    _move("reject", entry_id, user, revision, reason=reason)


@app.command("retire")
def kb_retire(entry_id: Annotated[str, typer.Argument()], user: User, reason: Reason = "", revision: Revision = None):
    """Take an entry out of service at once (a reason is required; `kb restore` brings it back for review)."""
    _move("retire", entry_id, user, revision, reason=reason)


@app.command("restore")
def kb_restore(entry_id: Annotated[str, typer.Argument()], user: User, reason: Reason = "",
               revision: Revision = None):
    """Bring a retired entry back as a draft; it is served again only after a second person approves it."""
    _move("restore", entry_id, user, revision, reason=reason)


@app.command("export")
def kb_export(directory: Annotated[Path, typer.Argument(help="A new or empty folder.")]):
    """Write every entry's newest version as Markdown files (<topic>/<id>.md) for review as files."""
    with reported():
        count = services().curation.export(directory)
    print(f"exported {count} entries to {directory}")


@app.command("audit")
def kb_audit(entry_id: Annotated[str | None, typer.Argument(help="One entry (default: all).")] = None,
             limit: Annotated[int, typer.Option(help="How many lines, newest first.")] = 50, as_json: AsJson = False):
    """The audit log: who did what, when, and the change."""
    events = services().curation.audit(entry_id, limit)
    if as_json:
        print(json.dumps([{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "entry_id": e.entry_id,
                           "version": e.version, "diff": e.diff} for e in events], ensure_ascii=False, indent=2))
        return
    for e in events:
        fields = ("create", "edit", "import", "import_draft", "bootstrap")
        change = ", ".join(e.diff) if e.action in fields else json.dumps(e.diff, ensure_ascii=False)
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<12} {e.action:<15} {e.entry_id or '-'} "
              f"v{e.version or '-'}  {change}")
