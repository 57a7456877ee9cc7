"""`coach eval --gate` as CI runs it: each bar of evals/thresholds.yaml applies to its own kind of set, and a
missed bar fails the run naming the set and the metric."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CALL = REPO / "evals/dev/2026-12-06-a/calls/call-en-01.jsonl"


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory, coach):
    dest = tmp_path_factory.mktemp("gate") / "data"
    shutil.copytree(coach.settings.data_dir, dest)
    return {"COACH_DATA_DIR": str(dest)}


@pytest.fixture
def sets(tmp_path):
    """One answerable case, and one recorded call as a dev replay set and as a blind one."""
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"id": "g-1", "mode": "ask", "question": "客户说利息全免他就还本金，能答应吗",
                                 "expect": "answer", "topics": ["discount_request"], "lang": "zh"},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    for folder in ("dev/calls", "blind/calls"):
        (tmp_path / folder).mkdir(parents=True)
        shutil.copy(CALL, tmp_path / folder)
    return tmp_path


def gate_file(folder: Path, limits: dict) -> Path:
    path = folder / "thresholds.yaml"
    path.write_text(json.dumps(limits), encoding="utf-8")  # JSON is YAML
    return path


def run_gate(run_coach, env, sets: Path, limits: dict):
    return run_coach("eval", "--cases", str(sets / "cases.jsonl"), "--calls", str(sets / "dev/calls"),
                     "--blind-calls", str(sets / "blind/calls"), "--out", str(sets / "out.jsonl"),
                     "--gate", str(gate_file(sets, limits)), env=env)


def test_a_blind_replay_set_is_held_to_its_own_bars(run_coach, prebuilt, sets):
    done = run_gate(run_coach, prebuilt, sets, {"calls": {"unwanted_cards_per_call": {"max": 100}},
                                                "blind_calls": {"unwanted_cards_per_call": {"max": -1}}})
    assert done.returncode == 1, done.stderr[-2000:]
    failed = [line for line in done.stderr.splitlines() if "below threshold" in line]
    assert len(failed) == 1 and "blind calls blind/calls: unwanted_cards_per_call" in failed[0]
    assert "blind calls blind/calls:" in done.stdout and "calls dev/calls:" in done.stdout


def test_the_gate_passes_when_every_set_meets_its_bars(run_coach, prebuilt, sets):
    done = run_gate(run_coach, prebuilt, sets, {"thresholds": {"hit@3": {"min": 0.0}},
                                                "calls": {"unwanted_cards_per_call": {"max": 100}},
                                                "blind_calls": {"unwanted_cards_per_call": {"max": 100}}})
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_missing_or_empty_calls_folder_is_a_clear_error(run_coach, prebuilt, tmp_path):
    (tmp_path / "empty").mkdir()
    for folder, says in (("missing", "no such folder of recorded calls"), ("empty", "no recorded calls (*.jsonl)")):
        done = run_coach("eval", "--blind-calls", str(tmp_path / folder), "--out", str(tmp_path / "out.jsonl"),
                         env=prebuilt)
        assert done.returncode == 2 and says in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "out.jsonl").exists()
