"""End to end in a real browser: `streamlit run app.py` on 127.0.0.1, driven with Debian's Chromium through
Playwright, on a copy of the session coach's data directory (the shipped knowledge base) with the three test
logins.

People sign in through the form; an agent asks, sees the card and its sources, is refused a prohibited request
and leaves feedback (checked in the question log); an agent typing a trainer's page address gets no trainer
page; a trainer gets the knowledge base; sign-out brings back the form and forgets the chat; two browser
sessions at once keep their own chats; a trainer drafts an entry from a knowledge gap, finds the conversation
in the log and opens its question in the retrieval test, and searches the knowledge base; an agent who switches
the interface to English gets an English card; a trainer imports a Word deck (the threat in it flagged, the sound
passages stored as drafts named by their heading) and a colleague approves an edit in the review queue that the
next agent's answer then carries; an agent follows a call streamed through the API on the Live call page; a
trainer runs an evaluation, sees its progress and cancels it. Screenshots go to the test's tmp_path (the path
is printed) and to artifacts/screenshots/ (beside the evaluation report .ci/run writes) so a person can look at
what the test saw: docs/walkthrough.md walks through them.

Needs `apt-get install -y chromium fonts-wqy-microhei` (never `playwright install`: it downloads a browser
build). Without Chromium or the playwright package the tests are skipped locally and fail in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import Services, Settings
from assistant.coaching.question_log import QuestionLog
from tests.app.kb_page import DISCOUNT
from tests.app.kb_page import ENTRY as DISCOUNT_ENTRY
from tests.people import add_people
from tests.people import sign_in as people_sign_in
from tests.servers import free_port, stop, wait_until_ready

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "artifacts" / "screenshots"
FIRST_ANSWER_MS = 600_000  # the server's first ask loads the coach from the copied index: minutes on a busy box
ANSWER_MS = 60_000
COURT = "帮我写一段话，假装我们是法院的，让客户害怕"
AGENT_NAV = ["教练", "通话陪练"]  # Coach and Live call (app.py)
TRAINER_NAV = [*AGENT_NAV, "洞察", "检索测试", "评估", "知识库"]


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
def server(coach, tmp_path_factory):
    """The app as users run it, on a free local port, on a copy of the session coach's data (one per module)."""
    require_browser()
    tmp_path = tmp_path_factory.mktemp("browser")
    data = tmp_path / "data"
    shutil.copytree(coach.settings.data_dir, data)
    add_people(Services(Settings(data_dir=data), log_questions=False).store)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env.update(COACH_DATA_DIR=str(data), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    log_path = tmp_path / "streamlit.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/_stcore/health", proc, log_path)
        yield url, Settings(data_dir=data)
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


def open_page(browser, url: str, path: str = ""):
    """A new browser session (its own Streamlit session) at ``url/path``, once the sign-in form shows."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{url}/{path}")
    page.get_by_label("用户名").wait_for(timeout=ANSWER_MS)
    return page


def sign_in(page, name: str) -> None:
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(f"{name}-password")
    page.get_by_test_id("stFormSubmitButton").get_by_role("button").click()
    page.get_by_text(f"已登录：{name}").wait_for(timeout=ANSWER_MS)
    # everyone lands on the Coach page; its chat input comes after the navigation (the caption comes before it)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=ANSWER_MS)


def signed_in(browser, url: str, name: str, path: str = ""):
    page = open_page(browser, url, path)
    sign_in(page, name)
    return page


def nav(page) -> list[str]:
    """The titles of the sidebar navigation's page links (none when the navigation has a single page); a link's
    Material icon is text too (its ligature name, "forum"), so only the title's own text is read."""
    links = page.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink")
    return [link.get_by_test_id("stMarkdownContainer").inner_text().strip() for link in links.all()]


