"""The `coach` command: a subcommand per user job.

\b
Examples:
  coach ask "客户要求打折才肯还款，我该怎么说？"
  coach ask "a parent won't pay" --json
  coach index
  coach kb validate
  coach kb import ../shared/seeds/collection-training-decks.txt --dry-run --json
  coach kb import knowledge_base/entries          # the first import into the store
  coach kb import deck.pptx --user alice          # a document's sound passages as drafts
  coach users add alice --role trainer
  coach kb submit some-entry-id --user alice; coach kb approve some-entry-id --user bob
  coach eval --cases evals/answerable.jsonl --out results.jsonl --report eval-report
  coach guard train
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli import kb as curation_cli
from assistant.cli.common import fail, knowledge_base_errors, settings

app = typer.Typer(help=__doc__, no_args_is_help=True, rich_markup_mode=None, add_completion=False)
kb_app = typer.Typer(help="Validate, import, curate (save, submit, approve, retire) and export knowledge-base content.",
                     no_args_is_help=True)
guard_app = typer.Typer(help="The guardrail's intent model.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(guard_app, name="guard")

@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The situation or question, in Chinese or English.")],
    jurisdiction: Annotated[str | None, typer.Option(help="CN or US (default: COACH_JURISDICTION).")] = None,
    history: Annotated[list[str] | None,
                       typer.Option(help="An earlier question in this conversation (repeatable).")] = None,
    lang: Annotated[str | None, typer.Option(help="Answer language: zh or en (default: the question's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
):
    """Ask the coach about a situation and get vetted guidance with its sources."""
    from assistant.coaching.pipeline import Coach, QuestionError, validate_question

    if lang not in (None, "zh", "en"):
        raise fail(f"unknown language {lang!r}; use zh or en")
    conf = settings()
    try:
        validate_question(question, jurisdiction, conf)  # before building anything: bad input fails at once
    except QuestionError as exc:
        raise fail(str(exc)) from None
    with knowledge_base_errors():
        coach = Coach.from_settings(conf)
    try:
        answer = coach.ask(question, tuple(history or ()), jurisdiction, lang=lang, agent="cli")
    except QuestionError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer.text)


@app.command()
def index(rebuild: Annotated[bool, typer.Option(help="Drop the index and embed everything again.")] = False):
    """Build or update the vector index from the approved entries; prints counts."""
    from assistant.wiring import build_index
    from knowledge_base.index import drop_index, open_chroma

    conf = settings()
    if rebuild:
        drop_index(open_chroma(conf.chroma_path, conf.chroma_url))
    with knowledge_base_errors():
        entries, _, report = build_index(conf)
    print(f"entries {len(entries)}  added {report.added}  updated {report.updated}  removed {report.removed}  "
          f"unchanged {report.unchanged}  vectors {report.vectors}"
          + ("  (rebuilt for a new model)" if report.rebuilt else ""))


@kb_app.command("validate")
def kb_validate(
    path: Annotated[Path | None, typer.Argument(help="Entries folder (default: the configured one).")] = None,
):
    """Check every entry: fields, topics, refs, pairs, duplicate ids. Exit 1 on problems."""
    from knowledge_base import EntryError, load_entries

    root = path or settings().entries_dir
    if not root.is_dir():
        raise fail(f"{root} is not a folder")
    try:
        entries = load_entries(root)
    except EntryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise typer.Exit(1) from None
    approved = sum(e.status == "approved" for e in entries)
    print(f"{len(entries)} entries valid ({approved} approved)")


@kb_app.command("import")
def kb_import(
    path: Annotated[Path, typer.Argument(help="A folder of entry files to import into the store, or a document "
                                               "of training material (.txt, .md, .docx, .pptx, .pdf).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Vet a document and print; store nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the passages (or the import report) as JSON.")] = False,
    jurisdiction: Annotated[str, typer.Option(help="Jurisdiction whose rules are cited.")] = "CN",
    user: Annotated[str | None, typer.Option("--user", help="Who imports a document as drafts "
                                                            "(a trainer or admin).")] = None,
):
    """Import a folder of entry files into the store, a document's sound passages as drafts (--user),
    or vet a document's passages (--dry-run). Each import is one transaction."""
    from assistant.curation.vetting import vet_file

    if not dry_run:
        from assistant.cli.kb import import_document, import_folder

        if path.is_file():
            return import_document(settings(), path, user, jurisdiction.upper(), as_json)
        return import_folder(settings(), path, as_json)
    if not path.is_file():
        raise fail(f"{path}: no such file")
    try:
        passages = vet_file(settings(), path, jurisdiction.upper())
    except ValueError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps({"passages": [p.to_dict() for p in passages]}, ensure_ascii=False, indent=2))
        return
    flagged = [p for p in passages if p.verdict.blocked]
    for p in passages:
        mark = "VIOLATION " + ",".join(p.verdict.categories) if p.verdict.blocked else "ok"
        print(f"[{mark}] {p.text[:120]}")
    print(f"\n{len(passages)} passages, {len(flagged)} flagged")


@app.command("eval")
def eval_(
    cases: Annotated[list[Path], typer.Option("--cases", help="A case file (JSON Lines); repeatable.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the results (JSON Lines).")],
    report: Annotated[Path | None, typer.Option("--report", help="Folder for report.json and report.md.")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="Default jurisdiction for cases without one.")] = None,
    baseline: Annotated[bool, typer.Option(help="Also run a dense-only retriever without guardrails.")] = False,
    gate: Annotated[Path | None, typer.Option(help="Thresholds file; exit 1 when a metric is below it.")] = None,
    llm: Annotated[bool, typer.Option(help="Answer through the LLM drafter (COACH_LLM); report fallbacks.")] = False,
):
    """Run case files through the coach and print the metrics (eval-format.md)."""
    from assistant.evaluation.runner import CaseError, run_eval

    conf = settings()
    if jurisdiction:
        conf = conf.model_copy(update={"jurisdiction": jurisdiction.upper()})
    if llm and not conf.llm:
        raise fail("--llm needs a model: set COACH_LLM=<provider>:<model> (README: Optional LLM drafting)")
    try:
        with knowledge_base_errors():
            failures = run_eval(conf, cases, out, report, baseline=baseline, gate=gate, llm=llm)
    except (CaseError, OSError) as exc:
        raise fail(str(exc)) from None
    if failures:
        for line in failures:
            print(f"coach: below threshold: {line}", file=sys.stderr)
        raise typer.Exit(1)


@guard_app.command("train")
def guard_train(
    out: Annotated[Path | None, typer.Option(help="Where to write the model (default: the shipped one).")] = None,
):
    """Retrain the guard: guardrails/data/train + the approved entries + everyday off-topic requests."""
    from guardrails.guard import default_embedder
    from guardrails.model import MODEL_PATH
    from guardrails.train import train
    from knowledge_base.calibration import off_topic_questions
    from knowledge_base.store import FileEntrySource

    entries = FileEntrySource(settings().entries_dir).list_approved()
    approved = [(q, False) for e in entries for q in e.questions]
    approved += [(line, True) for e in entries for line in (*e.say, *e.do)]
    train(default_embedder(), approved, off_topic_questions(), out=out or MODEL_PATH)


curation_cli.register(kb_app, app)

if __name__ == "__main__":
    app()
