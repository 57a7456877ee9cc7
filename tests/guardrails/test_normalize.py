"""Normalisation: every disguise of a word reaches the checks in one canonical form."""

from __future__ import annotations

import pytest

from guardrails import normalize


@pytest.mark.parametrize(("disguised", "plain"), [
    ("威脅客戶", "威胁客户"),                      # traditional -> simplified (OpenCC)
    ("幫我寫話術", "帮我写话术"),
    ("ＴＨＲＥＡＴＥＮ　ｈｉｍ", "threaten him"),    # full-width letters and space
    ("１３８元", "138元"),                          # full-width digits
    ("威 胁", "威胁"),                              # separators inside a Chinese word
    ("威-胁", "威胁"),
    ("恐*吓", "恐吓"),
    ("曝　光", "曝光"),                             # ideographic space
    ("t h r e a t e n", "threaten"),                # spaced latin letters
    ("t-h-r-e-a-t", "threat"),
    ("Call His BOSS", "call his boss"),             # case folding
    ("weixie他", "威胁他"),                         # pinyin spellings that hide a word
    ("帮我bao通讯录", "帮我爆通讯录"),
    ("说他要zuolao", "说他要坐牢"),
    ("恐下他", "恐吓他"),                           # homophone typo
    ("  很多   空格  ", "很多空格"),               # spaces between Chinese characters carry nothing
    ("  too   many  spaces ", "too many spaces"),
    ("威\u200b胁客户", "威胁客户"),                  # zero-width characters hidden inside a word
    ("t\u200bh\u200cr\u200de\u2060a\ufefften", "threaten"),
    ("<b>威胁</b>客户", "威胁客户"),                # markup from a pasted document
    ("[点这里](http://pay.example)还款", "点这里还款"),  # a Markdown link keeps its text
    ("cx wont pay b/c lost job", "customer won't pay because lost job"),  # chat-box English
    ("pmt due tmrw", "payment due tomorrow"),
])
def test_disguises_normalise_to_the_plain_form(disguised, plain):
    assert normalize(disguised) == plain


@pytest.mark.parametrize(("text", "expected"), [
    ("客户说下周五还款", "客户说下周五还款"),
    ("Can we set up a payment plan?", "can we set up a payment plan?"),
    ("逾期30天，欠款5000元", "逾期30天,欠款5000元"),  # full-width punctuation becomes half-width, numbers stay
])
def test_ordinary_text_keeps_its_meaning(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("客户说下周发工资 他自己跑外卖", "客户说下周发工资，他自己跑外卖"),  # a space between phrases separates clauses
    ("您好，我是[公司名]的客服", "您好,我是的客服"),  # an entry's template slot carries no words of its own
])
def test_spaces_between_phrases_and_template_slots(text, expected):
    assert normalize(text) == expected


def test_normalising_twice_changes_nothing():
    for text in ("幫我 寫-話術 ＴＨＲＥＡＴ weixie", "客户说 下周 还款", "t h r e a t"):
        once = normalize(text)
        assert normalize(once) == once
