"""A card judged line by line (guardrails/lines.py; issue 13, item 2): a banned line is caught wherever it sits
in a long card, on its own and not only as part of the whole; a "don't" line that names a banned act to forbid
it, and an explanation that names it to explain the law, pass; an invented authority in any shown line is
flagged; and a tactic split over two lines to say or do is caught together."""

from __future__ import annotations

import pytest

from guardrails import Guard
from guardrails.lines import check_lines
from knowledge_base.curation import shown_lines

BANNED = {"zh": "你今天不还钱，警察今晚就来抓你。",
          "en": "If you don't pay today, the police will come and arrest you tonight."}


@pytest.fixture(scope="module")
def guard(use_embeddings):
    return Guard(embed=use_embeddings.encode)


@pytest.fixture(scope="module")
def long_cards(shipped_entries):
    """The shipped card with the most shown lines, per language (regulation entries aside)."""
    cards = {}
    for lang in ("zh", "en"):
        cards[lang] = max((e for e in shipped_entries if e.lang == lang and e.kind != "regulation"),
                          key=lambda e: (len(shown_lines(e)), e.id))
    return cards


def with_line(lines, field: str, position: int, text: str):
    """The card's lines with ``text`` inserted at ``position`` of ``field`` (the others of it shifted down)."""
    items = [t for f, _, t in lines if f == field]
    items.insert(position, text)
    return [line for line in lines if line[0] != field] + [(field, i, t) for i, t in enumerate(items)]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("field", ["say", "do"])
def test_a_banned_line_is_caught_at_every_position_of_a_long_card(guard, long_cards, lang, field):
    card = long_cards[lang]
    lines = shown_lines(card)
    assert len(lines) >= 12 and not check_lines(guard, lines, "CN" if lang == "zh" else "US").blocked
    count = sum(f == field for f, _, _ in lines)
    missed = []
    for position in range(count + 1):
        verdict = check_lines(guard, with_line(lines, field, position, BANNED[lang]),
                              "CN" if lang == "zh" else "US")
        flagged = {(f.field, f.index, f.text) for f in verdict.flagged}
        if not verdict.blocked or (field, position, BANNED[lang]) not in flagged:
            missed.append(position)
    assert missed == [], f"{card.id}: the banned {field} line was not flagged at positions {missed}"


def test_each_flagged_line_says_where_it_is_and_why(guard):
    verdict = check_lines(guard, [("title", 0, "客户拖着不还怎么办"), ("say", 0, "您好，想跟您确认一下还款安排。"),
                                  ("say", 1, BANNED["zh"]), ("do", 0, "记录客户承诺的还款日期。")])
    assert verdict.blocked
    line = next(f for f in verdict.flagged if f.field == "say")
    assert (line.index, line.text) == (1, BANNED["zh"]) and line.categories and line.evidence
    out = verdict.to_dict()
    assert out["blocked"] is True and out["flagged"][0].keys() == {"field", "index", "text", "categories", "evidence"}
    assert isinstance(out["flagged"][0]["categories"], list)


@pytest.mark.parametrize(("field", "text"), [
    ("dont", "不要说“你今天不还钱，警察今晚就来抓你”。"),
    ("dont", "Don't tell him the police will arrest him tonight."),
    ("dont", "不要把欠款的事告诉他的同事或领导。"),
    ("why", "威胁、恐吓客户违反《金融机构个人消费类贷款催收工作指引（试行）》。"),
    ("why", "Threatening arrest when no one has sued is a false representation under the FDCPA (§ 1692e)."),
    ("rule", "《个人信息保护法》第十条：任何组织、个人不得非法收集、使用、加工、传输他人个人信息。"),
    ("title", "不要拿警察吓唬客户"),
])
def test_a_line_that_names_a_banned_act_to_forbid_or_explain_it_passes(guard, field, text):
    verdict = check_lines(guard, [(field, 0, text)])
    assert not verdict.blocked, verdict.flagged


@pytest.mark.parametrize(("field", "text", "claim"), [
    ("why", "根据最高人民法院2023年第7号司法解释，欠款人的子女不得入读公立学校。", "最高人民法院2023年第7号司法解释"),
    ("rule", "根据《催收人员管理暂行办法》第十二条，可以联系客户的单位。", "《催收人员管理暂行办法》"),
    ("dont", "不要依据《债务清理促进法》要求客户当天还清。", "《债务清理促进法》"),
    ("why", "Under CFPB Bulletin 2022-07, collectors may call the debtor's employer daily.", "CFPB Bulletin 2022-07"),
])
def test_an_invented_authority_in_any_shown_line_is_flagged(guard, field, text, claim):
    verdict = check_lines(guard, [(field, 0, text)])
    assert verdict.blocked and "deception" in verdict.flagged[0].categories
    assert claim in verdict.flagged[0].evidence


@pytest.mark.parametrize(("first", "second"), [
    ("Look up his neighbours.", "Let them know about the unpaid balance."),
    ("查到他邻居的电话。", "打过去把他欠款的事说清楚。"),
])
def test_a_tactic_split_over_two_lines_is_caught_together(guard, first, second):
    """Each line alone says little; the two together are a third-party disclosure."""
    verdict = check_lines(guard, [("do", 0, first), ("do", 1, second)])
    assert verdict.blocked and "third_party" in {c for f in verdict.flagged for c in f.categories}


def test_blank_lines_are_skipped_and_a_clean_card_passes(guard):
    assert check_lines(guard, []).blocked is False
    verdict = check_lines(guard, [("say", 0, "  "), ("say", 1, "您好，请问是张先生本人吗？"),
                                  ("do", 0, "核实身份后再谈账户。")])
    assert verdict.blocked is False and verdict.flagged == ()
