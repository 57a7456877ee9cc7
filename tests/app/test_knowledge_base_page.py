"""The Knowledge base page through AppTest: a trainer's edit is vetted live and reaches agents only after a
second person approves it; a flagged line cannot be approved; a colleague's save in between is a conflict;
retiring needs a reason; an ended sign-in changes nothing. Real store (SQLite in tmp_path), real guardrails,
real sign-ins through the form; agents' answers are read on the Coach page of the same app."""

from __future__ import annotations

from dataclasses import replace

from tests.app.kb_page import ENTRY, ask, first_line, open_entry
from tests.app.signed_in import ok, signed_in, written
from tests.people import sign_in

NEW_LINE = "您的难处我听到了。减免要按公司流程申请，我现在没法在电话里答应，但我会把您的情况如实报上去。"
COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"


def edit_say(at, key: str, first: str) -> None:
    """Put ``first`` as the first Say line in the open editor (the other lines stay)."""
    say = at.text_area(key=f"kb_say_{key}")
    say.input("\n".join([first, *say.value.splitlines()[1:]]))
    ok(at.run(timeout=600))


def test_an_edit_reaches_agents_only_after_a_second_person_approves_it(published):
    carol = signed_in("carol")
    old_line = first_line(ask(carol))
    before = published.store.get(ENTRY)
    assert old_line == before.entry.say[0]  # the question is answered from the entry being edited

    alice = signed_in("alice", "knowledge_base")
    key = open_entry(alice)
    edit_say(alice, key, NEW_LINE)
    assert "每一行（标题、怎么说、要做、不要、为什么、规定）都通过了护栏检查。" in [s.value for s in alice.success]
    alice.button(key=f"kb_save_{key}").click()
    ok(alice.run())
    saved = published.store.get(ENTRY)
    assert (saved.status, saved.entry.version, saved.last_editor) == ("draft", before.entry.version + 1, "alice")
    key = f"{ENTRY}_{saved.revision}"
    alice.button(key=f"kb_submit_{key}").click()
    ok(alice.run())

    in_review = published.store.get(ENTRY)
    assert (in_review.status, in_review.published_version) == ("in_review", before.entry.version)
    assert alice.button(key=f"kb_approve_{ENTRY}_{in_review.revision}").disabled  # not her own edit
    assert "这一版是你编辑的，需要另一位同事审核发布。" in [c.value for c in alice.caption]
    assert first_line(ask(carol)) == old_line  # agents still get the approved version

    bob = signed_in("bob", "knowledge_base")
    review = next(e for e in bob.expander if ENTRY in e.label and "alice" in e.label)
    assert NEW_LINE in written(review)  # the reviewer sees the change as a diff
    bob.button(key=f"kb_approve_{ENTRY}_{in_review.revision}").click()
    ok(bob.run())

    published_now = published.store.get(ENTRY)
    assert (published_now.status, published_now.published_version) == ("approved", before.entry.version + 1)
    assert published.store.history(ENTRY)[-1].approved_by == "bob"
    assert first_line(ask(carol)) == NEW_LINE  # the next answer an agent gets carries the approved edit
    assert [a.action for a in published.store.audit(ENTRY)[:3]] == ["approve", "submit", "edit"]


def test_a_flagged_line_is_shown_while_editing_and_the_change_cannot_be_approved(published):
    alice = signed_in("alice", "knowledge_base")
    key = open_entry(alice)
    edit_say(alice, key, COERCIVE_ZH)

    flagged = [e.value for e in alice.error if COERCIVE_ZH in e.value]
    assert flagged and flagged[0].startswith("护栏标记了这一行（话术")
    alice.button(key=f"kb_save_{key}").click()
    ok(alice.run())
    alice.button(key=f"kb_submit_{ENTRY}_{published.store.get(ENTRY).revision}").click()
    ok(alice.run())

    bob = signed_in("bob", "knowledge_base")
    rec = published.store.get(ENTRY)
    assert rec.status == "in_review"
    assert bob.button(key=f"kb_approve_{ENTRY}_{rec.revision}").disabled
    assert any(COERCIVE_ZH in e.value for e in bob.error)  # the reviewer sees why
    assert rec.published_version == rec.entry.version - 1
    carol = signed_in("carol")
    assert COERCIVE_ZH not in written(ask(carol))


def test_a_colleagues_save_in_between_is_a_conflict_and_nothing_is_lost(published):
    alice = signed_in("alice", "knowledge_base")
    key = open_entry(alice)
    rec = published.store.get(ENTRY)
    published.curation.save(replace(rec.entry, title="Bob 的标题"), by=sign_in(published.store, "bob"),
                            expected_revision=rec.revision)

    alice.text_input(key=f"kb_title_{key}").input("Alice 的标题")
    ok(alice.run())
    alice.button(key=f"kb_save_{key}").click()
    ok(alice.run())

    assert any("changed by bob" in e.value and "nothing was saved" in e.value for e in alice.error)
    assert published.store.get(ENTRY).entry.title == "Bob 的标题"
    assert alice.text_input(key=f"kb_title_{key}").value == "Alice 的标题"  # her text is still in the editor
    assert any(w.value.startswith("bob 在你打开之后修改了这个条目") for w in alice.warning)


def test_retiring_needs_a_reason_and_takes_the_entry_out_of_agents_answers(published):
    carol = signed_in("carol")
    assert ENTRY in written(ask(carol).expander[-1])  # the sources name it
    alice = signed_in("alice", "knowledge_base")
    key = open_entry(alice)
    assert alice.button(key=f"kb_retire_{key}").disabled  # no reason given yet

    alice.text_input(key=f"kb_retire_reason_{key}").input("政策变了，等新话术")
    ok(alice.run())
    alice.button(key=f"kb_retire_{key}").click()
    ok(alice.run())

    rec = published.store.get(ENTRY)
    assert (rec.status, rec.published_version) == ("retired", None)
    assert published.store.audit(ENTRY)[0].diff["reason"] == "政策变了，等新话术"
    reply = ask(carol)
    assert ENTRY not in "\n".join(written(e) for e in reply.expander)


def test_an_ended_sign_in_changes_nothing(published):
    alice = signed_in("alice", "knowledge_base")
    key = open_entry(alice)
    published.auth.sign_out(alice.session_state["principal"])  # e.g. she signed out in another tab
    before = published.store.get(ENTRY)

    alice.text_input(key=f"kb_title_{key}").input("没有登录也想改")
    ok(alice.run())
    alice.button(key=f"kb_save_{key}").click()
    ok(alice.run())

    assert any("sign in again" in e.value for e in alice.error)
    assert published.store.get(ENTRY) == before
