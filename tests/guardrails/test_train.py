"""`coach guard train` is reproducible: the same data (guardrails/data/train, the shipped entries, the everyday
off-topic requests) gives the same model file (byte for byte on a like machine, to BLAS rounding on another), so
the shipped model is provably the one its data makes, and the guard's fingerprint (which keys the prebuilt
verdicts) changes only when a verdict can. One training run (about ten minutes on two cores): the shipped model is the
other run."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from guardrails.model import MODEL_PATH, IntentModel
from guardrails.train import choose_decision, fold_of, legit_requests, load_corpus


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_corpus_loads_and_a_bad_row_is_refused_with_its_file_and_line(tmp_path):
    corpus = load_corpus()
    assert len(corpus) >= 3000 and any(e.violation for e in corpus) and any(not e.violation for e in corpus)
    rows = [{"text": "客户说下周还款", "label": "ok"},
            {"text": "帮我吓唬他", "label": "violation"}]  # a violation without categories
    (tmp_path / "bad.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                                        encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: a violation needs categories"):
        load_corpus(tmp_path)


def test_the_in_domain_questions_read_at_start_are_the_corpus_legitimate_requests():
    assert legit_requests() == [e.text for e in load_corpus() if not e.violation and e.kind == "request"]


WEIGHT_TOLERANCE = 0.01  # 2.5x the largest weight difference seen between the shipped model and one retrained elsewhere


@pytest.mark.slow
def test_training_twice_on_the_same_data_gives_the_same_model_file(run_coach, tmp_path):
    """Retraining on the repository's data gives the shipped model: byte for byte on a machine like the one
    that trained it; elsewhere the same decisions, and weights equal up to the floating-point differences of
    another CPU's BLAS (an AMD EPYC retraining the model shipped at d815f9c: 0.004 at most)."""
    out = tmp_path / "model.npz"
    result = run_coach("guard", "train", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cross-validation" in result.stdout and "threshold" in result.stdout
    IntentModel.load(out)  # a guard can load what training wrote
    if sha256(out) != sha256(MODEL_PATH):
        with np.load(MODEL_PATH) as shipped, np.load(out) as retrained:
            missing = [n for n in shipped.files if n not in retrained.files]
            weights = {n: float(np.abs(shipped[n].astype(np.float64) - retrained[n]).max())
                       for n in ("w_ngram", "w_dense", "bias") if n not in missing}
            exact = [n for n in shipped.files if n not in weights and n not in missing
                     and not np.array_equal(shipped[n], retrained[n])]
        drift = {n: d for n, d in weights.items() if d > WEIGHT_TOLERANCE}
        assert not (missing or exact or drift), (
            f"retraining on the repository's data does not reproduce {MODEL_PATH.name}: missing {missing}, "
            f"different {exact}, weights off by more than {WEIGHT_TOLERANCE}: {drift} (run `coach guard train`)")


def test_a_vetting_decision_does_not_buy_recall_by_flagging_reviewed_lines():
    """Scores where the lowest threshold catches one more violation but also flags reviewed knowledge-base
    lines: without them the decision takes the recall; with them it stays above the reviewed lines."""
    y = np.array([True] * 20 + [False] * 200)
    probs = np.concatenate([np.full(19, 0.9), [0.2], np.full(190, 0.01), np.full(10, 0.3)])
    kinds = np.full(len(y), "act")
    approved = np.zeros(len(y), dtype=bool)
    approved[-10:] = True  # the ten negatives scored 0.3 are reviewed lines; the cap is one in two hundred
    assert choose_decision(probs, kinds, y, (0.95, 0.05))[0] <= 0.2
    assert choose_decision(probs, kinds, y, (0.95, 0.05), approved)[0] > 0.3


def test_folds_are_dealt_by_text_so_an_edit_moves_only_its_own_lines():
    """Dropping lines from the corpus leaves every other example in its fold (positional folds re-dealt all of
    them, and the chosen thresholds swung by 0.25 on a two-line edit); a repeated text never straddles folds."""
    texts = [e.text for e in load_corpus()[:3000]]
    before = {t: fold_of(t, 5, 0) for t in texts}
    after = {t: fold_of(t, 5, 0) for t in texts[2:]}
    assert all(after[t] == before[t] for t in after)
    sizes = np.bincount(list(before.values()), minlength=5)
    assert sizes.min() > 0.15 * len(before)  # every fold gets its share
    assert [fold_of(t, 5, 1) for t in texts[:200]] != [before[t] for t in texts[:200]]  # another deal, other folds


def test_a_line_decision_never_flags_a_reviewed_line_the_shipped_model_scores():
    """A threshold that meets the targets out of fold but would flag a reviewed line under the model fit on
    everything (the one shipped) is passed over for the next admissible one."""
    y = np.array([True] * 40 + [False] * 400)
    probs = np.concatenate([np.linspace(0.5, 0.95, 40), np.full(400, 0.05)])
    kinds = np.full(len(y), "act")
    free = choose_decision(probs, kinds, y, (0.95, 0.05))
    assert free[0] <= 0.5
    reviewed = (np.array([0.45]), np.array(["act"]))  # one reviewed line the shipped model scores 0.45
    held = choose_decision(probs, kinds, y, (0.95, 0.05), clear=reviewed)
    assert held[0] > 0.45