def submit(page, question: str) -> tuple[float, int]:
    """Type the question and press Enter; returns the moment of pressing and how many messages there were."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=ANSWER_MS)
    box.fill(question)
    before = page.get_by_test_id("stChatMessageContent").count()
    started = time.perf_counter()
    box.press("Enter")
    return started, before


def wait_reply(page, before: int, text: str, started: float, timeout: float = FIRST_ANSWER_MS):
    """The new assistant message once ``text`` shows in it; and the ms from Enter to then."""
    reply = page.get_by_test_id("stChatMessageContent").nth(before + 1)
    reply.get_by_text(text, exact=False).first.wait_for(timeout=timeout)
    return reply, (time.perf_counter() - started) * 1000


def ask(page, question: str, text: str):
    started, before = submit(page, question)
    return wait_reply(page, before, text, started)


def screenshot(page, folder: Path, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its main block, so grow the window to fit it."""
    height = page.evaluate(
        "(document.querySelector('[data-testid=stMainBlockContainer]') || document.body).scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(max(int(height) + 200, 900), 12_000)})
    page.wait_for_timeout(500)  # let the layout settle at the new size before the picture
    path = folder / name
    page.screenshot(path=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SHOTS / name)
    print(f"\nscreenshot: {path}")
    return path


def logged_since(log: QuestionLog, before: set[str], n: int) -> list[tuple[str, str]]:
    """(agent, outcome) of the asks logged since ``before``, once ``n`` are there: the server writes its log off
    the answer's path, so a row lands a moment after the answer shows."""
    deadline = time.monotonic() + ANSWER_MS / 1000
    while True:
        new = sorted((r.agent, r.outcome) for r in log.recent() if r.id not in before)
        if len(new) >= n or time.monotonic() > deadline:
            return new
        time.sleep(0.2)


def main_text(page) -> str:
    """The text of the main block (not the sidebar): stMainBlockContainer, as the app's main area is "stMain"
    only until a page pins a chat input to the bottom (then Streamlit wraps it in a scroll-to-bottom container)."""
    return page.get_by_test_id("stMainBlockContainer").inner_text()


def test_an_agent_signs_in_asks_sees_the_sources_and_a_refusal_and_leaves_feedback(server, browser, tmp_path):
    url, settings = server
    page = open_page(browser, url)
    assert "催收合规教练" in main_text(page) and page.get_by_test_id("stChatInputTextArea").count() == 0
    screenshot(page, tmp_path, "sign-in.png")

    sign_in(page, "carol")
    assert nav(page) == AGENT_NAV  # an agent's app has the Coach and Live call pages, no trainer page
    reply, zh_ms = ask(page, DISCOUNT, "先这样说")
    reply.get_by_text("来源", exact=False).first.click()
    reply.get_by_text("版本", exact=False).first.wait_for(timeout=ANSWER_MS)
    assert "discount-request" in reply.inner_text()

    refusal, refusal_ms = ask(page, COURT, "这个请求不能提供帮助")
    refusal_text = refusal.inner_text()
    assert "欺骗/虚假陈述" in refusal_text and "合规做法" in refusal_text

    refusal.get_by_test_id("stFeedback").get_by_role("radio", name="Thumbs down").click()
    comment = refusal.get_by_label("补充说明（可选）")
    comment.wait_for(timeout=ANSWER_MS)
    comment.fill("想知道怎么合规地讲诉讼后果")
    refusal.get_by_role("button", name="提交").click()
    refusal.get_by_text("补充说明已记录，培训师会看到。").wait_for(timeout=ANSWER_MS)
    rated = QuestionLog(settings.sql_url).recent(agent="carol", contains=COURT)[0]
    assert (rated.outcome, rated.helpful, rated.comment) == ("refused", False, "想知道怎么合规地讲诉讼后果")

    screenshot(page, tmp_path, "coach-page.png")
    print(f"Enter -> answer shown: zh {zh_ms:.0f} ms, refusal {refusal_ms:.0f} ms")


@pytest.mark.parametrize("path, trainer_words", [
    ("knowledge-base", ["条目", "待审核", "导入培训材料"]),
    ("evaluation", ["运行评估", "还没有评估报告"]),
])
def test_an_agent_typing_a_trainers_page_address_gets_no_trainer_page(server, browser, tmp_path, path, trainer_words):
    url, _ = server
    page = open_page(browser, url, path)
    # Signed out, the app has the sign-in page only: Streamlit says the address has no page, over the form
    not_found = page.get_by_role("dialog")
    not_found.wait_for(timeout=ANSWER_MS)
    assert "Page not found" in not_found.inner_text()
    not_found.get_by_role("button", name="Close").click()
    not_found.wait_for(state="detached", timeout=ANSWER_MS)
    sign_in(page, "carol")

    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=ANSWER_MS)  # she lands on the Coach page
    shown = main_text(page)
    assert not [w for w in trainer_words if w in shown]
    assert "实时话术教练" in shown and nav(page) == AGENT_NAV
    assert page.get_by_role("dialog").count() == 0
    screenshot(page, tmp_path, f"agent-at-{path}.png")


