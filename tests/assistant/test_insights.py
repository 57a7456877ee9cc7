"""Insights from the question log: gaps grouped by meaning, refusals per day, entry usage, latency; and the log
read only by a signed-in trainer or admin, checked below every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from assistant import Services, Settings
from assistant.coaching.question_log import AskRecord, QuestionLog
from assistant.curation import RoleError, SignInError
from assistant.insights import (
    entry_usage,
    group_similar,
    is_gap,
    knowledge_gaps,
    latency_points,
    refusals_by_day,
    summarize,
)
from assistant.types import Answer
from guardrails import Verdict
from tests.people import add_people, sign_in

DAY1 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def ask(question, outcome="answered", *, at=DAY1, categories=(), main=None, sources=(), latency=20.0, helpful=None,
        comment=None, intent="") -> AskRecord:
    return AskRecord(at=at, agent="a1", question=question, jurisdiction="CN", lang="zh", outcome=outcome,
                     categories=list(categories), main={"id": main, "version": 1} if main else None,
                     sources=[{"id": s, "version": 1} for s in ([main] if main else []) + list(sources)],
                     latency_ms=latency, helpful=helpful, comment=comment, intent=intent)


@pytest.fixture(scope="module")
def encode(use_embeddings):
    return use_embeddings.encode


def test_gaps_group_paraphrases_and_rank_the_biggest_first(encode):
    records = [
        ask("明天天气怎么样", "abstained"),
        ask("明天天气怎么样", "abstained", at=DAY2),
        ask("后天天气如何", "abstained"),
        ask("What is the weather tomorrow?", "abstained"),
        ask("中午吃什么", "abstained"),
        ask("午饭吃啥好", "abstained"),
        ask("客户要求打折才肯还款，我该怎么说？", helpful=True),  # served well: not a gap
        ask("客户说他要移民国外怎么办", helpful=False, comment="没有讲到移民的情况"),
    ]
    gaps = knowledge_gaps(records, encode)

    weather, lunch = gaps[0], next(g for g in gaps if "中午吃什么" in g.questions)
    assert set(weather.questions) == {"明天天气怎么样", "后天天气如何", "What is the weather tomorrow?"}
    assert weather.example == "明天天气怎么样"  # the most asked wording names the group
    assert (weather.count, weather.abstained, weather.unhelpful) == (4, 4, 0)
    assert weather.last_at == DAY2
    assert set(lunch.questions) == {"中午吃什么", "午饭吃啥好"}
    emigrate = next(g for g in gaps if "客户说他要移民国外怎么办" in g.questions)
    assert (emigrate.unhelpful, emigrate.comments) == (1, ("没有讲到移民的情况",))
    assert all("客户要求打折才肯还款，我该怎么说？" not in g.questions for g in gaps)


def test_no_gaps_when_everything_was_served(encode):
    assert knowledge_gaps([ask("客户说他已经还过了", helpful=True), ask("客户想分期")], encode) == []
    assert knowledge_gaps([], encode) == []


GAPS = [  # (outcome, the agent's rating, a gap for trainers?)
    ("abstained", None, True), ("abstained", True, True), ("answered", False, True),
    ("answered", None, False), ("answered", True, False),
    ("refused", None, False), ("refused", False, False),  # a refusal that annoyed the agent is still no gap
    ("declined", False, False), ("safety", None, False), ("small_talk", False, False), ("withheld", None, False),
]


@pytest.mark.parametrize(("outcome", "helpful", "gap"), GAPS, ids=[f"{o}-{h}" for o, h, _ in GAPS])
def test_only_unserved_questions_are_gaps(outcome, helpful, gap):
    assert is_gap(ask("客户的情况", outcome, helpful=helpful)) is gap


def test_group_similar_joins_by_cosine_to_the_group_centre():
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.95, 0.1], [0, 0, 1]], dtype=np.float32)
    assert group_similar(vectors, threshold=0.8) == [[0, 1], [2, 3], [4]]
    assert group_similar(vectors, threshold=0.999) == [[0], [1], [2], [3], [4]]
    assert group_similar(np.zeros((0, 3))) == []


def test_refusals_are_counted_per_day_and_category():
    records = [
        ask("q1", "refused", categories=["deception"]),
        ask("q2", "refused", categories=["deception", "pressure"]),
        ask("q3", "refused", at=DAY2, categories=["third_party"]),
        ask("q4", "answered"),
    ]
    assert refusals_by_day(records) == [
        (DAY1.date(), "deception", 2), (DAY1.date(), "pressure", 1), (DAY2.date(), "third_party", 1)]


def test_entry_usage_counts_the_cards_built_from_each_entry_most_used_first():
    records = [
        ask("q1", main="discount-a", sources=["reg-x", "discount-b"]),  # the rule cited and another reading offered
        ask("q2", main="discount-a"),
        ask("q3", main="reg-x"),
        ask("q4", "refused", categories=["deception"], sources=["honest-consequences", "reg-x"]),
        ask("q5", "abstained"),
    ]
    assert entry_usage(records) == [("discount-a", 2), ("reg-x", 1)]
    assert entry_usage(records, limit=1) == [("discount-a", 2)]


def test_summary_and_latency_points():
    records = [ask("a", latency=10, helpful=True), ask("b", "refused", latency=30, helpful=False),
               ask("c", "abstained", at=DAY2, latency=20)]
    s = summarize(records)
    assert (s.total, s.answered, s.refused, s.abstained, s.rated, s.helpful) == (3, 1, 1, 1, 2, 1)
    assert s.helpful_rate == 0.5 and s.latency_p50 == 20
    assert [p[1] for p in latency_points(records)] == [10, 30, 20]
    empty = summarize([])
    assert (empty.total, empty.helpful_rate, empty.latency_p50) == (0, None, None)


GUARANTOR = "这单有担保人 主贷人失联了 能直接打担保人电话让他还款吗"  # unsure refusal, an entry lifts it


def test_the_log_keeps_which_answers_the_second_opinion_lifted_and_insights_counts_them(tmp_path, coach):
    log = QuestionLog(f"sqlite:///{tmp_path / 'coach.db'}")
    log.record(GUARANTOR, coach.ask(GUARANTOR), "CN", "a1")
    log.record("客户要求打折才肯还款，我该怎么说？", coach.ask("客户要求打折才肯还款，我该怎么说？"), "CN", "a1")
    rows = log.recent()
    assert sorted((r.outcome, r.intent) for r in rows) == [("answered", ""), ("answered", "entry_match")]
    assert summarize(rows).lifted == 1 and summarize(rows).answered == 2


def test_a_log_written_before_the_intent_column_gets_it_and_keeps_its_rows(tmp_path):
    import sqlite3

    path = tmp_path / "coach.db"
    with sqlite3.connect(path) as db:  # the ask_log of the previous release, one row in it
        db.execute("CREATE TABLE ask_log (id VARCHAR(32) PRIMARY KEY, at DATETIME, agent VARCHAR(120), "
                   "conversation VARCHAR(64), question TEXT, jurisdiction VARCHAR(8), lang VARCHAR(4), "
                   "outcome VARCHAR(16), categories JSON, main JSON, sources JSON, latency_ms FLOAT, "
                   "helpful BOOLEAN, comment TEXT)")
        db.execute("INSERT INTO ask_log VALUES ('old1', '2026-11-27 09:00:00.000000', 'a1', '', '明天天气怎么样', "
                   "'CN', 'zh', 'abstained', '[]', NULL, '[]', 12.0, NULL, NULL)")
    log = QuestionLog(f"sqlite:///{path}")
    log.record("中午吃什么", Answer("no guidance", False, True, (), (), Verdict(blocked=False), outcome="abstained"),
               "CN", "a1")
    rows = {r.question: r.intent for r in log.recent()}
    assert rows == {"明天天气怎么样": "", "中午吃什么": ""}


def test_works_on_rows_read_back_from_the_question_log(tmp_path, encode):
    log = QuestionLog(f"sqlite:///{tmp_path / 'coach.db'}")
    verdict = Verdict(blocked=False)
    for question in ("明天天气怎么样", "明天会下雨吗", "中午吃什么"):
        log.record(question, Answer("no guidance", False, True, (), (), verdict, outcome="abstained"), "CN", "a1")
    gaps = knowledge_gaps(log.recent(), encode)
    assert sum(g.count for g in gaps) == 3 and summarize(log.recent()).abstained == 3


@pytest.fixture
def logged(tmp_path):
    """A store with alice (trainer), carol (agent) and bob (admin), and a question log with one ask in it."""
    services = Services(Settings(data_dir=tmp_path / "data", shipped_entries=False))
    add_people(services.store)
    abstained = Answer("no guidance", False, True, (), (), Verdict(blocked=False), outcome="abstained")
    services.question_log.record("客户说明天天气不好不想还", abstained, "CN", "carol")
    return services


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_trainers_and_admins_read_the_question_log(logged, name):
    records = logged.insights.records(by=sign_in(logged.store, name))
    assert [(r.question, r.agent, r.outcome) for r in records] == [("客户说明天天气不好不想还", "carol", "abstained")]
    assert [g.example for g in logged.insights.gaps(records)] == ["客户说明天天气不好不想还"]


def test_agents_and_anyone_not_signed_in_cannot_read_the_question_log(logged):
    with pytest.raises(RoleError, match="needs trainer or admin"):
        logged.insights.records(by=sign_in(logged.store, "carol"))
    with pytest.raises(SignInError):
        logged.insights.records(by="alice")  # a typed name is not a sign-in
    alice = sign_in(logged.store, "alice")
    logged.auth.sign_out(alice)
    with pytest.raises(SignInError, match="expired or revoked"):
        logged.insights.records(by=alice)
