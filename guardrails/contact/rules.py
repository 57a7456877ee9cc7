"""May this contact happen now, and if not, from when: contact rules read as data (data/contact/<CODE>.yaml)."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from guardrails.contact.context import CHANNELS, JURISDICTIONS, PARTIES, CallContext, Contact, ContextError
from guardrails.data_files import read_yaml

DATA = Path(__file__).parents[1] / "data" / "contact"
HORIZON = timedelta(days=31)  # no allowed moment within this → next_allowed_at is None
NOT_REACHED = ("unanswered", "failed")
_FIELDS = {"id", "check", "effect", "citation", "status", "instrument", "zh", "en", "channels", "parties",
           "except_parties", "places"}


@dataclass(frozen=True)
class ContactReason:
    """One rule that forbids or conditions the contact, with its citation and verification status."""

    rule: str
    citation: str
    status_tag: str
    text_zh: str
    text_en: str
    effect: str  # "forbid" | "condition"

    def text(self, lang: str = "en") -> str:
        """The explanation in Chinese ("zh") or English (anything else)."""
        return self.text_zh if lang == "zh" else self.text_en


@dataclass(frozen=True)
class ContactVerdict:
    """The judgement of one planned contact: status, every reason, the next allowed moment, the local time."""

    status: str  # "allowed" | "not_allowed" | "conditional"
    reasons: tuple[ContactReason, ...]
    next_allowed_at: datetime | None
    local_time: datetime

    @property
    def allowed(self) -> bool:
        """True when the contact may go ahead now (possibly under conditions)."""
        return self.status != "not_allowed"

    def to_dict(self, lang: str = "en") -> dict:
        """The contract's JSON (call-context.md) plus `status`."""
        return {
            "allowed": self.allowed,
            "reasons": [{"rule": r.rule, "citation": r.citation, "text": r.text(lang)} for r in self.reasons],
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
            "local_time": self.local_time.isoformat(),
            "status": self.status,
        }


@dataclass(frozen=True)
class Rule:
    """One contact rule: the kind of check, its numbers, effect, citation, status tag and wording."""

    id: str
    check: str
    effect: str
    citation: str
    status: str
    instrument: str
    text_zh: str
    text_en: str
    channels: frozenset[str]
    parties: frozenset[str]
    params: dict = field(compare=False, hash=False)
    places: frozenset[str] = frozenset()  # only for a contact at one of these places (none: anywhere)

    @property
    def timed(self) -> bool:
        """Whether the outcome depends on the moment (so it can lapse later)."""
        return self.check in TIMED and (self.check != "flag" or bool(self.params.get("unless_agreed")))


class _Plan:
    """The planned contact, with the history tallied per rule and zone once per check."""

    def __init__(self, context: CallContext, channel: str, party: str) -> None:
        self.context, self.channel, self.party = context, channel, party
        self._dates: dict[tuple[str, ZoneInfo], Counter[date]] = {}

    def dates(self, rule: Rule, zone: ZoneInfo) -> Counter[date]:
        """Local calendar dates of the past calls the rule counts."""
        key = (rule.id, zone)
        if key not in self._dates:
            counted = (c for c in self.context.history if self._counts(rule, c))
            self._dates[key] = Counter(c.at.astimezone(zone).date() for c in counted)
        return self._dates[key]

    def _counts(self, rule: Rule, contact: Contact) -> bool:
        p, ctx = rule.params, self.context
        return (contact.channel == "call" and contact.direction == "outbound"
                and ("outcomes" not in p or contact.outcome in p["outcomes"])
                and (p.get("history_party", "same") == "any" or contact.party == self.party
                     or (contact.party == "unknown" and self.party == "debtor"))
                and not (p.get("same_number") and ctx.phone and contact.number and contact.number != ctx.phone))


def _window(rule: Rule, plan: _Plan, local: datetime) -> Iterator[int]:
    today = local.date()
    return (n for day, n in plan.dates(rule, local.tzinfo).items() if 0 <= (today - day).days < rule.params["days"])


