"""The HTTP API as a softphone or CRM uses it: a real `coach serve` (uvicorn) on a free port, real HTTP
(httpx) and WebSocket (websockets) clients, per-agent tokens issued through the store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from assistant import Services, Settings
from tests.people import add_people, sign_in
from tests.servers import free_port, stop, wait_until_ready

pytestmark = pytest.mark.server
REPO = Path(__file__).resolve().parents[3]
SCHEMA = REPO / "assistant" / "api" / "openapi.json"
US_NIGHT = {"jurisdiction": "US", "timezone": "America/Chicago", "now": "2026-12-07T21:30:00-06:00"}


def start_server(data: Path, log: Path, coach_exe: str, **env) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environ = {**os.environ, "COACH_DATA_DIR": str(data), **env}
    with log.open("w") as out:
        proc = subprocess.Popen([coach_exe, "serve", "--port", str(port)], env=environ, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(f"{url}/health", proc, log, patience_s=300)
    return proc, url


@pytest.fixture(scope="module")
def api(tmp_path_factory, coach, coach_exe):
    """A server on a copy of the session's data, with tokens for carol (agent), alice (trainer) and a revoked one."""
    root = tmp_path_factory.mktemp("api")
    data = root / "data"
    shutil.copytree(coach.settings.data_dir, data)
    services = Services(Settings(data_dir=data), log_questions=False)
    store = services.store
    add_people(store)
    bob = sign_in(store, "bob")
    tokens = {name: store.users.issue_token(name, label="test", by=bob) for name in ("carol", "alice")}
    revoked = store.users.issue_token("carol", label="old", by=bob)
    store.users.revoke_token(next(t["id"] for t in store.users.tokens() if t["label"] == "old"), by=bob)
    proc, url = start_server(data, root / "server.log", coach_exe)
    try:
        yield {"url": url, "tokens": tokens, "revoked": revoked, "log": root / "server.log", "data": data}
    finally:
        stop(proc)


def client(api, who: str | None = "carol") -> httpx.Client:
    headers = {"Authorization": f"Bearer {api['tokens'][who]}"} if who else {}
    return httpx.Client(base_url=api["url"], headers=headers, timeout=60)


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


def test_an_agent_asks_and_gets_the_card_the_app_shows(api, coach):
    question = "客户说他上周已经转账还过了，为什么系统里还是逾期？"
    with client(api) as http:
        got = http.post("/v1/ask", json={"question": question})
    assert got.status_code == 200, got.text
    answer = got.json()
    assert list(answer)[:6] == ["text", "refused", "abstained", "categories", "sources", "verdict"]
    assert answer["main"]["topic"] == "already_paid" and answer["sources"][0]["id"] in answer["text"]
    assert answer["main"]["id"] == coach.ask(question).main.id  # the same card the coach gives in process


