"""The guard's training corpus is kept apart from every evaluation case (the project's evals/*.jsonl, the
development sets evals/dev/*/ and the sealed blind sets evals/blind/*/, their recorded calls included): no
training example is a near-duplicate of a case, by character overlap after normalisation (the measure the
training data was deduplicated with) or by meaning; and each set is the one its MANIFEST.yaml recorded.

A blind case is named only by its set, file and id in a failure, never by its text: the sets stay sealed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import yaml

from guardrails import normalize

REPO = Path(__file__).resolve().parents[2]
TRAIN_DIR = REPO / "guardrails" / "data" / "train"
EVALS_DIR = REPO / "evals"
# a set: a folder of case files (evals/blind/briefs holds the authors' briefs, no cases)
SET_DIRS = [d for group in ("dev", "blind") for d in sorted((EVALS_DIR / group).iterdir())
            if d.is_dir() and (any(d.glob("*.jsonl")) or (d / "MANIFEST.yaml").exists())]
MANIFESTS = [d / "MANIFEST.yaml" for d in SET_DIRS if (d / "MANIFEST.yaml").is_file()]
MAX_JACCARD = 0.8  # character 3-gram Jaccard after normalisation: at or above, a near-duplicate
MAX_COSINE = 0.95  # bundled USE embedding (unit vectors)


@dataclass(frozen=True)
class Text:
    where: str  # file:line, or set/file:id
    text: str = field(repr=False)  # never in a traceback's repr of the fixtures
    sealed: bool = False  # a blind case: its text is never shown


def read_jsonl(path: Path) -> list[tuple[int, dict]]:
    return [(n, json.loads(line)) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if line.strip()]


@pytest.fixture(scope="module")
def train() -> list[Text]:
    texts = [Text(f"{path.relative_to(REPO)}:{n}", row["text"])
             for path in sorted(TRAIN_DIR.glob("*.jsonl")) for n, row in read_jsonl(path)]
    assert len(texts) >= 3000
    return texts


def case_texts(path: Path, sealed: bool) -> list[Text]:
    """The question (or passage, or transcribed segment of a recorded call) of every case in one case file."""
    where = path.relative_to(EVALS_DIR)
    found = [Text(f"{where}:{row.get('id') or row.get('seq', n)}", row.get("question") or row.get("text") or "",
                  sealed) for n, row in read_jsonl(path)]
    return [t for t in found if t.text]


def set_files(folder: Path) -> list[Path]:
    """A set's case files: its JSON Lines files and those of its recorded calls (calls/<call_id>.jsonl)."""
    return sorted(folder.glob("*.jsonl")) + sorted(folder.glob("*/*.jsonl"))


@pytest.fixture(scope="module")
def cases() -> list[Text]:
    """Every evaluation case with a question, a passage or a call segment: the project's, the development and
    the blind sets."""
    found = [t for path in sorted(EVALS_DIR.glob("*.jsonl")) for t in case_texts(path, False)]
    for folder in SET_DIRS:
        sealed = folder.parent.name == "blind"
        found += [t for path in set_files(folder) for t in case_texts(path, sealed)]
    return found


def test_every_evaluation_set_is_read(cases):
    """The check below covers the project's cases and every development and blind set on disk."""
    assert {d.parent.name for d in SET_DIRS} == {"dev", "blind"}
    for folder in SET_DIRS:
        files = set_files(folder)
        assert files, folder
        prefix = f"{folder.parent.name}/{folder.name}/"
        with_text = sum(bool(row.get("question") or row.get("text")) for p in files for _, row in read_jsonl(p))
        assert sum(t.where.startswith(prefix) for t in cases) == with_text > 0, folder
    assert all(t.sealed == t.where.startswith("blind/") for t in cases)


def grams(text: str) -> set[str]:
    norm = normalize(text)
    return {norm[i:i + 3] for i in range(len(norm) - 2)} or {norm}


def jaccard_pairs(a: list[str], b: list[str], threshold: float) -> list[tuple[int, int, float]]:
    """(i, j, similarity) for every pair with character 3-gram Jaccard >= threshold (sparse intersections)."""
    from scipy import sparse

    vocab: dict[str, int] = {}

    def matrix(texts: list[str]):
        rows, cols = [], []
        for r, text in enumerate(texts):
            for g in grams(text):
                rows.append(r)
                cols.append(vocab.setdefault(g, len(vocab)))
        return rows, cols

    ra, ca = matrix(a)
    rb, cb = matrix(b)
    ma = sparse.csr_matrix((np.ones(len(ra)), (ra, ca)), shape=(len(a), len(vocab)))
    mb = sparse.csr_matrix((np.ones(len(rb)), (rb, cb)), shape=(len(b), len(vocab)))
    inter = (ma @ mb.T).tocoo()
    size_a, size_b = np.asarray(ma.sum(1)).ravel(), np.asarray(mb.sum(1)).ravel()
    sims = inter.data / (size_a[inter.row] + size_b[inter.col] - inter.data)
    keep = sims >= threshold
    found = zip(inter.row[keep].tolist(), inter.col[keep].tolist(), sims[keep].tolist(), strict=True)
    return sorted(found, key=lambda t: -t[2])


