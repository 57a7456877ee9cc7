"""python -m assistant.prebuilt: rebuild the prebuilt data of the shipped knowledge base."""

from __future__ import annotations

import json

from assistant.prebuilt import VETTING_PATH


def build() -> int:
    """Vet every shipped entry with the shipped guard and write the verdicts; how many."""
    from assistant.curation.vetting import EntryVetting
    from guardrails import Guard
    from knowledge_base import load_entries
    from knowledge_base.shipped import SHIPPED_DIR

    guard = Guard()  # the fact sheet only: what a fresh store's bootstrap vets with
    vetting = EntryVetting(lambda: guard, prebuilt=False)
    verdicts = {e.content_hash: vetting(e) for e in load_entries(SHIPPED_DIR)}
    VETTING_PATH.write_text(json.dumps({"guard": guard.fingerprint, "verdicts": verdicts}, ensure_ascii=False,
                                       sort_keys=True, separators=(",", ":")), encoding="utf-8")
    return len(verdicts)


if __name__ == "__main__":
    print(f"{build()} entries vetted -> {VETTING_PATH}")
