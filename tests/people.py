"""The people of the tests: alice (trainer), bob (admin), carol (agent); each one's password is
"NAME-password". Bcrypt at 4 rounds keeps sign-in fast; every path still goes through a real sign-in."""

from __future__ import annotations

PEOPLE = (("alice", "trainer"), ("carol", "agent"), ("bob", "admin"))  # the admin last: then only admins add


def add_people(store) -> None:
    """Add the three logins to an empty store (the first logins need no admin)."""
    store.users.bcrypt_rounds = 4
    for name, role in PEOPLE:
        store.users.add(name, role, f"{name}-password")


def sign_in(store, name: str):
    """A real sign-in of one of the test people."""
    return store.users.sign_in(name, f"{name}-password")
