"""The Knowledge base page through AppTest: login, edit with live vetting, a second person approves,
conflicts between two trainers. Real store (SQLite in tmp_path) and real guardrails."""

from __future__ import annotations

from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.kb_page import FIRST_RUN_S, make_store, page

ENTRY = "discount-request-insists-zh"
COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"


@pytest.fixture
def store(monkeypatch):
    return make_store(monkeypatch)


def open_entry(at: AppTest, entry_id: str = ENTRY) -> str:
    """Filter to the entry's topic, open it; returns the editor's widget-key suffix."""
    at.selectbox(key="kb_f_topic").select("discount_request").run()
    at.selectbox(key="kb_selected").select(entry_id).run(timeout=FIRST_RUN_S)
    assert not at.exception, at.exception
    return f"{entry_id}_{at.session_state[f'kb_rev_{entry_id}']}"


def test_the_page_needs_a_trainer_or_admin_login(store):
    assert page().text_input(key="kb_password")
    wrong = page("alice", "bob-password")
    assert "Wrong user name or password." in [e.value for e in wrong.error]
    agent = page("carol")
    assert any("cannot edit" in e.value for e in agent.error) and not agent.tabs


def test_an_edit_is_saved_submitted_and_published_by_a_second_person(store):
    before = store.get(ENTRY)
    alice = page("alice")
    key = open_entry(alice)

    alice.text_input(key=f"kb_title_{key}").input("客户坚持打折才还（修订）").run()
    alice.button(key=f"kb_save_{key}").click().run()

    saved = store.get(ENTRY)
    assert (saved.status, saved.entry.version, saved.last_editor) == ("draft", before.entry.version + 1, "alice")
    assert saved.entry.title == "客户坚持打折才还（修订）"
    key = f"{ENTRY}_{saved.revision}"
    alice.button(key=f"kb_submit_{key}").click().run()
    in_review = store.get(ENTRY)
    assert in_review.status == "in_review"
    assert alice.button(key=f"kb_approve_{ENTRY}_{in_review.revision}").disabled  # her own edit

    bob = page("bob")
    assert any(f"{ENTRY}" in e.label for e in bob.expander)
    bob.button(key=f"kb_approve_{ENTRY}_{in_review.revision}").click().run()

    assert not bob.exception, bob.exception
    published = {e.id: e for e in store.list_approved()}[ENTRY]
    assert published.title == "客户坚持打折才还（修订）" and published.version == before.entry.version + 1
    assert [a.action for a in store.audit(ENTRY)[:3]] == ["approve", "submit", "edit"]


def test_a_coercive_line_is_flagged_while_editing_and_cannot_be_approved(store):
    alice = page("alice")
    key = open_entry(alice)
    say = alice.text_area(key=f"kb_say_{key}")
    say.input(f"{COERCIVE_ZH}\n{say.value}").run(timeout=FIRST_RUN_S)

    flagged = [e.value for e in alice.error if COERCIVE_ZH in e.value]
    assert flagged and "The guardrails flag this line" in flagged[0]
    alice.button(key=f"kb_save_{key}").click().run()
    key = f"{ENTRY}_{store.get(ENTRY).revision}"
    alice.button(key=f"kb_submit_{key}").click().run()

    bob = page("bob")
    assert bob.button(key=f"kb_approve_{ENTRY}_{store.get(ENTRY).revision}").disabled
    assert store.get(ENTRY).published_version == store.get(ENTRY).entry.version - 1


def test_a_colleagues_save_in_between_is_a_conflict_and_nothing_is_lost(store):
    alice = page("alice")
    key = open_entry(alice)
    rec = store.get(ENTRY)
    store.save(replace(rec.entry, title="Bob 的标题"), user="bob", expected_revision=rec.revision)
    alice.text_input(key=f"kb_title_{key}").input("Alice 的标题").run()
    alice.button(key=f"kb_save_{key}").click().run()

    assert any("changed by bob" in e.value and "nothing was saved" in e.value for e in alice.error)
    assert store.get(ENTRY).entry.title == "Bob 的标题"
    assert alice.text_input(key=f"kb_title_{key}").value == "Alice 的标题"  # her text is still in the editor
    assert any("changed this entry after you opened it" in w.value for w in alice.warning)
