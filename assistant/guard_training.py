"""`coach guard train`: the guard's intent model from the repository's own files: the labelled corpus
(guardrails/data/train), the shipped entries' agent questions and lines (legitimate by review; the lines to
say also as speech), and the everyday off-topic requests of the abstention calibration. The model it writes
flags no shipped line, alone or with its card's other lines to say and do (as vetting reads a card)."""

from __future__ import annotations

from pathlib import Path


def train_guard(out: Path | None = None) -> None:
    """Cross-validate, choose the decision, fit, and write the model (default: the shipped one)."""
    from guardrails.guard import default_embedder
    from guardrails.lines import SPOKEN
    from guardrails.model import MODEL_PATH
    from guardrails.train import train
    from knowledge_base.calibration import off_topic_questions
    from knowledge_base.curation import shown_lines
    from knowledge_base.shipped import SHIPPED_DIR
    from knowledge_base.store import FileEntrySource

    entries = FileEntrySource(SHIPPED_DIR).list_approved()
    approved = [(q, "request") for e in entries for q in e.questions]
    approved += [(line, "passage") for e in entries for line in (*e.say, *e.do)]
    approved += [(line, "speech") for e in entries for line in e.say]  # vetted words an agent says on a call
    spoken = [[text for field, _, text in shown_lines(e) if field in SPOKEN] for e in entries]
    clear = [("\n".join(lines), "passage") for lines in spoken if len(lines) > 1]  # as check_lines joins them
    train(default_embedder(), approved, off_topic_questions(), clear, out=out or MODEL_PATH)
