"""`coach qa`: finished calls replayed through the live-call companion; every alert per call, the agents'
compliance rate and the most common situations (shared/reference/transcript-format.md fixes the JSON)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from assistant.live.companion import CallCompanion, CallState
from assistant.live.segments import SegmentError, Transcript, read_transcript

MAX_FILES = 5000


def transcripts(path: Path) -> list[Transcript]:
    """The calls in a file or a folder (*.jsonl, *.txt); SegmentError naming the file that is wrong."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".jsonl", ".txt") and p.is_file())
        if not files:
            raise SegmentError("path", f"{path} holds no .jsonl or .txt transcripts")
        if len(files) > MAX_FILES:
            raise SegmentError("path", f"{path} holds {len(files)} transcripts; score at most {MAX_FILES} at once")
    elif path.is_file():
        files = [path]
    else:
        raise SegmentError("path", f"{path} does not exist")
    return [read_transcript(p) for p in files]


def score_call(coach, transcript: Transcript) -> dict:
    """One finished call: its alerts, its cards, its summary."""
    header = transcript.header
    state = CallState.opened(transcript.call_id, header.get("agent", ""), header.get("context"), header.get("lang"),
                             coach.settings.jurisdiction)
    companion = CallCompanion(coach, state)
    for segment in transcript.segments:
        companion.receive(segment)
    summary = companion.close()
    return {"call_id": transcript.call_id, "agent": state.agent,
            "alerts": [{k: a[k] for k in ("seq", "category", "rule", "text", "suggestion")} for a in state.alerts],
            "cards": [{"seq": c["seq"], "entry": c["entry"], "topic": c["topic"]} for c in state.cards],
            "summary": summary["note"]}


def qa_report(coach, path: Path) -> dict:
    """The QA report over every call under ``path``."""
    calls = [score_call(coach, t) for t in transcripts(path)]
    agents: dict[str, dict] = {}
    for call in calls:
        row = agents.setdefault(call["agent"], {"agent": call["agent"], "calls": 0, "calls_with_alerts": 0})
        row["calls"] += 1
        row["calls_with_alerts"] += bool(call["alerts"])
    for row in agents.values():
        row["compliance_rate"] = round(1 - row["calls_with_alerts"] / row["calls"], 3)
    situations = Counter(card["topic"] for call in calls for card in call["cards"])
    alerts = Counter(alert["category"] for call in calls for alert in call["alerts"])
    return {"calls": calls, "agents": sorted(agents.values(), key=lambda r: r["agent"]),
            "situations": dict(situations.most_common()), "alert_categories": dict(alerts.most_common())}


def render(report: dict) -> str:
    """The report as text: one line per call and per agent, then the most common situations."""
    lines = [f"{'call':<24} {'agent':<14} alerts  cards"]
    for call in report["calls"]:
        kinds = ",".join(a["category"] for a in call["alerts"]) or "-"
        lines.append(f"{call['call_id']:<24} {call['agent']:<14} {kinds:<7} {len(call['cards'])}")
    lines += ["", f"{'agent':<14} calls  with alerts  compliance"]
    lines += [f"{a['agent']:<14} {a['calls']:<6} {a['calls_with_alerts']:<12} {a['compliance_rate']:.0%}"
              for a in report["agents"]]
    lines += ["", "most common situations: " + (", ".join(f"{t} {n}" for t, n in report["situations"].items())
                                              or "none")]
    return "\n".join(lines)
