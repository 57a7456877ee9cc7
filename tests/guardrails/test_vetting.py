"""Vetting imported training material (`coach kb import DECK --dry-run`, guardrails/vetting.py): the field
decks' coercive tactics are flagged, sound advice passes, an invented law is flagged as unverified authority, and
a dry run stores nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from guardrails import Guard
from guardrails.vetting import MAX_PASSAGE_CHARS, sections, split_passages, vet_document

REPO = Path(__file__).resolve().parents[2]
# CI runs from a clean clone with shared/ beside the repository.
DECK = REPO.parent / "shared" / "seeds" / "collection-training-decks.txt"
PASSAGE_FIELDS = {"text", "heading", "verdict", "categories", "reasons"}

# Markers (punctuation and spaces ignored) of every passage that teaches each coercive tactic.
COERCIVE = {
    "rotating-collectors": ["车轮策略", "不断地更换", "精疲力竭"],
    "group-visits": ["聚集多人上门胁迫"],
    "hawk-and-dove": ["软硬兼施两个催收人员", "鹰派要据理力争"],
    "lock-phone-tow-car": ["锁机拖车"],
    "make-them-panic": ["制造心理恐慌"],
}
# Sound advice from the same decks (issue 3 mines it): it must pass.
SOUND = {
    "reminder-before-due-date": "还款日前两天通知到客户",
    "choosing-call-times": "沟通时间的选择较为重要",
    "no-disclosure-to-contacts": "切记不要透露贷款",
    "no-unapproved-waivers": "不能自作主张减免利息或本金",
    "ask-for-support": "可以寻求同事或上级的支持",
    "real-privacy-law": "严格遵守个人信息保护法的规定",
    "supervisor-demand": "仅肯与我行主管沟通时如何应付",
    "lift-is-broken-objection": "电梯故障原因之一",
    "recorded-lines-only": "不能用手机或未有录音设备的电话",
    "how-to-handle-abuse-heading": "催收户或其家人以脏话辱骂时经办如何处理",
}


def canon(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory, coach_exe):
    if not DECK.is_file():
        pytest.skip(f"the seed deck is not at {DECK} (shared/ is expected beside the repository)")
    data_dir = tmp_path_factory.mktemp("vet") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env.update(COACH_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run([coach_exe, "kb", "import", str(DECK), "--dry-run", "--json"], env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout), data_dir


def matching(passages: list[dict], markers: list[str]) -> list[dict]:
    found = [p for p in passages if any(m in canon(p["text"]) for m in markers)]
    assert found, f"no passage of the deck contains {markers}"
    return found


def test_the_dry_run_prints_the_passages_contract(dry_run):
    output, _ = dry_run
    assert set(output) == {"passages"} and len(output["passages"]) > 50
    for p in output["passages"]:
        assert set(p) == PASSAGE_FIELDS
        assert p["verdict"] in ("ok", "violation")
        assert bool(p["categories"]) == (p["verdict"] == "violation") == bool(p["reasons"])


def test_a_dry_run_stores_nothing(dry_run):
    """No store, no index, no question log: at most the embedding model's own cache (its tokenizer)."""
    _, data_dir = dry_run
    kept = sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*")) if data_dir.exists() else []
    assert [p for p in kept if not re.fullmatch(r"use-tokenizer-[\w.]+\.pkl", p)] == []


@pytest.mark.parametrize("tactic", COERCIVE)
def test_coercive_tactics_are_flagged(dry_run, tactic):
    output, _ = dry_run
    missed = [p["text"] for p in matching(output["passages"], COERCIVE[tactic]) if p["verdict"] != "violation"]
    assert missed == []


def test_citing_the_invented_law_is_flagged(dry_run):
    output, _ = dry_run
    for p in matching(output["passages"], ["反催收联盟法"]):
        assert p["verdict"] == "violation" and "deception" in p["categories"]
        assert any(r["signal"] == "unverified_authority" and r["evidence"].startswith("《反催收联盟法》")
                   for r in p["reasons"])


# Sound advice the guard flags today, and how (strict: once it passes, the mark must go).
KNOWN_MISSES = {"lift-is-broken-objection": "over-flagging: a property-fee objection script is read as third party"}


@pytest.mark.parametrize("advice", [pytest.param(a, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[a]))
                                    if a in KNOWN_MISSES else a for a in SOUND])
def test_sound_advice_passes(dry_run, advice):
    output, _ = dry_run
    flagged = [(p["text"], p["categories"]) for p in matching(output["passages"], [SOUND[advice]])
               if p["verdict"] != "ok"]
    assert flagged == []


def test_split_passages_keeps_paragraphs_cuts_long_ones_and_drops_noise():
    long_paragraph = "客户说下周再还款，我们记录下来。" * 60
    first = "第一段：提前两天提醒客户。"
    text = f"{first}\n\n  ——  \n\n{long_paragraph}\n{first}\n\nA second paragraph."
    passages = split_passages(text)
    assert passages[0] == "第一段：提前两天提醒客户。"
    assert passages.count("第一段：提前两天提醒客户。") == 1  # exact repeats kept once
    assert "——" not in passages  # punctuation-only lines dropped
    body = [p for p in passages if "客户说下周再还款" in p]
    assert len(body) > 1 and all(len(p) <= MAX_PASSAGE_CHARS for p in body)
    assert all(p.endswith("。") for p in body)  # cut at sentence ends
    assert "".join(body) == long_paragraph
    assert passages[-1] == "A second paragraph."


def test_a_heading_names_the_passages_of_its_section_and_is_never_glued_to_one():
    text = ("# 第三章 客户要求减免\n客户要求减免时，先说明要按政策申请\n不能当场承诺。\n\n"
            "## Calls at work ##\nAsk the customer when a better time is\nand note it.\n#1 rule: be polite.")
    assert sections(text) == [
        ("第三章 客户要求减免", "客户要求减免时，先说明要按政策申请不能当场承诺。"),
        ("Calls at work", "Ask the customer when a better time is and note it."),
        ("Calls at work", "#1 rule: be polite."),  # no space after '#': a line of text, not a heading
    ]
    assert split_passages(text) == [p for _, p in sections(text)]


def test_vet_document_judges_each_passage(use_embeddings):
    guard = Guard(embed=use_embeddings.encode, known_laws=["《个人信息保护法》"])
    doc = ("还款日前一天给客户发个提醒，告诉他金额和还款渠道。\n\n"
           "客户不接电话就把他欠钱的事发到他公司的工作群里，让同事们都知道。\n\n"
           "根据《逾期债务追偿条例》，客户必须当天还清。")
    vetted = vet_document(guard, doc)
    assert [p.verdict.blocked for p in vetted] == [False, True, True]
    assert "third_party" in vetted[1].verdict.categories
    assert vetted[2].to_dict()["verdict"] == "violation"
    assert any(r["signal"] == "unverified_authority" and r["evidence"].startswith("《逾期债务追偿条例》")
               for r in vetted[2].to_dict()["reasons"])
