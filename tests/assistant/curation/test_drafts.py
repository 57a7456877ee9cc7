"""Importing training material as drafts: `coach kb import FILE --user U` on a real SQLite store in tmp_path,
the real guardrails and the bundled embedding model. Sound passages become drafts (suggested topic, language,
grouped per file), flagged ones are reported and not stored, all in one transaction, with the verdicts the dry
run showed; drafts never reach agents until they are written, submitted and approved by a second person."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import Services, Settings
from assistant.curation import CurationError
from knowledge_base.curation import PLACEHOLDER
from tests.assistant.cli.runner import coach
from tests.folders import entry_folder, use_data
from tests.people import add_people, sign_in

COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"
SOUND_ZH = "客户要求减免利息才肯还款时，先感谢客户愿意沟通，再说明减免要按公司政策申请，不能在电话里当场承诺。"
SOUND_EN = "If the customer swears at you, stay calm, do not swear back, and say you will end the call if it goes on."
REPO = Path(__file__).resolve().parents[3]
DECK = REPO.parent / "shared" / "seeds" / "collection-training-decks.txt"


@pytest.fixture(scope="module")
def published(tmp_path_factory, shipped_entries) -> Path:
    """A data directory serving the discount_request and abusive_customer entries (imported by alice for
    review, approved by bob), with alice and bob (trainer, admin) and carol (agent)."""
    root = tmp_path_factory.mktemp("drafts")
    folder = entry_folder(root / "entries", shipped_entries, topics=("discount_request", "abusive_customer"))
    store = Services(Settings(data_dir=root / "data", shipped_entries=False)).store
    add_people(store)
    report = store.import_folder(folder, by=sign_in(store, "alice"))
    assert not report["flagged"]
    store.approve_batch(report["batch"], by=sign_in(store, "bob"))
    return root / "data"


@pytest.fixture
def store(published, tmp_path, monkeypatch):
    """The published store copied for one test, as `coach` there sees it."""
    shutil.copytree(published, tmp_path / "data")
    use_data(monkeypatch, tmp_path / "data")
    return Services(Settings()).store


@pytest.fixture
def deck(tmp_path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("减免请求", level=1)
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


def imported(store) -> list:
    return [r for r in store.list() if r.entry.id.startswith("import-")]


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
    assert zh.entry.title == f"减免请求 — {SOUND_ZH[:40]}…"  # its section's heading, never glued to the passage
    assert en.entry.title.startswith(f"减免请求 — {SOUND_EN[:30]}")
    assert all(PLACEHOLDER in r.entry.do[0] and PLACEHOLDER in r.entry.why for r in (zh, en))
    assert not any(COERCIVE_ZH in r.entry.situation for r in store.list())
    assert not {e.id for e in store.list_approved()} & set(ids)  # drafts never reach agents
    assert [(a.action, a.actor) for a in store.audit(ids[0])] == [("import_draft", "alice")]


def test_the_import_stores_exactly_what_the_dry_run_passed(store, deck):
    dry = coach("kb", "import", str(deck), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.stderr
    verdicts = {p["text"]: p["verdict"] for p in json.loads(dry.stdout)["passages"]}
    assert imported(store) == []  # the dry run stored nothing

    report = import_json(deck)

    assert [p["text"] for p in report["flagged"]] == [t for t, v in verdicts.items() if v == "violation"]
    assert sorted(store.get(d["id"]).entry.situation for d in report["drafts"]) == sorted(
        t for t, v in verdicts.items() if v == "ok")


def test_importing_the_same_file_again_changes_nothing(store, deck):
    first = import_json(deck)
    revision = store.revision()

    again = import_json(deck)
    assert again["drafts"] == [] and again["unchanged"] == [d["id"] for d in first["drafts"]]
    assert store.revision() == revision


def test_an_import_failing_part_way_stores_none_of_its_drafts(store, deck):
    """Passage 3's id is taken by other content: passage 1, already written in the transaction, goes too."""
    taken = replace(store.get("discount-request-insists-zh").entry, id="import-field-deck-2024-docx-3", pair=None)
    store.save(taken, by=sign_in(store, "bob"))
    before = {r.entry.id: r.revision for r in store.list()}

    done = coach("kb", "import", str(deck), "--user", "alice", "--json")

    assert done.exit_code == 3 and "import-field-deck-2024-docx-3 already exists" in done.stderr
    assert "nothing was saved" in done.stderr
    assert {r.entry.id: r.revision for r in store.list()} == before


def test_a_draft_is_written_by_the_trainer_and_published_only_by_a_second_person(store, deck):
    draft_id = import_json(deck)["drafts"][0]["id"]
    alice, bob = sign_in(store, "alice"), sign_in(store, "bob")

    with pytest.raises(CurationError, match="placeholders in do, dont, why"):
        store.submit(draft_id, by=alice)
    rec = store.get(draft_id)
    written = replace(rec.entry, do=("感谢客户，说明减免需要按政策申请。",), dont=("不要当场承诺减免。",),
                      why="减免只能按公司书面政策审批。")
    store.save(written, by=alice, expected_revision=rec.revision)
    store.submit(draft_id, by=alice)
    with pytest.raises(CurationError, match="second person"):
        store.approve(draft_id, by=alice)
    assert draft_id not in {e.id for e in store.list_approved()}
    store.approve(draft_id, by=bob)

    served = {e.id: e for e in store.list_approved()}[draft_id]
    assert served.situation == SOUND_ZH and served.do == ("感谢客户，说明减免需要按政策申请。",)


def test_a_document_import_needs_a_signed_in_trainer(store, deck):
    missing = coach("kb", "import", str(deck))
    assert missing.exit_code == 2 and "needs --user" in missing.stderr
    agent = coach("kb", "import", str(deck), "--user", "carol")
    assert agent.exit_code == 1 and "signed in as agent" in agent.stderr
    wrong = coach("kb", "import", str(deck), "--user", "alice", password="not-alices-password")
    assert wrong.exit_code == 1 and "wrong user name or password" in wrong.stderr
    assert imported(store) == []


@pytest.mark.parametrize(("name", "data", "message"), [
    ("broken.pptx", b"PK\x03\x04 not a deck", "broken.pptx: not a valid .pptx file"),
    ("empty.docx", b"", "empty.docx: the file is empty"),
    ("notes.xlsx", b"PK", "unsupported file type '.xlsx'"),
])
def test_a_malformed_document_is_refused_before_anything_is_stored(store, tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    done = coach("kb", "import", str(path), "--user", "alice")
    assert done.exit_code == 2 and message in done.stderr
    assert imported(store) == []


def canon(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


@pytest.mark.slow
def test_the_field_decks_import_with_coercive_passages_flagged_and_sound_ones_as_drafts(store):
    if not DECK.is_file():
        pytest.skip(f"the seed deck is not at {DECK} (shared/ is expected beside the repository)")
    curation = Services(Settings()).curation
    vetted = curation.dry_run(DECK)
    result = curation.store_drafts(DECK.name, vetted, by=sign_in(store, "alice"))

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