TIMED: dict[str, Callable[[Rule, _Plan, datetime], bool]] = {
    "hours": lambda r, p, local: (not r.params["from"] <= local.time() < r.params["until"]
                                  and not p.context.agreed_at(local.time())),
    "calls": lambda r, p, local: sum(_window(r, p, local)) >= r.params["limit"],
    "after_conversation": lambda r, p, local: any(_window(r, p, local)),
    "flag": lambda r, p, local: r.params["flag"] in p.context.flags and not p.context.agreed_at(local.time()),
}
STATIC: dict[str, Callable[[Rule, _Plan], bool]] = {
    "flag": lambda r, p: r.params["flag"] in p.context.flags,
    "blocked_channel": lambda r, p: p.channel in p.context.blocked_channels,
    "party": lambda r, p: True,  # Rule.parties already limits it to the parties it conditions
    "once": lambda r, p: any(c.direction == "outbound" and c.party in r.parties and c.outcome not in NOT_REACHED
                             for c in p.context.history),
}


def _fires(rule: Rule, plan: _Plan, moment: datetime) -> bool:
    if rule.timed:
        return any(TIMED[rule.check](rule, plan, moment.astimezone(zone)) for zone in plan.context.zones)
    return STATIC[rule.check](rule, plan)


@dataclass(frozen=True)
class RuleSet:
    """One jurisdiction's rules, in the order their reasons are listed, and its wording notes."""

    jurisdiction: str
    rules: tuple[Rule, ...]
    notes: dict = field(compare=False, hash=False)
    not_the_debtor: frozenset[str] = frozenset()  # parties on the line who get the third-party script
    official_zones: dict = field(default_factory=dict, compare=False, hash=False)  # zone -> the law's clock

    def clock_zones(self, zones: tuple[ZoneInfo, ...]) -> tuple[ZoneInfo, ...]:
        """The zones the rules' hours are read in: a zone the law does not keep maps to its official one."""
        mapped = (ZoneInfo(self.official_zones[z.key]) if z.key in self.official_zones else z for z in zones)
        return tuple(dict.fromkeys(mapped))

    def reason(self, rule: Rule, zones: tuple[ZoneInfo, ...]) -> ContactReason:
        """The reason a rule gives, its status tag carried in the text, the zone doubt noted where it matters."""
        tag = self.notes["status"].get(rule.status, {"zh": "", "en": ""})
        zh, en = tag["zh"] + rule.text_zh, tag["en"] + rule.text_en
        if rule.timed and len(zones) > 1:
            note, names = self.notes["zones"], ", ".join(zone.key for zone in zones)
            zh, en = zh + note["zh"].format(zones=names), en + note["en"].format(zones=names)
        return ContactReason(rule.id, rule.citation, rule.status, zh, en, rule.effect)


class ContactRules:
    """Judges a planned contact against its jurisdiction's rules at the context's `now`; never reads the clock."""

    def __init__(self, rulesets: dict[str, RuleSet]) -> None:
        self.rulesets = rulesets

    def check(self, context: CallContext, channel: str = "call", party: str | None = None,
              place: str | None = None) -> ContactVerdict:
        """Judge one planned contact (default: a call to the context's party; ``place``: "work" for a contact
        reaching the debtor at work) at the context's `now`."""
        party = party or context.party
        if channel not in CHANNELS:
            raise ContextError("channel", f"unknown value {channel!r}; expected one of {', '.join(CHANNELS)}")
        if party not in PARTIES:
            raise ContextError("party", f"unknown value {party!r}; expected one of {', '.join(PARTIES)}")
        ruleset = self.rulesets[context.jurisdiction]
        context = replace(context, zones=ruleset.clock_zones(context.zones))
        plan = _Plan(context, channel, party)
        rules = [r for r in ruleset.rules
                 if channel in r.channels and party in r.parties and (not r.places or place in r.places)]
        fired = [r for r in rules if _fires(r, plan, context.now)]
        forbids = [r for r in fired if r.effect == "forbid"]
        later = None
        if forbids and all(r.timed and (r.check != "flag" or context.agreed_times) for r in forbids):
            later = _next_allowed([r for r in rules if r.effect == "forbid" and r.timed], plan)
        status = "not_allowed" if forbids else "conditional" if fired else "allowed"
        reasons = tuple(ruleset.reason(r, context.zones) for r in fired)
        return ContactVerdict(status, reasons, later, context.now.astimezone(context.zones[0]))


