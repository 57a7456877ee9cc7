"""The Knowledge base page's import through AppTest: upload a real .pptx, see every passage vetted
(nothing stored yet), store the passing ones as drafts; a bad file gets a clear error. Real store
(SQLite in tmp_path), real guardrails, the bundled embedding model."""

from __future__ import annotations

import io

import pytest

from tests.app.kb_page import FIRST_RUN_S, make_store, page

COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"
SOUND_ZH = "客户要求减免利息才肯还款时，先感谢客户愿意沟通，再说明减免要按公司政策申请，不能在电话里当场承诺。"


@pytest.fixture
def store(monkeypatch):
    return make_store(monkeypatch)


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


def test_an_upload_is_vetted_first_then_its_sound_passages_are_stored_as_drafts(store):
    at = page("alice")
    at.file_uploader(key="kb_upload").upload("deck.pptx", deck_bytes()).run(timeout=FIRST_RUN_S)
    assert not at.exception, at.exception

    assert any("2 passages; the guardrails flag 1" in i.value for i in at.info)
    passages = next(d.value for d in at.dataframe if "Passage" in d.value.columns)
    verdicts = dict(zip(passages["Passage"], passages["Verdict"]))
    assert [v for p, v in verdicts.items() if COERCIVE_ZH in p] == ["Flagged"]
    assert [v for p, v in verdicts.items() if SOUND_ZH in p] == ["Passes"]
    assert not [r for r in store.list() if r.entry.id.startswith("import-")]  # the dry run stored nothing

    at.button(key="kb_import_go").click().run(timeout=FIRST_RUN_S)
    assert not at.exception, at.exception

    assert any("Stored 1 drafts" in s.value and "1 flagged passages were not stored" in s.value for s in at.success)
    drafts = [r for r in store.list(status="draft") if r.entry.id.startswith("import-deck-pptx-")]
    assert len(drafts) == 1 and SOUND_ZH in drafts[0].entry.situation
    assert (drafts[0].last_editor, drafts[0].entry.topic, drafts[0].entry.lang) == ("alice", "discount_request", "zh")
    assert not any(COERCIVE_ZH in r.entry.situation for r in store.list())
    assert drafts[0].entry.id not in {e.id for e in store.list_approved()}


def test_a_bad_upload_gets_a_clear_error_and_nothing_to_import(store):
    at = page("alice")
    at.file_uploader(key="kb_upload").upload("notes.pdf", b"%PDF-1.4 not really").run(timeout=FIRST_RUN_S)
    assert not at.exception, at.exception
    assert any("notes.pdf: not a readable PDF" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "kb_import_go"]
