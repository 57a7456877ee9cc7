"""What can be worked out ahead for the shipped knowledge base, so a fresh install answers at once:
the guardrails' verdict on every shown line of every shipped entry (keyed by the guard's fingerprint and
each entry's content hash), the vectors of every text a fresh install embeds (vectors.py) and the
abstention calibration. Stale data is
simply not used. Rebuild after changing the entries or the
guard: ``python -m assistant.prebuilt`` (a test says when it is due)."""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path

VETTING_PATH = Path(__file__).with_name("vetting.json")
CALIBRATION_PATH = Path(__file__).with_name("calibration.json")  # the abstention bar of the shipped base


def seed_calibration(data_dir: Path) -> None:
    """Give a new data directory the shipped base's calibration (it carries its fingerprint, so a store
    holding anything else recalibrates as usual)."""
    target = data_dir / "calibration.json"
    if not target.exists() and CALIBRATION_PATH.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CALIBRATION_PATH, target)


@cache
def shipped_verdicts(fingerprint: str) -> dict[str, dict]:
    """content hash -> verdict, when the prebuilt verdicts were made by this guard; else empty."""
    try:
        data = json.loads(VETTING_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("verdicts", {}) if data.get("guard") == fingerprint else {}