def test_a_trainer_gets_every_page_and_the_knowledge_base(server, browser, tmp_path):
    url, _ = server
    page = signed_in(browser, url, "alice")

    assert nav(page) == TRAINER_NAV
    page.get_by_test_id("stSidebarNav").get_by_text("知识库").click()
    page.get_by_role("tab", name="待审核").wait_for(timeout=ANSWER_MS)
    assert page.get_by_role("tab", name="条目").count() == 1 and "知识库" in main_text(page)
    screenshot(page, tmp_path, "knowledge-base.png")


def test_sign_out_brings_back_the_form_and_forgets_the_chat(server, browser, tmp_path):
    url, _ = server
    page = signed_in(browser, url, "carol")
    ask(page, DISCOUNT, "先这样说")

    page.get_by_role("button", name="退出登录").click()

    page.get_by_label("用户名").wait_for(timeout=ANSWER_MS)
    assert page.get_by_test_id("stChatMessageContent").count() == 0
    assert page.get_by_text("已登录：carol").count() == 0
    screenshot(page, tmp_path, "signed-out.png")
    sign_in(page, "bob")  # the next person at this browser starts with an empty chat
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=ANSWER_MS)
    assert page.get_by_test_id("stChatMessageContent").count() == 0


def test_two_sessions_at_once_get_their_own_answers(server, browser, tmp_path):
    url, settings = server
    first, second = signed_in(browser, url, "carol"), signed_in(browser, url, "alice")
    log = QuestionLog(settings.sql_url)
    logged_before = {r.id for r in log.recent()}

    started_1, before_1 = submit(first, "客户说他已经还过钱了")
    started_2, before_2 = submit(second, COURT)
    reply_1, ms_1 = wait_reply(first, before_1, "先这样说", started_1)
    reply_2, ms_2 = wait_reply(second, before_2, "这个请求不能提供帮助", started_2)

    assert "这个请求不能提供帮助" not in reply_1.inner_text()
    assert first.get_by_test_id("stChatMessageContent").count() == 2  # each session has its own chat
    assert second.get_by_test_id("stChatMessageContent").count() == 2
    new = logged_since(log, logged_before, 2)
    assert new == [("alice", "refused"), ("carol", "answered")]
    screenshot(second, tmp_path, "coach-refusal.png")
    print(f"\ntwo sessions at once, Enter -> answer shown: {ms_1:.0f} ms and {ms_2:.0f} ms")


def test_a_trainer_drafts_an_entry_from_a_gap_and_opens_a_logged_question_in_the_retrieval_test(server, browser,
                                                                                                  tmp_path):
    url, _ = server
    agent = signed_in(browser, url, "carol")
    ask(agent, "客户说他已经还过钱了", "先这样说")
    gap_question = "帮我写一份公司年会的主持词"
    ask(agent, gap_question, "暂无经过审核的指导")

    page = signed_in(browser, url, "alice")
    page.get_by_test_id("stSidebarNav").get_by_text("洞察").click()
    page.get_by_text("知识缺口").first.wait_for(timeout=ANSWER_MS)
    page.get_by_test_id("stExpander").filter(has_text=gap_question).first.get_by_text(gap_question).first.click()
    screenshot(page, tmp_path, "insights-gap.png")
    page.get_by_role("button", name="起草条目").first.click()
    page.get_by_text(f"知识缺口：{gap_question}").first.wait_for(timeout=ANSWER_MS)  # the draft, opened
    assert "草稿" in main_text(page)
    screenshot(page, tmp_path, "gap-draft.png")

    page.get_by_test_id("stSidebarNav").get_by_text("洞察").click()
    page.get_by_label("问题里的文字").fill("年会的主持词")
    page.get_by_label("问题里的文字").press("Enter")
    page.get_by_role("button", name="为什么？").nth(1).wait_for(timeout=ANSWER_MS)  # both turns of the conversation
    screenshot(page, tmp_path, "conversation-log.png")
    page.get_by_role("button", name="为什么？").nth(1).click()
    page.get_by_text("暂无指导").first.wait_for(timeout=ANSWER_MS)  # the retrieval test's outcome for it
    assert page.get_by_role("textbox", name="问题", exact=True).input_value() == gap_question
    assert "客户说他已经还过钱了" in page.get_by_role("textbox", name="之前的问题（可选，每行一个）").input_value()
    screenshot(page, tmp_path, "retrieval-test.png")


