"""The Knowledge base page's import of training material through AppTest: a trainer uploads a real .pptx, sees
every passage vetted (nothing stored yet), stores the passing ones as drafts, which agents never see and which
cannot go for review until a trainer writes their Do / Don't / Why; a bad file gets a clear error and nothing
to import. Real store (SQLite in tmp_path), real guardrails, the bundled embedding model."""

from __future__ import annotations

import io

import pytest

from tests.app.kb_page import ask
from tests.app.signed_in import FIRST_RUN_S, ok, signed_in, written

COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"
SOUND_ZH = "客户要求减免利息才肯还款时，先感谢客户愿意沟通，再说明减免要按公司政策申请，不能在电话里当场承诺。"


def deck_bytes() -> bytes:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "减免请求"
    body = slide.placeholders[1].text_frame
    body.text = COERCIVE_ZH
    body.add_paragraph().text = SOUND_ZH
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def upload(at, name: str, data: bytes):
    at.file_uploader(key="kb_upload").upload(name, data)
    return ok(at.run(timeout=FIRST_RUN_S))


def test_an_upload_is_vetted_first_then_its_sound_passages_are_stored_as_drafts(published):
    store = published.store
    alice = upload(signed_in("alice", "knowledge_base"), "deck.pptx", deck_bytes())

    assert "共 2 段，其中 1 段被护栏标记（不会保存）。" in [i.value for i in alice.info]
    passages = next(d.value for d in alice.dataframe if "内容" in d.value.columns)
    verdicts = dict(zip(passages["内容"], passages["审核结果"]))
    assert [v for p, v in verdicts.items() if COERCIVE_ZH in p] == ["被标记"]
    assert [v for p, v in verdicts.items() if SOUND_ZH in p] == ["通过"]
    assert not [r for r in store.list() if r.entry.id.startswith("import-")]  # the dry run stored nothing

    alice.button(key="kb_import_go").click()
    ok(alice.run(timeout=FIRST_RUN_S))

    assert any(s.value.startswith("已存入 1 条草稿（0 条之前已导入），1 段被标记，未保存。") for s in alice.success)
    drafts = [r for r in store.list(status="draft") if r.entry.id.startswith("import-deck-pptx-")]
    assert len(drafts) == 1 and SOUND_ZH in drafts[0].entry.situation
    assert (drafts[0].last_editor, drafts[0].entry.topic, drafts[0].entry.lang) == ("alice", "discount_request", "zh")
    assert not any(COERCIVE_ZH in r.entry.situation for r in store.list())
    assert drafts[0].entry.id not in {e.id for e in store.list_approved()}
    assert SOUND_ZH not in written(ask(signed_in("carol")))  # agents never get a draft


def test_an_imported_draft_cannot_go_for_review_before_its_placeholders_are_written(published):
    alice = upload(signed_in("alice", "knowledge_base"), "deck.pptx", deck_bytes())
    alice.button(key="kb_import_go").click()
    ok(alice.run(timeout=FIRST_RUN_S))
    draft = next(r for r in published.store.list(status="draft") if r.entry.id.startswith("import-deck-pptx-"))

    alice.text_input(key="kb_f_search").input(draft.entry.id)
    ok(alice.run())
    alice.session_state["kb_table"] = {"selection": {"rows": [0], "columns": []}}  # a click on its row
    ok(alice.run())
    alice.button(key=f"kb_submit_{draft.entry.id}_{draft.revision}").click()
    ok(alice.run())

    assert any("TODO(trainer)" in e.value and "placeholders" in e.value for e in alice.error)
    assert published.store.get(draft.entry.id).status == "draft"


@pytest.mark.parametrize("name, data, message", [
    ("notes.pdf", b"%PDF-1.4 not really", "notes.pdf: not a readable PDF"),
    ("deck.pptx", b"PK\x03\x04 not a zip at all", "deck.pptx: not a valid .pptx file"),
    ("notes.txt", b"", "notes.txt: the file is empty"),
    ("notes.txt", "催收话术".encode("gbk"), "notes.txt: not UTF-8 text"),
])
def test_a_bad_upload_gets_a_clear_error_and_nothing_to_import(published, name, data, message):
    count = published.store.count()
    alice = upload(signed_in("alice", "knowledge_base"), name, data)

    assert any(e.value.startswith(message) for e in alice.error), [e.value for e in alice.error]
    assert "kb_import_go" not in [b.key for b in alice.button]
    assert published.store.count() == count