@dataclass(frozen=True)
class Tally:
    """How much of a counting rule's allowance the history has used: ``count`` of ``limit`` in ``days``."""

    rule: str
    count: int
    limit: int
    days: int
    outcomes: tuple[str, ...]


def tallies(rules: ContactRules, context: CallContext, party: str | None = None) -> list[Tally]:
    """Each call-counting rule's use so far today (e.g. 2 of 3 connected calls), in the debtor's first zone."""
    party = party or context.party
    ruleset = rules.rulesets[context.jurisdiction]
    context = replace(context, zones=ruleset.clock_zones(context.zones))
    plan = _Plan(context, "call", party)
    local = context.now.astimezone(context.zones[0])
    return [Tally(r.id, sum(_window(r, plan, local)), r.params["limit"], r.params["days"],
                  tuple(r.params.get("outcomes", ())))
            for r in ruleset.rules if r.check == "calls" and party in r.parties]


def _next_allowed(rules: list[Rule], plan: _Plan) -> datetime | None:
    """The earliest moment after now that passes every timed rule, searched over the moments a rule can lapse."""
    ctx = plan.context
    starts = sorted({time(0)} | {r.params["from"] for r in rules if r.check == "hours"}
                    | {window.start for window in ctx.agreed_times})
    end = ctx.now + HORIZON
    for moment in heapq.merge(*(_moments(ctx.now, zone, starts) for zone in ctx.zones)):
        if moment > end:
            return None
        if moment > ctx.now and not any(_fires(r, plan, moment) for r in rules):
            return moment.astimezone(ctx.zones[0])
    return None


def _moments(now: datetime, zone: ZoneInfo, starts: list[time]) -> Iterator[datetime]:
    """Day starts, window openings and agreed-window starts in one zone, in UTC, ascending."""
    first = now.astimezone(zone).date()
    for offset in range(HORIZON.days + 2):
        day = first + timedelta(days=offset)
        for start in starts:
            yield datetime.combine(day, start, tzinfo=zone).astimezone(UTC)


@cache
def load_rules(directory: Path = DATA) -> ContactRules:
    """Every jurisdiction's contact rules, read once from `<directory>/<CODE>.yaml`."""
    rulesets = {}
    for code in JURISDICTIONS:
        data = read_yaml(directory / f"{code}.yaml")
        rulesets[code] = RuleSet(code, tuple(_rule(raw) for raw in data["rules"]), data["notes"],
                                 frozenset(data["not_the_debtor"]), data.get("official_zones") or {})
    return ContactRules(rulesets)


def _rule(raw: dict) -> Rule:
    if raw["check"] not in TIMED.keys() | STATIC.keys() or raw["effect"] not in ("forbid", "condition"):
        raise ValueError(f"contact rule {raw['id']}: unknown check {raw['check']!r} or effect {raw['effect']!r}")
    params = {k: v for k, v in raw.items() if k not in _FIELDS}
    text_zh, text_en = raw["zh"].format_map(params), raw["en"].format_map(params)
    params |= {k: time.fromisoformat(params[k]) for k in ("from", "until") if k in params}
    return Rule(
        id=raw["id"], check=raw["check"], effect=raw["effect"], citation=raw["citation"], status=raw["status"],
        instrument=raw["instrument"], text_zh=text_zh, text_en=text_en,
        channels=frozenset(raw.get("channels", CHANNELS)),
        parties=frozenset(raw.get("parties", PARTIES)) - frozenset(raw.get("except_parties", ())),
        params=params, places=frozenset(raw.get("places", ())),
    )
