"""What the pages show about an answer: refusal reasons in both languages, labels, the card's entry."""

from __future__ import annotations

from assistant.coaching.compose import refusal_reasons
from assistant.labels import category_label, topic_label


def test_a_refusal_names_each_category_with_why_and_the_compliant_way():
    zh = refusal_reasons(("deception", "third_party"), "zh")
    assert [r.category for r in zh] == ["deception", "third_party"]
    assert zh[0].name == "欺骗/虚假陈述" and "冒充" in zh[0].why and zh[0].instead
    en = refusal_reasons(("deception", "third_party"), "en")
    assert en[1].name.startswith("Contacting") and en[1].instead


def test_labels_fall_back_to_the_id():
    assert category_label("pressure", "en") == "Pressure, harassment or threats"
    assert category_label("no-such-category", "zh") == "no-such-category"
    assert topic_label("discount_request", "zh") == "要求减免/打折"
    assert topic_label("no-such-topic", "en") == "no-such-topic"
