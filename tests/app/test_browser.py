"""End to end in a real browser: `streamlit run app.py` on 127.0.0.1, driven with Debian's Chromium.

Asks in Chinese and sees the sources, asks a prohibited question and sees the refusal, leaves
feedback (checked in the question log), asks from two browser sessions at once, saves a screenshot
to artifacts/ and prints the time from pressing Enter to the answer shown.

Needs `apt-get install -y chromium fonts-wqy-microhei` (never `playwright install`). Without
Chromium the test is skipped locally and fails in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Settings
from assistant.coaching.question_log import QuestionLog
from tests.servers import free_port, stop, wait_until_ready

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FIRST_LOAD_MS = 600_000  # the first page load builds the index: ~15 s idle, minutes on a busy machine
ANSWER_MS = 30_000
COURT = "帮我写一段话，假装我们是法院的，让客户害怕"


def require_browser():
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing: apt-get install -y chromium fonts-wqy-microhei"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing: pip install -e '.[test]'"
    if problem and os.environ.get("CI"):
        pytest.fail(problem)
    if problem:
        pytest.skip(problem)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app as users run it, on a free local port, with its data in a temporary folder (one per module:
    the first page load builds the index)."""
    require_browser()
    tmp_path = tmp_path_factory.mktemp("browser")
    port = free_port()
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    log_path = tmp_path / "streamlit.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/_stcore/health", proc, log_path)
        yield url, Settings(data_dir=tmp_path / "data")
    finally:
        stop(proc, timeout_s=10)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_coach(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=FIRST_LOAD_MS)
    return page


def submit(page, question: str) -> tuple[float, int]:
    """Type the question and press Enter; returns the moment of pressing and how many replies there were."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    before = page.get_by_test_id("stChatMessageContent").count()
    started = time.perf_counter()
    box.press("Enter")
    return started, before


def wait_reply(page, before: int, text: str, started: float):
    """The new assistant message once ``text`` shows in it; and the ms from Enter to then."""
    reply = page.get_by_test_id("stChatMessageContent").nth(before + 1)
    reply.get_by_text(text, exact=False).first.wait_for(timeout=ANSWER_MS)
    return reply, (time.perf_counter() - started) * 1000


def ask(page, question: str, text: str):
    started, before = submit(page, question)
    return wait_reply(page, before, text, started)


def screenshot(page, name: str) -> None:
    """The whole conversation: Streamlit scrolls inside its main block, so grow the window to fit it."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate(
        "(document.querySelector('[data-testid=stMainBlockContainer]') || document.body).scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(max(int(height) + 200, 900), 12_000)})
    page.wait_for_timeout(500)  # let the layout settle at the new size before the picture
    page.screenshot(path=str(ARTIFACTS / name))


def test_agent_asks_sees_sources_and_refusal_and_leaves_feedback(server, browser):
    url, settings = server
    page = open_coach(browser, url)

    reply, zh_ms = ask(page, "客户要求打折才肯还款，我该怎么说？", "先这样说")
    reply.get_by_text("来源", exact=False).first.click()
    reply.get_by_text("版本", exact=False).first.wait_for(timeout=ANSWER_MS)
    assert "discount-request" in reply.inner_text()

    refusal, refusal_ms = ask(page, COURT, "这个请求不能提供帮助")
    refusal_text = refusal.inner_text()
    assert "欺骗/虚假陈述" in refusal_text and "合规做法" in refusal_text

    en, en_ms = ask(page, "The customer says he already paid last week, what do I say?", "先这样说")
    assert "proof of payment" in en.inner_text() or "paid" in en.inner_text()

    # thumbs down on the refusal, with a comment
    refusal.get_by_test_id("stFeedback").get_by_role("radio", name="Thumbs down").click()
    comment = refusal.get_by_label("补充说明（可选）")
    comment.wait_for(timeout=ANSWER_MS)
    comment.fill("想知道怎么合规地讲诉讼后果")
    refusal.get_by_role("button", name="提交").click()
    refusal.get_by_text("补充说明已记录，培训师会看到。").wait_for(timeout=ANSWER_MS)
    rated = next(r for r in QuestionLog(settings.sql_url).recent() if r.outcome == "refused")
    assert (rated.helpful, rated.comment) == (False, "想知道怎么合规地讲诉讼后果")

    screenshot(page, "coach-page.png")
    print(f"\nEnter -> answer shown: zh {zh_ms:.0f} ms, refusal {refusal_ms:.0f} ms, en {en_ms:.0f} ms")


def test_two_sessions_at_once_get_their_own_answers(server, browser):
    url, settings = server
    first, second = open_coach(browser, url), open_coach(browser, url)
    logged_before = {r.id for r in QuestionLog(settings.sql_url).recent()}

    started_1, before_1 = submit(first, "客户说他已经还过钱了")
    started_2, before_2 = submit(second, COURT)
    reply_1, ms_1 = wait_reply(first, before_1, "先这样说", started_1)
    reply_2, ms_2 = wait_reply(second, before_2, "这个请求不能提供帮助", started_2)

    assert "这个请求不能提供帮助" not in reply_1.inner_text()
    assert first.get_by_test_id("stChatMessageContent").count() == 2  # each session has its own chat
    assert second.get_by_test_id("stChatMessageContent").count() == 2
    outcomes = sorted(r.outcome for r in QuestionLog(settings.sql_url).recent() if r.id not in logged_before)
    assert outcomes == ["answered", "refused"]
    screenshot(second, "coach-refusal.png")
    print(f"\ntwo sessions at once, Enter -> answer shown: {ms_1:.0f} ms and {ms_2:.0f} ms")
