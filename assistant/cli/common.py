"""What every `coach` subcommand shares: settings read once, one Services, sign-in, errors as exit codes.

Exit codes: 0 done; 1 refused by a rule (two-person rule, vetting, role, state, a threshold); 2 bad
input (a clear one-line reason on stderr); 3 conflict (someone changed the entry since you read it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import typer

EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_CONFLICT = 1, 2, 3


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    print(f"coach: {message}", file=sys.stderr)
    return typer.Exit(code)


@cache
def settings():
    """The settings, read once; a bad COACH_ variable is a clear error (exit 2)."""
    from pydantic import ValidationError

    from assistant.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        raise fail(f"bad setting COACH_{str(err['loc'][0]).upper()}: {err['msg']}") from None


@cache
def services(log_questions: bool = True):
    """The one Services of this command (parts are built only when a command uses them)."""
    from assistant.wiring import Services

    return Services(settings(), log_questions=log_questions)


@contextmanager
def reported() -> Iterator[None]:
    """The errors a command can meet become one clear message on stderr and a meaningful exit code."""
    from assistant.coaching.questions import QuestionError
    from assistant.curation import ConflictError, CurationError, EntryError, NotFoundError, VettingError

    try:
        yield
    except ConflictError as exc:
        raise fail(str(exc), EXIT_CONFLICT) from None
    except VettingError as exc:
        for text, categories in exc.flagged:
            print(f"flagged ({', '.join(categories) or 'violation'}): {text}", file=sys.stderr)
        raise fail(str(exc).split(":")[0] + ": edit the flagged lines, save and submit again", EXIT_REFUSED) from None
    except NotFoundError as exc:
        raise fail(str(exc), EXIT_BAD_INPUT) from None
    except CurationError as exc:
        raise fail(str(exc), EXIT_REFUSED) from None
    except EntryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise fail(f"{len(exc.problems)} problem(s) in the entry files; nothing was stored", EXIT_BAD_INPUT) from None
    except QuestionError as exc:
        raise fail(str(exc)) from None
    except ImportError as exc:  # an optional extra that is not installed (an LLM provider, sentence-transformers)
        raise fail(str(exc)) from None
    except (ValueError, OSError) as exc:
        raise fail(str(exc), EXIT_BAD_INPUT) from None


def sign_in(user: str):
    """A Principal for ``user``: the password from COACH_PASSWORD, else asked for on the terminal or read
    as one line of piped stdin. Nothing is done in a user's name without it."""
    from assistant.curation import SignInError

    secret = settings().password
    if secret is not None:
        password = secret.get_secret_value()
    elif sys.stdin.isatty():
        password = typer.prompt(f"Password for {user}", hide_input=True, err=True)
    else:  # piped: one line
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise fail(f"no password for {user!r}: type it when asked, pipe it on stdin or set COACH_PASSWORD; "
                       "nothing was changed")
    try:
        return services().auth.sign_in(user, password, hours=1)
    except SignInError:
        raise fail(f"wrong user name or password for {user!r}: nothing was changed", EXIT_REFUSED) from None
