"""Importing training material as drafts: `coach kb import FILE --user U` on a real SQLite store in
tmp_path, the real guardrails and the bundled embedding model. Sound passages become drafts (suggested
topic, language, grouped per file), flagged ones are reported and not stored, all in one transaction;
drafts never reach agents until they are written, submitted and approved by a second person."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.curation.store import entry_source
from assistant.settings import Settings
from knowledge_base.curation import PLACEHOLDER, CurationError
from tests.assistant.cli.runner import coach

COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"
SOUND_ZH = "客户要求减免利息才肯还款时，先感谢客户愿意沟通，再说明减免要按公司政策申请，不能在电话里当场承诺。"
SOUND_EN = "If the customer swears at you, stay calm, do not swear back, and say you will end the call if it goes on."
REPO = Path(__file__).resolve().parents[2]
DECK = REPO.parent / "shared" / "seeds" / "collection-training-decks.txt"


@pytest.fixture
def store():
    """The store with the shipped entries (as the coach's first run makes it), trainers alice and bob, agent carol."""
    s = entry_source(Settings())
    for name, role in (("alice", "trainer"), ("bob", "trainer"), ("carol", "agent")):
        s.users.add(name, role, f"{name}-password")
    return s


@pytest.fixture
def deck(tmp_path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph(SOUND_ZH)
    document.add_paragraph(COERCIVE_ZH)
    document.add_paragraph(SOUND_EN)
    path = tmp_path / "Field Deck 2024.docx"
    document.save(str(path))
    return path


def import_json(path: Path, user: str = "alice") -> dict:
    done = coach("kb", "import", str(path), "--user", user, "--json")
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


def test_sound_passages_become_drafts_and_flagged_ones_are_reported_not_stored(store, deck):
    report = import_json(deck)

    ids = [d["id"] for d in report["drafts"]]
    assert ids == ["import-field-deck-2024-docx-1", "import-field-deck-2024-docx-3"]  # passage 2 was flagged
    assert [p["text"] for p in report["flagged"]] == [COERCIVE_ZH]
    assert report["flagged"][0]["verdict"] == "violation" and report["flagged"][0]["categories"]

    zh, en = (store.get(i) for i in ids)
    assert (zh.status, zh.last_editor, zh.published_version) == ("draft", "alice", None)
    assert (zh.entry.situation, zh.entry.lang, zh.entry.topic) == (SOUND_ZH, "zh", "discount_request")
    assert (en.entry.situation, en.entry.lang, en.entry.topic) == (SOUND_EN, "en", "abusive_customer")
    assert all(r.entry.title.startswith("Field Deck 2024.docx #") for r in (zh, en))
    assert all(PLACEHOLDER in r.entry.do[0] and PLACEHOLDER in r.entry.why for r in (zh, en))
    assert not any(COERCIVE_ZH in r.entry.situation for r in store.list())
    assert not {e.id for e in store.list_approved()} & set(ids)  # drafts never reach agents
    assert [(a.action, a.actor) for a in store.audit(ids[0])] == [("import_draft", "alice")]


def test_importing_the_same_file_again_changes_nothing(store, deck):
    first = import_json(deck)
    revision = store.revision()

    again = import_json(deck)
    assert again["drafts"] == [] and again["unchanged"] == [d["id"] for d in first["drafts"]]
    assert store.revision() == revision


def test_an_import_failing_part_way_stores_none_of_its_drafts(store, deck):
    """Passage 3's id is taken by other content: passage 1, already written in the transaction, goes too."""
    taken = replace(store.get("discount-request-insists-zh").entry, id="import-field-deck-2024-docx-3")
    store.save(taken, user="bob")
    before = {r.entry.id for r in store.list()}

    done = coach("kb", "import", str(deck), "--user", "alice", "--json")

    assert done.exit_code == 3 and "import-field-deck-2024-docx-3 already exists" in done.stderr
    assert "nothing was saved" in done.stderr
    assert {r.entry.id for r in store.list()} == before


def test_a_draft_is_written_by_the_trainer_and_published_only_by_a_second_person(store, deck):
    draft_id = import_json(deck)["drafts"][0]["id"]

    with pytest.raises(CurationError, match="placeholders in do, dont, why"):
        store.submit(draft_id, user="alice")
    rec = store.get(draft_id)
    written = replace(rec.entry, do=("感谢客户，说明减免需要按政策申请。",), dont=("不要当场承诺减免。",),
                      why="减免只能按公司书面政策审批。")
    rec = store.save(written, user="alice", expected_revision=rec.revision)
    store.submit(draft_id, user="alice")
    store.approve(draft_id, user="bob")

    served = {e.id: e for e in store.list_approved()}[draft_id]
    assert served.situation == SOUND_ZH and served.do == ("感谢客户，说明减免需要按政策申请。",)


def test_a_document_import_needs_a_trainer(store, deck):
    missing = coach("kb", "import", str(deck))
    assert missing.exit_code == 2 and "needs --user" in missing.stderr
    agent = coach("kb", "import", str(deck), "--user", "carol")
    assert agent.exit_code == 1 and "is an agent" in agent.stderr
    assert not [r for r in store.list() if r.entry.id.startswith("import-")]


def test_a_malformed_document_is_refused_before_anything_is_stored(store, tmp_path):
    broken = tmp_path / "broken.pptx"
    broken.write_bytes(b"PK\x03\x04 not a deck")
    done = coach("kb", "import", str(broken), "--user", "alice")
    assert done.exit_code == 2 and "broken.pptx: not a valid .pptx file" in done.stderr
    assert not [r for r in store.list() if r.entry.id.startswith("import-")]


def canon(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


@pytest.mark.slow
def test_the_field_decks_import_with_coercive_passages_flagged_and_sound_ones_as_drafts(store):
    if not DECK.is_file():
        pytest.skip(f"the seed deck is not at {DECK} (shared/ is expected beside the repository)")
    from assistant.curation.drafts import Importer

    importer = Importer.from_store(Settings(), store)
    vetted = importer.vet(DECK)
    result = importer.store_drafts(DECK.name, vetted, user="alice")

    stored = {r.entry.situation: r for r in store.list(status="draft")}
    passed = [p.text for p in vetted if not p.verdict.blocked]
    assert sorted(stored) == sorted(passed) and len(result.added) == len(passed) > 50
    assert [p.text for p in result.flagged] == [p.text for p in vetted if p.verdict.blocked]
    for tactic in ("车轮策略对于生性固执", "聚集多人上门胁迫", "软硬兼施两个催收人员", "锁机拖车"):  # coercive
        assert [p for p in result.flagged if tactic in canon(p.text)], tactic
        assert not [s for s in stored if tactic in canon(s)], tactic
    for advice in ("还款日前两天通知到客户", "切记不要透露贷款", "严格遵守个人信息保护法的规定"):  # sound
        assert [s for s in stored if advice in canon(s)], advice
    assert {r.entry.id.rsplit("-", 1)[0] for r in stored.values()} == {"import-collection-training-decks-txt"}
    assert {r.entry.lang for r in stored.values()} == {"zh"}
    assert not {e.id for e in store.list_approved()} & {r.entry.id for r in stored.values()}
