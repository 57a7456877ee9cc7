"""What every `coach` subcommand shares: settings read once, clear failures, knowledge-base errors listed."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import typer

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    print(f"coach: {message}", file=sys.stderr)
    return typer.Exit(code)


@contextmanager
def knowledge_base_errors():
    """Malformed entries stop a command with every problem listed (file: field: reason), exit 1."""
    from knowledge_base import EntryError

    try:
        yield
    except EntryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"coach: {len(exc.problems)} problem(s) in the knowledge base; run `coach kb validate`",
              file=sys.stderr)
        raise typer.Exit(1) from None


def settings():
    from pydantic import ValidationError

    from assistant.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        raise fail(f"bad setting COACH_{str(err['loc'][0]).upper()}: {err['msg']}") from None


