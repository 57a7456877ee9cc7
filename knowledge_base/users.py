"""Logins for trainers, admins and agents: names, roles and bcrypt password hashes in the store."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from knowledge_base import passwords
from knowledge_base.curation import EDITOR_ROLES, ROLES, CurationError, RoleError, User
from knowledge_base.sql_models import AuditRow, LostRace, UserRow, now, transaction


class Users:
    """The store's users; passwords are kept only as bcrypt hashes."""

    def __init__(self, engine: Engine, bcrypt_rounds: int = passwords.DEFAULT_ROUNDS):
        self.engine = engine
        self.bcrypt_rounds = bcrypt_rounds

    def add(self, name: str, role: str, password: str, *, by: str = "system") -> User:
        """Create a login; ValueError for a bad name, role or password, CurationError if it exists."""
        name = name.strip()
        if not name or len(name) > 120:
            raise ValueError("user name must be 1-120 characters")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        hashed = passwords.hash_password(password, self.bcrypt_rounds)
        try:
            with transaction(self.engine) as session:
                if session.get(UserRow, name) is not None:
                    raise CurationError(f"user {name!r} already exists")
                session.add(UserRow(name=name, role=role, password_hash=hashed, created_at=now()))
                session.add(AuditRow(at=now(), actor=by, action="user_add", diff={"user": name, "role": role}))
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

    def list(self) -> list[User]:
        with Session(self.engine) as session:
            return [User(r.name, r.role) for r in session.scalars(select(UserRow).order_by(UserRow.name))]


def require_editor(session: Session, name: str) -> None:
    """RoleError unless ``name`` is a trainer or admin in the store."""
    row = session.get(UserRow, name)
    if row is None:
        raise RoleError(f"unknown user {name!r}: add them with `coach users add`")
    if row.role not in EDITOR_ROLES:
        raise RoleError(f"{name} is an {row.role}; only {' and '.join(EDITOR_ROLES)}s curate entries")
