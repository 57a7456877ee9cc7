"""Redaction metrics on a PII corpus: recall of the spans that must go, false redaction of look-alikes that stay."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PiiItem:
    id: str
    lang: str
    text: str
    pii: tuple[tuple[str, str], ...]    # (span text, label): must not survive redaction
    keep: tuple[tuple[str, str], ...]   # (span text, kind): look-alikes that must survive


def load_pii_corpus(path: Path) -> list[PiiItem]:
    """Read a JSON Lines corpus of {id, lang, text, pii: [{text, label}], keep: [{text, kind}]}."""
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        items.append(PiiItem(str(row.get("id", n)), row.get("lang", ""), row["text"],
                             tuple((s["text"], s["label"]) for s in row.get("pii", ())),
                             tuple((s["text"], s["kind"]) for s in row.get("keep", ()))))
    return items


def _rate(hits: list[bool]) -> float | None:
    return sum(hits) / len(hits) if hits else None


def _summary(caught: list[bool], lost: list[bool]) -> dict:
    return {"recall": _rate(caught), "false_redaction": _rate(lost), "n_pii": len(caught), "n_keep": len(lost)}


def score_redaction(items: Iterable[PiiItem], redact: Callable[[str], str]) -> dict:
    """Recall (pii span text gone) and false-redaction rate (keep span text gone), overall, per language and label.

    Usage: ``score_redaction(load_pii_corpus(path), redact)["by_lang"]["zh"]["recall"]``
    """
    caught: dict[tuple[str, str], list[bool]] = defaultdict(list)   # (lang, label) -> caught?
    lost: dict[tuple[str, str], list[bool]] = defaultdict(list)     # (lang, kind) -> falsely redacted?
    misses, false_hits, n = [], [], 0
    for item in items:
        n += 1
        out = redact(item.text)
        for span, label in item.pii:
            caught[item.lang, label].append(span not in out)
            if span in out:
                misses.append((item.id, label, span))
        for span, kind in item.keep:
            lost[item.lang, kind].append(span not in out)
            if span not in out:
                false_hits.append((item.id, kind, span))

    def pick(table, lang=None, key=None):
        return [v for (lg, k), vs in table.items() if lang in (None, lg) and key in (None, k) for v in vs]

    langs = sorted({lg for lg, _ in caught} | {lg for lg, _ in lost})
    return {
        "n": n, **_summary(pick(caught), pick(lost)),
        "by_lang": {lg: {**_summary(pick(caught, lg), pick(lost, lg)),
                         "by_label": {label: _rate(hits) for (g, label), hits in sorted(caught.items()) if g == lg}}
                    for lg in langs},
        "by_label": {label: {"recall": _rate(pick(caught, key=label)), "n": len(pick(caught, key=label))}
                     for label in sorted({k for _, k in caught})},
        "by_keep_kind": {kind: {"false_redaction": _rate(pick(lost, key=kind)), "n": len(pick(lost, key=kind))}
                         for kind in sorted({k for _, k in lost})},
        "misses": misses, "false_redactions": false_hits,
    }
