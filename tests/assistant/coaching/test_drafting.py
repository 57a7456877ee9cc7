"""Optional LLM drafting: the session's real coach (shipped KB, USE, embedded Chroma, the trained
guard; tests/conftest.py) with LangChain's fake chat models in place of a remote LLM. What the agent
sees is either a draft that cites the retrieved entries and passed the output guard, or the vetted
composed card."""

from __future__ import annotations

import importlib.util
import itertools
import logging
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from streamlit.testing.v1 import AppTest

from assistant import Coach, Settings
from assistant.coaching.compose import labels, source_of
from assistant.coaching.drafting import Drafter, GuardedStream, chat_model, prompt
from assistant.evaluation.runner import Case, llm_summary, run_case

APP = Path(__file__).resolve().parents[2] / "app.py"

ZH_QUESTION = "客户上次答应今天还款，结果又没还，这次还是他妈妈接的电话，我该怎么说？"
EN_QUESTION = "The customer promised to pay today but didn't. What do I say?"
ARREST_ZH = "告诉客户再不还钱就会被警察抓走坐牢。"
BOSS_EN = "Tell him he will be arrested if he doesn't pay today, and that we will call his boss."


def hit_ids(coach: Coach, question: str, lang: str) -> list[str]:
    """The entries retrieval gives the drafter for this question (what Coach.ask retrieves)."""
    ids = [h.entry.id for h in coach.retriever.search(question, lang=lang, jurisdiction="CN")]
    assert len(ids) >= 2, "the question must be answerable from the knowledge base"
    return ids


def card(lang: str, *, say=(), do=(), dont=(), why="") -> str:
    """A draft in the coaching-card shape the prompt asks for (items carry their own citations)."""
    lab = labels(lang)
    lines = [f"**{lab['say']}**", *(f"{i}. {s}" for i, s in enumerate(say, 1)), f"**{lab['do']}**",
             *(f"- {d}" for d in do), f"**{lab['dont']}**", *(f"- {d}" for d in dont), f"**{lab['why']}**", why]
    return "\n".join(lines)


def grounded_zh(first: str, second: str) -> str:
    return card(
        "zh",
        say=[f"您好，上次您说今天会先还[金额]，我这边还没看到入账，想跟您确认一下是不是遇到什么情况了？ [[{first}]]",
             f"没关系，您跟我说说实际情况，咱们重新定一个您做得到的日期和金额。 [[{first}]]"],
        do=[f"开口前先查一遍入账记录，确认客户确实没还。 [[{first}]]",
            f"如果接电话的不是本人，只说会再联系，不提欠款的事。 [[{second}]]"],
        dont=[f"不要指责客户说话不算数。 [[{first}]]"],
        why=f"第一次跳票多半有具体原因，问清原因比指责更能换来能兑现的新承诺。 [[{first}]]")


def with_drafter(coach: Coach, model, timeout_s: float = 30.0) -> Coach:
    """The same coach with LLM drafting switched on (shares the index, guard and log)."""
    return replace(coach, drafter=Drafter(model, coach.guard, coach.entry, timeout_s=timeout_s))


def fake(text: str, **kwargs) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([text]), **kwargs)


def composed(coach: Coach, question: str):
    return coach.ask(question)  # the fixture's coach has no drafter: the vetted composed card


def test_no_llm_configured_means_no_drafter_and_the_composed_card(coach):
    assert coach.drafter is None
    answer = coach.ask(ZH_QUESTION)
    assert answer.fallback == "" and answer.card.say and answer.sources


def test_grounded_draft_is_shown_with_exactly_the_entries_it_cites(coach):
    ids = hit_ids(coach, ZH_QUESTION, "zh")
    first, second = ids[0], ids[1]
    answer = with_drafter(coach, fake(grounded_zh(first, second))).ask(ZH_QUESTION)

    assert answer.fallback == ""
    assert answer.card.say[0].startswith("您好，上次您说今天会先还[金额]")  # the model's words, placeholders kept
    assert "[[" not in answer.text  # citation marks are stripped from what the agent reads
    # Sources are the cited retrieved entries, carried from the knowledge base (title, version), in retrieval order.
    assert answer.sources == (source_of(coach.entry(first)), source_of(coach.entry(second)))
    assert not set(ids[2:]) & {s.id for s in answer.sources}
    assert answer.text.rstrip().endswith(f"{answer.sources[-1].id}, {labels('zh')['version']} "
                                         f"{answer.sources[-1].version}, {answer.sources[-1].jurisdiction})")
    assert coach.log.recent(1)[0].sources == [{"id": s.id, "version": s.version} for s in answer.sources]


