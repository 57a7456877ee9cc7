"""`coach eval`: run case files through the same ask and vetting paths agents and trainers use, write the
results, compute the metrics (seen and blind sets side by side), write the report, apply the gate.

>>> failures = run_eval(settings, [Path("evals/answerable.jsonl")], Path("out.jsonl"),
...                     blind=[Path("evals/dev/2026-12-07-e/us_collector.jsonl")], gate=Path("evals/thresholds.yaml"))
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from assistant.coaching.questions import QuestionError
from assistant.evaluation.actions import judge
from assistant.evaluation.cases import Case, CaseError, load_cases
from assistant.evaluation.metrics import compute_metrics
from assistant.evaluation.replay import replay, replay_metrics
from assistant.evaluation.report import summary_line, write_report
from assistant.types import GAP_OUTCOMES
from guardrails.data_files import read_yaml

Progress = Callable[[int, int], None] | None


class Cancelled(Exception):
    """The run was cancelled (the Evaluation page's Cancel, or the page was left)."""


def run_case(services, case: Case) -> dict:
    """One case through the same path agents use (ask) or trainers use (vet)."""
    coach = services.coach
    started = time.perf_counter()
    if case.mode == "vet":
        verdict = coach.guard.vet(case.text, jurisdiction=case.jurisdiction or coach.settings.jurisdiction)
        return {"id": case.id, "verdict": "violation" if verdict.blocked else "ok",
                "categories": list(verdict.categories), "latency_ms": _ms(started)}
    try:
        answer = coach.ask(case.text, case.history, case.jurisdiction, context=case.extra.get("context"))
    except QuestionError as exc:
        return {"id": case.id, "refused": False, "abstained": True, "categories": [], "topics": [],
                "sources": [], "latency_ms": _ms(started), "error": str(exc), "outcome": "error", "gap": False}
    shown = () if answer.refused or answer.abstained else answer.shown[:5]
    return {"id": case.id, "refused": answer.refused, "abstained": answer.abstained,
            "categories": list(answer.categories), "topics": [s.topic for s in shown],
            "sources": [s.id for s in shown], "latency_ms": _ms(started), "outcome": answer.outcome,
            "gap": answer.outcome in GAP_OUTCOMES,
            **({"contact": answer.contact} if answer.contact is not None else {}),
            **({"actions": judge(answer)} if {"context", "must", "must_not"} & case.extra.keys() else {}),
            **({"fallback": answer.fallback} if coach.drafter is not None else {})}


def run_cases(services, cases: list[Case], progress: Progress = None, cancel: threading.Event | None = None):
    """Every case in order; ``progress(done, total)`` after each; Cancelled when ``cancel`` is set."""
    results = []
    for n, case in enumerate(cases, 1):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"cancelled after {n - 1} of {len(cases)} cases")
        results.append(run_case(services, case))
        if progress:
            progress(n, len(cases))
    return results


def llm_summary(results: list[dict], model: str | None) -> dict:
    """How often an answered case got the composed card instead of the LLM draft, and why."""
    answered = [r for r in results if "fallback" in r and not (r["refused"] or r["abstained"])]
    reasons = Counter(r["fallback"] for r in answered if r["fallback"])
    fell_back = sum(reasons.values())
    return {"model": model, "answered": len(answered), "drafted": len(answered) - fell_back,
            "fallback": fell_back, "fallback_rate": fell_back / len(answered) if answered else None,
            "reasons": dict(reasons.most_common())}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def check_gate(metrics: dict, blind: dict[str, dict], path: Path, calls: dict[str, dict] | None = None,
               blind_calls: dict[str, dict] | None = None) -> list[str]:
    """The failing metrics, named: ``thresholds`` on the seen sets together, ``blind`` on each blind set and
    each of its languages, ``calls`` on each replay set, ``blind_calls`` on each blind replay set
    ({metric: {min: x} | {max: x}})."""
    limits = read_yaml(path)
    failures = _below(metrics["overall"], limits.get("thresholds") or {}, "", missing_ok=not metrics["overall"])
    for name, m in blind.items():
        scopes = {"": m["overall"], **{f" [{lang}]": v for lang, v in m["by_lang"].items()}}
        for scope, values in scopes.items():
            failures += _below(values, limits.get("blind") or {}, f"blind {name}{scope}: ", missing_ok=True)
    for name, m in (calls or {}).items():
        failures += _below(m, limits.get("calls") or {}, f"calls {name}: ")
    for name, m in (blind_calls or {}).items():
        failures += _below(m, limits.get("blind_calls") or {}, f"blind calls {name}: ")
    return failures


