"""Evaluation as a service for the pages and the API: the project's case sets through the running coach,
for trainers and admins only (the sign-in is checked here, below every page), with progress and cancel."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from assistant.evaluation.runner import Progress, run_eval

EVALS_DIR = Path(__file__).resolve().parents[2] / "evals"
TRAINER_ROLES = ("trainer", "admin")


class Evaluation:
    """Runs the project's evaluation sets (seen and blind) and reads the latest report."""

    def __init__(self, services):
        self.services = services

    @property
    def folder(self) -> Path:
        return self.services.settings.data_dir / "eval-report"

    def case_files(self) -> tuple[list[Path], list[Path]]:
        """(seen sets, blind sets) shipped in evals/."""
        return sorted(EVALS_DIR.glob("*.jsonl")), sorted(EVALS_DIR.glob("blind/*/*.jsonl"))

    def run(self, *, by, progress: Progress = None, cancel: threading.Event | None = None) -> Path:
        """Run every shipped set through this process's coach; the report lands in ``folder``.
        RoleError or SignInError unless ``by`` is a signed-in trainer or admin."""
        self.services.auth.require(by, TRAINER_ROLES)
        seen, blind = self.case_files()
        run_eval(self.services, seen, self.folder / "results.jsonl", self.folder, blind=blind,
                 log=lambda line: None, progress=progress, cancel=cancel)
        return self.folder

    def latest(self, *, by) -> tuple[dict | None, str]:
        """report.json (None when there is none or it is unreadable) and report.md ('' when missing)."""
        self.services.auth.require(by, TRAINER_ROLES)
        try:
            data = json.loads((self.folder / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        try:
            markdown = (self.folder / "report.md").read_text(encoding="utf-8")
        except OSError:
            markdown = ""
        return (data if isinstance(data, dict) and isinstance(data.get("metrics"), dict) else None), markdown