def describe(found, train: list[Text], cases: list[Text]) -> str:
    """One line per near-duplicate: the training example and the case it copies (with a blind case, where both
    are and no text)."""
    lines = []
    for i, j, s in found[:50]:
        if cases[j].sealed:  # the training example would show the blind case's text: where it is, no more
            lines.append(f"{s:.3f}  {train[i].where}  ~  {cases[j].where}")
        else:
            lines.append(f"{s:.3f}  {train[i].where} {train[i].text[:60]!r}  ~  {cases[j].where} {cases[j].text!r}")
    return "\n".join(lines)


def test_the_overlap_measure_catches_a_disguised_copy():
    copy = "幫我寫一段話術，嚇唬一下這個客戶！"  # traditional, full-width punctuation
    pairs = jaccard_pairs(["帮我写一段话术，吓唬一下这个客户"], [copy, "客户说下周还"], MAX_JACCARD)
    assert [(i, j) for i, j, _ in pairs] == [(0, 0)]
    assert jaccard_pairs(["CALL  HIS BOSS now"], ["call his boss now"], MAX_JACCARD)  # case and spacing


def test_no_training_example_overlaps_an_evaluation_case(train, cases):
    found = jaccard_pairs([t.text for t in train], [t.text for t in cases], MAX_JACCARD)
    sealed = sum(cases[j].sealed for _, j, _ in found)
    assert not found, (f"{len(found)} near-duplicates by character 3-gram Jaccard ({sealed} of a blind set); "
                       f"drop them from the training data (devtools/dedupe_train.py):\n"
                       f"{describe(found, train, cases)}")


@pytest.mark.slow  # embeds every training example and case
def test_no_training_example_means_the_same_as_an_evaluation_case(train, cases, use_embeddings):
    vectors_train = np.asarray(use_embeddings.encode([normalize(t.text) for t in train]))
    vectors_cases = np.asarray(use_embeddings.encode([normalize(t.text) for t in cases]))
    found = []
    for start in range(0, len(vectors_train), 2048):
        cosine = vectors_train[start:start + 2048] @ vectors_cases.T
        rows, cols = np.nonzero(cosine >= MAX_COSINE)
        found += [(int(i) + start, int(j), float(cosine[i, j])) for i, j in zip(rows, cols, strict=True)]
    found.sort(key=lambda t: -t[2])
    sealed = sum(cases[j].sealed for _, j, _ in found)
    assert not found, (f"{len(found)} near-duplicates by embedding cosine ({sealed} of a blind set):\n"
                       f"{describe(found, train, cases)}")


def digest(entry: Path) -> str:
    """A file's sha256; a folder's (``calls/``): over each *.jsonl in name order, its name's bytes then its bytes."""
    if not entry.is_dir():
        return hashlib.sha256(entry.read_bytes()).hexdigest()
    h = hashlib.sha256()
    for path in sorted(entry.glob("*.jsonl")):
        h.update(path.name.encode("utf-8"))
        h.update(path.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[str(m.parent.relative_to(EVALS_DIR)) for m in MANIFESTS])
def test_each_evaluation_set_is_the_one_its_manifest_recorded(manifest):
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    folder = manifest.parent
    assert data["set"] == folder.name
    on_disk = [p.name for p in folder.glob("*.jsonl")] + [f"{d.name}/" for d in folder.iterdir() if d.is_dir()]
    assert sorted(data["files"]) == sorted(on_disk), "case files added or removed since the set was recorded"
    for name, recorded in data["files"].items():
        entry = folder / name
        assert digest(entry) == recorded["sha256"], f"{name} changed since it was recorded"
        if "cases" in recorded:
            assert len(read_jsonl(entry)) == recorded["cases"], name
        if "calls" in recorded:
            assert len(list(entry.glob("*.jsonl"))) == recorded["calls"], name
    if folder.parent.name == "blind":
        assert data["status"] == "sealed"


def test_every_blind_and_development_set_has_a_manifest():
    assert len(MANIFESTS) == len(SET_DIRS) and any(m.parent.parent.name == "blind" for m in MANIFESTS)
