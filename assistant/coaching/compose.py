"""Compose the coaching card, the refusal and the fixed replies from approved entries' own text and policy data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from assistant.types import Card, RefusalReason, Source
from guardrails import Verdict, refusal_wording
from guardrails.data_files import read_yaml
from knowledge_base import Entry, Hit

LABELS_PATH = Path(__file__).with_name("data") / "labels.yaml"
Lookup = Callable[[str], Entry | None]
Adjust = Callable[[Card], Card]  # what the call context changes in a card before it is rendered
RELATED = 4  # other readings offered under a card, by title


@cache
def labels(lang: str) -> dict[str, str]:
    return read_yaml(LABELS_PATH)[lang]


@dataclass(frozen=True)
class Composed:
    """A card and where each of its words came from."""

    text: str
    card: Card
    sources: tuple[Source, ...]
    main: Source | None = None
    related: tuple[Source, ...] = ()
    reasons: tuple[RefusalReason, ...] = ()


def source_of(entry: Entry) -> Source:
    return Source(entry.id, entry.title, entry.topic, entry.lang, entry.jurisdiction, entry.version)


def in_lang(entry: Entry | None, lang: str, lookup: Lookup) -> Entry | None:
    """The entry's version in ``lang`` when there is one, else the entry itself."""
    if entry is not None and entry.lang != lang and entry.pair:
        return lookup(entry.pair) or entry
    return entry


def regulations_of(refs, lang: str, lookup: Lookup) -> list[Entry]:
    """The regulation entries ``refs`` name, in ``lang`` where there is a version in it."""
    found = [in_lang(lookup(ref), lang, lookup) for ref in refs]
    return list({e.id: e for e in found if e is not None}.values())


def rules_from(regulations: list[Entry]) -> tuple[tuple[str, str], ...]:
    return tuple((reg.citation or reg.title, reg.rule) for reg in regulations)


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"**{title}**", *lines, ""] if lines else []


def render(card: Card, lang: str, sources: tuple[Source, ...], head: str = "") -> str:
    """The card as Markdown: the context notice, the lines to say first, then do / don't, why, rules, sources."""
    lab = labels(lang)
    quote = ("“{}”" if lang == "zh" else "\"{}\"")
    out = [f"> {card.notice}", ""] if card.notice else []
    out += [head, ""] if head else []
    out += _section(lab["say"], [f"{i}. {quote.format(s)}" for i, s in enumerate(card.say, 1)])
    out += _section(lab["do"], [f"- {d}" for d in card.do])
    out += _section(lab["dont"], [f"- {d}" for d in card.dont])
    out += _section(lab["why"], [card.why] if card.why else [])
    out += _section(lab["rules"], [f"- {c}：{r}" if lang == "zh" else f"- {c}: {r}" for c, r in card.rules])
    out += _section(lab["sources"], [f"- {s.title} ({s.id}, {lab['version']} {s.version}, {s.jurisdiction})"
                                     for s in sources])
    return "\n".join(out).strip()


def main_entry(hits: list[Hit]) -> Entry:
    """The entry a card is built from: the best advice entry among the first three hits, else the best hit."""
    return next((h.entry for h in hits[:3] if h.entry.kind != "regulation"), hits[0].entry)


def compose_answer(hits: list[Hit], lang: str, lookup: Lookup, adjust: Adjust | None = None) -> Composed:
    """The coaching card from the main entry's own text; the other hits become other readings."""
    primary = main_entry(hits)
    if primary.kind == "regulation":
        regs = [primary]
        card = Card(do=primary.do, dont=primary.dont, why=primary.rule, rules=rules_from(regs))
    else:
        regs = regulations_of(primary.refs, lang, lookup)
        card = Card(say=primary.say, do=primary.do, dont=primary.dont, why=primary.why, rules=rules_from(regs))
    card = adjust(card) if adjust else card
    main = source_of(primary)
    sources = tuple(dict.fromkeys([main, *(source_of(r) for r in regs)]))
    related = tuple(source_of(h.entry) for h in hits if h.entry.id != primary.id)[:RELATED]
    head = f"**{primary.title}**"
    if primary.lang != lang:
        head += "\n\n" + labels(lang)["other_lang"]
    return Composed(render(card, lang, sources, head), card, sources, main, related)


def refusal_reasons(categories, lang: str) -> tuple[RefusalReason, ...]:
    """One reason per refused category: its name, why it is refused, and the compliant way, in ``lang``."""
    wording = refusal_wording()["categories"]
    out = []
    for cat in categories:
        w = wording.get(cat, {}).get(lang) or {"name": cat, "why": "", "instead": ""}
        out.append(RefusalReason(cat, w["name"], w["why"], w["instead"]))
    return tuple(out)


def compose_refusal(verdict: Verdict, lang: str, alternatives: list[Entry], lookup: Lookup,
                    adjust: Adjust | None = None) -> Composed:
    """Name what was refused and why, cite the rules, then give the compliant way."""
    wording = refusal_wording()
    lab = wording["labels"][lang]
    reasons = refusal_reasons(verdict.categories, lang)
    lines = [f"**{lab['refused']}** — {wording['intro'][lang]}", ""]
    for r in reasons:
        lines += [f"**{lab['category']}: {r.name}**", r.why, "", f"**{lab['alternative']}**", r.instead, ""]
    regs = regulations_of(verdict.rule_refs, lang, lookup)
    card = Card(say=tuple(s for alt in alternatives for s in alt.say[:2]),
                do=tuple(d for alt in alternatives for d in alt.do[:2]), rules=rules_from(regs),
                alternatives=tuple(alt.title for alt in alternatives))
    card = adjust(card) if adjust else card
    sources = tuple(source_of(e) for e in [*alternatives, *regs])
    body = render(Card(say=card.say, do=card.do, rules=card.rules, notice=card.notice), lang, sources)
    return Composed("\n".join(lines).strip() + "\n\n" + body, card, sources, reasons=reasons)


def fixed_reply(kind: str, lang: str) -> str:
    """A fixed reply of the policy data: abstain, withheld, declined, safety, small_talk."""
    return labels(lang)[kind]
