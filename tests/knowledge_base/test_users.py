"""Logins, sign-ins and API tokens (knowledge_base/users.py), on every backend of the store: a change is made
only by a live sign-in whose role allows it, and no secret is kept in the clear."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text

from knowledge_base.curation import CurationError, Principal, RoleError, SignInError
from knowledge_base.passwords import hash_password
from knowledge_base.types import Entry

ENTRY = Entry(id="discount-request-test-zh", title="客户要求减免才肯还", topic="discount_request", kind="script",
              lang="zh", jurisdiction="CN", status="draft", version=1, situation="客户表示只有减免才肯还款。",
              say=("减免需要按公司流程审批，我没办法在电话里直接答应您。",), do=("按流程提交减免申请。",),
              dont=("不要承诺任何未经审批的减免。",), why="减免须按授权审批。")


def can_edit(store, principal) -> bool:
    """Whether ``principal`` can save a new draft (the store re-checks the sign-in in the transaction)."""
    try:
        store.save(replace(ENTRY, id=f"discount-request-by-{len(store.list())}-zh"), by=principal)
    except (SignInError, RoleError):
        return False
    return True


def test_passwords_are_stored_only_as_bcrypt_hashes(store):
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM kb_users WHERE name = 'alice'")).scalar()

    assert "alice-password" not in stored and stored.startswith("$2b$")
    assert store.users.authenticate("alice", "alice-password").role == "trainer"
    assert store.users.authenticate("alice", "bob-password") is None
    assert store.users.authenticate("nobody", "alice-password") is None
    assert hash_password("long enough") != hash_password("long enough")
    assert hash_password("long enough").startswith("$2b$12$")


@pytest.mark.parametrize(("name", "role", "password", "error"), [
    ("dave", "trainer", "short", "at least 8"),
    ("dave", "trainer", "密" * 30, "at most 72 bytes"),
    ("dave", "boss", "long enough", "role must be one of"),
    ("", "trainer", "long enough", "user name"),
])
def test_bad_users_are_refused(store, p, name, role, password, error):
    with pytest.raises(ValueError, match=error):
        store.users.add(name, role, password, by=p["bob"])


def test_once_there_is_an_admin_only_a_signed_in_admin_adds_logins(store, p):
    for who in (None, p["alice"]):
        with pytest.raises(RoleError):
            store.users.add("mallory", "admin", "long enough", by=who)
    assert store.users.add("dave", "trainer", "long enough", by=p["bob"]).name == "dave"


def test_a_user_name_is_taken_once(store, p):
    with pytest.raises(CurationError, match="already exists"):
        store.users.add("alice", "admin", "another-password", by=p["bob"])
    assert [(u.name, u.role) for u in store.users.list()] == [("alice", "trainer"), ("bob", "admin"),
                                                             ("carol", "agent")]
    assert [a.diff["user"] for a in store.audit() if a.action == "user_add"] == ["bob", "carol", "alice"]


def test_a_forged_principal_changes_nothing(store, p):
    forged = {
        "a typed name": Principal("alice", "trainer", "not-a-session"),
        "an agent's sign-in claiming a trainer's role": Principal("carol", "trainer", p["carol"].session),
        "someone else's sign-in": Principal("bob", "admin", p["alice"].session),
        "a plain string": "alice",
    }
    assert {what: can_edit(store, who) for what, who in forged.items()} == dict.fromkeys(forged, False)
    assert store.list() == []


def test_signing_out_or_an_expired_sign_in_ends_what_a_principal_can_do(store, p):
    assert can_edit(store, p["alice"])
    store.users.sign_out(p["alice"])
    expired = store.users.sign_in("alice", "alice-password", hours=-1)
    assert not can_edit(store, p["alice"]) and not can_edit(store, expired)
    assert can_edit(store, store.users.sign_in("alice", "alice-password"))  # a new sign-in works


def test_a_wrong_password_or_an_unknown_name_is_no_sign_in(store):
    for name, password in (("alice", "bob-password"), ("mallory", "mallory-password"), ("alice", "")):
        with pytest.raises(SignInError):
            store.users.sign_in(name, password)


def test_an_api_token_signs_in_as_its_user_until_it_is_revoked(store, p):
    token = store.users.issue_token("alice", label="CI import job", by=p["bob"])
    principal = store.users.from_token(token)
    assert (principal.name, principal.role) == ("alice", "trainer") and can_edit(store, principal)

    listed = store.users.tokens()
    assert [(t["user"], t["role"], t["label"], t["revoked"]) for t in listed] == [
        ("alice", "trainer", "CI import job", False)]
    assert store.users.revoke_token(listed[0]["id"], by=p["bob"]) == 1

    assert not can_edit(store, principal)  # a principal made before the revocation is refused too
    with pytest.raises(SignInError):
        store.users.from_token(token)
    assert store.users.tokens()[0]["revoked"] is True


def test_a_token_scoped_below_its_users_role_can_do_only_what_the_scope_allows(store, p):
    reader = store.users.from_token(store.users.issue_token("alice", role="agent", by=p["bob"]))
    assert reader.role == "agent" and not can_edit(store, reader)
    with pytest.raises(RoleError, match="cannot have the role"):
        store.users.issue_token("carol", role="trainer", by=p["bob"])  # above carol's own role


def test_only_an_admin_issues_or_revokes_tokens(store, p):
    token = store.users.issue_token("carol", by=p["bob"])
    for who in (p["alice"], p["carol"]):
        with pytest.raises(RoleError):
            store.users.issue_token("alice", by=who)
        with pytest.raises(RoleError):
            store.users.revoke_token(store.users.tokens()[0]["id"], by=who)
    with pytest.raises(RoleError, match="unknown user"):
        store.users.issue_token("mallory", by=p["bob"])
    with pytest.raises(ValueError, match="8 characters"):
        store.users.revoke_token("cc", by=p["bob"])
    assert store.users.from_token(token).name == "carol"


def test_no_sign_in_or_token_secret_is_stored(store, p):
    token = store.users.issue_token("carol", by=p["bob"])
    with store.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("SELECT * FROM kb_sessions")) for v in row)
        audit = " ".join(str(v) for row in conn.execute(text("SELECT * FROM kb_audit")) for v in row)
    assert token not in stored and token not in audit and token[3:] not in stored


def test_a_read_that_needs_a_role_checks_the_sign_in_and_the_role(store, p):
    store.users.require(p["alice"])
    store.users.require(p["carol"], ("agent", "trainer", "admin"))
    with pytest.raises(RoleError):
        store.users.require(p["carol"])
    with pytest.raises(CurationError):
        store.users.require(Principal("carol", "agent", "made-up"), ("agent",))
