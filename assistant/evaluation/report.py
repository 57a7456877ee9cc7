"""Write the evaluation report (report.json and report.md) that the Evaluation page reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from knowledge_base.taxonomy import load_taxonomy

ROWS = ("hit@1", "hit@3", "refusal_recall", "category_accuracy", "over_refusal", "over_refusal_hard_negative",
        "abstain_accuracy", "vet_accuracy", "vet_violation_recall", "vet_false_alarm", "latency_ms_p50",
        "latency_ms_p95")


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _metric_table(metrics: dict, baseline: dict | None) -> list[str]:
    head = "| metric | coach |" + (" dense-only baseline |" if baseline else "")
    lines = [head, "|---|---|" + ("---|" if baseline else "")]
    for key in ROWS:
        row = f"| {key} | {_fmt(metrics['overall'].get(key))} |"
        if baseline:
            row += f" {_fmt(baseline['overall'].get(key))} |"
        lines.append(row)
    return lines


def render_markdown(metrics: dict, baseline: dict | None, generated: str) -> str:
    tax = load_taxonomy()
    out = [f"# Evaluation report ({generated})", "", "## Overall", "", *_metric_table(metrics, baseline), ""]
    out += ["## By language", "", "| lang | hit@1 | hit@3 | refusal recall | over-refusal | abstain | vet |",
            "|---|---|---|---|---|---|---|"]
    for lang, m in metrics["by_lang"].items():
        out.append(f"| {lang} | {_fmt(m['hit@1'])} | {_fmt(m['hit@3'])} | {_fmt(m['refusal_recall'])} | "
                   f"{_fmt(m['over_refusal'])} | {_fmt(m['abstain_accuracy'])} | {_fmt(m['vet_accuracy'])} |")
    out += ["", "## By refusal category", "", "| category | cases | recall | category accuracy |", "|---|---|---|---|"]
    for cat, m in metrics["by_category"].items():
        out.append(f"| {cat} | {m['n_refuse']} | {_fmt(m['refusal_recall'])} | {_fmt(m['category_accuracy'])} |")
    out += ["", "### Confusion (expected → returned)", "", "| expected | returned |", "|---|---|"]
    for cat, got in metrics["confusion"].items():
        out.append(f"| {cat} | " + ", ".join(f"{k}: {v}" for k, v in sorted(got.items())) + " |")
    out += ["", "## By topic", "", "| topic | | cases | hit@1 | hit@3 |", "|---|---|---|---|---|"]
    for topic, m in metrics["by_topic"].items():
        out.append(f"| {topic} | {tax.topic_label(topic, 'zh')} | {m['n_answer']} | {_fmt(m['hit@1'])} | "
                   f"{_fmt(m['hit@3'])} |")
    out += ["", f"## Misses ({len(metrics['misses'])})", "", "| id | question | expected | got | top sources |",
            "|---|---|---|---|---|"]
    for miss in metrics["misses"]:
        question = miss["question"].replace("|", "\\|").replace("\n", " ")[:160]
        out.append(f"| {miss['id']} | {question} | {miss['expected']} | {miss['got']} | "
                   f"{', '.join(miss['sources'])} |")
    return "\n".join(out) + "\n"


def write_report(folder: Path, metrics: dict, baseline: dict | None, cases, results, coach) -> None:
    """report.json (everything, machine-readable) and report.md (tables for people)."""
    folder.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    payload = {"generated": generated, "cases": len(cases), "metrics": metrics, "baseline": baseline,
               "knowledge_base": {"entries": len(coach.retriever.entries),
                                  "abstain_threshold": coach.retriever.threshold}}
    (folder / "report.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(metrics, baseline, generated), encoding="utf-8")
