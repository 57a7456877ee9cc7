"""What the call context changes in an answer: the contact verdict the question (or the call itself) gets,
the card lines that would suggest a contact the context forbids, the third-party script when the person on
the line is not the debtor, and the one line the card puts first to say so, with the rule. For "is it OK
to call him at 9:30 pm?" on a US call the line reads "Not allowed: a call at 2026-12-07 21:30 debtor's local
time. Before 08:00 and from 21:00 on ... (15 U.S.C. § 1692c(a)(1); 12 CFR 1006.6(b)(1)) Next permitted: ...".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from assistant.coaching.questions import QuestionError, validate_context
from assistant.types import Card
from guardrails.contact import CallContext, ContactRules, ContactVerdict, ContextError, Tally, load_rules, tallies
from guardrails.contact.actions import suggested
from guardrails.contact.planned import PlannedContact, planned_contact
from guardrails.data_files import read_yaml

WORDING = Path(__file__).with_name("data") / "call_context.yaml"
DEBTOR_CHANNELS = {"call": "call_debtor", "sms": "text_debtor", "email": "email_debtor", "visit": "visit_debtor"}


@cache
def wording() -> dict:
    return read_yaml(WORDING)


@dataclass(frozen=True)
class CallAdvice:
    """The call context's say in one answer."""

    verdict: ContactVerdict
    channel: str
    party: str
    moment: datetime
    asked: bool  # the question asked about this contact (else: the call in progress)
    assumed: bool  # no call context: judged at the named local time only, without history
    forbidden: frozenset[str]  # action ids (guardrails/data/contact/actions.yaml) no line may suggest now
    forbidden_later: frozenset[str]  # ... nor for a named later time
    script: tuple[str, ...]  # topics of the script for who is on the line, when that is not the debtor
    notice: str

    def to_dict(self, lang: str) -> dict:
        """The answer's ``contact`` field: the contract's verdict plus what was judged."""
        return {**self.verdict.to_dict(lang), "rules": [r.rule for r in self.verdict.reasons],
                "channel": self.channel, "party": self.party, "at": self.moment.isoformat(),
                "asked": self.asked, "assumed": self.assumed}


@dataclass(frozen=True)
class CallStatus:
    """What the call panel shows: the debtor's local time, the verdict on the call now, the counts so far."""

    local_time: datetime
    verdict: ContactVerdict
    tallies: tuple[Tally, ...]
    stranger: bool  # the person on the line is not the debtor


def check_contact(context: dict | CallContext, now: datetime, channel: str = "call", party: str | None = None,
                  rules: ContactRules | None = None) -> ContactVerdict:
    """May this contact happen at ``now`` (a call, by default, to the context's party)? QuestionError (kind
    "context", naming the field) for a context that breaks the contract of shared/reference/call-context.md, or
    for a channel or party the rules do not know ("channel: unknown value 'fax'; expected one of ...")."""
    call = validate_context(context, None, now)
    try:
        return (rules or load_rules()).check(call, channel, party)
    except ContextError as exc:
        raise QuestionError("context", str(exc), field=exc.field) from None


def call_status(context: CallContext, rules: ContactRules) -> CallStatus:
    """The state of the call in progress under the contact rules."""
    verdict = rules.check(context, "call", context.party)
    stranger = context.party in rules.rulesets[context.jurisdiction].not_the_debtor
    return CallStatus(verdict.local_time, verdict, tuple(tallies(rules, context)), stranger)


def advise(question: str, context: CallContext | None, jurisdiction: str, lang: str, rules: ContactRules,
           now: datetime) -> CallAdvice | None:
    """The context's say in the answer to ``question``; None when there is no context and the question names
    no clock time to judge."""
    planned = planned_contact(question)
    assumed = context is None
    if context is None:
        if planned is None or planned.at is None:
            return None
        zone = ZoneInfo(wording()["default_zones"][jurisdiction])
        context = CallContext(jurisdiction=jurisdiction, zones=(zone,), now=now.astimezone(zone))
    on_line = context.party
    plan = planned or PlannedContact("call")
    party = plan.party or on_line
    moment = plan.moment(context)
    at = replace(context, now=moment)
    verdict = rules.check(at, plan.channel, party, plan.place)
    stranger = on_line in rules.rulesets[context.jurisdiction].not_the_debtor
    forbidden, later = _forbidden(context, rules, stranger)
    script = tuple(wording()["scripts"].get(on_line, ())) if stranger and not assumed else ()
    notice = _notice(verdict, plan, party, moment, planned is not None, assumed, script, on_line, lang,
                     _party_reason(context, rules, lang))
    return CallAdvice(verdict, plan.channel, party, moment, planned is not None, assumed, forbidden, later,
                      script, notice)