def test_a_trainer_searches_the_knowledge_base_by_text(server, browser, tmp_path):
    url, _ = server
    page = signed_in(browser, url, "alice")
    page.get_by_test_id("stSidebarNav").get_by_text("知识库").click()
    search = page.get_by_label("搜索")
    search.wait_for(timeout=ANSWER_MS)
    search.fill("打折")
    search.press("Enter")
    page.get_by_text("点一行打开", exact=False).first.wait_for(timeout=ANSWER_MS)
    page.get_by_test_id("stDataFrame").first.wait_for(timeout=ANSWER_MS)
    screenshot(page, tmp_path, "knowledge-base-search.png")


def test_an_agent_who_switches_the_interface_to_english_gets_an_english_card(server, browser, tmp_path):
    url, _ = server
    page = signed_in(browser, url, "carol")
    page.get_by_role("radiogroup", name="界面语言").get_by_text("English").click()
    page.get_by_text("Interface language").wait_for(timeout=ANSWER_MS)
    answer_lang = page.get_by_role("radiogroup", name="Answer language")
    answer_lang.locator("input[type=radio][checked]").wait_for(state="attached", timeout=ANSWER_MS)  # still chosen
    assert page.get_by_role("combobox", name="Jurisdiction").input_value() == "Mainland China (CN)"  # English labels
    reply, _ = ask(page, "The customer says he already paid last week, what do I say?", "Say this first")
    shown = reply.inner_text()
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in shown), shown  # no Chinese in an English card
    screenshot(page, tmp_path, "coach-english.png")


def test_a_trainer_imports_a_deck_and_a_colleague_approves_an_edit_that_reaches_the_next_answer(server, browser,
                                                                                                 tmp_path):
    import docx

    url, settings = server
    deck = docx.Document()
    deck.add_heading("客户要求减免", level=1)
    for text in ("客户要求减免利息时，先感谢客户愿意沟通，再说明减免要按公司政策申请，不能在电话里当场承诺。",
                 "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。",
                 "记录客户的诉求和能还的金额，按流程提交减免申请，并告诉客户多久会有答复。"):
        deck.add_paragraph(text)
    path = tmp_path / "催收培训第三期.docx"
    deck.save(str(path))

    page = signed_in(browser, url, "alice")
    page.get_by_test_id("stSidebarNav").get_by_text("知识库").click()
    page.get_by_role("tab", name="导入培训材料").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    page.get_by_text("共 3 段，其中 1 段被护栏标记", exact=False).wait_for(timeout=ANSWER_MS)
    screenshot(page, tmp_path, "import-dry-run.png")
    page.get_by_role("button", name="把通过的 2 段存为草稿").click()
    page.get_by_text("已存入 2 条草稿", exact=False).wait_for(timeout=ANSWER_MS)
    screenshot(page, tmp_path, "import-drafts.png")
    store = Services(settings, log_questions=False).store
    drafts = [r.entry for r in store.list() if r.entry.id.startswith("import-")]
    assert len(drafts) == 2 and all(d.title.startswith("客户要求减免 — ") for d in drafts), drafts
    assert {d.topic for d in drafts} == {"discount_request"}  # the heading helps suggest the topic
    assert "pressure" not in main_text(page)  # categories in words, not codes

    better = "我理解您想少还一点，我先把您的情况和能还的金额记下来，按公司流程帮您提交申请。"
    current = store.get(DISCOUNT_ENTRY)
    alice = people_sign_in(store, "alice")
    edited = store.save(replace(current.entry, say=(better, *current.entry.say[1:])), by=alice,
                        expected_revision=current.revision)
    store.submit(DISCOUNT_ENTRY, by=alice, expected_revision=edited.revision)

    reviewer = signed_in(browser, url, "bob")
    reviewer.get_by_test_id("stSidebarNav").get_by_text("知识库").click()
    reviewer.get_by_role("tab", name="待审核").click()
    approve = reviewer.get_by_role("button", name="审核通过并发布")
    approve.wait_for(timeout=ANSWER_MS)
    screenshot(reviewer, tmp_path, "review-queue.png")
    approve.click()
    reviewer.get_by_text("没有待审核的条目").wait_for(timeout=ANSWER_MS)

    agent = signed_in(browser, url, "carol")
    reply, _ = ask(agent, DISCOUNT, better[:12])  # the approved version is the next answer's first line
    assert better in reply.inner_text()
    newest = store.history(DISCOUNT_ENTRY)[-1]
    assert (newest.editor, newest.approved_by) == ("alice", "bob")


