"""Compose the coaching card, the refusal and the abstention from approved entries' own text."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import yaml

from assistant.types import Card, Source
from guardrails import Verdict, refusal_wording
from knowledge_base import Entry, Hit

LABELS_PATH = Path(__file__).with_name("data") / "labels.yaml"
Lookup = Callable[[str], Entry | None]


@cache
def labels(lang: str) -> dict[str, str]:
    return yaml.safe_load(LABELS_PATH.read_text(encoding="utf-8"))[lang]


def source_of(entry: Entry) -> Source:
    return Source(entry.id, entry.title, entry.topic, entry.lang, entry.jurisdiction, entry.version)


def in_lang(entry: Entry | None, lang: str, lookup: Lookup) -> Entry | None:
    """The entry's version in ``lang`` when there is one, else the entry itself."""
    if entry is not None and entry.lang != lang and entry.pair:
        return lookup(entry.pair) or entry
    return entry


def rules_of(entry: Entry, lang: str, lookup: Lookup) -> tuple[tuple[str, str], ...]:
    """(citation, plain-language rule) for each regulation the entry relies on."""
    out = []
    for ref in entry.refs:
        reg = in_lang(lookup(ref), lang, lookup)
        if reg is not None:
            out.append((reg.citation or reg.title, reg.rule))
    return tuple(out)


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"**{title}**", *lines, ""] if lines else []


def render(card: Card, lang: str, sources: tuple[Source, ...], head: str = "") -> str:
    """The card as Markdown: lines to say first, then do / don't, why, the rules and sources."""
    lab = labels(lang)
    quote = ("“{}”" if lang == "zh" else "\"{}\"")
    out = [head, ""] if head else []
    out += _section(lab["say"], [f"{i}. {quote.format(s)}" for i, s in enumerate(card.say, 1)])
    out += _section(lab["do"], [f"- {d}" for d in card.do])
    out += _section(lab["dont"], [f"- {d}" for d in card.dont])
    out += _section(lab["why"], [card.why] if card.why else [])
    out += _section(lab["rules"], [f"- {c}：{r}" if lang == "zh" else f"- {c}: {r}" for c, r in card.rules])
    out += _section(lab["sources"], [f"- {s.title} ({s.id}, {lab['version']} {s.version}, {s.jurisdiction})"
                                     for s in sources])
    return "\n".join(out).strip()


def compose_answer(hits: list[Hit], lang: str, lookup: Lookup) -> tuple[str, Card, tuple[Source, ...]]:
    """The coaching card from the best advice entry among the hits (text, card, sources)."""
    primary = next((h.entry for h in hits[:3] if h.entry.kind != "regulation"), hits[0].entry)
    if primary.kind == "regulation":
        card = Card(do=primary.do, dont=primary.dont, why=primary.rule,
                    rules=((primary.citation or primary.title, primary.rule),))
    else:
        card = Card(say=primary.say, do=primary.do, dont=primary.dont, why=primary.why,
                    rules=rules_of(primary, lang, lookup))
    sources = tuple(source_of(h.entry) for h in hits)
    head = f"**{primary.title}**"
    if primary.lang != lang:
        head += "\n\n" + labels(lang)["other_lang"]
    return render(card, lang, sources, head), card, sources


def compose_refusal(verdict: Verdict, lang: str, alternatives: list[Entry],
                    lookup: Lookup) -> tuple[str, Card, tuple[Source, ...]]:
    """Name what was refused and why, cite the rules, then give the compliant way."""
    wording = refusal_wording()
    lab = wording["labels"][lang]
    lines = [f"**{lab['refused']}** — {wording['intro'][lang]}", ""]
    for cat in verdict.categories:
        w = wording["categories"][cat][lang]
        lines += [f"**{lab['category']}: {w['name']}**", w["why"], "", f"**{lab['alternative']}**", w["instead"], ""]
    rules = []
    for ref in verdict.rule_refs:
        reg = in_lang(lookup(ref), lang, lookup)
        if reg is not None:
            rules.append((reg.citation or reg.title, reg.rule))
    say = tuple(s for alt in alternatives for s in alt.say[:2])
    card = Card(say=say, do=tuple(d for alt in alternatives for d in alt.do[:2]), rules=tuple(rules),
                alternatives=tuple(alt.title for alt in alternatives))
    regs = [e for e in (in_lang(lookup(r), lang, lookup) for r in verdict.rule_refs) if e is not None]
    sources = tuple(source_of(e) for e in [*alternatives, *regs])
    body = render(Card(say=card.say, do=card.do, rules=card.rules), lang, sources)
    return "\n".join(lines).strip() + "\n\n" + body, card, sources


def compose_abstention(lang: str) -> str:
    return labels(lang)["abstain"]


def compose_withheld(lang: str) -> str:
    return labels(lang)["withheld"]
