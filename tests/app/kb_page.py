"""The Knowledge base page under AppTest, on a store holding the shipped entries and three logins:
alice (trainer), bob (admin), carol (agent); each one's password is "NAME-password"."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from assistant.curation.store import open_store
from assistant.settings import Settings
from knowledge_base.store import ENTRIES_DIR

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "app_pages" / "knowledge_base.py"
FIRST_RUN_S = 300  # the first vetting loads the embedding model


def make_store(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # the page imports app_pages.common, as under `streamlit run app.py`
    store = open_store(Settings())
    store.import_folder(ENTRIES_DIR)
    for name, role in (("alice", "trainer"), ("bob", "admin"), ("carol", "agent")):
        store.users.add(name, role, f"{name}-password")
    return store


def page(user: str | None = None, password: str | None = None) -> AppTest:
    """The page in English, logged in as ``user`` when given (with their password unless another)."""
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["ui_lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    if user:
        at.text_input(key="kb_name").input(user)
        at.text_input(key="kb_password").input(password or f"{user}-password")
        next(b for b in at.button if b.label == "Log in").click().run(timeout=FIRST_RUN_S)
        assert not at.exception, at.exception
    return at
