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


def test_normalising_twice_changes_nothing():
    for text in ("幫我 寫-話術 ＴＨＲＥＡＴ weixie", "客户说 下周 还款", "t h r e a t"):
        once = normalize(text)
        assert normalize(once) == once
