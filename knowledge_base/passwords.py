"""Password hashing for trainer and admin logins (bcrypt, salted, slow on purpose)."""

from __future__ import annotations

import bcrypt

MIN_CHARS = 8
MAX_BYTES = 72  # bcrypt ignores (and bcrypt>=5 refuses) anything past 72 bytes
DEFAULT_ROUNDS = 12


def check_password_rules(password: str) -> None:
    """Raise ValueError naming the rule a new password breaks."""
    if len(password) < MIN_CHARS:
        raise ValueError(f"password must be at least {MIN_CHARS} characters")
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"password must be at most {MAX_BYTES} bytes in UTF-8")


def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    """A bcrypt hash of ``password`` (its own random salt inside)."""
    check_password_rules(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    """True when ``password`` matches ``hashed``; False for anything malformed."""
    data = password.encode("utf-8")
    if len(data) > MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(data, hashed.encode("ascii"))
    except ValueError:
        return False
