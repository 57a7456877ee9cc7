"""`coach eval`: run case files (docs/eval-format.md) through `Coach.ask` and the vetting path,
write results, compute metrics, write the report and apply the CI gate."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.coaching.pipeline import Coach, QuestionError
from assistant.evaluation.metrics import compute_metrics
from assistant.evaluation.report import write_report
from assistant.settings import Settings
from knowledge_base.calibration import calibrate
from knowledge_base.retrieval import RetrievalConfig, Retriever


class CaseError(ValueError):
    """A case file cannot be read; names the file and line."""


@dataclass(frozen=True)
class Case:
    id: str
    mode: str
    expect: str
    text: str
    topics: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    lang: str = ""
    jurisdiction: str | None = None
    history: tuple[str, ...] = ()
    hard_negative: bool = False
    source_file: str = ""
    extra: dict = field(default_factory=dict, compare=False)


EXPECTS = {"ask": ("answer", "refuse", "abstain"), "vet": ("ok", "violation")}


def load_cases(path: Path) -> list[Case]:
    """Parse one JSON Lines case file; unknown fields are ignored, bad lines named."""
    cases, seen = [], set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"{path}: cannot read ({exc})") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CaseError(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or not row.get("id") or not row.get("expect"):
            raise CaseError(f"{where}: a case needs 'id' and 'expect'")
        mode = row.get("mode", "ask")
        if mode not in EXPECTS or row["expect"] not in EXPECTS[mode]:
            raise CaseError(f"{where}: expect {row['expect']!r} is not valid for mode {mode!r}")
        if row["id"] in seen:
            raise CaseError(f"{where}: duplicate id {row['id']!r}")
        seen.add(row["id"])
        text = row.get("question" if mode == "ask" else "text")
        if not isinstance(text, str):
            raise CaseError(f"{where}: missing {'question' if mode == 'ask' else 'text'}")
        cases.append(Case(
            id=str(row["id"]), mode=mode, expect=row["expect"], text=text,
            topics=tuple(row.get("topics") or ()), categories=tuple(row.get("categories") or ()),
            lang=row.get("lang", ""), jurisdiction=row.get("jurisdiction"),
            history=tuple(row.get("history") or ()), hard_negative=bool(row.get("hard_negative")),
            source_file=path.name,
        ))
    return cases


def run_case(coach: Coach, case: Case) -> dict:
    """One case through the same path agents use (ask) or trainers use (vet)."""
    started = time.perf_counter()
    if case.mode == "vet":
        verdict = coach.guard.vet(case.text, jurisdiction=case.jurisdiction or coach.settings.jurisdiction)
        return {"id": case.id, "verdict": "violation" if verdict.blocked else "ok",
                "categories": list(verdict.categories), "latency_ms": _ms(started)}
    try:
        answer = coach.ask(case.text, case.history, case.jurisdiction)
    except QuestionError as exc:
        return {"id": case.id, "refused": False, "abstained": True, "categories": [], "topics": [],
                "sources": [], "latency_ms": _ms(started), "error": str(exc)}
    shown = () if answer.refused or answer.abstained else answer.sources[:5]
    return {"id": case.id, "refused": answer.refused, "abstained": answer.abstained,
            "categories": list(answer.categories), "topics": [s.topic for s in shown],
            "sources": [s.id for s in shown], "latency_ms": _ms(started),
            **({"fallback": answer.fallback} if coach.drafter is not None else {})}


def llm_summary(results: list[dict], model: str | None) -> dict:
    """How often an answered case got the composed card instead of the LLM draft, and why."""
    answered = [r for r in results if "fallback" in r and not (r["refused"] or r["abstained"])]
    reasons = Counter(r["fallback"] for r in answered if r["fallback"])
    fell_back = sum(reasons.values())
    return {"model": model, "answered": len(answered), "drafted": len(answered) - fell_back,
            "fallback": fell_back, "fallback_rate": fell_back / len(answered) if answered else None,
            "reasons": dict(reasons.most_common())}


def run_baseline_case(coach: Coach, dense: Retriever, case: Case) -> dict:
    """The plain baseline: same embeddings, dense retrieval only, no guardrails, no vetting."""
    started = time.perf_counter()
    if case.mode == "vet":
        return {"id": case.id, "verdict": "ok", "categories": [], "latency_ms": _ms(started)}
    jurisdiction = (case.jurisdiction or coach.settings.jurisdiction).upper()
    from assistant.coaching.language import detect_lang

    hits = dense.search(case.text, lang=detect_lang(case.text), jurisdiction=jurisdiction, history=case.history)
    return {"id": case.id, "refused": False, "abstained": not hits, "categories": [],
            "topics": [h.entry.topic for h in hits], "sources": [h.entry.id for h in hits],
            "latency_ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def check_gate(metrics: dict, path: Path) -> list[str]:
    """The failing metrics, named, against a thresholds file ({metric: {min: x} | {max: x}})."""
    limits = yaml.safe_load(path.read_text(encoding="utf-8"))["thresholds"]
    failures = []
    for name, bound in limits.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name}: not measured by these cases")
        elif "min" in bound and value < bound["min"]:
            failures.append(f"{name} = {value:.3f} < {bound['min']}")
        elif "max" in bound and value > bound["max"]:
            failures.append(f"{name} = {value:.3f} > {bound['max']}")
    return failures


def summary_line(m: dict) -> str:
    def f(key):
        value = m.get(key)
        return "n/a" if value is None else f"{value:.3f}"

    return (f"hit@1 {f('hit@1')}  hit@3 {f('hit@3')}  refusal_recall {f('refusal_recall')}  "
            f"category_accuracy {f('category_accuracy')}  over_refusal {f('over_refusal')}  "
            f"abstain_accuracy {f('abstain_accuracy')}  vet_accuracy {f('vet_accuracy')}  "
            f"p50 {m.get('latency_ms_p50', 0):.1f} ms  p95 {m.get('latency_ms_p95', 0):.1f} ms")


def run_eval(settings: Settings, case_files: Iterable[Path], out: Path, report_dir: Path | None = None, *,
             baseline: bool = False, gate: Path | None = None, llm: bool = False, log=print) -> list[str]:
    """Run every case, write results to ``out``; returns the gate's failures (empty = pass).

    ``llm``: answer through the configured LLM drafter (COACH_LLM) and report how often it fell
    back; without it the composed cards are measured even when COACH_LLM is set.
    """
    if llm and not settings.llm:
        raise ValueError("--llm needs a model: set COACH_LLM=<provider>:<model>")
    cases = [c for path in case_files for c in load_cases(Path(path))]
    if not cases:
        raise CaseError("no cases in the given files")
    coach = Coach.from_settings(settings if llm else settings.model_copy(update={"llm": None}), log_questions=False)
    results = [run_case(coach, c) for c in cases]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
    metrics = compute_metrics(cases, results)
    log(f"coach:    {summary_line(metrics['overall'])}")
    if llm:
        metrics["llm"] = llm_summary(results, settings.llm)
        metrics["overall"]["llm_fallback_rate"] = metrics["llm"]["fallback_rate"]
        s = metrics["llm"]
        why = ", ".join(f"{reason} {n}" for reason, n in s["reasons"].items())
        log(f"llm:      {s['model']}: {s['drafted']} of {s['answered']} answers drafted; composed card instead "
            f"{s['fallback']} times" + (f" ({why})" if why else ""))
    base = None
    if baseline:
        entries, vectors = list(coach.retriever.entries.values()), coach.retriever.vectors
        bar = calibrate(entries, vectors, coach.embeddings, coach.retriever.lexical, weights=(0.0,))
        dense = Retriever(entries, vectors, coach.embeddings, None, bar.threshold, 0.0,
                          RetrievalConfig(same_lang_bonus=0.0))
        base = compute_metrics(cases, [run_baseline_case(coach, dense, c) for c in cases])
        log(f"baseline: {summary_line(base['overall'])}")
    if report_dir is not None:
        write_report(report_dir, metrics, base, cases, results, coach)
        log(f"report written to {report_dir}/report.md and report.json")
    return check_gate(metrics["overall"], gate) if gate else []
