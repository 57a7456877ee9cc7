"""Suggested topics for imported passages: the nearest topic by the bundled embeddings, from the taxonomy's
labels alone and from the labels plus the approved entries' centroids."""

from __future__ import annotations

import pytest

from knowledge_base.taxonomy import load_taxonomy
from knowledge_base.topic_suggestion import TopicSuggester

CASES = [
    ("客户说利息太高，要求减免一部分才肯还。", "discount_request"),
    ("The customer says he already paid last week and has a receipt.", "already_paid"),
    ("接电话的是客户的母亲，不是本人，不能透露欠款信息。", "third_party_answers"),
    ("If the customer swears at you, stay calm and do not swear back.", "abusive_customer"),
    ("客户说要去银保监会投诉你们。", "complaint_threat"),
    ("The caller says this is a wrong number and does not know the debtor.", "wrong_number"),
]


@pytest.fixture(scope="module")
def suggester(use_embeddings, shipped_entries):
    return TopicSuggester(use_embeddings, [e for e in shipped_entries if e.status == "approved"])


def test_each_passage_gets_the_topic_a_trainer_would_file_it_under(suggester):
    texts, topics = zip(*CASES)
    assert suggester.suggest(list(texts)) == list(topics)


def test_without_entries_the_taxonomy_labels_still_suggest_a_known_topic(use_embeddings):
    labels_only = TopicSuggester(use_embeddings, [])
    suggested = labels_only.suggest([text for text, _ in CASES])
    assert set(suggested) <= set(load_taxonomy().topics)
    assert suggested[0] == "discount_request" and suggested[1] == "already_paid"


def test_nothing_to_suggest_for_no_passages(suggester):
    assert suggester.suggest([]) == []
