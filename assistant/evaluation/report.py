"""Write the evaluation report (report.json and report.md) that the Evaluation page reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from knowledge_base.taxonomy import load_taxonomy

ROWS = ("hit@1", "hit@3", "refusal_recall", "category_accuracy", "over_refusal", "over_refusal_hard_negative",
        "abstain_accuracy", "harmful_gaps", "vet_accuracy", "vet_violation_recall", "vet_false_alarm",
        "latency_ms_p50", "latency_ms_p95")
SIDE_BY_SIDE = ("hit@1", "hit@3", "refusal_recall", "category_accuracy", "over_refusal", "over_refusal_hard_negative",
                "abstain_accuracy", "harmful_gaps", "vet_accuracy", "vet_violation_recall", "contact_accuracy",
                "must_coverage", "forbidden_suggestions")


def summary_line(m: dict) -> str:
    """The metrics that matter on one line, as `coach eval` prints them."""
    def f(key):
        value = m.get(key)
        return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    context = (f"  contact_accuracy {f('contact_accuracy')}  must_coverage {f('must_coverage')}  "
               f"forbidden_suggestions {f('forbidden_suggestions')}" if m.get("n_context") else "")
    return (f"hit@1 {f('hit@1')}  hit@3 {f('hit@3')}  refusal_recall {f('refusal_recall')}  "
            f"category_accuracy {f('category_accuracy')}  over_refusal {f('over_refusal')}  "
            f"over_refusal_hard {f('over_refusal_hard_negative')}  abstain_accuracy {f('abstain_accuracy')}  "
            f"harmful_gaps {f('harmful_gaps')}  vet_accuracy {f('vet_accuracy')}  "
            f"vet_recall {f('vet_violation_recall')}  p50 {m.get('latency_ms_p50') or 0:.1f} ms  "
            f"p95 {m.get('latency_ms_p95') or 0:.1f} ms" + context)


def seen_and_blind(metrics: dict, blind: dict[str, dict]) -> list[str]:
    """One table: the seen sets and each blind set, overall and per language, metric by metric."""
    columns = [("seen", metrics)] + [(f"blind {name}", m) for name, m in blind.items()]
    scopes = [(label, m["overall"]) for label, m in columns if m.get("overall")]
    for label, m in columns:
        scopes += [(f"{label} [{lang}]", v) for lang, v in (m.get("by_lang") or {}).items()]
    lines = ["| set | " + " | ".join(SIDE_BY_SIDE) + " |", "|---|" + "---|" * len(SIDE_BY_SIDE)]
    for label, values in scopes:
        lines.append(f"| {label} | " + " | ".join(_fmt(values.get(k)) for k in SIDE_BY_SIDE) + " |")
    return lines


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


def write_report(folder: Path, metrics: dict, baseline: dict | None, blind: dict[str, dict], n_cases: int,
                 library) -> None:
    """report.json (everything, machine-readable) and report.md (tables for people)."""
    folder.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    payload = {"generated": generated, "cases": n_cases, "metrics": metrics, "baseline": baseline, "blind": blind,
               "knowledge_base": {"entries": len(library.entries), "abstain_threshold": library.retriever.threshold}}
    (folder / "report.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    markdown = render_markdown(metrics, baseline, generated) if metrics.get("misses") is not None else ""
    side = ["## Seen and blind sets", "", *seen_and_blind(metrics, blind), ""] if blind else []
    (folder / "report.md").write_text("\n".join(side) + "\n" + markdown, encoding="utf-8")
