"""Scaling out: two coach instances (two app processes behind a proxy, each with its own data directory)
share one Chroma server (`chroma run` on 127.0.0.1) and one PostgreSQL. A change published through
the store reaches both coaches' next answers, and a retired entry leaves both at once."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from assistant import Coach, Settings
from assistant.curation.store import open_store

pytestmark = pytest.mark.server
QUESTION = "客户说打个折就还，不打折就不还，我该怎么说"
NEW_SAY = "我理解您想减轻还款负担。减免要按公司流程审批，我先把您的情况如实记录下来，帮您提交申请。"


@pytest.fixture
def database_url(postgres_url):
    """A new, empty PostgreSQL database for this test."""
    name = f"scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def cited(answer) -> dict[str, int]:
    return {s.id: s.version for s in answer.sources}


def test_two_coaches_on_one_chroma_server_and_postgresql_follow_publish_and_retire(
        tmp_path, kb_subset, chroma_server, database_url):
    entries_dir = kb_subset(tmp_path / "entries", ("discount_request",))
    coaches = [Coach.from_settings(Settings(data_dir=tmp_path / name, entries_dir=entries_dir, chroma_url=chroma_server,
                                            database_url=database_url), log_questions=False)
               for name in ("app-1", "app-2")]
    store = open_store(coaches[0].settings)  # the trainers' page of either process: the same database
    store.users.add("alice", "trainer", "alice-password")
    store.users.add("bob", "admin", "bob-password")

    first = [c.ask(QUESTION, jurisdiction="CN") for c in coaches]
    entry_id = first[0].sources[0].id
    assert entry_id.startswith("discount-request") and cited(first[1]) == cited(first[0])
    version = cited(first[0])[entry_id]
    assert all(NEW_SAY not in a.text for a in first)

    # a trainer edits the entry in app 1; a second person approves it in app 2
    rec = store.get(entry_id)
    store.save(replace(rec.entry, say=(NEW_SAY, *rec.entry.say[1:])), user="alice", expected_revision=rec.revision)
    store.submit(entry_id, user="alice")
    between = [c.ask(QUESTION, jurisdiction="CN") for c in coaches]  # in review: the old version still serves
    assert all(cited(a)[entry_id] == version and NEW_SAY not in a.text for a in between)
    open_store(coaches[1].settings).approve(entry_id, user="bob")

    published = [c.ask(QUESTION, jurisdiction="CN") for c in coaches]
    for answer in published:
        assert cited(answer)[entry_id] == version + 1
        assert NEW_SAY in answer.card.say and NEW_SAY in answer.text

    open_store(coaches[1].settings).retire(entry_id, user="bob")
    retired = [c.ask(QUESTION, jurisdiction="CN") for c in coaches]
    for answer in retired:
        assert entry_id not in cited(answer) and NEW_SAY not in answer.text