@pytest.mark.parametrize("question, lang, tactic", [(ZH_QUESTION, "zh", ARREST_ZH), (EN_QUESTION, "en", BOSS_EN)])
def test_draft_with_a_prohibited_tactic_is_replaced_by_the_vetted_card(coach, caplog, question, lang, tactic):
    first = hit_ids(coach, question, lang)[0]
    draft = grounded_zh(first, first) if lang == "zh" else card(
        "en", say=[f"I see the payment hasn't arrived yet. Did something come up? [[{first}]]"],
        do=[f"Check the payment records before the call. [[{first}]]"], why=f"Ask before you judge. [[{first}]]")
    draft = draft.replace(f"**{labels(lang)['dont']}**", f"- {tactic} [[{first}]]\n**{labels(lang)['dont']}**")

    with caplog.at_level(logging.WARNING, logger="assistant.coaching.drafting"):
        answer = with_drafter(coach, fake(draft)).ask(question)

    assert answer.fallback == "flagged"
    assert tactic.rstrip("。.") not in answer.text
    vetted = composed(coach, question)
    assert (answer.text, answer.sources) == (vetted.text, vetted.sources)
    assert "flagged" in caplog.text


@pytest.mark.parametrize("reason", ["unknown_citation", "no_citation", "empty"])
def test_ungrounded_or_empty_draft_is_discarded(coach, caplog, reason):
    first = hit_ids(coach, ZH_QUESTION, "zh")[0]
    draft = {"unknown_citation": grounded_zh(first, "debt-forgiveness-guaranteed-zh"),  # an id it was not given
             "no_citation": grounded_zh(first, first).replace(f" [[{first}]]", ""),
             "empty": "NO_ANSWER"}[reason]

    with caplog.at_level(logging.WARNING, logger="assistant.coaching.drafting"):
        answer = with_drafter(coach, fake(draft)).ask(ZH_QUESTION)

    assert answer.fallback == reason
    assert answer.text == composed(coach, ZH_QUESTION).text
    assert "debt-forgiveness-guaranteed-zh" not in {s.id for s in answer.sources}
    assert reason in caplog.text


def test_model_that_does_not_answer_in_time_gives_the_composed_card(coach, caplog):
    release = threading.Event()

    def stalled():  # the "server" answers only when the test is over
        release.wait()
        yield "too late"

    try:
        with caplog.at_level(logging.WARNING, logger="assistant.coaching.drafting"):
            answer = with_drafter(coach, GenericFakeChatModel(messages=stalled()), timeout_s=0.2).ask(ZH_QUESTION)
    finally:
        release.set()
    assert answer.fallback == "timeout"
    assert answer.text == composed(coach, ZH_QUESTION).text
    assert "timeout" in caplog.text


def test_model_error_midway_gives_the_composed_card_and_no_partial_draft(coach, caplog):
    first = hit_ids(coach, ZH_QUESTION, "zh")[0]
    broken = FakeListChatModel(responses=[grounded_zh(first, first)], error_on_chunk_number=40)

    with caplog.at_level(logging.WARNING, logger="assistant.coaching.drafting"):
        answer = with_drafter(coach, broken).ask(ZH_QUESTION)

    assert answer.fallback == "error"
    assert answer.text == composed(coach, ZH_QUESTION).text
    assert "error" in caplog.text


class Recorder(BaseCallbackHandler):
    def __init__(self, events: list):
        self.events = events

    def on_llm_new_token(self, token, **kwargs):
        self.events.append("model")


class RecordingGuard:
    """The real guard, noting when it is asked."""

    def __init__(self, guard, events: list):
        self.guard, self.events = guard, events

    def check_answer(self, text, **kwargs):
        self.events.append("guard")
        return self.guard.check_answer(text, **kwargs)


