"""Scaling out: two app processes behind a proxy, each with its own data directory, share one Chroma server
(`chroma run` on 127.0.0.1) and one PostgreSQL. What a trainer publishes in one process is what the other
process's next ask serves: an edited entry's new version, a retired entry gone, a new regulation's law known
to its guard (issue 14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from assistant import Settings
from knowledge_base.types import Entry
from tests.people import sign_in

pytestmark = pytest.mark.server
QUESTION = "客户说打个折就还，不打折就不还，我该怎么说"
NEW_SAY = "我理解您想减轻还款负担。减免要按公司流程审批，我先把您的情况如实记录下来，帮您提交申请。"
NEW_LAW = "《测试市债务催收服务管理办法》"  # on no fact sheet: known only once a regulation entry cites it
CITING_LINE = f"按{NEW_LAW}第八条，晚上九点以后不能给客户打电话。"
REGULATION = Entry(
    id="reg-cn-test-city-night-calls", title="晚上九点后不得致电", topic="contact_time_frequency",
    kind="regulation", lang="zh", jurisdiction="CN", status="draft", version=1, citation=f"{NEW_LAW}第八条",
    rule="催收机构不得在晚上九点至次日早上八点致电债务人。")

# The second app process: it answers one JSON request per line (an ask, or what its guard makes of a law).
APP = r"""
import json, sys
from assistant import Services, Settings

services = Services(Settings(), log_questions=False)
services.coach  # started as an app starts: the store, the index, the guard
for line in sys.stdin:
    request = json.loads(line)
    if "ask" in request:
        answer = services.coach.ask(request["ask"], jurisdiction="CN")
        reply = {"sources": {s.id: s.version for s in answer.sources}, "text": answer.text,
                 "say": list(answer.card.say) if answer.card else []}
    else:
        reply = {"unknown_law": services.guard.unknown_law(request["law"]), "known_laws": services.guard.known_laws}
    print(json.dumps(reply, ensure_ascii=False), flush=True)
"""


@pytest.fixture
def database_url(postgres_url):
    """A new, empty PostgreSQL database for this test."""
    name = f"scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


class OtherProcess:
    """The second app process, started on the same Chroma server and database."""

    def __init__(self, data_dir: Path, chroma_url: str, database_url: str):
        self.log = data_dir.with_name(f"{data_dir.name}.log")
        env = {**os.environ, "COACH_DATA_DIR": str(data_dir), "COACH_CHROMA_URL": chroma_url,
               "COACH_DATABASE_URL": database_url, "COACH_SHIPPED_ENTRIES": "false"}
        with self.log.open("w") as err:
            self.proc = subprocess.Popen([sys.executable, "-c", APP], env=env, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err, text=True, encoding="utf-8")

    def request(self, **request) -> dict:
        self.proc.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            pytest.fail(f"the second app process died:\n{self.log.read_text(errors='replace')[-3000:]}")
        return json.loads(line)

    def ask(self, question: str) -> dict:
        return self.request(ask=question)

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def two_apps(tmp_path, chroma_server, database_url, publish_subset):
    """(app 1 in this process, app 2 in another), serving the discount_request entries published in app 1."""
    settings = Settings(data_dir=tmp_path / "app-1", chroma_url=chroma_server, database_url=database_url)
    first = publish_subset(settings, ("discount_request",), tmp_path / "entries")
    second = OtherProcess(tmp_path / "app-2", chroma_server, database_url)
    yield first, second
    second.stop()


def cited(answer) -> dict[str, int]:
    return {s.id: s.version for s in answer.sources}


def test_an_edit_published_in_one_process_is_served_by_both_and_a_retirement_leaves_both(two_apps, tmp_path):
    app1, app2 = two_apps
    alice, bob = sign_in(app1.store, "alice"), sign_in(app1.store, "bob")

    first, other = app1.coach.ask(QUESTION, jurisdiction="CN"), app2.ask(QUESTION)
    entry_id = first.sources[0].id
    assert entry_id.startswith("discount-request") and other["sources"] == cited(first)
    version = cited(first)[entry_id]
    assert NEW_SAY not in first.text and NEW_SAY not in other["text"]

    rec = app1.curation.get(entry_id)
    app1.curation.save(replace(rec.entry, say=(NEW_SAY, *rec.entry.say[1:])), by=alice,
                       expected_revision=rec.revision)
    app1.curation.submit(entry_id, by=alice)
    in_review = (app1.coach.ask(QUESTION, jurisdiction="CN"), app2.ask(QUESTION))
    assert cited(in_review[0])[entry_id] == version and in_review[1]["sources"][entry_id] == version
    assert NEW_SAY not in in_review[0].text and NEW_SAY not in in_review[1]["text"]

    app1.curation.approve(entry_id, by=bob)

    here, there = app1.coach.ask(QUESTION, jurisdiction="CN"), app2.ask(QUESTION)
    assert cited(here)[entry_id] == version + 1 and there["sources"][entry_id] == version + 1
    assert NEW_SAY in here.card.say and NEW_SAY in there["say"]

    app1.curation.retire(entry_id, by=bob, reason="replaced by a newer script")

    here, there = app1.coach.ask(QUESTION, jurisdiction="CN"), app2.ask(QUESTION)
    assert entry_id not in cited(here) and entry_id not in there["sources"]
    assert NEW_SAY not in here.text and NEW_SAY not in there["text"]
    # everything lives on the two servers: neither process kept an index or a database of its own
    assert not any((tmp_path / app / name).exists() for app in ("app-1", "app-2") for name in ("chroma", "coach.db"))


def test_a_regulation_published_in_one_process_is_known_to_the_other_processs_guard(two_apps):
    app1, app2 = two_apps
    alice, bob = sign_in(app1.store, "alice"), sign_in(app1.store, "bob")
    assert app2.request(law=CITING_LINE)["unknown_law"] == NEW_LAW  # flagged for the reviewer as unverified

    app1.curation.save(REGULATION, by=alice)
    app1.curation.submit(REGULATION.id, by=alice)
    assert app2.request(law=CITING_LINE)["unknown_law"] == NEW_LAW  # under review: not yet a known law
    app1.curation.approve(REGULATION.id, by=bob)

    after = app2.request(law=CITING_LINE)
    assert after["unknown_law"] is None
    assert any(NEW_LAW in law for law in after["known_laws"])
    assert app1.guard.unknown_law(CITING_LINE) is None
