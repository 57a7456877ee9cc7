"""The act lexicon names what the agent would do, not words that merely contain its characters."""

from __future__ import annotations

import pytest

from guardrails import normalize
from guardrails.signals import find_signals

CASES = [  # (text, signal, whether it must match)
    ("一直打他电话，打到他接为止", "act:pressure", True),
    ("客户一直打太极，问什么都说再说", "act:pressure", False),  # 打太极: dodging, not calling
    ("骗他说明天就有人上门", "act:deception", True),
    ("客户说我们是骗子", "act:deception", False),  # the customer's word for the agent, not a deceit
]


@pytest.mark.parametrize(("text", "signal", "matches"), CASES, ids=[c[0] for c in CASES])
def test_an_act_signal_matches_the_act_and_not_its_look_alike(text, signal, matches):
    assert find_signals(normalize(text)).has(signal) is matches