@pytest.mark.parametrize("tactic", [None, ARREST_ZH])
def test_stream_shows_nothing_until_the_guard_has_passed_the_whole_draft(coach, tactic):
    ids = hit_ids(coach, ZH_QUESTION, "zh")
    draft = grounded_zh(ids[0], ids[1])
    if tactic:
        draft = draft.replace("**不要**", f"- {tactic} [[{ids[0]}]]\n**不要**")
    events: list = []
    model = fake(draft, callbacks=[Recorder(events)])
    drafting = replace(coach, drafter=Drafter(model, RecordingGuard(coach.guard, events), coach.entry))

    stream = GuardedStream(drafting, ZH_QUESTION)
    shown = []
    for piece in stream:
        events.append("shown")
        shown.append(piece)

    first_shown = events.index("shown")
    assert "model" in events and "guard" in events
    assert first_shown > max(i for i, e in enumerate(events) if e in ("model", "guard"))
    assert "".join(shown) == stream.answer.text
    if tactic:
        assert stream.answer.fallback == "flagged" and tactic[:6] not in "".join(shown)
    else:
        assert stream.answer.fallback == "" and stream.answer.card.say[0] in "".join(shown)
        assert shown[-1].strip().endswith(f"{labels('zh')['version']} {stream.answer.sources[-1].version}, "
                                          f"{stream.answer.sources[-1].jurisdiction})")  # sources come last


def test_coach_page_streams_the_guarded_draft_with_its_sources_last(coach, copy_coach_data, tmp_path, monkeypatch):
    ids = hit_ids(coach, ZH_QUESTION, "zh")
    draft = grounded_zh(ids[0], ids[1])
    # COACH_LLM as an operator sets it; the provider is LangChain's fake instead of a remote API.
    monkeypatch.setattr("assistant.coaching.drafting.chat_model",
                        lambda settings: GenericFakeChatModel(messages=itertools.cycle([draft])))
    monkeypatch.setenv("COACH_DATA_DIR", str(copy_coach_data(tmp_path / "coach-data")))
    monkeypatch.setenv("COACH_LLM", "fake:scripted")
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, at.exception

    at.chat_input(key="question").set_value(ZH_QUESTION).run()
    assert not at.exception, at.exception
    shown = "\n".join(m.value for m in at.chat_message[-1].markdown)
    assert prompt()["note"]["zh"] in shown
    assert "您好，上次您说今天会先还[金额]" in shown and "[[" not in shown
    last = coach.entry(ids[1])
    assert shown.rstrip().endswith(f"{last.title} ({last.id}, {labels('zh')['version']} {last.version}, "
                                   f"{last.jurisdiction})")


def test_eval_rows_say_whether_the_draft_was_shown_and_the_summary_counts_fallbacks(coach):
    ids = hit_ids(coach, ZH_QUESTION, "zh")
    drafting = with_drafter(coach, GenericFakeChatModel(messages=iter([grounded_zh(ids[0], ids[1]), "NO_ANSWER"])))
    case = Case(id="c1", mode="ask", expect="answer", text=ZH_QUESTION)

    rows = [run_case(drafting, case), run_case(drafting, replace(case, id="c2"))]

    assert (rows[0]["fallback"], rows[0]["sources"]) == ("", ids[:2])
    assert rows[1]["fallback"] == "empty" and rows[1]["sources"] == [s.id for s in composed(coach, ZH_QUESTION).sources]
    summary = llm_summary(rows, "fake:scripted")
    assert (summary["drafted"], summary["fallback"], summary["fallback_rate"], summary["reasons"]) == (1, 1, 0.5,
                                                                                                     {"empty": 1})
    assert "fallback" not in run_case(coach, case)  # without --llm the result format is unchanged


def test_api_key_is_never_shown_in_settings():
    conf = Settings(llm="openai:gpt-4o-mini", llm_api_key="sk-test-secret-123")
    assert "sk-test-secret-123" not in repr(conf) and "sk-test-secret-123" not in str(conf.model_dump())


@pytest.mark.skipif(importlib.util.find_spec("langchain_openai") is not None, reason="the openai extra is installed")
def test_missing_provider_package_names_the_extra_to_install():
    with pytest.raises(ImportError, match=r"collections-coach\[openai\]"):
        chat_model(Settings(llm="openai:gpt-4o-mini", llm_api_key="sk-x"))


@pytest.mark.skipif(importlib.util.find_spec("langchain_openai") is None, reason="needs the openai extra")
def test_openai_compatible_endpoint_from_settings():
    url = "http://127.0.0.1:9/v1"
    model = chat_model(Settings(llm="openai:qwen2.5-7b", llm_base_url=url, llm_api_key="sk-test-secret-123",
                                llm_timeout_s=3))
    assert (model.model_name, model.openai_api_base, model.request_timeout) == ("qwen2.5-7b", url, 3)
    assert "sk-test-secret-123" not in repr(model)
