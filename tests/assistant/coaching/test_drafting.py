"""Optional LLM drafting: the session's real coach (shipped KB, USE, embedded Chroma, the trained
guard; tests/conftest.py) with LangChain's fake chat models in place of a remote LLM. What the agent
sees is either a draft that cites the retrieved entries and passed the output guard on every line it
shows, or the vetted composed card; with a call context there is no draft at all."""

from __future__ import annotations

import importlib.util
import itertools
import logging
import threading
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from streamlit.testing.v1 import AppTest

from assistant import Coach, Services, Settings
from assistant.coaching.compose import labels, source_of
from assistant.coaching.drafting import Drafter, build_drafter, chat_model, prompt, replay
from assistant.evaluation.runner import Case, llm_summary, run_case

ROOT = Path(__file__).resolve().parents[3]
APP = ROOT / "app.py"

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
    logged = coach.log.recent(1)[0]  # what the agent was shown: the draft's entries among them
    assert logged.sources == [{"id": s.id, "version": s.version} for s in answer.shown]
    assert {"id": first, "version": answer.sources[0].version} in logged.sources


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


@pytest.mark.parametrize("reason", ["unknown_citation", "no_citation", "empty", "shape", "language"])
def test_ungrounded_empty_or_misshapen_draft_is_discarded(coach, caplog, reason):
    first = hit_ids(coach, ZH_QUESTION, "zh")[0]
    draft = {"unknown_citation": grounded_zh(first, "debt-forgiveness-guaranteed-zh"),  # an id it was not given
             "no_citation": grounded_zh(first, first).replace(f" [[{first}]]", ""),
             "empty": "NO_ANSWER",
             "shape": f"先查入账记录，再问清原因，重新约定日期。 [[{first}]]",  # no card headings
             "language": card("zh", say=[f"Hello, I can see the payment hasn't arrived yet. [[{first}]]"],
                              do=[f"Check the payment records first. [[{first}]]"])}[reason]

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


def long_draft(first: str, second: str) -> tuple[str, list[tuple[str, int]]]:
    """A card of four lines to say, four to do, two don'ts and a why, and where a line can be put in it."""
    draft = card(
        "zh",
        say=[f"您好，上次您说今天会先还[金额]，我这边还没看到入账，想跟您确认一下情况。 [[{first}]]",
             f"您跟我说说实际情况，咱们重新定一个您做得到的日期。 [[{first}]]",
             f"这个日期和金额您看能做到吗？我给您记下来。 [[{first}]]",
             f"好的，到时候我通过官方渠道跟您确认，谢谢您。 [[{first}]]"],
        do=[f"开口前先查一遍入账记录。 [[{first}]]", f"问清没还上的原因，如实记进催记。 [[{first}]]",
            f"新的承诺日期要具体到哪一天、多少钱。 [[{first}]]",
            f"如果接电话的不是本人，只说会再联系，不提欠款的事。 [[{second}]]"],
        dont=[f"不要指责客户说话不算数。 [[{first}]]", f"不要编造后果。 [[{first}]]"],
        why=f"问清原因比指责更能换来能兑现的新承诺。 [[{first}]]")
    return draft, [("say", i) for i in range(4)] + [("do", i) for i in range(4)]


def with_line_at(draft: str, section: str, index: int, line: str, cite: str) -> str:
    """``draft`` with ``line`` put in as item ``index`` of ``section`` (say or do)."""
    out, seen, current = [], -1, None
    heads = {f"**{labels('zh')[s]}**": s for s in ("say", "do", "dont", "why")}
    for row in draft.splitlines():
        if row in heads:
            if current == section and seen < index:
                out.append(f"- {line} [[{cite}]]")
            current, seen = heads[row], -1
        elif current == section:
            seen += 1
            if seen == index:
                out.append(f"- {line} [[{cite}]]")
        out.append(row)
    return "\n".join(out)


@pytest.mark.parametrize("position", range(8), ids=lambda n: f"line-{n + 1}")
def test_a_banned_line_anywhere_in_a_long_draft_is_caught(coach, position):
    ids = hit_ids(coach, ZH_QUESTION, "zh")
    draft, places = long_draft(ids[0], ids[1])
    section, index = places[position]
    bad = with_line_at(draft, section, index, ARREST_ZH, ids[0])
    assert ARREST_ZH in bad and bad.count("[[") == draft.count("[[") + 1

    answer = with_drafter(coach, fake(bad)).ask(ZH_QUESTION)

    assert answer.fallback == "flagged" and ARREST_ZH.rstrip("。") not in answer.text
    assert answer.text == composed(coach, ZH_QUESTION).text


def test_the_long_draft_itself_is_shown(coach):
    ids = hit_ids(coach, ZH_QUESTION, "zh")
    answer = with_drafter(coach, fake(long_draft(ids[0], ids[1])[0])).ask(ZH_QUESTION)
    assert answer.fallback == "" and len(answer.card.say) == 4 and len(answer.card.do) == 4


