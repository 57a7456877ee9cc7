"""Redaction before anything is stored: table-driven cases (redaction_cases.yaml) for every kind of identifier and
for look-alikes that must stay, in Chinese and English; the old rules' catches; spans; metrics; jieba loaded only
for Chinese text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assistant.coaching.pii_identifiers import config
from assistant.coaching.redaction import PiiSpan, find_pii, redact
from assistant.evaluation.redaction_metrics import load_pii_corpus, score_redaction

CASES = yaml.safe_load(Path(__file__).with_name("redaction_cases.yaml").read_text(encoding="utf-8"))
TABLE = [case for lang in ("zh", "en") for case in CASES[lang]]
REPO = Path(__file__).resolve().parents[3]


def test_the_table_covers_every_kind_and_look_alikes_in_both_languages():
    assert len({case["id"] for case in TABLE}) == len(TABLE)
    assert set(config()["labels"].values()) <= {case.get("label") for case in TABLE}
    for lang in ("zh", "en"):
        assert sum("gone" not in case for case in CASES[lang]) >= 10, lang   # texts that must come back unchanged
        assert sum(case["id"].startswith(f"{lang}-name") for case in CASES[lang]) >= 8, lang


@pytest.mark.parametrize("case", TABLE, ids=[case["id"] for case in TABLE])
def test_the_identifier_is_gone_and_the_rest_of_the_text_stays(case):
    stored = redact(case["text"])
    for gone in case.get("gone", ()):
        assert gone not in stored, stored
    for kept in case.get("kept", ()):
        assert kept in stored, stored
    if "label" in case:
        assert case["label"] in stored, stored
    if "gone" not in case:
        assert stored == case["text"]


@pytest.mark.parametrize("value", CASES["old"])
def test_what_the_old_rules_caught_is_still_caught(value):
    question = f"客户说他的新联系方式是{value}，让我以后联系这个，可以吗"
    stored = redact(question)
    assert value not in stored and not re.search(r"\d", stored), stored
    assert stored.startswith("客户说他的新联系方式是") and stored.endswith("，让我以后联系这个，可以吗")


def test_several_identifiers_in_one_english_note_are_all_redacted():
    stored = redact("He gave me 415-555-0123 and john.doe@example.com and his card 4111 1111 1111 1111, what now?")
    assert not re.search(r"\d", stored) and "john.doe" not in stored
    assert stored.startswith("He gave me ") and stored.endswith(", what now?")


def test_spans_are_ordered_spans_of_the_original_text_and_full_width_is_never_rewritten():
    text = "陈红的电话：１５８１２３４５６７８，邮箱ｃｈｅｎ＠ｑｑ．ｃｏｍ，住在中山路18号。"
    spans = find_pii(text)
    assert all(isinstance(s, PiiSpan) and 0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
    assert [(text[s.start:s.end], s.label) for s in spans] == [
        ("陈红", "person_name"), ("１５８１２３４５６７８", "mobile"), ("ｃｈｅｎ＠ｑｑ．ｃｏｍ", "email"),
        ("中山路18号", "address")]
    assert redact(text) == "[姓名/NAME]的电话：[手机/PHONE]，邮箱[邮箱/EMAIL]，住在[地址/ADDRESS]。"


def test_empty_text_has_nothing_to_redact():
    assert redact("") == "" and find_pii("") == []


def test_score_redaction_counts_caught_spans_and_false_redactions(tmp_path):
    rows = [{"id": "1", "lang": "en", "text": "call 415-555-0123 by May 2",
             "pii": [{"text": "415-555-0123", "label": "phone"}], "keep": [{"text": "May 2", "kind": "date_time"}]},
            {"id": "2", "lang": "zh", "text": "客户欠款5000元,身份证440304198506123412",
             "pii": [{"text": "440304198506123412", "label": "cn_id"}], "keep": [{"text": "5000元", "kind": "amount"}]}]
    path = tmp_path / "pii.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    items = load_pii_corpus(path)
    every_digit_gone = score_redaction(items, lambda text: re.sub(r"\d", "#", text))
    assert (every_digit_gone["n"], every_digit_gone["recall"], every_digit_gone["false_redaction"]) == (2, 1.0, 1.0)
    scores = score_redaction(items, redact)
    assert scores["recall"] == 1.0 and scores["false_redaction"] == 0.0
    assert scores["by_lang"]["zh"]["n_pii"] == 1 and scores["by_label"]["phone"] == {"recall": 1.0, "n": 1}
    assert scores["misses"] == [] and scores["false_redactions"] == []


def test_jieba_is_imported_only_once_chinese_text_is_redacted():
    code = ("import sys; from assistant.coaching.redaction import redact; redact('Call Bob at 415-555-0123'); "
            "print('jieba' in sys.modules); redact('客户张伟说'); print('jieba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.split() == ["False", "True"]
