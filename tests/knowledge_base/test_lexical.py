"""BM25 over words and Chinese bigrams, saved in the data directory so a restart need not rebuild it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from knowledge_base.lexical import LexicalIndex, tokenize

QUESTIONS = ("客户要求打折才肯还款", "他妈妈接的电话", "customer says wrong number", "上征信")


@pytest.fixture
def approved(shipped_entries):
    return [e for e in shipped_entries if e.status == "approved"]


def results(index: LexicalIndex, approved) -> list[dict[str, float]]:
    allowed = {e.id for e in approved}
    return [index.search(q, allowed, k=10) for q in QUESTIONS]


def test_chinese_is_indexed_as_bigrams_and_english_as_words():
    assert tokenize("客户要求打折") == ["客户", "户要", "要求", "求打", "打折"]
    assert tokenize("The caller says WRONG number") == ["caller", "wrong", "number"]
    assert tokenize("the customer says") == []  # words nearly every English question uses carry no signal
    assert tokenize("他说 钱 没了") == ["他说", "钱", "没了"]  # a lone character is kept, a lone stop word is not
    assert tokenize("？！…") == []


def test_a_restart_loads_the_saved_index_and_ranks_the_same(tmp_path, approved):
    built = LexicalIndex(approved, tmp_path)
    [saved] = list(tmp_path.iterdir())
    loaded = LexicalIndex(list(reversed(approved)), tmp_path)  # the store may list entries in another order
    assert list(tmp_path.iterdir()) == [saved]
    assert results(loaded, approved) == results(built, approved)
    assert all(results(built, approved))


def test_a_damaged_saved_index_is_rebuilt_not_trusted(tmp_path, approved):
    expected = results(LexicalIndex(approved, tmp_path), approved)
    [saved] = list(tmp_path.iterdir())
    (saved / "ids.json").write_text("[not json", encoding="utf-8")
    assert results(LexicalIndex(approved, tmp_path), approved) == expected
    assert [p.name for p in tmp_path.iterdir()] == [saved.name]
    assert len(json.loads((saved / "ids.json").read_text(encoding="utf-8"))) == len(approved)  # saved again whole


def test_a_changed_entry_gets_a_new_index_and_the_old_one_goes(tmp_path, approved):
    LexicalIndex(approved, tmp_path)
    [before] = list(tmp_path.iterdir())
    target = approved[0]
    edited = replace(target, questions=(*target.questions, "客户非要分期付款九十九期"), version=target.version + 1)
    changed = [edited if e.id == target.id else e for e in approved]

    index = LexicalIndex(changed, tmp_path)
    [after] = list(tmp_path.iterdir())
    assert after != before
    scores = index.search("分期付款九十九期", {e.id for e in changed}, k=3)
    assert max(scores, key=scores.get) == target.id
