"""Logins, sign-in sessions and API tokens: names, roles, bcrypt password hashes, hashed secrets.

A ``Principal`` exists only after a password sign-in or with a live API token; every change the
store makes re-checks its session inside the same transaction (``require``), so a typed name, a
revoked token or an expired sign-in changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from knowledge_base import passwords
from knowledge_base.curation import EDITOR_ROLES, ROLES, CurationError, Principal, RoleError, SignInError, User
from knowledge_base.sql_models import AuditRow, LostRace, SessionRow, UserRow, now, transaction

SIGN_IN_HOURS = 12  # a working day; the page and the CLI sign out sooner
RANK = {role: n for n, role in enumerate(ROLES)}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for aware columns: they were written in UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=now().tzinfo)


class Users:
    """The store's users, their sign-ins and their API tokens."""

    def __init__(self, engine: Engine, bcrypt_rounds: int = passwords.DEFAULT_ROUNDS):
        self.engine = engine
        self.bcrypt_rounds = bcrypt_rounds

    def add(self, name: str, role: str, password: str, *, by: Principal | None = None) -> User:
        """Create a login; ValueError for a bad name, role or password, CurationError if it exists. The first
        logins may be added by nobody in particular (to set up the first admin); once the store has an admin,
        only a signed-in admin adds logins (RoleError)."""
        name = name.strip()
        if not name or len(name) > 120 or not name.isprintable():
            raise ValueError("user name must be 1-120 printable characters")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        hashed = passwords.hash_password(password, self.bcrypt_rounds)
        try:
            with transaction(self.engine) as session:
                if by is not None or session.scalar(select(UserRow).where(UserRow.role == "admin").limit(1)):
                    if by is None:
                        raise RoleError("this store has an admin: only a signed-in admin adds logins")
                    check(session, by, ("admin",))
                if session.get(UserRow, name) is not None:
                    raise CurationError(f"user {name!r} already exists")
                session.add(UserRow(name=name, role=role, password_hash=hashed, created_at=now()))
                session.add(AuditRow(at=now(), actor=by.name if by else "setup", action="user_add",
                                     diff={"user": name, "role": role}))
        except LostRace as race:  # added by someone else at the same moment
            raise CurationError(f"user {name!r} already exists") from race
        return User(name, role)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password matches, else None."""
        with Session(self.engine) as session:
            row = session.get(UserRow, name.strip())
            if row is None or not passwords.verify_password(password, row.password_hash):
                return None
            return User(row.name, row.role)

    def sign_in(self, name: str, password: str, *, hours: float = SIGN_IN_HOURS) -> Principal:
        """A signed-in principal for ``name``; SignInError for a wrong name or password."""
        user = self.authenticate(name, password)
        if user is None:
            raise SignInError(f"wrong user name or password for {name.strip()!r}")
        return self._open(user.name, user.role, "password", "", now() + timedelta(hours=hours))

    def issue_token(self, user: str, *, role: str | None = None, label: str = "", by: Principal) -> str:
        """A new API token for ``user`` (scoped to ``role``, at most the user's own); shown once, stored hashed."""
        require(self.engine, by, ("admin",))
        with Session(self.engine) as session:
            row = session.get(UserRow, user)
            if row is None:
                raise RoleError(f"unknown user {user!r}: add them with `coach users add`")
            scope = role or row.role
            if scope not in ROLES or RANK[scope] > RANK[row.role]:
                raise RoleError(f"a token for {user} ({row.role}) cannot have the role {scope!r}")
        token = "cc_" + secrets.token_urlsafe(32)
        with transaction(self.engine) as session:
            session.add(SessionRow(id=_digest(token), user=user, role=scope, kind="token", label=label[:120],
                                   created_at=now(), expires_at=None))
            session.add(AuditRow(at=now(), actor=by.name, action="token_issue",
                                 diff={"user": user, "role": scope, "label": label[:120]}))
        return token

    def from_token(self, token: str) -> Principal:
        """The principal an API token stands for; SignInError when it is unknown or revoked."""
        with Session(self.engine) as session:
            row = session.get(SessionRow, _digest(token))
            if row is None or row.kind != "token" or row.revoked_at is not None:
                raise SignInError("unknown or revoked API token")
            return Principal(row.user, row.role, row.id)

    def tokens(self) -> list[dict]:
        """Every API token's owner, role, label and state (never the secret)."""
        with Session(self.engine) as session:
            rows = session.scalars(select(SessionRow).where(SessionRow.kind == "token").order_by(SessionRow.created_at))
            return [{"id": r.id[:12], "user": r.user, "role": r.role, "label": r.label,
                     "created_at": _aware(r.created_at), "revoked": r.revoked_at is not None} for r in rows]

    def revoke_token(self, token_id: str, *, by: Principal) -> int:
        """Revoke the tokens whose id starts with ``token_id`` (from ``tokens()``); how many were revoked."""
        require(self.engine, by, ("admin",))
        if len(token_id) < 8:
            raise ValueError("give at least 8 characters of the token id")
        with transaction(self.engine) as session:
            rows = list(session.scalars(select(SessionRow).where(SessionRow.id.startswith(token_id),
                                                                 SessionRow.kind == "token")))
            for row in rows:
                row.revoked_at = row.revoked_at or now()
                session.add(AuditRow(at=now(), actor=by.name, action="token_revoke",
                                     diff={"user": row.user, "token": row.id[:12]}))
        return len(rows)

    def sign_out(self, principal: Principal) -> None:
        """End a password sign-in (tokens are revoked with ``revoke_token``)."""
        with transaction(self.engine) as session:
            row = session.get(SessionRow, principal.session)
            if row is not None and row.kind == "password":
                row.revoked_at = row.revoked_at or now()

    def require(self, principal: Principal, roles: tuple[str, ...] = EDITOR_ROLES) -> None:
        """SignInError or RoleError unless ``principal`` is a live sign-in with one of ``roles``."""
        require(self.engine, principal, roles)

    def list(self) -> list[User]:
        with Session(self.engine) as session:
            return [User(r.name, r.role) for r in session.scalars(select(UserRow).order_by(UserRow.name))]

    def _open(self, user: str, role: str, kind: str, label: str, expires: datetime | None) -> Principal:
        secret = secrets.token_urlsafe(32)
        with transaction(self.engine) as session:
            session.add(SessionRow(id=_digest(secret), user=user, role=role, kind=kind, label=label,
                                   created_at=now(), expires_at=expires))
        return Principal(user, role, _digest(secret))


def check(session: Session, principal: Principal, roles: tuple[str, ...] = EDITOR_ROLES) -> UserRow:
    """The user row behind a live sign-in with one of ``roles``; SignInError or RoleError otherwise."""
    if not isinstance(principal, Principal):
        raise SignInError(f"{principal!r} is not a sign-in: sign in with a password or an API token")
    row = session.get(SessionRow, principal.session)
    expires = _aware(row.expires_at) if row is not None else None
    if row is None or row.user != principal.name or row.revoked_at is not None or (expires and expires <= now()):
        raise SignInError(f"the sign-in of {principal.name!r} is unknown, expired or revoked: sign in again")
    user = session.get(UserRow, row.user)
    role = row.role if user is not None and RANK[row.role] <= RANK[user.role] else None
    if role not in roles:
        have = role or "no role"
        raise RoleError(f"{principal.name} is signed in as {have}; this needs {' or '.join(roles)}")
    return user


def require(engine: Engine, principal: Principal, roles: tuple[str, ...] = EDITOR_ROLES) -> None:
    """``check`` in a session of its own (for reads that need a role, e.g. the question log)."""
    with Session(engine) as session:
        check(session, principal, roles)
