"""`coach users …` (logins) and `coach tokens …` (per-agent API tokens, shown once, stored hashed)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from assistant.cli.common import reported, services, sign_in

app = typer.Typer(help="Logins for agents, trainers and admins (passwords stored as bcrypt hashes).",
                  no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for the HTTP API (`coach serve`): issued and revoked by an admin.",
                         no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="The admin doing it (their password is asked for, or read from "
                                 "COACH_PASSWORD).")]


@app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option(help="agent, trainer or admin.")],
    by: Annotated[str | None, typer.Option("--by", help="The admin adding it: required once the store has an "
                                           "admin.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the new password from stdin "
                                                 "(the admin's comes from COACH_PASSWORD).")] = False,
):
    """Add a login; the password is asked for (or read from stdin) and stored only as a bcrypt hash.
    The first logins may be added freely (to set up the first admin); after that only by an admin."""
    admin = sign_in(by) if by else None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with reported():
        user = services().auth.add(name, role, password, by=admin)
    print(f"added {user.name} ({user.role})")


@app.command("list")
def users_list():
    """List the logins and their roles."""
    for user in services().auth.list():
        print(f"{user.name:<24} {user.role}")


@tokens_app.command("issue")
def tokens_issue(user: Annotated[str, typer.Argument(help="The login the token acts as (e.g. an agent).")], by: By,
                 role: Annotated[str | None, typer.Option(help="Scope (default: the user's role; never more).")] = None,
                 label: Annotated[str, typer.Option(help="What it is for, e.g. the softphone's host.")] = ""):
    """Issue an API token; it is printed once (keep it secret) and stored only as a hash."""
    with reported():
        token = services().auth.issue_token(user, role=role, label=label, by=sign_in(by))
    print(token)


@tokens_app.command("list")
def tokens_list():
    """Every token's id, owner, scope, label and state (never the secret)."""
    for t in services().auth.tokens():
        state = "revoked" if t["revoked"] else "active"
        print(f"{t['id']}  {t['user']:<20} {t['role']:<8} {state:<8} {t['created_at']:%Y-%m-%d}  {t['label']}")


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="The id from `coach tokens list`.")], by: By):
    """Revoke a token at once (the API refuses it on the next request)."""
    with reported():
        n = services().auth.revoke_token(token_id, by=sign_in(by))
    print(f"revoked {n} token(s)")
    raise typer.Exit(0 if n else 2)
