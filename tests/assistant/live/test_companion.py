"""The live-call companion on the session's coach: an alert on the agent's own words teaches the compliant way
that fits the call so far (what the customer said before), never one the agent's crossing words happen to name."""

from __future__ import annotations

import pytest

from assistant.live.companion import CallCompanion, CallState
from assistant.live.segments import Segment

CN = {"jurisdiction": "CN", "timezone": "Asia/Shanghai", "now": "2026-12-07T10:00:00+08:00"}
US = {"jurisdiction": "US", "timezone": "America/Chicago", "now": "2026-12-07T10:00:00-06:00", "party": "debtor"}


def alerts(coach, context: dict, lang: str, turns: list[tuple[str, str]]) -> list[dict]:
    """The alerts a call's final segments raise, in order."""
    companion = CallCompanion(coach, CallState.opened("companion-test", "carol", context, lang))
    out = []
    for seq, (speaker, text) in enumerate(turns):
        out += [e for e in companion.receive(Segment("companion-test", seq, speaker, text)) if e["type"] == "alert"
                and e["category"] != "disclosure"]
    return out


@pytest.mark.parametrize("context, lang, turns", [
    (CN, "zh", [("agent", "您好 我是安信消费金融的 我姓王 通话会录音"),
                ("customer", "我上个月被公司裁员了 现在一分钱收入都没有 真的还不上"),
                ("agent", "你再这么拖 我们就把你的逾期情况发给你通讯录里的人 你爸妈你同事都会知道")]),
    (US, "en", [("agent", "Hi, this is Dana with Summit Recovery, this is an attempt to collect a debt"),
                ("customer", "look I lost my job in October, I don't have anything right now"),
                ("agent", "if you don't pay today I'm calling your mom and your boss and telling them you owe us")]),
])
def test_an_alert_on_a_threat_after_a_job_loss_teaches_the_hardship_way(coach, context, lang, turns):
    raised = alerts(coach, context, lang, turns)
    assert [a["seq"] for a in raised] == [2]
    taught = [coach.entry(i) for i in raised[0]["sources"]]
    teaching = [e for e in taught if e is not None and e.kind != "regulation"]
    assert teaching and teaching[0].topic == "financial_hardship", raised[0]["sources"]
    assert raised[0]["suggestion"] in teaching[0].say  # a vetted line of that entry, word for word


def disclosure_alerts(coach, turns: list[str], party: str = "debtor") -> list[dict]:
    companion = CallCompanion(coach, CallState.opened("disclosure-test", "carol", {**US, "party": party}, "en"))
    out = []
    for seq, text in enumerate(turns):
        out += [e for e in companion.receive(Segment("disclosure-test", seq, "agent", text)) if e["type"] == "alert"]
    out += companion.close().get("late_alerts", [])
    return [a for a in out if a["category"] == "disclosure"]


def test_a_us_call_that_never_says_it_is_collecting_a_debt_gets_the_disclosure_alert_with_a_line_to_say(coach):
    raised = disclosure_alerts(coach, ["Hi, may I speak with Maria Lopez?",
                                       "Thanks Maria, I'm calling about your account"])
    assert len(raised) == 1 and raised[0]["seq"] == 1
    assert "debt collector" in raised[0]["suggestion"].lower() and "collect a debt" in raised[0]["suggestion"].lower()


@pytest.mark.parametrize("turns, party", [
    (["Hi, is this Maria?", "Thanks. This call is from a debt collector, an attempt to collect a debt."], "debtor"),
    (["Hi Maria, this is Tanya with Summit Ridge Bank card services on a recorded line.",
      "This is an attempt to collect a debt, and any information obtained will be used for that purpose."], "debtor"),
    (["Hi, I'm trying to reach Maria, is she around?", "No problem, I'll try her again later."], "third_party"),
])
def test_no_disclosure_alert_when_it_was_given_or_the_person_is_not_the_consumer(coach, turns, party):
    assert disclosure_alerts(coach, turns, party) == []


@pytest.mark.parametrize("context, lang, turns", [
    ({**CN, "party": "debtor"}, "zh", [("agent", "喂您好，请问是刘子豪吗？"),
                                      ("other", "我是他妈妈，他手机放家里充电呢，人出去了。你是哪里啊？"),
                                      ("agent", "阿姨您好，他在我们这边有一笔借款，已经逾期两个多月了，一共一万多")]),
    (US, "en", [("agent", "Hi, may I speak with Tyler Brooks?"),
                ("other", "He's at work, this is his roommate. Who's calling?"),
                ("agent", "Tell him Ryan called about his past-due account, it's about forty-two hundred dollars")]),
])
def test_another_voice_on_the_debtors_number_makes_talk_of_the_debt_a_third_party_alert(coach, context, lang, turns):
    """The context says whom the dialer called; when someone else answers, the debt is not theirs to hear."""
    raised = alerts(coach, context, lang, turns)
    assert [(a["seq"], a["category"]) for a in raised] == [(2, "third_party")]


@pytest.mark.parametrize("context, lang, turns", [
    # a US spouse counts as the consumer (15 U.S.C. § 1692c(d)): the context's word stands
    ({**US, "party": "spouse"}, "en", [
        ("agent", "Hi, this is Dana with Summit Recovery. This is a communication from a debt collector."),
        ("other", "This is his wife, I handle the bills."),
        ("agent", "Thanks. The balance on the account is four hundred dollars; can we set up a payment plan?")]),
    # the estate's executor stands for the consumer (12 CFR 1006.2(e))
    (US, "en", [("agent", "Hello, may I speak with Walter Briggs?"),
                ("other", "Walter passed away last month. I'm his son and the executor of his estate."),
                ("agent", "I'm sorry for your loss. The balance on his card is twelve hundred dollars.")]),
    # a voice in the background of the debtor's own call
    ({**CN, "party": "debtor"}, "zh", [("agent", "您好，请问是王秀英阿姨吗？"), ("customer", "是我，你哪位"),
                                      ("other", "妈，谁打来的电话啊"),
                                      ("agent", "阿姨，您那笔分期的账单还有两千块没还，您看这个月能安排吗？")]),
    # someone else answered, then the debtor came to the phone
    ({**CN, "party": "debtor"}, "zh", [("agent", "您好，请问是刘子豪吗？"), ("other", "他在洗澡，你等一下，我叫他"),
                                      ("customer", "喂，我是刘子豪"),
                                      ("agent", "刘先生您好，您的信用卡账单逾期了，欠款三千块，今天方便处理吗？")]),
])
def test_no_third_party_alert_while_the_debtor_or_who_stands_for_them_is_on_the_line(coach, context, lang, turns):
    raised = alerts(coach, context, lang, turns)
    assert [a for a in raised if a["category"] == "third_party"] == []