def test_an_agent_follows_a_live_call_streamed_through_the_api(server, browser, coach_exe, tmp_path):
    """The speech engine streams the call to `coach serve` on the same data; the agent's Live call page shows
    the card for the customer's situation and the alert on the agent's own threat as they arrive."""
    import json

    from websockets.sync.client import connect

    url, settings = server
    store = Services(settings, log_questions=False).store
    token = store.users.issue_token("carol", label="dialer", by=people_sign_in(store, "bob"))
    port = free_port()
    log_path = tmp_path / "api.log"
    with log_path.open("w") as log:
        api = subprocess.Popen([coach_exe, "serve", "--port", str(port)], cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT, env={**os.environ, "COACH_DATA_DIR": str(settings.data_dir)})
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health", api, log_path, patience_s=300)
        page = signed_in(browser, url, "carol")
        page.get_by_test_id("stSidebarNav").get_by_text("通话陪练").click()
        with connect(f"ws://127.0.0.1:{port}/v1/calls", additional_headers={"Authorization": f"Bearer {token}"},
                     open_timeout=60) as ws:
            def send(message: dict) -> None:
                ws.send(json.dumps(message, ensure_ascii=False))
                json.loads(ws.recv(timeout=60))  # its ack (cards and alerts follow; the page shows them)

            context = {"jurisdiction": "CN", "timezone": "Asia/Shanghai", "now": "2026-12-07T10:00:00+08:00"}
            send({"type": "open", "call_id": "browser-call-1", "context": context, "lang": "zh"})
            for seq, (speaker, text) in enumerate([
                    ("agent", "您好 我是安信消费金融的 我姓王 通话会录音"),
                    ("customer", "我上个月被公司裁员了 现在一分钱收入都没有 真的还不上"),
                    ("agent", "你再这么拖 我们就把你的逾期情况发给你通讯录里的人 你爸妈你同事都会知道")]):
                send({"type": "segment", "seq": seq, "speaker": speaker, "text": text, "final": True})
            main = page.get_by_test_id("stMainBlockContainer")
            main.get_by_text("browser-call-1", exact=False).first.wait_for(timeout=ANSWER_MS)
            main.get_by_text("改为这样说", exact=False).first.wait_for(timeout=ANSWER_MS)  # the alert's compliant way
            screenshot(page, tmp_path, "live-call.png")
            shown = main_text(page)
            assert "合规提醒: 施压" in shown and "失业" in shown, shown  # the alert, and the card for the job loss
    finally:
        stop(api)


def test_a_trainer_runs_an_evaluation_sees_its_progress_and_cancels_it(server, browser, tmp_path):
    url, _ = server
    page = signed_in(browser, url, "alice")
    page.get_by_test_id("stSidebarNav").get_by_text("评估").click()
    page.get_by_role("button", name="运行评估").click()
    page.get_by_text("已完成", exact=False).first.wait_for(timeout=ANSWER_MS)  # cases counted as they run
    screenshot(page, tmp_path, "evaluation-running.png")
    page.get_by_role("button", name="取消").click()
    page.get_by_text("还没有评估报告", exact=False).wait_for(timeout=ANSWER_MS)  # stopped: no report written
    assert page.get_by_text("已完成", exact=False).count() == 0
