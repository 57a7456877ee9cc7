"""Who is calling: a per-agent API token (`coach tokens issue`), sent as `Authorization: Bearer <token>`, never
in a URL (so no access log ever holds one); the token's role decides which endpoints it reaches."""

from __future__ import annotations

from fastapi import Request

from assistant.api.errors import ApiError
from assistant.curation import Principal, SignInError

TRAINER_ROLES = ("trainer", "admin")


def bearer(headers) -> str:
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("unauthorized", "send an API token: Authorization: Bearer <token> (coach tokens issue)")
    return token.strip()


def principal_of(services, headers) -> Principal:
    """The principal of a request's token; ApiError unauthorized for none, an unknown or a revoked one."""
    try:
        return services.auth.from_token(bearer(headers))
    except SignInError:
        raise ApiError("unauthorized", "unknown or revoked API token") from None


def agent(request: Request) -> Principal:
    """Any signed-in role (agents ask; trainers and admins may too)."""
    return principal_of(request.app.state.services, request.headers)


def trainer(request: Request) -> Principal:
    """Trainers and admins only."""
    who = agent(request)
    if who.role not in TRAINER_ROLES:
        raise ApiError("forbidden", f"this needs a trainer's or an admin's token, not an {who.role}'s")
    return who
