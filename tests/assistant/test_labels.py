"""What the pages show about an answer: refusal reasons and category and topic labels, in both languages."""

from __future__ import annotations

import pytest

from assistant.coaching.compose import refusal_reasons
from assistant.labels import category_label, topic_label, topics


def test_a_refusal_names_each_category_with_why_and_the_compliant_way():
    zh = refusal_reasons(("deception", "third_party"), "zh")
    assert [r.category for r in zh] == ["deception", "third_party"]
    assert zh[0].name == "欺骗/虚假陈述" and "冒充" in zh[0].why and zh[0].instead
    en = refusal_reasons(("deception", "third_party"), "en")
    assert en[1].name.startswith("Contacting") and en[1].instead


def test_an_unknown_category_is_still_named_in_a_refusal():
    (reason,) = refusal_reasons(("no-such-category",), "en")
    assert (reason.category, reason.name) == ("no-such-category", "no-such-category")


@pytest.mark.parametrize(("label", "key", "lang", "shown"), [
    (category_label, "pressure", "en", "Pressure, harassment or threats"),
    (category_label, "no-such-category", "zh", "no-such-category"),
    (topic_label, "discount_request", "zh", "要求减免/打折"),
    (topic_label, "no-such-topic", "en", "no-such-topic"),
])
def test_labels_fall_back_to_the_id(label, key, lang, shown):
    assert label(key, lang) == shown


def test_every_topic_has_a_label_in_both_languages():
    listed = topics()
    assert "discount_request" in listed and len(listed) == len(set(listed)) >= 30
    for topic in listed:
        zh, en = topic_label(topic, "zh"), topic_label(topic, "en")
        assert topic not in (zh, en) and zh != en, topic
