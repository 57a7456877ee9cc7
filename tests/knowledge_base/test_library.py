"""The published knowledge one process serves (knowledge_base/library.py): after a refresh it serves what the
store publishes and nothing else: an approved edit's new text, a retired entry gone from the index too, the law
a newly published regulation names."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge_base.index import VectorIndex, open_chroma
from knowledge_base.library import Library
from knowledge_base.sql_store import SqlStore
from knowledge_base.types import Entry
from tests.people import add_people, sign_in

QUESTION = "对方说这个号码是他新办的，不认识我要找的人"
NEW_SAY = "不好意思打扰了，这个号码我们会核实后从名单里删掉，以后不会再打过来。"
REGULATION = Entry(
    id="reg-cn-test-city-night-calls", title="晚上九点后不得致电", topic="contact_time_frequency",
    kind="regulation", lang="zh", jurisdiction="CN", status="draft", version=1,
    citation="《测试市债务催收服务管理办法》第八条", rule="催收机构不得在晚上九点至次日早上八点致电债务人。")


@pytest.fixture
def store(tmp_path, vetting, shipped_folder):
    """A store publishing the wrong_number entries, imported by alice and approved by bob."""
    store = SqlStore(f"sqlite:///{tmp_path / 'coach.db'}", vet=vetting, bcrypt_rounds=4)
    add_people(store)
    report = store.import_folder(shipped_folder(tmp_path / "entries", ("wrong_number",)), by=sign_in(store, "alice"))
    store.approve_batch(report["batch"], by=sign_in(store, "bob"))
    yield store
    store.engine.dispose()


@pytest.fixture
def library(store, use_embeddings, tmp_path):
    vectors = VectorIndex(open_chroma(tmp_path / "chroma"), use_embeddings)
    return Library(store, vectors, use_embeddings, tmp_path / "data", background=False)


def best(library: Library) -> Entry:
    return library.retriever.search(QUESTION, lang="zh", jurisdiction="CN")[0].entry


def test_a_library_serves_exactly_what_the_store_publishes(store, library):
    assert set(library.entries) == {e.id for e in store.list_approved()}
    assert best(library).topic == "wrong_number"
    assert library.refresh() is False  # nothing changed


def test_an_edit_is_served_once_a_second_person_approves_it_and_not_before(store, library):
    alice, bob = sign_in(store, "alice"), sign_in(store, "bob")
    target = best(library)
    rec = store.get(target.id)
    store.save(replace(rec.entry, say=(NEW_SAY, *rec.entry.say[1:])), by=alice, expected_revision=rec.revision)
    store.submit(target.id, by=alice)

    library.refresh()
    assert library.entry(target.id).say == target.say  # in review: the approved version keeps serving

    store.approve(target.id, by=bob)
    assert library.refresh() is True

    served = library.entry(target.id)
    assert served.say[0] == NEW_SAY and served.version == target.version + 1
    assert {m["hash"] for m in library.vectors.records(target.id)["metadatas"]} == {served.content_hash}
    assert best(library).id == target.id


def test_a_retired_entry_leaves_the_served_set_and_the_index(store, library):
    target = best(library)

    store.retire(target.id, by=sign_in(store, "alice"), reason="number recycled")
    library.refresh()

    assert library.entry(target.id) is None and library.vectors.records(target.id)["ids"] == []
    assert target.id not in {h.entry.id for h in library.retriever.search(QUESTION, lang="zh", jurisdiction="CN")}


def test_a_published_regulation_names_a_known_law_after_the_refresh(store, library):
    alice, bob = sign_in(store, "alice"), sign_in(store, "bob")
    store.save(REGULATION, by=alice)
    store.submit(REGULATION.id, by=alice)
    library.refresh()
    assert not any("测试市" in law for law in library.known_laws)

    store.approve(REGULATION.id, by=bob)
    library.refresh()

    assert any(REGULATION.citation in law for law in library.known_laws)
    assert library.known_laws == store.known_laws()