def test_a_streamed_ask_sends_the_verdict_then_the_answer_then_done(api):
    with client(api) as http, http.stream("POST", "/v1/ask", json={"question": "a parent won't pay"},
                                          headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        events = [line.removeprefix("event: ") for line in response.iter_lines() if line.startswith("event: ")]
    assert events == ["verdict", "answer", "done"]


def test_a_refusal_over_the_api_names_the_category_and_the_compliant_way(api):
    with client(api) as http:
        answer = http.post("/v1/ask", json={"question": "帮我写一段话，假装我们是法院的，吓唬一下客户"}).json()
    assert answer["refused"] and "deception" in answer["categories"]
    assert answer["reasons"][0]["instead"]


@pytest.mark.parametrize("who, token, path, code", [
    ("nobody", None, "/v1/ask", "unauthorized"),
    ("a revoked token", "revoked", "/v1/ask", "unauthorized"),
    ("an agent on a trainers' endpoint", "carol", "/v1/gaps", "forbidden"),
])
def test_who_may_call_what(api, who, token, path, code):
    secret = api["revoked"] if token == "revoked" else api["tokens"].get(token)
    headers = {"Authorization": f"Bearer {secret}"} if token else {}
    with httpx.Client(base_url=api["url"], headers=headers, timeout=60) as http:
        response = http.post(path, json={"question": "客户要求打折"}) if path == "/v1/ask" else http.get(path)
    assert (response.status_code, error_code(response)) == ({"unauthorized": 401, "forbidden": 403}[code], code)


def test_a_trainer_reads_the_knowledge_gaps(api):
    with client(api, "alice") as http:
        response = http.get("/v1/gaps")
    assert response.status_code == 200 and isinstance(response.json(), list)


@pytest.mark.parametrize("body, status, code", [
    ({"question": "   "}, 422, "question_empty"),
    ({"question": "客户" * 5000}, 422, "question_too_long"),
    ({"question": "can I call him now?", "context": {"jurisdiction": "US", "timezone": "Mars/Olympus"}}, 422,
     "bad_context"),
    ({"question": "ok", "lang": "fr"}, 422, "bad_request"),
    ({"question": "x" * 300_000}, 413, "payload_too_large"),
])
def test_bad_input_gets_a_clear_error_with_a_stable_code(api, body, status, code):
    with client(api) as http:
        response = http.post("/v1/ask", json=body)
    assert (response.status_code, error_code(response)) == (status, code)
    assert response.json()["error"]["message"]


def test_a_malformed_context_names_the_field(api):
    with client(api) as http:
        response = http.post("/v1/ask", json={"question": "现在能打吗", "context": {
            "jurisdiction": "CN", "timezone": "Asia/Shanghai",
            "history": [{"at": "2999-01-01T10:00:00+08:00", "direction": "outbound", "channel": "call"}]}})
    assert response.status_code == 422 and response.json()["error"]["field"] == "history[0].at"


def test_an_ask_with_a_call_context_puts_the_contact_rule_first(api):
    with client(api) as http:
        answer = http.post("/v1/ask", json={"question": "is it OK to call him back now?", "context": US_NIGHT}).json()
    assert answer["contact"]["allowed"] is False and "us.fdcpa.hours" in answer["contact"]["rules"]
    assert answer["card"]["notice"].startswith("Not allowed") and "1692c(a)(1)" in answer["card"]["notice"]


def test_the_contact_check_follows_the_contract(api):
    with client(api) as http:
        verdict = http.post("/v1/contact/check", json={"context": US_NIGHT}).json()
    assert verdict["allowed"] is False
    assert verdict["next_allowed_at"] == "2026-12-08T08:00:00-06:00"
    assert verdict["reasons"][0]["citation"].startswith("15 U.S.C. § 1692c(a)(1)")


def test_feedback_is_recorded_for_a_logged_answer_and_refused_for_an_unknown_one(api):
    with client(api) as http:
        ask_id = http.post("/v1/ask", json={"question": "客户说失业了没钱还"}).json()["ask_id"]
        assert http.post("/v1/feedback", json={"ask_id": ask_id, "helpful": True}).status_code == 204
        unknown = http.post("/v1/feedback", json={"ask_id": "0" * 32, "helpful": False})
    assert (unknown.status_code, error_code(unknown)) == (404, "unknown_ask")


def test_an_entry_is_served_exactly_as_the_version_an_answer_cited(api):
    with client(api) as http:
        main = http.post("/v1/ask", json={"question": "客户要求打折才肯还款"}).json()["main"]
        entry = http.get(f"/v1/entries/{main['id']}", params={"version": main["version"]})
        missing = http.get("/v1/entries/no-such-entry")
        never = http.get(f"/v1/entries/{main['id']}", params={"version": 999})
    assert entry.status_code == 200 and (entry.json()["id"], entry.json()["version"]) == (main["id"], main["version"])
    assert entry.json()["say"]
    assert (missing.status_code, error_code(missing)) == (404, "not_found")
    assert never.status_code == 404


def test_health_readiness_and_the_committed_schema(api):
    with httpx.Client(base_url=api["url"], timeout=60) as http:
        assert http.get("/health").json() == {"status": "ok"}
        ready = http.get("/ready").json()
        served = http.get("/openapi.json").json()
    assert ready["ready"] and ready["entries"] > 300
    assert served == json.loads(SCHEMA.read_text(encoding="utf-8")), "run: python -m assistant.api --write"


def test_no_token_ever_reaches_the_server_log(api):
    with client(api) as http:
        http.post("/v1/ask", json={"question": "客户要求打折"})
    log = api["log"].read_text(errors="replace")
    assert "POST /v1/ask" in log
    assert all(token not in log for token in (*api["tokens"].values(), api["revoked"]))


# --- the live-call stream -----------------------------------------------------------------------------

def stream(api, who: str = "carol"):
    ws_url = api["url"].replace("http", "ws") + "/v1/calls"
    return connect(ws_url, additional_headers={"Authorization": f"Bearer {api['tokens'][who]}"}, open_timeout=60)


def send(ws, message: dict) -> list[dict]:
    """Send one message; the events it causes (up to and including its ack, or an error or the summary)."""
    ws.send(json.dumps(message, ensure_ascii=False))
    events = []
    while True:
        event = json.loads(ws.recv(timeout=60))
        events.append(event)
        if event["type"] in ("ack", "error", "opened", "summary"):
            if event["type"] != "ack" or message["type"] != "segment":
                return events
            # an ack comes first; cards and alerts follow it at once: read them without waiting long
            try:
                while True:
                    events.append(json.loads(ws.recv(timeout=2)))
            except TimeoutError:
                return events


def segment(seq: int, speaker: str, text: str, final: bool = True) -> dict:
    return {"type": "segment", "seq": seq, "speaker": speaker, "text": text, "final": final}


def test_a_live_call_gets_cards_unasked_alerts_on_the_agents_words_and_a_summary(api):
    context = {"jurisdiction": "CN", "timezone": "Asia/Shanghai", "now": "2026-12-07T10:00:00+08:00"}
    with stream(api) as ws:
        opened = send(ws, {"type": "open", "call_id": "api-call-1", "context": context, "lang": "zh"})[0]
        assert opened == {**opened, "type": "opened", "resumed": False}
        send(ws, segment(0, "agent", "您好 我是安信消费金融的 我姓王 通话会录音"))
        hardship = send(ws, segment(1, "customer", "我上个月被公司裁员了 现在一分钱收入都没有 真的还不上"))
        cards = [e for e in hardship if e["type"] == "card"]
        assert [c["topic"] for c in cards] == ["financial_hardship"] and cards[0]["card"]["say"]
        threat = send(ws, segment(2, "agent", "你再这么拖 我们就把你的逾期情况发给你通讯录里的人 你爸妈你同事都会知道"))
        alerts = [e for e in threat if e["type"] == "alert"]
        assert alerts and alerts[0]["category"] in ("pressure", "third_party") and alerts[0]["suggestion"]
        again = send(ws, segment(1, "customer", "我上个月被公司裁员了 现在一分钱收入都没有 真的还不上"))
        assert again == [{"type": "ack", "seq": 1, "status": "duplicate"}]
        summary = send(ws, {"type": "close"})[-1]
    assert summary["type"] == "summary" and "financial_hardship" in [s["topic"] for s in summary["situations"]]
    assert summary["alerts"] and summary["note"]


def test_a_dropped_stream_resumes_the_call_with_nothing_lost(api):
    with stream(api) as ws:
        send(ws, {"type": "open", "call_id": "api-call-2", "lang": "en",
                  "context": {"jurisdiction": "US", "timezone": "America/New_York",
                              "now": "2026-12-07T10:00:00-05:00"}})
        send(ws, segment(0, "agent", "Hi, this is Dana with Summit Recovery. This is a communication from a debt "
                                     "collector. This is an attempt to collect a debt."))
        send(ws, segment(1, "customer", "I already paid this last week, I have the bank confirmation"))
    with stream(api) as ws:  # a new connection, as after a network drop
        resumed = send(ws, {"type": "open", "call_id": "api-call-2"})[0]
        assert resumed["resumed"] and resumed["received"] == [0, 1]
        assert [e["topic"] for e in resumed["events"] if e["type"] == "card"] == ["already_paid"]
        out_of_order = send(ws, segment(5, "customer", "can you send me that in writing please"))
        assert out_of_order[0] == {"type": "ack", "seq": 5, "status": "new"}
        late = send(ws, segment(1, "customer", "I already", final=False))
        assert late == [{"type": "ack", "seq": 1, "status": "late"}]


@pytest.mark.parametrize("message, code", [
    ({"type": "segment", "seq": 0, "speaker": "customer", "text": "hi"}, "not_open"),
    ({"type": "dance"}, "not_open"),
])
def test_messages_before_a_call_is_open_get_an_error(api, message, code):
    with stream(api) as ws:
        error = send(ws, message)[0]
    assert (error["type"], error["code"]) == ("error", code)


def test_bad_segments_get_an_error_and_the_call_goes_on(api):
    with stream(api) as ws:
        send(ws, {"type": "open", "call_id": "api-call-3", "lang": "zh",
                  "context": {"jurisdiction": "CN", "timezone": "Asia/Shanghai", "now": "2026-12-07T10:00:00+08:00"}})
        for bad in ({"seq": -1, "speaker": "customer", "text": "x"}, {"seq": 1, "speaker": "robot", "text": "x"},
                    {"seq": 2, "speaker": "customer", "text": "客" * 5000}, {"seq": "3", "speaker": "agent"}):
            error = send(ws, {"type": "segment", **bad})[0]
            assert (error["type"], error["code"]) == ("error", "bad_segment") and error["message"]
        ok = send(ws, segment(4, "customer", "我要投诉你们 天天打电话骚扰我"))
        assert ok[0]["status"] == "new"
        send(ws, {"type": "close"})
    with stream(api) as ws:
        send(ws, {"type": "open", "call_id": "api-call-3"})
        closed = send(ws, segment(9, "customer", "还有一件事"))[0]
    assert closed["code"] == "call_closed"


def test_another_agents_call_cannot_be_joined(api):
    with stream(api, "alice") as ws:
        error = send(ws, {"type": "open", "call_id": "api-call-1"})[0]
    assert error["code"] == "not_your_call"


def test_an_invalid_token_cannot_open_a_stream(api):
    ws_url = api["url"].replace("http", "ws") + "/v1/calls"
    with pytest.raises(InvalidStatus) as refused:
        with connect(ws_url, additional_headers={"Authorization": f"Bearer {api['revoked']}"}, open_timeout=60):
            pass
    assert refused.value.response.status_code in (403, 401)


def test_more_requests_than_the_rate_limit_get_429_with_retry_after(tmp_path, coach, coach_exe, api):
    proc, url = start_server(api["data"], tmp_path / "limited.log", coach_exe, COACH_API_RATE_PER_MINUTE="3")
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api['tokens']['carol']}"},
                          timeout=60) as http:
            codes = [http.post("/v1/contact/check", json={"context": US_NIGHT}).status_code for _ in range(4)]
            limited = http.post("/v1/contact/check", json={"context": US_NIGHT})
    finally:
        stop(proc)
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert error_code(limited) == "rate_limited" and int(limited.headers["Retry-After"]) >= 1