def _below(values: dict, limits: dict, prefix: str, missing_ok: bool = False) -> list[str]:
    out = []
    for name, bound in limits.items():
        value = values.get(name)
        if value is None:
            if not missing_ok:
                out.append(f"{prefix}{name}: not measured by these cases")
        elif "min" in bound and value < bound["min"]:
            out.append(f"{prefix}{name} = {value:.3f} < {bound['min']}")
        elif "max" in bound and value > bound["max"]:
            out.append(f"{prefix}{name} = {value:.3f} > {bound['max']}")
    return out


def run_eval(services, case_files: Iterable[Path], out: Path, report_dir: Path | None = None, *,
             blind: Iterable[Path] = (), calls: Iterable[Path] = (), blind_calls: Iterable[Path] = (),
             baseline: bool = False, gate: Path | None = None,
             llm: bool = False, log=print, progress: Progress = None,
             cancel: threading.Event | None = None) -> list[str]:
    """Run every case, write results to ``out``; returns the gate's failures (empty = pass).

    ``blind``: blind sets (evals/blind, written by authors who never saw the training data or entries),
    each measured and reported on its own beside the seen sets. ``calls``: folders of recorded calls
    replayed through the live-call companion (evaluation/replay.py), each measured on its own;
    ``blind_calls``: the same for the recorded calls of a blind set, gated on their own bars. ``llm``:
    answer through the configured LLM drafter and report how often it fell back; without it the composed
    cards are measured (pass ``services`` built without COACH_LLM, as `coach eval` does).
    """
    settings = services.settings
    if llm and not settings.llm:
        raise ValueError("--llm needs a model: set COACH_LLM=<provider>:<model>")
    seen = [c for path in case_files for c in load_cases(Path(path))]
    unseen = {_name(Path(p)): load_cases(Path(p)) for p in blind}
    replays = {_name(Path(p)): _recorded_calls(Path(p)) for p in calls}  # checked before any case runs
    blind_replays = {_name(Path(p)): _recorded_calls(Path(p)) for p in blind_calls}
    if not seen and not any(unseen.values()) and not replays and not blind_replays:
        raise CaseError("no cases in the given files")
    everything = seen + [c for cases in unseen.values() for c in cases]
    results = run_cases(services, everything, progress, cancel)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
    metrics = compute_metrics(seen, results[:len(seen)]) if seen else {"overall": {}, "by_lang": {}}
    if seen:
        log(f"seen:     {summary_line(metrics['overall'])}")
    blind_metrics, start = {}, len(seen)
    for name, cases in unseen.items():
        blind_metrics[name] = compute_metrics(cases, results[start:start + len(cases)])
        start += len(cases)
        log(f"blind {name}: {summary_line(blind_metrics[name]['overall'])}")
    if llm:
        metrics["llm"] = llm_summary(results, settings.llm)
        s = metrics["llm"]
        why = ", ".join(f"{reason} {n}" for reason, n in s["reasons"].items())
        log(f"llm:      {s['model']}: {s['drafted']} of {s['answered']} answers drafted; composed card instead "
            f"{s['fallback']} times" + (f" ({why})" if why else ""))
    base = None
    if baseline and seen:
        from assistant.evaluation.baseline import run_baseline

        base = compute_metrics(seen, run_baseline(services, seen))
        log(f"baseline: {summary_line(base['overall'])}")
    call_metrics = _replay_sets(services, replays, "calls", log)
    blind_call_metrics = _replay_sets(services, blind_replays, "blind calls", log)
    if call_metrics:
        metrics["calls"] = call_metrics
    if blind_call_metrics:
        metrics["blind_calls"] = blind_call_metrics
    if report_dir is not None:
        write_report(report_dir, metrics, base, blind_metrics, len(everything), services.library)
        log(f"report written to {report_dir}/report.md and report.json")
    return check_gate(metrics, blind_metrics, gate, call_metrics, blind_call_metrics) if gate else []


def _recorded_calls(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CaseError(f"{folder}: no such folder of recorded calls")
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise CaseError(f"{folder}: no recorded calls (*.jsonl)")
    return files


def _replay_sets(services, sets: dict[str, list[Path]], label: str, log) -> dict[str, dict]:
    out = {}
    for name, files in sets.items():
        out[name] = replay_metrics([replay(services.coach, p) for p in files])
        log(f"{label} {name}: {replay_line(out[name])}")
    return out


def _name(path: Path) -> str:
    """A set's name in the report: its file or folder, under its parent folder (evals/dev/2026-12-07-e/x)."""
    return f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem


def replay_line(m: dict) -> str:
    def f(key):
        value = m.get(key)
        return "n/a" if value is None else f"{value:.3f}"

    return (f"{m['n_calls']} calls  alert_recall {f('alert_recall')}  category {f('alert_category_accuracy')}  "
            f"call_alerts {f('call_alert_recall')}  false_alerts/compliant_call "
            f"{f('false_alerts_per_compliant_call')}  card_hit@1 {f('card_hit@1')}  "
            f"unwanted_cards/call {f('unwanted_cards_per_call')}")
