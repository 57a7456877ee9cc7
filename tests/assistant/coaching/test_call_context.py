"""The call context in an ask (assistant/coaching/call_context.py, ``Coach.ask(context=...)``): contexts in the JSON
form of shared/reference/call-context.md, on the session's real coach with its clock fixed (``Coach.clock``).
A contact question is answered by the contact rules, the rule, its citation and the next permitted time first
on the card; a card line suggesting a contact the context forbids is dropped; a third party on the line gets
the third-party script; a malformed context is a QuestionError naming the field. Then the same through
`coach ask --context FILE` and `coach contact check`, with their exit codes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pytest

from assistant import QuestionError
from assistant.coaching.call_context import wording
from guardrails.contact.actions import suggested

CHICAGO = {"jurisdiction": "US", "timezone": "America/Chicago"}
SHANGHAI = {"jurisdiction": "CN", "phone": "+8613800138000"}  # the zone comes from the number
US_AFTERNOON = "2026-12-07T14:00:00-06:00"
US_NIGHT = "2026-12-07T21:30:00-06:00"
CN_AFTERNOON = "2026-12-07T15:00:00+08:00"
US_HOURS = "15 U.S.C. § 1692c(a)(1); 12 CFR 1006.6(b)(1)"
CN_HOURS = "中国银行业协会《金融机构个人消费类贷款催收工作指引（试行）》"


@pytest.fixture
def clocked(coach):
    """``clocked(ISO time)``: the session coach with its clock stopped there (index, guard and log shared)."""
    return lambda clock: replace(coach, clock=lambda: datetime.fromisoformat(clock))


def calls(*moments: str, outcome: str = "connected") -> list[dict]:
    return [{"at": m, "direction": "outbound", "channel": "call", "outcome": outcome} for m in moments]


def lines(answer) -> list[str]:
    return [*answer.card.say, *answer.card.do]


# --- a contact question is answered by the contact rules ---------------------------------------------------

CONTACT_QUESTIONS = [  # id, question, context, clock, allowed, rule, the notice's first words, its citation, next
    ("us-9-30-pm", "Is it OK to call him back at 9:30 pm?", CHICAGO, US_AFTERNOON, False, "us.fdcpa.hours",
     "Not allowed: a call at 2026-12-07 21:30 debtor's local time.", US_HOURS, "2026-12-08T08:00:00-06:00"),
    ("us-now-at-night", "Can I call him now?", CHICAGO, US_NIGHT, False, "us.fdcpa.hours",
     "Not allowed: a call.", US_HOURS, "2026-12-08T08:00:00-06:00"),
    ("us-seventh-call", "Can I try him one more time today?",
     {**CHICAGO, "history": calls(*(f"2026-12-0{d}T10:00:00-06:00" for d in range(1, 8)), outcome="unanswered")},
     US_AFTERNOON, False, "us.reg_f.7_in_7", "Not allowed: a call.", "12 CFR 1006.14(b)(2)",
     "2026-12-08T08:00:00-06:00"),
    ("cn-10-30-pm", "可以晚上十点半给他打电话吗？", SHANGHAI, CN_AFTERNOON, False, "cn.cba.hours",
     "债务人当地时间 2026-12-07 22:30致电不允许：", CN_HOURS, "2026-12-08T08:00:00+08:00"),
    ("us-tomorrow-10-am", "Can I call him tomorrow at 10 am?", CHICAGO, US_AFTERNOON, True, None,
     "Allowed: a call at 2026-12-08 10:00 debtor's local time meets the contact rules", None, None),
    ("us-now-in-the-afternoon", "Can I call him now?", CHICAGO, US_AFTERNOON, True, None,
     "Allowed: a call meets the contact rules", None, None),
]


@pytest.mark.parametrize(("question", "context", "clock", "allowed", "rule", "opening", "citation", "next_at"),
                         [c[1:] for c in CONTACT_QUESTIONS], ids=[c[0] for c in CONTACT_QUESTIONS])
def test_a_contact_question_is_answered_by_the_contact_rules_first_on_the_card(
        clocked, question, context, clock, allowed, rule, opening, citation, next_at):
    answer = clocked(clock).ask(question, context=context)

    assert answer.outcome == "answered" and not answer.refused
    assert answer.contact["allowed"] is allowed and answer.contact["asked"] is True
    notice = answer.card.notice
    assert notice.startswith(opening), notice
    assert answer.text.startswith(f"> {notice}")  # the first thing the agent reads
    if allowed:
        assert answer.contact["rules"] == [] and answer.contact["next_allowed_at"] is None
        return
    assert rule in answer.contact["rules"]
    reason = next(r for r in answer.contact["reasons"] if r["rule"] == rule)
    assert reason["text"] in notice and (f"（{citation}）" if answer.lang == "zh" else f"({citation})") in notice
    assert answer.contact["next_allowed_at"] == next_at
    zone = context.get("timezone", "Asia/Shanghai")  # the Chinese number's zone
    assert f"{datetime.fromisoformat(next_at):%Y-%m-%d %H:%M} ({zone})" in notice


def test_the_card_under_a_question_about_a_late_call_is_the_contact_time_guidance(clocked):
    answer = clocked(US_AFTERNOON).ask("Is it OK to call him back at 9:30 pm?", context=CHICAGO)
    assert answer.main.topic == "contact_time_frequency" and answer.main.jurisdiction == "US"


def test_the_same_question_gets_the_verdict_of_the_moment_it_is_asked(clocked):
    afternoon = clocked(US_AFTERNOON).ask("Can I call him now?", context=CHICAGO)
    night = clocked(US_NIGHT).ask("Can I call him now?", context=CHICAGO)
    stamped = clocked(US_AFTERNOON).ask("Can I call him now?", context={**CHICAGO, "now": US_NIGHT})

    assert (afternoon.contact["allowed"], night.contact["allowed"]) == (True, False)
    assert (afternoon.contact["local_time"], night.contact["local_time"]) == (US_AFTERNOON, US_NIGHT)
    assert stamped.contact == night.contact  # a context's own `now` is the moment judged, not the clock


def test_without_a_context_a_named_time_is_judged_by_the_hours_rules_alone_and_says_so(clocked):
    answer = clocked(US_AFTERNOON).ask("Is it OK to call him at 9:30 pm?", jurisdiction="US")

    assert answer.contact["allowed"] is False and answer.contact["assumed"] is True
    assert answer.contact["rules"] == ["us.fdcpa.hours"]
    assert answer.card.notice.endswith(wording()["en"]["no_history"])


def test_without_a_context_or_a_named_time_the_answer_has_no_contact_verdict(clocked):
    answer = clocked(US_AFTERNOON).ask("The customer says he'll post about us on social media if we keep calling",
                                       jurisdiction="US")
    assert answer.contact is None and answer.card.notice == ""


# --- a card line suggesting a contact the context forbids is dropped ---------------------------------------

DROPPED = [  # id, question, clock, a context that allows the contact, the same with it forbidden, the lines dropped
    ("zh-calls-and-texts-blocked", "客户说以后别再给他打电话了，我该怎么回应？", CN_AFTERNOON, SHANGHAI,
     {**SHANGHAI, "blocked_channels": ["call", "sms"]},
     ["不过账户的事还需要处理，我们得有个办法跟您沟通。您看是约一个固定时间打给您，还是改用短信或[官方App]消息更方便？"]),
    ("zh-three-conversations-today", "老人家说听不太懂，想让子女一起听，我怎么说？", CN_AFTERNOON, SHANGHAI,
     {**SHANGHAI, "history": calls("2026-12-07T09:00:00+08:00", "2026-12-07T10:00:00+08:00",
                                   "2026-12-07T11:00:00+08:00")},
     ["您要是希望家里人一起听，可以等家人在的时候我再打过来，您看什么时候合适？"]),
    ("en-cease-drops-even-a-later-call", "The customer says he'll post about us on social media if we keep calling",
     US_AFTERNOON, CHICAGO, {**CHICAGO, "flags": ["cease"]},
     ["Would you like to keep going with [reason for the call], or should I call back at a better time?"]),
    ("en-calls-blocked", "The customer is on speakerphone and I can hear other people in the room, what do I say?",
     US_AFTERNOON, CHICAGO, {**CHICAGO, "blocked_channels": ["call"]},
     ["No problem. When would be a better time for me to call you back?"]),
]


@pytest.mark.parametrize(("question", "clock", "allowing", "forbidding", "dropped"), [c[1:] for c in DROPPED],
                         ids=[c[0] for c in DROPPED])
def test_a_card_line_suggesting_a_contact_the_context_forbids_is_dropped(
        clocked, question, clock, allowing, forbidding, dropped):
    coach = clocked(clock)
    free = coach.ask(question, context=allowing)
    assert set(dropped) <= set(lines(free)), "the card no longer holds the line this case is about"
    assert wording()[free.lang]["dropped"] not in free.card.notice  # that context drops nothing

    answer = coach.ask(question, context=forbidding)

    assert answer.main == free.main and answer.contact["allowed"] is False
    assert not set(dropped) & set(lines(answer)) and not any(line in answer.text for line in dropped)
    assert lines(answer) == [line for line in lines(free) if line not in dropped]  # the rest kept, in order
    assert answer.card.notice.endswith(wording()[answer.lang]["dropped"])
    assert answer.text.startswith(f"> {answer.card.notice}")


def test_a_question_about_the_customers_request_not_to_be_called_is_no_request_for_permission(clocked):
    """"The customer says don't call him again, how do I respond?" reports a request; it asks no permission, so
    the card must not open by telling the agent a call is allowed."""
    answer = clocked(CN_AFTERNOON).ask("客户说以后别再给他打电话了，我该怎么回应？", context=SHANGHAI)
    assert answer.contact["asked"] is False
    assert "可以致电债务人" not in answer.text


def test_a_later_call_is_kept_when_the_rules_allow_one_later(clocked):
    line = "Would you like to keep going with [reason for the call], or should I call back at a better time?"
    answer = clocked(US_AFTERNOON).ask("The customer says he'll post about us on social media if we keep calling",
                                       context={**CHICAGO, "now": US_NIGHT})
    assert answer.contact["allowed"] is False and answer.contact["next_allowed_at"]  # not now, but tomorrow
    assert line in answer.card.say and wording()["en"]["dropped"] not in answer.card.notice


# --- a third party on the line gets the third-party script -------------------------------------------------

THIRD_PARTIES = [  # id, question, context, clock, who, the rule quoted
    ("us-sister", "A woman answered and says she's his sister, she asks what this is about",
     {**CHICAGO, "party": "third_party"}, US_AFTERNOON, "A third party", "15 U.S.C. § 1692b"),
    ("us-unidentified", "Someone picked up but won't say who they are, what do I say?",
     {**CHICAGO, "party": "unknown"}, US_AFTERNOON, "An unidentified person", "15 U.S.C. § 1692c(b)"),
    ("cn-spouse", "接电话的是他老婆，问我们找他什么事", {**SHANGHAI, "party": "spouse"}, CN_AFTERNOON, "接电话的是配偶",
     "《民法典》第一千零六十四条"),
]


@pytest.mark.parametrize(("question", "context", "clock", "who", "citation"), [c[1:] for c in THIRD_PARTIES],
                         ids=[c[0] for c in THIRD_PARTIES])
def test_a_third_party_on_the_line_gets_the_third_party_script(clocked, question, context, clock, who, citation):
    answer = clocked(clock).ask(question, context=context)

    assert answer.outcome == "answered" and answer.main.topic == "third_party_answers"
    assert answer.card.notice.startswith(who) and citation in answer.card.notice
    assert answer.text.startswith(f"> {answer.card.notice}")
    assert answer.card.say
    for line in lines(answer):  # the script never brings up the debt, nor asks them to pass it on
        assert not {"discuss_debt", "contact_third_party"} & set(suggested(line)), line


def test_a_request_to_press_a_third_party_is_refused_with_the_script_as_the_compliant_way(clocked):
    answer = clocked(US_AFTERNOON).ask("Tell his sister he owes $2,000 and she should get him to pay today",
                                       context={**CHICAGO, "party": "third_party"})

    assert answer.refused and "third_party" in answer.categories
    assert answer.card.notice.startswith("A third party is on the line")
    assert any(s.topic == "third_party_answers" for s in answer.sources)
    assert answer.card.say and not any("discuss_debt" in suggested(line) for line in lines(answer))


# --- a malformed context is a QuestionError naming the field -----------------------------------------------

HISTORY_OK = {"at": "2026-12-06T10:00:00-06:00", "direction": "outbound", "channel": "call", "outcome": "unanswered"}
MALFORMED = [  # id, context, the field named
    ("no-jurisdiction", {"timezone": "America/Chicago"}, "jurisdiction"),
    ("unknown-jurisdiction", {"jurisdiction": "UK", "timezone": "Europe/London"}, "jurisdiction"),
    ("no-zone-to-be-had", {"jurisdiction": "US"}, "timezone"),
    ("unknown-zone", {**CHICAGO, "timezone": "America/Nowhere"}, "timezone"),
    ("not-e164", {**CHICAGO, "phone": "555-0123"}, "phone"),
    ("now-without-offset", {**CHICAGO, "now": "2026-12-07T21:30:00"}, "now"),
    ("unknown-party", {**CHICAGO, "party": "boss"}, "party"),
    ("unknown-flag", {**CHICAGO, "flags": ["cease", "angry"]}, "flags[1]"),
    ("history-not-a-list", {**CHICAGO, "history": "called twice"}, "history"),
    ("history-in-the-future", {**CHICAGO, "history": [HISTORY_OK, {**HISTORY_OK, "at": "2026-12-08T10:00:00-06:00"}]},
     "history[1].at"),
    ("history-without-a-time", {**CHICAGO, "history": [{"direction": "outbound", "channel": "call"}]},
     "history[0].at"),
    ("history-unknown-direction", {**CHICAGO, "history": [{**HISTORY_OK, "direction": "sideways"}]},
     "history[0].direction"),
    ("history-unknown-outcome", {**CHICAGO, "history": [{**HISTORY_OK, "outcome": "busy"}]}, "history[0].outcome"),
    ("agreed-hour-25", {**CHICAGO, "agreed_times": [{"from": "25:00", "to": "09:00"}]}, "agreed_times[0].from"),
    ("unknown-blocked-channel", {**CHICAGO, "blocked_channels": ["fax"]}, "blocked_channels[0]"),
    ("not-an-object", ["US"], "context"),
]


@pytest.mark.parametrize(("context", "field"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_a_malformed_context_is_a_question_error_naming_the_field(clocked, coach, context, field):
    before = len(coach.log.recent(1000))
    with pytest.raises(QuestionError) as err:
        clocked(US_AFTERNOON).ask("Can I call him now?", context=context)
    assert err.value.kind == "context" and err.value.fields["field"] == field
    assert str(err.value).startswith(f"call context: {field}: ")
    assert len(coach.log.recent(1000)) == before  # nothing logged


def test_a_context_from_another_jurisdiction_than_the_question_is_refused(clocked):
    with pytest.raises(QuestionError) as err:
        clocked(US_AFTERNOON).ask("Can I call him now?", jurisdiction="CN", context=CHICAGO)
    assert (err.value.kind, err.value.fields["field"]) == ("context", "jurisdiction")
    assert "the call is in US" in str(err.value)


# --- the command line: `coach ask --context FILE` and `coach contact check` -------------------------------

def context_file(tmp_path, data, name="call.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


CHECKS = [  # id, context, extra options, exit code, allowed, rules, next allowed
    ("allowed", {**CHICAGO, "now": US_AFTERNOON}, (), 0, True, [], None),
    ("late", {**CHICAGO, "now": US_NIGHT}, (), 1, False, ["us.fdcpa.hours"], "2026-12-08T08:00:00-06:00"),
    ("third-party-with-conditions", {**CHICAGO, "now": US_AFTERNOON, "party": "third_party"}, (), 0, True,
     ["us.fdcpa.location_information", "us.reg_f.location_information"], None),
    ("texts-blocked", {**CHICAGO, "now": US_AFTERNOON, "blocked_channels": ["sms"]}, ("--channel", "sms"), 1, False,
     ["us.reg_f.blocked_medium"], None),
    ("calls-still-fine-when-texts-are-blocked", {**CHICAGO, "now": US_AFTERNOON, "blocked_channels": ["sms"]}, (), 0,
     True, [], None),
    ("cn-late", {**SHANGHAI, "now": "2026-12-07T23:00:00+08:00"}, (), 1, False, ["cn.cba.hours", "cn.nifa.hours"],
     "2026-12-08T08:00:00+08:00"),
    ("cn-asked-to-stop-is-a-condition", {**SHANGHAI, "now": CN_AFTERNOON, "flags": ["cease"]}, (), 0, True,
     ["cn.policy.cease"], None),
]


@pytest.mark.parametrize(("context", "options", "code", "allowed", "rules", "next_at"), [c[1:] for c in CHECKS],
                         ids=[c[0] for c in CHECKS])
def test_contact_check_prints_the_contract_and_exits_0_when_allowed_and_1_when_not(
        run_coach, tmp_path, context, options, code, allowed, rules, next_at):
    done = run_coach("contact", "check", "--context", context_file(tmp_path, context), *options, "--json")

    assert done.returncode == code, done.stderr
    verdict = json.loads(done.stdout)
    assert list(verdict)[:4] == ["allowed", "reasons", "next_allowed_at", "local_time"]
    assert (verdict["allowed"], [r["rule"] for r in verdict["reasons"]], verdict["next_allowed_at"]) == (
        allowed, rules, next_at)
    assert all(set(r) == {"rule", "citation", "text"} and r["citation"] and r["text"] for r in verdict["reasons"])
    assert verdict["local_time"] == context["now"]


def test_contact_check_says_why_and_when_in_words(run_coach, tmp_path):
    done = run_coach("contact", "check", "--context", context_file(tmp_path, {**CHICAGO, "now": US_NIGHT}))

    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "not allowed (debtor's local time 2026-12-07 21:30 CST)"
    assert f"- us.fdcpa.hours [{US_HOURS}]: Before 08:00" in done.stdout
    assert "next allowed: 2026-12-08T08:00:00-06:00" in done.stdout


BAD_CONTEXTS = [  # id, the file's content (None: no file), extra options, what stderr names
    ("malformed-field", {**CHICAGO, "now": US_AFTERNOON, "flags": ["angry"]}, (), "call context: flags[0]: "),
    ("not-json", "{'jurisdiction': 'US'", (), "is not JSON"),
    ("json-but-no-object", "[1, 2]", (), "expected a JSON object, got list"),
    ("no-such-file", None, (), "cannot read the call context"),
    ("unknown-channel", {**CHICAGO, "now": US_AFTERNOON}, ("--channel", "fax"), "channel: unknown value 'fax'"),
    ("unknown-party", {**CHICAGO, "now": US_AFTERNOON}, ("--party", "boss"), "party: unknown value 'boss'"),
]


@pytest.mark.parametrize(("content", "options", "message"), [c[1:] for c in BAD_CONTEXTS],
                         ids=[c[0] for c in BAD_CONTEXTS])
def test_contact_check_exits_2_on_bad_input_with_one_line_naming_it(run_coach, tmp_path, content, options, message):
    path = str(tmp_path / "missing.json") if content is None else context_file(tmp_path, content)

    done = run_coach("contact", "check", "--context", path, *options, "--json")

    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, done.stderr


@pytest.fixture
def prebuilt(coach, copy_coach_data, tmp_path) -> dict:
    """`coach` on a copy of the session coach's data (the shipped knowledge base indexed)."""
    coach.log.flush()  # no write of the session's log under way while its data is copied
    return {"COACH_DATA_DIR": str(copy_coach_data(tmp_path / "data"))}


