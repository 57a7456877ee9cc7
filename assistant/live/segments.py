"""Transcript segments in the contract's form (shared/reference/transcript-format.md): one checked
``Segment`` per JSON object; whole transcripts read from JSON Lines (an optional header line with the call
context) or from plain "坐席：… / 客户：…" text.

>>> parse_segment({"call_id": "c-1", "seq": 3, "speaker": "customer", "text": "我失业了"}).final
True
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SPEAKERS = ("agent", "customer", "other")
MAX_TEXT = 4000  # characters in one segment: a speech engine's turn, never a document
MAX_TRANSCRIPT_BYTES = 5_000_000
_PLAIN = re.compile(r"^\s*(坐席|客服|催收员|业务员|客户|债务人|对方|第三方|agent|collector|rep|customer|"
                    r"debtor|consumer|other|third party)\s*[：:]\s*(.*)$", re.IGNORECASE)
_PLAIN_SPEAKER = {"坐席": "agent", "客服": "agent", "催收员": "agent", "业务员": "agent", "agent": "agent",
                  "collector": "agent", "rep": "agent", "客户": "customer", "债务人": "customer",
                  "customer": "customer", "debtor": "customer", "consumer": "customer", "对方": "other",
                  "第三方": "other", "other": "other", "third party": "other"}


class SegmentError(ValueError):
    """A segment or transcript that breaks the contract; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Segment:
    """One turn (or a partial of it) from the speech engine."""

    call_id: str
    seq: int
    speaker: str
    text: str
    start_ms: int | None = None
    end_ms: int | None = None
    final: bool = True
    labels: dict = field(default_factory=dict, compare=False)  # evaluation labels (expect_card, expect_alert)

    def to_dict(self) -> dict:
        return {"call_id": self.call_id, "seq": self.seq, "speaker": self.speaker, "text": self.text,
                "start_ms": self.start_ms, "end_ms": self.end_ms, "final": self.final}


@dataclass(frozen=True)
class Transcript:
    """A whole call: its header (call id, agent, context, ...) and its segments in arrival order."""

    call_id: str
    header: dict
    segments: tuple[Segment, ...]


def parse_segment(data: object, call_id: str | None = None) -> Segment:
    """A checked segment; ``call_id`` (the call a stream is bound to) must match when given."""
    if not isinstance(data, dict):
        raise SegmentError("segment", "expected a JSON object")
    cid = data.get("call_id", call_id)
    if not isinstance(cid, str) or not cid.strip():
        raise SegmentError("call_id", "required: a non-empty string")
    if call_id is not None and cid != call_id:
        raise SegmentError("call_id", f"this stream is call {call_id!r}, the segment says {cid!r}")
    seq = data.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise SegmentError("seq", f"required: an integer >= 0, got {seq!r}")
    speaker = data.get("speaker")
    if speaker not in SPEAKERS:
        raise SegmentError("speaker", f"expected one of {', '.join(SPEAKERS)}, got {speaker!r}")
    text = data.get("text", "")
    if not isinstance(text, str):
        raise SegmentError("text", "expected a string")
    if len(text) > MAX_TEXT:
        raise SegmentError("text", f"{len(text)} characters; a segment holds at most {MAX_TEXT}")
    times = {}
    for name in ("start_ms", "end_ms"):
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise SegmentError(name, f"expected an integer >= 0, got {value!r}")
        times[name] = value
    if None not in times.values() and times["end_ms"] < times["start_ms"]:
        raise SegmentError("end_ms", "ends before it starts")
    final = data.get("final", True)
    if not isinstance(final, bool):
        raise SegmentError("final", f"expected true or false, got {final!r}")
    labels = {k: data[k] for k in ("expect_card", "expect_alert") if k in data}
    return Segment(cid, seq, speaker, text.strip(), times["start_ms"], times["end_ms"], final, labels)


def read_transcript(path: Path) -> Transcript:
    """One call from a file: JSON Lines (header line optional) or plain "坐席：…" text; SegmentError names
    the file and line of what is wrong."""
    try:
        if path.stat().st_size > MAX_TRANSCRIPT_BYTES:
            raise SegmentError("file", f"{path.name} is larger than {MAX_TRANSCRIPT_BYTES // 1_000_000} MB")
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SegmentError("file", f"{path.name} is not UTF-8 text") from None
    except OSError as exc:
        raise SegmentError("file", f"cannot read {path}: {exc.strerror}") from None
    lines = [line for line in raw.splitlines() if line.strip()]
    if not lines:
        raise SegmentError("file", f"{path.name} is empty")
    if lines[0].lstrip().startswith("{"):
        return _jsonl(path, lines)
    return plain_transcript(raw, path.stem)


def _jsonl(path: Path, lines: list[str]) -> Transcript:
    rows = []
    for n, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise SegmentError("file", f"{path.name}:{n}: not JSON ({exc.msg})") from None
    header = rows[0] if isinstance(rows[0], dict) and "seq" not in rows[0] else {}
    body = rows[1:] if header else rows
    call_id = header.get("call_id") or (body[0].get("call_id") if body and isinstance(body[0], dict) else None)
    call_id = call_id or path.stem
    segments = []
    for n, row in enumerate(body, 2 if header else 1):
        try:
            segments.append(parse_segment(row, call_id))
        except SegmentError as exc:
            raise SegmentError(exc.field, f"{path.name}:{n}: {exc}") from None
    return Transcript(call_id, header, tuple(segments))


def plain_transcript(text: str, call_id: str) -> Transcript:
    """A call typed as "坐席：… / 客户：…" (or "Agent: … / Customer: …") lines; a line without a prefix
    continues the turn before it."""
    segments: list[Segment] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _PLAIN.match(line)
        if match:
            speaker = _PLAIN_SPEAKER[match[1].lower()]
            segments.append(Segment(call_id, len(segments), speaker, match[2].strip()[:MAX_TEXT]))
        elif segments:
            last = segments[-1]
            segments[-1] = Segment(call_id, last.seq, last.speaker, f"{last.text} {line.strip()}"[:MAX_TEXT])
        else:
            raise SegmentError("text", f"line {n}: start each turn with 坐席： / 客户： or Agent: / Customer:")
    if not segments:
        raise SegmentError("text", "no turns found")
    return Transcript(call_id, {"call_id": call_id}, tuple(segments))
