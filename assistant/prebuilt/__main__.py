"""python -m assistant.prebuilt: rebuild the prebuilt data of the shipped knowledge base."""

from __future__ import annotations

import json
import shutil

from assistant.prebuilt import CALIBRATION_PATH, VETTING_PATH


def build() -> int:
    """Vet every shipped entry with the shipped guard and write the verdicts; how many."""
    from assistant.curation.vetting import EntryVetting
    from guardrails import Guard
    from knowledge_base import load_entries
    from knowledge_base.shipped import SHIPPED_DIR, shipped_laws

    guard = Guard(known_laws=shipped_laws())  # what a fresh store's bootstrap vets with
    vetting = EntryVetting(lambda: guard, prebuilt=False)
    verdicts = {e.content_hash: vetting(e) for e in load_entries(SHIPPED_DIR)}
    VETTING_PATH.write_text(json.dumps({"guard": guard.fingerprint, "verdicts": verdicts}, ensure_ascii=False,
                                       sort_keys=True, separators=(",", ":")), encoding="utf-8")
    return len(verdicts)


def build_vectors() -> int:
    """Start a fresh install on a throwaway data directory; keep every text it embedded and its calibration;
    how many texts."""
    import tempfile
    from pathlib import Path

    from assistant.prebuilt import vectors
    from assistant.settings import Settings
    from assistant.wiring import Services
    from knowledge_base.embeddings import make_embeddings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), shipped_entries=True, chroma_url=None, database_url=None)
        services = Services(settings, log_questions=False)
        recorder = vectors.Recorder(make_embeddings(settings.embedding, settings.data_dir))
        services.__dict__["embeddings"] = recorder  # the part, recorded instead of built
        services.coach.ask("客户要求打折才肯还款，我该怎么说？")  # bootstrap, index, calibration: all of it
        recorder.encode([t for e in services.store.list_approved() for t in e.index_texts()])  # every record
        shutil.copyfile(Path(tmp) / "calibration.json", CALIBRATION_PATH)
    vectors.write(recorder.name, recorder.seen)
    return len(recorder.seen)


if __name__ == "__main__":
    print(f"{build()} entries vetted -> {VETTING_PATH}")
    print(f"{build_vectors()} texts embedded -> vectors.npz; calibration -> {CALIBRATION_PATH.name}")
