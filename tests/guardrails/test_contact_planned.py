"""The contact a question asks permission for (guardrails/contact/planned.py): its medium, who it reaches, where,
and the local time it would happen, so the contact rules judge the contact the agent plans rather than the
moment the question is typed. A question that asks no permission, or names no medium, plans nothing."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from guardrails.contact import parse_context
from guardrails.contact.planned import PlannedContact, planned_contact

CASES = [  # (question, channel, party, local time, tomorrow, place)
    ("可以晚上九点半打给他吗", "call", None, time(21, 30), False, None),
    ("is it OK to call him at 9:30 pm?", "call", None, time(21, 30), False, None),
    ("is it OK to text her at 8 am?", "sms", None, time(8, 0), False, None),
    ("明天早上七点可以给他打电话吗", "call", None, time(7, 0), True, None),
    ("can I call at 7 am tomorrow?", "call", None, time(7, 0), True, None),
    ("我可以中午十二点半打给他吗", "call", None, time(12, 30), False, None),
    ("can I call him at 12:30 pm?", "call", None, time(12, 30), False, None),
    ("下午三点一刻打给他可以吗", "call", None, time(15, 15), False, None),
    ("凌晨一点可以打吗", "call", None, time(1, 0), False, None),
    ("晚上十一点可以打吗", "call", None, time(23, 0), False, None),
    # a time said to be now, a deadline and a past call are not the planned moment
    ("现在21:59，客户晚上七点半那通没接，我赶在十点前再拨一次行不行？", "call", None, None, False, None),
    ("it's 8:55 pm now, can I call him at 9:10 pm?", "call", None, time(21, 10), False, None),
    # who the contact reaches, and where
    ("可以给他老婆打电话吗", "call", "spouse", None, False, None),
    ("can I call his boss", "call", "third_party", None, False, None),
    ("can I call his lawyer?", "call", "attorney", None, False, None),
    ("我可以打给他律师吗", "call", "attorney", None, False, None),
    ("is it okay to call her at work?", "call", None, None, False, "work"),
    ("客户姐姐说他出差了，我可以明天再打吗", "call", None, None, True, None),  # the story's sister is not the callee
    # other media
    ("我能给他发短信吗", "sms", None, None, False, None),
    ("can I email him tonight", "email", None, None, False, None),
    ("可以在微信上联系他吗", "social", None, None, False, None),
    ("may I visit his house on saturday", "visit", None, None, False, None),
    # a voicemail is a call; an hour with no period word in a working day is the afternoon's
    ("can I leave him a voicemail at 6:45 am?", "call", None, time(6, 45), False, None),
    ("可以两点打给他吗", "call", None, time(14, 0), False, None),
]


@pytest.mark.parametrize(("question", "channel", "party", "at", "tomorrow", "place"), CASES,
                         ids=[c[0] for c in CASES])
def test_a_question_that_asks_about_a_contact_names_it(question, channel, party, at, tomorrow, place):
    assert planned_contact(question) == PlannedContact(channel, party, at, tomorrow, place)


@pytest.mark.parametrize("question", [
    "客户说的情况我该怎么回应",
    "客户怎么老是不接电话",  # names a medium but asks no permission
    "what should I say when his wife answers",
    "客户说要分期，我怎么回复",
])
def test_a_question_that_asks_no_permission_for_a_contact_plans_none(question):
    assert planned_contact(question) is None


SHANGHAI_9PM = parse_context({"jurisdiction": "CN", "timezone": "Asia/Shanghai"},
                             now=datetime.fromisoformat("2026-12-01T21:00:00+08:00"))


@pytest.mark.parametrize(("question", "moment"), [
    ("今晚九点半可以打给他吗", "2026-12-01T21:30:00+08:00"),  # later today
    ("早上七点可以打给他吗", "2026-12-02T07:00:00+08:00"),  # already past today: the next one
    ("明天早上七点可以打给他吗", "2026-12-02T07:00:00+08:00"),
    ("明天晚上九点可以打给他吗", "2026-12-02T21:00:00+08:00"),
    ("可以打给他吗", "2026-12-01T21:00:00+08:00"),  # no time named: now
])
def test_the_planned_moment_is_the_next_time_the_named_clock_time_comes_round(question, moment):
    assert planned_contact(question).moment(SHANGHAI_9PM).isoformat() == moment


def test_the_moment_is_on_the_debtors_clock_whatever_the_agents_zone():
    context = parse_context({"jurisdiction": "US", "timezone": "America/Chicago"},
                            now=datetime.fromisoformat("2026-12-06T14:00:00Z"))  # 08:00 in Chicago
    assert planned_contact("is it OK to call him at 9:30 pm?").moment(context).isoformat() == \
        "2026-12-06T21:30:00-06:00"
    assert planned_contact("can I call him at 7 am tomorrow?").moment(context).isoformat() == \
        "2026-12-07T07:00:00-06:00"
