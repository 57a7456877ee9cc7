"""The store the app's pages run on in most tests of tests/app: the discount topic (and the regulations and
pairs it links), published the reviewed way (tests/conftest.py ``publish_subset``: imported by alice, approved
by bob), with alice (trainer), carol (agent) and bob (admin).

Publishing vets every line twice (import and approval), half a minute on a busy machine: it is done once per
test run, and each test gets its own copy of the resulting data directory, so no test sees another's changes.
"""

from __future__ import annotations

import shutil

import pytest

from app_pages.common import load_services
from assistant import Services, Settings
from tests.app.signed_in import point_app_at

TOPICS = ("discount_request",)
_published: dict[str, object] = {}  # the data directory published once per run (see the module docstring)


@pytest.fixture
def published(publish_subset, tmp_path_factory, tmp_path, monkeypatch) -> Services:
    """A Services on this test's copy of the store, for the test to check it with (the app holds its own, as
    another process would); the app is pointed at the same data directory."""
    if "data" not in _published:
        root = tmp_path_factory.mktemp("published")
        publish_subset(Settings(data_dir=root / "data"), TOPICS, root / "entries")
        _published["data"] = root / "data"
    data = tmp_path / "data"
    shutil.copytree(_published["data"], data)
    point_app_at(monkeypatch, data, shipped=False)
    services = Services(Settings(data_dir=data, shipped_entries=False), log_questions=False)
    yield services
    load_services.clear()  # the app's Services for this data directory goes with the test
