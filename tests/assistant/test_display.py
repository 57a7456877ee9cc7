"""What the pages show about an answer: refusal reasons in both languages, labels, the card's entry."""

from __future__ import annotations

from assistant.labels import category_label, main_source, refusal_reasons, topic_label
from assistant.types import Answer, Source
from guardrails import Verdict


def source(entry_id: str, lang: str = "zh") -> Source:
    return Source(entry_id, entry_id.title(), "discount_request", lang, "CN", 2)


def test_a_refusal_names_each_category_with_why_and_the_compliant_way():
    answer = Answer("...", True, False, ("deception", "third_party"), (), Verdict(True, ("deception", "third_party")))
    zh = refusal_reasons(answer, "zh")
    assert [r.category for r in zh] == ["deception", "third_party"]
    assert zh[0].name == "欺骗/虚假陈述" and "冒充" in zh[0].why and zh[0].instead
    en = refusal_reasons(answer, "en")
    assert en[1].name.startswith("Contacting") and en[1].instead


def test_labels_fall_back_to_the_id():
    assert category_label("pressure", "en") == "Pressure, harassment or threats"
    assert category_label("no-such-category", "zh") == "no-such-category"
    assert topic_label("discount_request", "zh") == "要求减免/打折"
    assert topic_label("no-such-topic", "en") == "no-such-topic"


def test_the_card_is_titled_by_the_first_advice_entry_not_a_regulation():
    kinds = {"reg-a": "regulation", "advice-b": "script", "advice-c": "guidance"}
    answer = Answer("...", False, False, (), (source("reg-a"), source("advice-b"), source("advice-c")),
                    Verdict(False))
    assert main_source(answer, kinds.get).id == "advice-b"
    only_rules = Answer("...", False, False, (), (source("reg-a"),), Verdict(False))
    assert main_source(only_rules, kinds.get).id == "reg-a"
    assert main_source(Answer("...", False, True, (), (), Verdict(False)), kinds.get) is None
