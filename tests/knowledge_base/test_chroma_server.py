"""Scaling out: the same coach on a Chroma server (`chroma run`) instead of the embedded store."""

from __future__ import annotations

import pytest

from assistant import Settings
from knowledge_base.index import COLLECTION, partition_name
from knowledge_base.types import ASK_JURISDICTIONS

pytestmark = pytest.mark.server
TOPICS = ("wrong_number", "discount_request", "financial_hardship")


def remote_client(url: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(url.rsplit(":", 1)[1])
    return chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))


def records_of(entries) -> int:
    """Records the index holds: one per indexed text in each agent jurisdiction's collection that searches the
    entry (an ALL entry is in every one)."""
    return sum(len(e.index_texts()) * (len(ASK_JURISDICTIONS) if e.jurisdiction == "ALL" else 1) for e in entries)


def test_the_coach_answers_from_a_chroma_server(chroma_server, tmp_path, publish_subset):
    data_dir = tmp_path / "data"
    services = publish_subset(Settings(data_dir=data_dir, chroma_url=chroma_server), TOPICS, tmp_path / "entries")

    answer = services.coach.ask("对方说这个号码是他新办的，不认识我要找的人")

    assert not answer.abstained and not answer.refused
    assert (answer.sources[0].topic, answer.sources[0].lang) == ("wrong_number", "zh")
    collections = [remote_client(chroma_server).get_collection(partition_name(COLLECTION, j))
                   for j in ASK_JURISDICTIONS]
    assert sum(c.count() for c in collections) == records_of(services.store.list_approved())
    assert {c.metadata["embedding_model"] for c in collections} == {"usem3"}
    assert not (data_dir / "chroma").exists()  # nothing went to an embedded store


def test_a_second_app_process_on_the_same_server_reuses_the_index(chroma_server, tmp_path, publish_subset):
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server)
    first = publish_subset(settings, ("wrong_number",), tmp_path / "entries")
    entries, built = first.reindex()

    from assistant import Services

    another = Services(settings.model_copy(update={"shipped_entries": False}), log_questions=False)
    again, reused = another.reindex()  # another app process behind the same proxy

    assert built.added == len(entries) > 0 and built.vectors == records_of(entries)
    assert (reused.added, reused.updated, reused.removed, reused.unchanged) == (0, 0, 0, len(entries))
    assert sorted(e.id for e in again) == sorted(e.id for e in entries)