def _forbidden(context: CallContext, rules: ContactRules, stranger: bool) -> tuple[frozenset[str], frozenset[str]]:
    """Actions no line may suggest now, and those not even for a named later time."""
    now, later = set(), set()
    for channel, action in DEBTOR_CHANNELS.items():
        verdict = rules.check(context, channel, "debtor")
        if not verdict.allowed:
            now.add(action)
            if verdict.next_allowed_at is None:
                later.add(action)
    third = rules.check(context, "call", "third_party")
    if stranger or not third.allowed or context.flags & {"cease", "attorney"}:
        now.add("contact_third_party")
        later.add("contact_third_party")
    if stranger:
        now.add("discuss_debt")
        later.add("discuss_debt")
    return frozenset(now), frozenset(later)


def _party_reason(context: CallContext, rules: ContactRules, lang: str) -> tuple[str, str]:
    """The rule about talking to whoever is on the line (its text and citation), if one conditions it."""
    verdict = rules.check(context, "call", context.party)
    reason = next((r for r in verdict.reasons if r.effect == "condition"), None) or next(iter(verdict.reasons), None)
    return (reason.text(lang), reason.citation) if reason else ("", "")


def _notice(verdict: ContactVerdict, plan: PlannedContact, party: str, moment: datetime, asked: bool,
            assumed: bool, script: tuple[str, ...], on_line: str, lang: str, party_reason: tuple[str, str]) -> str:
    w = wording()[lang]
    if script:
        reason, citation = party_reason
        line = w["third_party"].format(party=w["parties"][on_line], reason=reason, citation=citation)
        return _capitalised(line, lang)
    if verdict.status == "allowed" and not asked:
        return ""  # the call in progress breaks no rule: the context changes nothing
    whom = "" if party == "debtor" else (f"（{w['parties'][party]}）" if lang == "zh" else f" to {w['parties'][party]}")
    when_local = w["at_local"].format(local=moment.strftime("%Y-%m-%d %H:%M")) if asked and plan.at else ""
    fields = {"what": w["channels"][plan.channel], "whom": whom, "when_local": when_local}
    if verdict.status == "allowed":
        line = w["allowed"].format(**fields, act=w["acts"][plan.channel])
    else:
        first = next(r for r in verdict.reasons if verdict.status != "not_allowed" or r.effect == "forbid")
        key = "not_allowed" if verdict.status == "not_allowed" else "conditional"
        line = w[key].format(**fields, reason=first.text(lang), citation=first.citation)
        if len(verdict.reasons) > 1:
            line += " " + w["more"].format(n=len(verdict.reasons) - 1)
        if verdict.status == "not_allowed":
            nxt = verdict.next_allowed_at
            line += " " + (w["next"].format(when=f"{nxt:%Y-%m-%d %H:%M} ({nxt.tzinfo})") if nxt else w["never"])
    if assumed:
        line += " " + w["no_history"]
    return _capitalised(line, lang)


def _capitalised(line: str, lang: str) -> str:
    return line if lang == "zh" or not line else line[0].upper() + line[1:]


def restrict(card: Card, advice: CallAdvice, lang: str) -> tuple[Card, bool]:
    """The card without the say and do lines that suggest a contact the context forbids (now, or ever for a
    contact that has no next permitted time), with the notice first; and whether any line was dropped."""
    def keeps(line: str) -> bool:
        for action, deferred in suggested(line).items():
            if action in (advice.forbidden_later if deferred else advice.forbidden):
                return False
        return True

    say, do = tuple(s for s in card.say if keeps(s)), tuple(d for d in card.do if keeps(d))
    dropped = (say, do) != (card.say, card.do)
    notice = advice.notice
    if dropped:
        notice = f"{notice} {wording()[lang]['dropped']}".strip()
    return replace(card, say=say, do=do, notice=notice), dropped