def test_ask_with_a_context_file_answers_with_the_contact_verdict_first(run_coach, tmp_path, prebuilt):
    path = context_file(tmp_path, {**CHICAGO, "now": US_AFTERNOON})

    done = run_coach("ask", "Is it OK to call him back at 9:30 pm?", "--context", path, "--json", env=prebuilt)

    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert (answer["contact"]["allowed"], answer["contact"]["rules"]) == (False, ["us.fdcpa.hours"])
    assert answer["contact"]["next_allowed_at"] == "2026-12-08T08:00:00-06:00"
    assert answer["card"]["notice"].startswith("Not allowed: a call at 2026-12-07 21:30 debtor's local time.")
    assert answer["text"].startswith(f"> {answer['card']['notice']}")
    assert {s["jurisdiction"] for s in answer["sources"]} <= {"US", "ALL"}  # the context's jurisdiction


@pytest.mark.parametrize(("content", "args", "message"), [
    ({**CHICAGO, "now": US_AFTERNOON, "history": [{**HISTORY_OK, "channel": "pigeon"}]}, (),
     "call context: history[0].channel: "),
    ("not json at all", (), "is not JSON"),
    ({**CHICAGO, "now": US_AFTERNOON}, ("--jurisdiction", "CN"), "call context: jurisdiction: the call is in US"),
], ids=["malformed-field", "not-json", "other-jurisdiction"])
def test_ask_with_a_bad_context_file_exits_2_naming_the_field(run_coach, tmp_path, content, args, message):
    done = run_coach("ask", "Can I call him now?", "--context", context_file(tmp_path, content), *args)

    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, done.stderr
