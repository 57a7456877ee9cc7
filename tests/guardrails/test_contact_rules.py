"""The contact rules: table-driven verdicts for CN and US (contact_cases.yaml), the contract's JSON, the rules
as data, and a ContextError naming the field for every kind of malformed context."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from guardrails.contact import ContextError, load_rules, parse_context
from guardrails.contact.rules import DATA

CASES = yaml.safe_load(Path(__file__).with_name("contact_cases.yaml").read_text(encoding="utf-8"))
TABLE = [case for cases in CASES.values() for case in cases]
STATUS_TAGS = {"VERIFIED (primary)", "VERIFIED (secondary)", "VERIFIED", "PARTIAL", "UNVERIFIED", "policy"}
NOW = datetime.fromisoformat("2026-12-01T10:00:00+08:00")


def judge(case: dict, rules=None):
    context = parse_context(case["context"], now=datetime.fromisoformat(case["now"]))
    return (rules or load_rules()).check(context, channel=case.get("channel", "call"), party=case.get("party"),
                                       place=case.get("place"))


def test_the_table_covers_both_jurisdictions_and_every_rule():
    assert len(TABLE) >= 70 and {"cn", "us"} <= CASES.keys()
    assert len({case["id"] for case in TABLE}) == len(TABLE)
    rules = load_rules()
    every_rule = {rule.id for ruleset in rules.rulesets.values() for rule in ruleset.rules}
    assert every_rule <= {rule for case in TABLE for rule in case.get("rules", ())}
    assert {case["status"] for case in TABLE} == {"allowed", "not_allowed", "conditional"}


@pytest.mark.parametrize("case", TABLE, ids=[case["id"] for case in TABLE])
def test_a_planned_contact_gets_the_expected_verdict(case):
    verdict = judge(case)
    fired = [reason.rule for reason in verdict.reasons]
    assert verdict.status == case["status"], fired
    assert verdict.allowed is (case["status"] != "not_allowed")
    assert set(case.get("rules", ())) <= set(fired), fired
    assert not set(case.get("absent", ())) & set(fired), fired
    assert len(fired) == len(set(fired))
    for reason in verdict.reasons:  # every verdict names its rule and citation
        assert reason.rule and reason.citation and reason.text_zh and reason.text_en
        assert reason.status_tag in STATUS_TAGS and reason.effect in ("forbid", "condition")
    effects = {reason.effect for reason in verdict.reasons}
    assert {"allowed": set(), "conditional": {"condition"}}.get(verdict.status, effects) == effects
    assert ("forbid" in effects) is (verdict.status == "not_allowed")
    if case["status"] == "not_allowed":
        expected = case["next"]  # required: a not-allowed case says when (or null)
        assert (verdict.next_allowed_at and verdict.next_allowed_at.isoformat()) == expected
    else:
        assert verdict.next_allowed_at is None
    if "local_time" in case:
        assert verdict.local_time.isoformat() == case["local_time"]
    assert verdict.local_time.utcoffset() is not None


def test_to_dict_is_the_contract_json_plus_status():
    case = next(case for case in TABLE if case["id"] == "us-contract-example")
    out = judge(case).to_dict()
    assert list(out) == ["allowed", "reasons", "next_allowed_at", "local_time", "status"]
    assert out["allowed"] is False and out["status"] == "not_allowed"
    assert out["next_allowed_at"] == "2026-12-09T08:00:00-06:00"
    assert out["local_time"] == "2026-12-06T21:30:00-06:00"
    assert all(list(reason) == ["rule", "citation", "text"] for reason in out["reasons"])
    seven = next(reason for reason in out["reasons"] if reason["rule"] == "us.reg_f.7_in_7")
    assert seven["citation"] == "12 CFR 1006.14(b)(2)" and "rebuttable presumption" in seven["text"]


def test_the_reason_text_comes_in_either_language():
    case = next(case for case in TABLE if case["id"] == "cn-2200")
    verdict = judge(case)
    zh, en = verdict.to_dict(lang="zh")["reasons"][0]["text"], verdict.to_dict()["reasons"][0]["text"]
    assert "22:00" in zh and "不得" in zh and "22:00" in en and "consent" in en


def test_partial_and_house_policy_reasons_carry_their_status_in_the_text():
    guarantor = judge(next(case for case in TABLE if case["id"] == "cn-guarantor"))
    art68 = next(r for r in guarantor.reasons if r.rule == "cn.cc_measures.68_guarantor")
    assert art68.status_tag == "PARTIAL" and "PARTIAL" in art68.text_en and "PARTIAL" in art68.text_zh
    assert art68.citation == "《商业银行信用卡业务监督管理办法》第六十八条"
    bankruptcy = judge(next(case for case in TABLE if case["id"] == "us-bankruptcy")).reasons[0]
    assert (bankruptcy.status_tag, bankruptcy.citation) == ("policy", "House policy")
    assert "House policy" in bankruptcy.text_en and "refer the account" in bankruptcy.text_en


def test_several_candidate_zones_are_named_in_the_reason():
    verdict = judge(next(case for case in TABLE if case["id"] == "us-texas-el-paso-still-early"))
    assert "America/Chicago, America/Denver" in verdict.reasons[0].text_en
    assert "every candidate zone" in verdict.reasons[0].text_en


def test_the_rule_files_cite_with_a_status_tag_and_keep_their_numbers_as_data():
    for code in ("CN", "US"):
        data = yaml.safe_load((DATA / f"{code}.yaml").read_text(encoding="utf-8"))
        assert data["jurisdiction"] == code
        for rule in data["rules"]:
            assert rule["id"].startswith(code.lower() + ".") and rule["instrument"] and rule["zh"] and rule["en"]
            assert rule["status"] in STATUS_TAGS
            assert (rule["status"] == "policy") is (rule["citation"] == "House policy")
    hours = {r.id: r for r in load_rules().rulesets["US"].rules}["us.fdcpa.hours"]
    assert "08:00" in hours.text_en and "21:00" in hours.text_en


def copy_rules(tmp_path: Path, code: str, edit) -> Path:
    shutil.copytree(DATA, tmp_path, dirs_exist_ok=True)
    path = tmp_path / f"{code}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data["rules"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_a_cap_changed_in_the_data_changes_the_verdict(tmp_path):
    def two_calls(rules):
        next(r for r in rules if r["id"] == "cn.nifa.connected_calls")["limit"] = 2

    case = next(case for case in TABLE if case["id"] == "cn-two-connected")
    assert judge(case).status == "allowed"
    stricter = load_rules(copy_rules(tmp_path, "CN", two_calls))
    verdict = judge(case, stricter)
    assert verdict.status == "not_allowed" and "2" in verdict.reasons[0].text_en


def test_the_search_gives_up_after_31_days(tmp_path):
    def forty_days(rules):
        rule = next(r for r in rules if r["id"] == "us.reg_f.after_conversation")
        rule["days"] = 40

    case = next(case for case in TABLE if case["id"] == "us-conversation-day-3")
    verdict = judge(case, load_rules(copy_rules(tmp_path, "US", forty_days)))
    assert verdict.status == "not_allowed" and verdict.next_allowed_at is None


def test_the_injected_clock_is_used_when_the_context_has_no_now():
    context = parse_context({"jurisdiction": "CN", "timezone": "Asia/Shanghai"}, now=NOW)
    assert context.now == NOW and context.party == "debtor" and context.history == ()
    with pytest.raises(ContextError, match="^now: "):
        parse_context({"jurisdiction": "CN", "timezone": "Asia/Shanghai"}, now=NOW.replace(tzinfo=None))


def test_a_history_contact_is_normalised():
    contact = parse_context({"jurisdiction": "CN", "timezone": "Asia/Shanghai", "history": [
        {"at": "2026-12-01T01:00:00Z", "direction": "outbound", "channel": "call", "number": "+86 138-0013-8000"}]},
        now=NOW).history[0]
    assert (contact.party, contact.outcome, contact.number) == ("debtor", None, "+8613800138000")
    assert contact.at.isoformat() == "2026-12-01T01:00:00+00:00"


@pytest.mark.parametrize(("channel", "party", "field"), [("fax", None, "channel"), ("call", "boss", "party")])
def test_check_rejects_an_unknown_channel_or_party(channel, party, field):
    context = parse_context({"jurisdiction": "US", "timezone": "America/Chicago"}, now=NOW)
    with pytest.raises(ContextError) as caught:
        load_rules().check(context, channel=channel, party=party)
    assert caught.value.field == field


BASE = {"jurisdiction": "CN", "timezone": "Asia/Shanghai"}
CALL = {"at": "2026-12-01T09:00:00+08:00", "direction": "outbound", "channel": "call", "outcome": "connected"}
MALFORMED = [
    ("missing jurisdiction", {"jurisdiction": None}, "jurisdiction"),
    ("unknown jurisdiction", {"jurisdiction": "UK"}, "jurisdiction"),
    ("unknown IANA zone", {"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ("a zone folder", {"timezone": "America"}, "timezone"),
    ("zone as a number", {"timezone": 8}, "timezone"),
    ("no zone to derive", {"timezone": None}, "timezone"),
    ("non-geographic phone only", {"timezone": None, "phone": "+18005550100"}, "timezone"),
    ("now without offset", {"now": "2026-12-01T10:00:00"}, "now"),
    ("now as a number", {"now": 1764554400}, "now"),
    ("now not a timestamp", {"now": "tomorrow"}, "now"),
    ("contact without offset", {"history": [CALL | {"at": "2026-12-01T09:00:00"}]}, "history[0].at"),
    ("contact in the future", {"history": [CALL, CALL, CALL | {"at": "2026-12-01T10:00:01+08:00"}]}, "history[2].at"),
    ("contact without time", {"history": [{k: v for k, v in CALL.items() if k != "at"}]}, "history[0].at"),
    ("unknown direction", {"history": [CALL | {"direction": "sideways"}]}, "history[0].direction"),
    ("missing direction", {"history": [{k: v for k, v in CALL.items() if k != "direction"}]}, "history[0].direction"),
    ("unknown channel", {"history": [CALL | {"channel": "fax"}]}, "history[0].channel"),
    ("unknown outcome", {"history": [CALL | {"outcome": "busy"}]}, "history[0].outcome"),
    ("unknown contact party", {"history": [CALL | {"party": "neighbour"}]}, "history[0].party"),
    ("contact number not E.164", {"history": [CALL | {"number": "13800138000"}]}, "history[0].number"),
    ("contact not an object", {"history": ["2026-12-01T09:00:00+08:00"]}, "history[0]"),
    ("history not a list", {"history": {"at": "2026-12-01T09:00:00+08:00"}}, "history"),
    ("unknown flag", {"flags": ["cease", "angry"]}, "flags[1]"),
    ("flags not a list", {"flags": "cease"}, "flags"),
    ("unknown blocked channel", {"blocked_channels": ["pigeon"]}, "blocked_channels[0]"),
    ("unknown party", {"party": "boss"}, "party"),
    ("phone not E.164", {"phone": "13800138000"}, "phone"),
    ("phone as a number", {"phone": 8613800138000}, "phone"),
    ("agreed time one-digit hour", {"agreed_times": [{"from": "8:00", "to": "09:00"}]}, "agreed_times[0].from"),
    ("agreed time hour 25", {"agreed_times": [{"from": "25:00", "to": "09:00"}]}, "agreed_times[0].from"),
    ("agreed time negative", {"agreed_times": [{"from": "-1:00", "to": "09:00"}]}, "agreed_times[0].from"),
    ("agreed time non-integer", {"agreed_times": [{"from": "07:30", "to": "08:0.5"}]}, "agreed_times[0].to"),
    ("agreed time as numbers", {"agreed_times": [{"from": 7, "to": 8}]}, "agreed_times[0].from"),
    ("agreed time minute 60", {"agreed_times": [{"from": "07:60", "to": "08:00"}]}, "agreed_times[0].from"),
    ("agreed time past midnight", {"agreed_times": [{"from": "23:00", "to": "24:30"}]}, "agreed_times[0].to"),
    ("agreed time missing end", {"agreed_times": [{"from": "23:00"}]}, "agreed_times[0].to"),
    ("agreed time empty", {"agreed_times": [{"from": "23:00", "to": "23:00"}]}, "agreed_times[0]"),
    ("agreed time as a string", {"agreed_times": ["22:00-23:00"]}, "agreed_times[0]"),
    ("unknown state", {"timezone": None, "address": {"state": "ZZ"}}, "address.state"),
    ("unknown country", {"timezone": None, "address": {"country": "FR"}}, "address.country"),
    ("address as text", {"timezone": None, "address": "Austin, Texas"}, "address"),
    ("empty address", {"timezone": None, "address": {}}, "address"),
]


@pytest.mark.parametrize(("change", "field"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_malformed_context_raises_an_error_naming_the_field(change, field):
    with pytest.raises(ContextError) as caught:
        parse_context(BASE | change, now=NOW)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == field and str(caught.value).startswith(f"{field}: ")


def test_a_future_contact_is_reported_as_the_brief_words_it():
    with pytest.raises(ContextError, match=r"^history\[2\]\.at: timestamp is in the future$"):
        parse_context(BASE | {"history": [CALL, CALL, CALL | {"at": "2026-12-02T09:00:00+08:00"}]}, now=NOW)


def test_a_context_that_is_not_an_object_is_rejected():
    with pytest.raises(ContextError, match="^context: "):
        parse_context(["CN"], now=NOW)  # type: ignore[arg-type]
