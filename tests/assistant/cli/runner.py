"""`coach …` run in-process for the CLI tests, signed in the way a trainer's script would be."""

from __future__ import annotations

from typer.testing import CliRunner

from assistant.cli import app, common


def coach(*args: str, input: str | None = None, password: str | bool | None = None):
    """Run as ``--user NAME`` (or ``--by NAME``), it signs in with NAME's test password ("NAME-password")
    through COACH_PASSWORD, unless another ``password`` is given (False: none, so `coach` reads it from
    ``input``). Each run reads the settings and builds its services afresh, as each `coach` process does."""
    flags = [i for i, a in enumerate(args) if a in ("--user", "--by")]
    if flags and password is None:
        password = f"{args[flags[0] + 1]}-password"
    env = {"COACH_PASSWORD": password} if isinstance(password, str) else {}
    common.settings.cache_clear()
    common.services.cache_clear()
    return CliRunner().invoke(app, list(args), input=input, env=env)
