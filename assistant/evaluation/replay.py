"""Replay evaluation: recorded calls (a folder of transcript files whose segments carry `expect_card` /
`expect_alert` labels and whose header names `expect_call_alerts` and `compliant`) through the live-call
companion, segment by segment as a speech engine would send them, and the metrics of the live-call bars."""

from __future__ import annotations

from pathlib import Path

from assistant.live.companion import CallCompanion, CallState
from assistant.live.segments import read_transcript

CALL_ALERTS = ("contact_rule", "disclosure")


def replay(coach, path: Path) -> dict:
    """One recorded call through a fresh companion: its labels, and what the companion pushed."""
    transcript = read_transcript(path)
    header = transcript.header
    state = CallState.opened(transcript.call_id, header.get("agent", ""), header.get("context"),
                             header.get("lang"), coach.settings.jurisdiction)
    companion = CallCompanion(coach, state)
    pushed = []
    for segment in transcript.segments:
        pushed += [e for e in companion.receive(segment) if e["type"] != "ack"]
    companion.close()
    labels = {s.seq: s.labels for s in transcript.segments if s.final}
    speakers = {s.seq: s.speaker for s in transcript.segments}
    return {"call_id": transcript.call_id, "agent": header.get("agent", ""), "compliant": header.get("compliant"),
            "expect_call_alerts": header.get("expect_call_alerts") or [], "labels": labels, "speakers": speakers,
            "alerts": state.alerts, "cards": state.cards, "readings": state.readings, "summary": state.summary}


def replay_metrics(calls: list[dict]) -> dict:
    """Alert recall on labelled agent violations (and with the right category), call-level alert recall,
    false alerts per compliant call, card hit@1 on labelled customer turns, unwanted cards per call."""
    violations = hits = right = 0
    expected_call = found_call = 0
    compliant = [c for c in calls if c["compliant"]]
    card_labels = card_hits = unwanted = 0
    misses = []
    for call in calls:
        by_seq: dict[int, list[str]] = {}
        for alert in call["alerts"]:
            by_seq.setdefault(alert["seq"], []).append(alert["category"])
        for seq, labels in call["labels"].items():
            want = labels.get("expect_alert")
            if want:
                violations += 1
                got = [c for c in by_seq.get(seq, []) if c not in CALL_ALERTS]
                hits += bool(got)
                right += want in got
                if want not in got:
                    misses.append({"call": call["call_id"], "seq": seq, "expected": want, "got": got})
            topic = labels.get("expect_card")
            if topic:
                card_labels += 1
                reading = call["readings"].get(str(seq))
                card_hits += reading == topic
                if reading != topic:
                    misses.append({"call": call["call_id"], "seq": seq, "expected": topic, "got": reading})
        categories = {a["category"] for a in call["alerts"]}
        for kind in call["expect_call_alerts"]:
            expected_call += 1
            found_call += kind in categories
            if kind not in categories:
                misses.append({"call": call["call_id"], "seq": None, "expected": kind, "got": sorted(categories)})
        for card in call["cards"]:
            label = call["labels"].get(card["seq"], {}).get("expect_card")
            if label != card["topic"]:
                unwanted += 1
                misses.append({"call": call["call_id"], "seq": card["seq"], "expected": label or "no card",
                               "got": card["topic"]})
    false_alerts = sum(len(c["alerts"]) for c in compliant)
    return {
        "n_calls": len(calls), "n_compliant": len(compliant), "n_violations": violations,
        "alert_recall": hits / violations if violations else None,
        "alert_category_accuracy": right / violations if violations else None,
        "call_alert_recall": found_call / expected_call if expected_call else None,
        "false_alerts_per_compliant_call": false_alerts / len(compliant) if compliant else None,
        "card_hit@1": card_hits / card_labels if card_labels else None,
        "unwanted_cards_per_call": unwanted / len(calls) if calls else None,
        "misses": misses,
    }
