"""`coach contact check`: may this contact happen now (shared/reference/call-context.md), for scripts and
dialers. Exit 0 allowed (possibly with conditions), 1 not allowed, 2 bad input naming the field.

\b
Examples:
  coach contact check --context call.json
  coach contact check --context call.json --channel sms --json
  dialer-export | coach contact check --context - --json
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import EXIT_REFUSED, fail

app = typer.Typer(help=__doc__, no_args_is_help=True, rich_markup_mode=None)
ContextFile = Annotated[str, typer.Option("--context", help="The call context as JSON: a file, or - for stdin.")]


def read_context(source: str) -> dict:
    """The JSON object of a context file (or stdin for "-"); a clear error (exit 2) when it is not one."""
    name = "stdin" if source == "-" else source
    try:
        raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read the call context {name}: {exc}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise fail(f"call context {name} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        raise fail(f"call context {name}: expected a JSON object, got {type(data).__name__}")
    return data


@app.command()
def check(
    context: ContextFile,
    channel: Annotated[str, typer.Option(help="call, sms, email, visit or social.")] = "call",
    party: Annotated[str | None, typer.Option(help="Who would be contacted (default: the context's party).")] = None,
    lang: Annotated[str, typer.Option(help="Language of the reasons: en or zh.")] = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as the contract's JSON.")] = False,
):
    """Judge one planned contact (default: a call to the context's party, now)."""
    from assistant.coaching.call_context import check_contact
    from assistant.coaching.questions import QuestionError

    data = read_context(context)
    try:
        verdict = check_contact(data, datetime.now(UTC), channel, party)
    except QuestionError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(verdict.to_dict(lang), ensure_ascii=False, indent=2))
    else:
        print(f"{verdict.status.replace('_', ' ')} (debtor's local time {verdict.local_time:%Y-%m-%d %H:%M %Z})")
        for reason in verdict.reasons:
            print(f"- {reason.rule} [{reason.citation}]: {reason.text(lang)}")
        if not verdict.allowed:
            nxt = verdict.next_allowed_at
            print(f"next allowed: {nxt.isoformat()}" if nxt else "next allowed: none can be computed")
    if not verdict.allowed:
        raise typer.Exit(EXIT_REFUSED)
