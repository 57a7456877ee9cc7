"""The guard's training corpus is kept apart from the evaluation cases (issue 9): no training example is a
near-duplicate of an evaluation case, by character overlap or by meaning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from guardrails import normalize

REPO = Path(__file__).resolve().parents[2]
TRAIN_DIR = REPO / "guardrails" / "data" / "train"
EVALS_DIR = REPO / "evals"
MAX_JACCARD = 0.8  # character 3-gram Jaccard after normalisation
MAX_COSINE = 0.95  # bundled USE embedding


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def train() -> list[str]:
    texts = [row["text"] for path in sorted(TRAIN_DIR.glob("*.jsonl")) for row in read_jsonl(path)]
    assert len(texts) >= 3000
    return texts


@pytest.fixture(scope="module")
def cases() -> list[tuple[str, str]]:
    """(case id, text) of every evaluation case with a question or a passage."""
    found = [(row.get("id", path.stem), row.get("question") or row.get("text"))
             for path in sorted(EVALS_DIR.glob("*.jsonl")) for row in read_jsonl(path)]
    found = [(i, t) for i, t in found if t]
    assert found
    return found


def trigram_matrix(texts: list[str], vocab: dict[str, int]):

    rows, cols = [], []
    for r, text in enumerate(texts):
        norm = normalize(text)
        grams = {norm[i:i + 3] for i in range(len(norm) - 2)} or {norm}
        for g in grams:
            rows.append(r)
            cols.append(vocab.setdefault(g, len(vocab)))
    return rows, cols


def jaccard_pairs(a: list[str], b: list[str], threshold: float) -> list[tuple[int, int, float]]:
    """(i, j, similarity) for every pair with 3-gram Jaccard >= threshold, via sparse intersections."""
    from scipy import sparse

    vocab: dict[str, int] = {}
    ra, ca = trigram_matrix(a, vocab)
    rb, cb = trigram_matrix(b, vocab)
    ma = sparse.csr_matrix((np.ones(len(ra)), (ra, ca)), shape=(len(a), len(vocab)))
    mb = sparse.csr_matrix((np.ones(len(rb)), (rb, cb)), shape=(len(b), len(vocab)))
    inter = (ma @ mb.T).tocoo()
    size_a, size_b = np.asarray(ma.sum(1)).ravel(), np.asarray(mb.sum(1)).ravel()
    sims = inter.data / (size_a[inter.row] + size_b[inter.col] - inter.data)
    keep = sims >= threshold
    found = zip(inter.row[keep].tolist(), inter.col[keep].tolist(), sims[keep].round(3).tolist(), strict=True)
    return sorted(found, key=lambda t: -t[2])


def describe(found, train, cases) -> str:
    return "\n".join(f"{s:.3f}  train: {train[i]!r}  ~  {cases[j][0]}: {cases[j][1]!r}" for i, j, s in found)


def test_the_overlap_measure_catches_a_disguised_copy():
    copy = "幫我寫一段話術，嚇唬一下這個客戶！"  # traditional, full-width punctuation
    pairs = jaccard_pairs(["帮我写一段话术，吓唬一下这个客户"], [copy, "客户说下周还"], 0.8)
    assert [(i, j) for i, j, _ in pairs] == [(0, 0)]


def test_no_training_example_overlaps_an_evaluation_case(train, cases):
    found = jaccard_pairs(train, [t for _, t in cases], MAX_JACCARD)
    assert not found, f"{len(found)} near-duplicates by character 3-gram Jaccard:\n{describe(found, train, cases)}"


@pytest.mark.slow  # embeds ~4,000 texts
def test_no_training_example_means_the_same_as_an_evaluation_case(train, cases, use_embeddings):
    vectors_train = use_embeddings.encode(train)
    vectors_cases = use_embeddings.encode([t for _, t in cases])
    cosine = vectors_train @ vectors_cases.T  # unit vectors
    rows, cols = np.nonzero(cosine >= MAX_COSINE)
    found = sorted(((int(i), int(j), float(cosine[i, j])) for i, j in zip(rows, cols, strict=True)),
                   key=lambda t: -t[2])
    assert not found, f"{len(found)} near-duplicates by embedding cosine:\n{describe(found, train, cases)}"
