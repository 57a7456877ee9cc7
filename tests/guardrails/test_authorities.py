"""Claims of legal authority checked against the fact sheet the project ships (guardrails/authorities.py,
data/authorities.yaml; issue 13, item 3): a law, interpretation, numbered notice, registry or official body that
the sheet does not list is returned for the reviewer as unverified, however plausibly it is written; a real
one, cited by name, article or section, passes; the regulation entries of the knowledge base count as known."""

from __future__ import annotations

import pytest

from guardrails.authorities import chinese_number, load_authorities

INVENTED = [  # (text, the claim the reviewer is shown)
    ("根据最高人民法院2023年第7号司法解释，欠款人的子女不得入读公立学校。", "最高人民法院2023年第7号司法解释"),
    ("他已被列入国家失信债务人黑名单。", "国家失信债务人黑名单"),
    ("根据《反催收联盟法》第三条，客户必须当天还清。", "《反催收联盟法》"),
    ("催收时应遵守《债务清理促进法》的规定。", "《债务清理促进法》"),
    ("根据《催收人员管理暂行办法》第十二条，可以联系客户的单位。", "《催收人员管理暂行办法》"),
    ("银保监会发布的最新规定要求客户三天内还清。", "银保监会发布的最新规定"),
    ("《个人信息保护法》第一百条允许公开欠款人信息。", "第一百条"),  # a real law, an article it does not have
    ("Under CFPB Bulletin 2022-07, collectors may call the employer daily.", "CFPB Bulletin 2022-07"),
    ("He will be reported to the National Delinquent Borrower Registry.", "National Delinquent Borrower Registry"),
    ("The Debtor Accountability Act of 2021 requires payment within 10 days.", "The Debtor Accountability Act of 2021"),
    ("Regulation Z lets us add a collection fee.", "Regulation Z"),
    ("Under § 1692k the debtor can be jailed.", "§ 1692k"),  # a section the sheet does not list
]

REAL = [
    "《个人信息保护法》第十条规定任何组织、个人不得非法提供他人个人信息。",
    "《刑法》第二百九十三条规定了寻衅滋事罪。",
    "《刑法》第293条规定了寻衅滋事罪。",
    "《民法典》第一千零三十三条保护隐私。",
    "依照《商业银行信用卡业务监督管理办法》第六十八条，不得对与债务无关的第三人催收。",
    "中国银行业协会的催收工作指引禁止恐吓客户。",
    "当地人民法院会依法处理。",  # a known body with generic words around it
    "中国人民银行征信中心会记录逾期。",
    "The Fair Debt Collection Practices Act prohibits harassment.",
    "Section 1692e of the FDCPA forbids false statements.",
    "12 CFR 1006.14(b)(2) presumes seven calls in seven days is harassment.",
    "We comply with Regulation F.",
    "Article 1032 of the Civil Code protects privacy.",
    "The court may enter a judgment only after a lawsuit.",
    # a subsection of a listed section is that section, with or without the law named beside it
    "Under the FDCPA, § 1692c(b) bars discussing the debt with his employer.",
    "Under § 1692c(b), we may not discuss the debt with his employer.",
    "Never mention the debt to anyone outside the people § 1692c(b) allows.",
]


@pytest.mark.parametrize(("text", "claim"), INVENTED, ids=[c[1] for c in INVENTED])
def test_an_authority_not_on_the_fact_sheet_is_returned_for_the_reviewer(text, claim):
    assert load_authorities().unverified(text) == claim


@pytest.mark.parametrize("text", REAL)
def test_a_real_authority_cited_by_name_article_or_section_passes(text):
    assert load_authorities().unverified(text) is None


def test_what_a_regulation_entry_of_the_knowledge_base_cites_is_known():
    sheet = load_authorities()
    text = "根据《地方金融催收管理条例》第五条，催收须在工作日进行。"
    assert sheet.unverified(text) == "《地方金融催收管理条例》"
    entry = "《地方金融催收管理条例》第五条 地方金融催收管理条例 催收须在工作日进行"  # citation, title, rule
    assert sheet.unverified(text, known=[entry]) is None


def test_every_instrument_on_the_sheet_is_known_by_each_of_its_names():
    sheet = load_authorities()
    for name in sheet.names():
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in name)
        text = f"根据《{name}》的规定，不得骚扰客户。" if chinese else f"Under {name}, collectors must not harass."
        assert sheet.unverified(text) is None, text


@pytest.mark.parametrize(("numeral", "value"), [
    ("一千零三十三", 1033), ("二百九十三", 293), ("十", 10), ("十二", 12), ("六十八", 68), ("两百", 200),
    ("一百", 100), ("33", 33), ("第", None),
])
def test_chinese_article_numbers_are_read_as_numbers(numeral, value):
    assert chinese_number(numeral) == value
