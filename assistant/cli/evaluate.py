"""`coach eval` (case files through the coach, metrics, report, gate) and `coach guard train`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import fail, reported, settings

guard_app = typer.Typer(help="The guardrail's intent model.", no_args_is_help=True)


def eval_(
    out: Annotated[Path, typer.Option("--out", help="Where to write the results (JSON Lines).")],
    cases: Annotated[list[Path] | None, typer.Option("--cases", help="A case file (JSON Lines); repeatable.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Folder for report.json and report.md.")] = None,
    blind: Annotated[list[Path] | None, typer.Option("--blind", help="A blind case file (evals/blind/…), "
                                                     "reported beside the seen ones; repeatable.")] = None,
    calls: Annotated[list[Path] | None, typer.Option("--calls", help="A folder of recorded, labelled calls "
                                                     "replayed through the live-call companion; repeatable.")] = None,
    blind_calls: Annotated[list[Path] | None, typer.Option("--blind-calls", help="A blind set's folder of recorded "
                                                           "calls (evals/blind/…/calls), own bars.")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="Default jurisdiction for cases without one.")] = None,
    baseline: Annotated[bool, typer.Option(help="Also run a dense-only retriever without guardrails.")] = False,
    gate: Annotated[Path | None, typer.Option(help="Thresholds file; exit 1 when a metric is below it.")] = None,
    llm: Annotated[bool, typer.Option(help="Answer through the LLM drafter (COACH_LLM); report fallbacks.")] = False,
):
    """Run case files through the coach and print the metrics (docs/eval-format.md)."""
    from assistant.evaluation.runner import run_eval
    from assistant.wiring import Services

    conf = settings()
    if jurisdiction:
        conf = conf.model_copy(update={"jurisdiction": jurisdiction.upper()})
    if llm and not conf.llm:
        raise fail("--llm needs a model: set COACH_LLM=<provider>:<model> (README: Optional LLM drafting)")
    with reported():
        services = Services(conf if llm else conf.model_copy(update={"llm": None}), log_questions=False)
        failures = run_eval(services, cases or (), out, report, blind=blind or (), calls=calls or (),
                            blind_calls=blind_calls or (), baseline=baseline, gate=gate, llm=llm)
    if failures:
        for line in failures:
            print(f"coach: below threshold: {line}", file=sys.stderr)
        raise typer.Exit(1)


@guard_app.command("train")
def guard_train(
    out: Annotated[Path | None, typer.Option(help="Where to write the model (default: the shipped one).")] = None,
):
    """Retrain the guard: guardrails/data/train + the shipped entries + everyday off-topic requests."""
    from assistant.guard_training import train_guard

    with reported():
        train_guard(out)
