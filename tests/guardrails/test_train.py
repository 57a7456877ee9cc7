"""`coach guard train` reproduces the shipped intent model exactly (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

from guardrails.model import MODEL_PATH


@pytest.mark.slow
def test_guard_train_reproduces_the_shipped_model(run_coach, tmp_path):
    out = tmp_path / "model.npz"
    result = run_coach("guard", "train", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "cross-validation" in result.stdout and "threshold" in result.stdout
    with np.load(MODEL_PATH) as shipped, np.load(out) as retrained:
        assert shipped.files == retrained.files
        for name in shipped.files:
            assert np.array_equal(shipped[name], retrained[name]), name
