"""Which contact a line of advice suggests (guardrails/contact/actions.py): the coach drops a card line whose
contact the call context forbids, so a line that proposes a contact must be read as proposing it (in the
agent's words to the debtor too), a forbidden or negated contact as proposing nothing, and a contact put off
to a named later time as a later one."""

from __future__ import annotations

import pytest
import yaml

from guardrails.contact.actions import ACTIONS_FILE, clauses, suggested

NOW, LATER = False, True  # the value of an action in `suggested`: whether every mention is put off to later

CASES = [  # (line, the actions it suggests: id -> deferred)
    # calling the debtor: now, later, or not at all
    ("今晚再打一次试试", {"call_debtor": NOW}),
    ("明天上午十点再给他打电话", {"call_debtor": LATER}),
    ("打电话给他", {"call_debtor": NOW}),
    ("先别打，等他明天方便再打", {"call_debtor": LATER}),
    ("Try again later", {"call_debtor": NOW}),
    ("Call back later tonight", {"call_debtor": NOW}),
    ("Call him back tomorrow after 8 am", {"call_debtor": LATER}),
    ("Do not call back tonight; call back tomorrow after 8 am", {"call_debtor": LATER}),
    ("Schedule a callback at the agreed time", {"call_debtor": LATER}),
    ("Call back during permitted hours", {"call_debtor": LATER}),
    # the agent's own words to the debtor (a line to say) propose the contact just the same
    ("我晚点再打给您", {"call_debtor": NOW}),
    ("我明天再给您打电话", {"call_debtor": LATER}),
    ("我稍后给您发短信", {"text_debtor": NOW}),
    ("I'll call you back in an hour", {"call_debtor": NOW}),
    ("Let me call you back tonight", {"call_debtor": NOW}),
    ("I will call you again tomorrow at 10", {"call_debtor": LATER}),
    ("We'll send you a text with the details", {"text_debtor": NOW}),
    ("I'll email you the payment plan", {"email_debtor": NOW, "discuss_debt": NOW}),
    # other media
    ("不要再打了，先发短信", {"text_debtor": NOW}),
    ("Send him a text with the payment link", {"text_debtor": NOW}),
    ("可以发邮件把还款计划发给他", {"email_debtor": NOW, "discuss_debt": NOW}),
    ("上门拜访客户", {"visit_debtor": NOW}),
    ("Visit his home", {"visit_debtor": NOW}),
    # reaching someone other than the debtor, or the debtor's lawyer
    ("联系他的紧急联系人问一下他现在的电话", {"contact_third_party": NOW}),
    ("让他姐姐提醒他还钱", {"contact_third_party": NOW, "discuss_debt": NOW}),
    ("Call his sister to ask where he is", {"contact_third_party": NOW}),
    ("Ask her to remind him to pay", {"contact_third_party": NOW}),
    ("联系客户的代理律师", {"contact_attorney": NOW}),
    ("Contact his attorney instead", {"contact_attorney": NOW}),
    ("Stop all contact and note the cease request", {"stop_contact": NOW}),
    # negated: proposes nothing
    ("不要发短信", {}),
    ("不要上门", {}),
    ("不要联系他的家人", {}),
    ("Don't text him", {}),
    ("Do not discuss the debt with her", {}),
    ("他家人接了电话，别说欠款的事", {}),
    ("Thank her and end the call without mentioning the debt", {}),
    ("短信里不会写具体金额", {}),
    ("家里人没有义务替他还任何欠款", {}),
    ("I won't go into details about the balance", {}),
    # a question, not a negation: "会不会"
    ("您看现在会不会方便我打给您", {"call_debtor": NOW}),
    ("会不会是欠款金额算错了", {"discuss_debt": NOW}),
    ("Don't call his employer, call him again tomorrow", {"call_debtor": LATER}),
    # no contact at all
    ("记录通话内容并提交主管", {}),
    ("Note the call in the account", {}),
    ("跟客户确认欠款金额", {"discuss_debt": NOW}),
]


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_line_suggests_the_contacts_it_proposes(line, expected):
    assert suggested(line) == expected


def test_a_negation_or_a_later_time_stops_at_the_clause():
    assert clauses("不要今晚打，明天再打") == ["不要今晚打", "明天再打"]
    assert clauses("Don't call tonight but call tomorrow") == ["Don't call tonight", "call tomorrow"]
    # the negation of the first clause does not cancel the second one's contact, nor its time defer it
    assert suggested("不要联系他的家人，今晚再打给他") == {"call_debtor": NOW}
    # a contact now anywhere in the line makes it a contact now
    assert suggested("今晚再打一次，明天再打一次") == {"call_debtor": NOW}


def test_every_action_in_the_lexicon_is_one_the_contact_rules_can_judge():
    data = yaml.safe_load(ACTIONS_FILE.read_text(encoding="utf-8"))
    from guardrails.contact.context import CHANNELS

    for name, action in data["actions"].items():
        assert action.get("channel") in (*CHANNELS, None), name
        assert action["zh"] and action["en"], f"{name}: both languages"
