"""The `coach` command: a subcommand per user job.

\b
Examples:
  coach ask "客户要求打折才肯还款，我该怎么说？"
  coach ask "a parent won't pay" --json
  coach ask "那他还是不肯呢？" --history "客户要求打折"
  coach ask "is it OK to call him back at 9:30 pm?" --context call.json
  coach contact check --context call.json --json
  coach serve --host 0.0.0.0 --port 8000
  coach qa recordings/ --json
  coach index
  coach kb validate
  coach kb import ../shared/seeds/collection-training-decks.txt --dry-run --json
  coach kb import deck.pptx --user alice          # a document's sound passages as drafts
  coach kb import entries/ --user alice --note "PR #42"; coach kb approve --batch import-… --user bob
  coach users add alice --role trainer
  coach kb submit some-entry-id --user alice; coach kb approve some-entry-id --user bob
  coach eval --cases evals/answerable.jsonl --out results.jsonl --report eval-report
  coach guard train
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant.cli import contact, evaluate, kb, serve, users
from assistant.cli.common import reported, services

app = typer.Typer(help=__doc__, no_args_is_help=True, rich_markup_mode=None, add_completion=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The situation or question, in Chinese or English.")],
    jurisdiction: Annotated[str | None, typer.Option(help="CN or US (default: COACH_JURISDICTION).")] = None,
    history: Annotated[list[str] | None,
                       typer.Option(help="An earlier question in this conversation (repeatable).")] = None,
    lang: Annotated[str | None, typer.Option(help="Answer language: zh or en (default: the question's).")] = None,
    context: Annotated[str | None, typer.Option(
        "--context", help="The call context as JSON (shared/reference/call-context.md): a file, or - for stdin.",
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
):
    """Ask the coach about a situation and get vetted guidance with its sources."""
    from datetime import UTC, datetime

    from assistant.coaching.questions import validate_question

    call = contact.read_context(context) if context else None
    with reported():
        validate_question(question, jurisdiction, services().settings, tuple(history or ()), lang, call,
                          datetime.now(UTC))  # fail fast, before the coach is built
        answer = services().coach.ask(question, tuple(history or ()), jurisdiction, lang=lang, agent="cli",
                                      context=call)
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer.text)


@app.command()
def index(rebuild: Annotated[bool, typer.Option(help="Drop the index and embed everything again.")] = False):
    """Build or update the vector index from the published entries; prints counts."""
    with reported():
        entries, report = services().reindex(rebuild=rebuild)
    print(f"entries {len(entries)}  added {report.added}  updated {report.updated}  removed {report.removed}  "
          f"unchanged {report.unchanged}  vectors {report.vectors}"
          + ("  (rebuilt for a new model)" if report.rebuilt else ""))


app.add_typer(kb.app, name="kb")
app.add_typer(users.app, name="users")
app.add_typer(users.tokens_app, name="tokens")
app.add_typer(contact.app, name="contact")
app.add_typer(evaluate.guard_app, name="guard")
app.command("eval")(evaluate.eval_)
app.command()(serve.serve)
app.command()(serve.qa)

if __name__ == "__main__":
    app()