def test_with_a_call_context_the_model_is_not_asked_and_the_vetted_card_is_shown(coach):
    ids = hit_ids(coach, ZH_QUESTION, "zh")
    draft = grounded_zh(ids[0], ids[1])
    script = iter([draft])
    context = {"jurisdiction": "CN", "phone": "+8613800138000", "now": "2026-12-07T15:00:00+08:00"}

    answer = with_drafter(coach, GenericFakeChatModel(messages=script)).ask(ZH_QUESTION, context=context)

    assert next(script, None) == draft and answer.fallback == ""  # the model was never asked
    assert answer.text == coach.ask(ZH_QUESTION, context=context).text and answer.contact is not None


def test_a_committed_answer_is_replayed_line_by_line_with_its_sources_last(coach):
    ids = hit_ids(coach, ZH_QUESTION, "zh")
    answer = with_drafter(coach, fake(grounded_zh(ids[0], ids[1]))).ask(ZH_QUESTION)
    pieces = list(replay(answer))
    assert len(pieces) > 5 and "".join(pieces) == answer.text
    assert pieces[-1].strip().endswith(f"{labels('zh')['version']} {answer.sources[-1].version}, "
                                       f"{answer.sources[-1].jurisdiction})")


def sign_in_on_page(at: AppTest, name: str) -> AppTest:
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(f"{name}-password")
    next(b for b in at.button if b.proto.form_id == "sign_in").click()
    return at.run(timeout=600)


def test_coach_page_streams_the_guarded_draft_with_its_sources_last(coach, copy_coach_data, tmp_path, monkeypatch):
    ids = hit_ids(coach, ZH_QUESTION, "zh")
    draft = grounded_zh(ids[0], ids[1])
    # COACH_LLM as an operator sets it; the provider is LangChain's fake instead of a remote API.
    monkeypatch.setattr("assistant.coaching.drafting.chat_model",
                        lambda settings: GenericFakeChatModel(messages=itertools.cycle([draft])))
    coach.log.flush()  # no write of the session's log under way while its data is copied
    data = copy_coach_data(tmp_path / "coach-data")
    store = Services(Settings(data_dir=data)).store
    store.users.bcrypt_rounds = 4
    store.users.add("carol", "agent", "carol-password")
    monkeypatch.syspath_prepend(str(ROOT))  # the pages import app_pages.common, as under `streamlit run app.py`
    monkeypatch.setenv("COACH_DATA_DIR", str(data))
    monkeypatch.setenv("COACH_LLM", "fake:scripted")
    at = sign_in_on_page(AppTest.from_file(str(APP), default_timeout=120).run(timeout=600), "carol")
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

    services = SimpleNamespace(coach=drafting)  # run_case reads only the services' coach
    rows = [run_case(services, case), run_case(services, replace(case, id="c2"))]

    assert rows[0]["fallback"] == "" and set(ids[:2]) <= set(rows[0]["sources"])
    assert rows[1]["fallback"] == "empty"
    assert rows[1]["sources"] == [s.id for s in composed(coach, ZH_QUESTION).shown[:5]]
    summary = llm_summary(rows, "fake:scripted")
    assert (summary["drafted"], summary["fallback"], summary["fallback_rate"], summary["reasons"]) == (1, 1, 0.5,
                                                                                                     {"empty": 1})
    assert "fallback" not in run_case(SimpleNamespace(coach=coach), case)  # without --llm the format is unchanged


def test_api_key_is_never_shown_in_settings():
    conf = Settings(llm="openai:gpt-4o-mini", llm_api_key="sk-test-secret-123")
    assert "sk-test-secret-123" not in repr(conf) and "sk-test-secret-123" not in str(conf.model_dump())


@pytest.mark.skipif(importlib.util.find_spec("langchain_openai") is not None, reason="the openai extra is installed")
def test_missing_provider_package_names_the_extra_to_install():
    with pytest.raises(ImportError, match=r"collections-coach\[openai\]"):
        chat_model(Settings(llm="openai:gpt-4o-mini", llm_api_key="sk-x"))


@pytest.mark.skipif(importlib.util.find_spec("langchain_openai") is not None, reason="the openai extra is installed")
def test_build_drafter_with_a_missing_provider_names_the_extra(coach):
    with pytest.raises(ImportError, match=r"COACH_LLM=openai:gpt-4o-mini needs its provider package"):
        build_drafter(Settings(llm="openai:gpt-4o-mini"), coach.guard, coach.entry)


@pytest.mark.skipif(importlib.util.find_spec("langchain_openai") is None, reason="needs the openai extra")
def test_openai_compatible_endpoint_from_settings():
    url = "http://127.0.0.1:9/v1"
    model = chat_model(Settings(llm="openai:qwen2.5-7b", llm_base_url=url, llm_api_key="sk-test-secret-123",
                                llm_timeout_s=3))
    assert (model.model_name, model.openai_api_base, model.request_timeout) == ("qwen2.5-7b", url, 3)
    assert "sk-test-secret-123" not in repr(model)
