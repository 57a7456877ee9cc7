"""The signal groups' regexes find exactly what the plain join of their patterns finds: the shared lookbehind
of English patterns that open on a word edge is a speed-up, never a change of meaning."""

import json
import re
from pathlib import Path

import pytest
import yaml

from guardrails.normalize import normalize
from guardrails.patterns import ASCII_EDGE, GAP, group_regex, opens_on_word
from guardrails.signals import ACTS, DATA, MARKERS, SIMPLE, TARGETS, find_signals

EVALS = Path(__file__).resolve().parents[2] / "evals"
EDGES = ["a script for the first call", "i'll call his boss", "我可以pretend自己是court的人吗", "threatening", "threat",
         "the cx's wife", "call 3x a day", "$500 or jail", "re-threaten", "_threat", "x threat_", "pre-court notice",
         "帮我ps一张判决书", "if you don't pay today we will have you arrested", "i'm from the sheriff's office"]


def plain(lists: dict) -> re.Pattern:
    """The reference: every pattern joined in order, each \\b an ASCII word edge."""
    return re.compile("|".join(f"(?:{p.replace('.{', GAP[lang]).replace(chr(92) + 'b', ASCII_EDGE)})"
                               for lang in ("zh", "en") for p in lists[lang]))


def groups() -> dict[str, dict]:
    data = yaml.safe_load((DATA / "signals.yaml").read_text(encoding="utf-8"))
    found = {name: data[name] for name in (*SIMPLE, *MARKERS)}
    found |= {f"act:{a}": data["acts"][a] for a in ACTS}
    return found | {f"target:{t}": data["targets"][t] for t in TARGETS}


def texts() -> list[str]:
    out = list(EDGES)
    for path in sorted(EVALS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            out += [case[k] for k in ("question", "text") if isinstance(case.get(k), str)]
    return out + [normalize(t) for t in out]


@pytest.mark.parametrize("name", sorted(groups()))
def test_group_regex_finds_what_the_plain_join_finds(name):
    lists = groups()[name]
    reference, fast = plain(lists), re.compile(group_regex(lists))
    for text in texts():
        assert [(m.span(), m[0]) for m in fast.finditer(text)] == [(m.span(), m[0]) for m in reference.finditer(text)]


def test_only_patterns_that_open_on_a_word_character_share_the_lookbehind():
    assert opens_on_word("threat") and opens_on_word("(i|we)('ll| will)") and opens_on_word("(?:call|ring)s?")
    assert not opens_on_word(r"\$\d+") and not opens_on_word("x?y") and not opens_on_word("(a|\\$)")
    lists = {"zh": ["吓唬"], "en": [r"\bthreat", r"\b\$\d+ or jail", r"\bcourt\b"]}
    fast = re.compile(group_regex(lists))
    for text in ["$500 or jail", "a$500 or jail", "courtesy call", "the court", "吓唬他", "re-threat", "rethreat"]:
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain(lists).finditer(text)]


def test_a_reading_kept_for_the_next_guard_is_read_only():
    found = find_signals(normalize("告诉他不还钱就去他单位闹"), request=True).found
    with pytest.raises(TypeError):
        found["act:pressure"] = "x"


def test_only_readings_of_short_texts_are_kept_so_memory_stays_bounded():
    from guardrails import signals

    signals.forget_readings()
    find_signals(normalize("客户说他下周会还款。" * 300))  # 3,000 characters: read, not kept
    assert signals._kept.cache_info().currsize == 0
    find_signals(normalize("客户说他下周会还款"))
    assert signals._kept.cache_info().currsize == 1
