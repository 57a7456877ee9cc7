"""Contract tests of the curation store, run against every backend (the `db_url` fixture: SQLite in tmp_path,
and PostgreSQL, see tests/knowledge_base/conftest.py): the shipped bootstrap, folder imports for review,
the gate every published version passes, the lifecycle, concurrency, validation, export and the schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from knowledge_base import EntryError, load_entries
from knowledge_base.curation import (
    PLACEHOLDER,
    ConflictError,
    CurationError,
    RoleError,
    SignInError,
    TransitionError,
    TwoPersonError,
    VettingError,
    content_of,
)
from knowledge_base.entries import MAX_FILE_BYTES
from knowledge_base.export import render_entry
from knowledge_base.shipped import SHIPPED_DIR, folder_digest
from knowledge_base.sql_store import SqlStore
from knowledge_base.store import FileEntrySource
from knowledge_base.types import Entry
from tests.people import add_people, sign_in

COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"
POLICE = "你今天不还钱，警察今晚就来抓你。"  # the line issue 13 saw reach an agent


def by_id(entries) -> list[Entry]:
    return sorted(entries, key=lambda e: e.id)


def new_entry(entry_id: str = "discount-request-test-zh", **changes) -> Entry:
    """A compliant script entry that refers to nothing (so it can be saved into an empty store)."""
    base = Entry(
        id=entry_id, title="客户要求减免才肯还", topic="discount_request", kind="script", lang="zh",
        jurisdiction="CN", status="draft", version=1, questions=("客户说打个折就还", "能不能少还点"),
        situation="客户表示只有减免利息或本金才肯还款。",
        say=("我理解您想把负担降下来。减免需要按公司流程审批，我没办法在电话里直接答应您。",),
        do=("记录客户的诉求、困难和能还的金额，按流程提交减免申请。",),
        dont=("不要承诺任何未经审批的减免。",),
        why="减免须按授权审批；承诺做不到的减免属于误导性陈述。",
    )
    return replace(base, **changes)


def published(store: SqlStore, today: date | None = None) -> dict[str, Entry]:
    return {e.id: e for e in store.list_approved(today)}


# --- the shipped bootstrap ----------------------------------------------------------------------


def test_the_shipped_bootstrap_serves_the_shipped_files_except_what_the_guard_flags(shipped_entries, store):
    report = store.bootstrap()

    assert sorted(report["added"] + report["flagged"]) == sorted(e.id for e in shipped_entries)
    from_files = {e.id: e for e in FileEntrySource(SHIPPED_DIR).list_approved()}
    expected = {i: e for i, e in from_files.items() if i not in report["flagged"]}
    assert published(store) == expected  # exactly the files' content and versions, nothing flagged
    assert all(store.get(i).status == "draft" for i in report["flagged"])
    assert store.bootstrap() == {"added": [], "flagged": [], "updated": [], "kept": []}  # once per digest
    assert {a.actor for a in store.audit(limit=1000) if a.action.startswith("bootstrap")} == {"shipped"}
    vouched = {v.approved_by for i in list(expected)[:5] for v in store.history(i)}
    assert vouched == {f"shipped-review:{folder_digest(SHIPPED_DIR)[:12]}"}


def tampered_copy(tmp_path, how: str) -> Path:
    folder = tmp_path / "entries"
    shutil.copytree(SHIPPED_DIR, folder)
    victim = sorted(folder.rglob("*.md"))[10]
    if how == "a byte appended":
        victim.write_text(victim.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    else:
        extra = replace(new_entry(), status="approved")
        (folder / extra.topic / f"{extra.id}.md").write_text(render_entry(extra), encoding="utf-8")
    return folder


@pytest.mark.parametrize("how", ["a byte appended", "one more entry"])
def test_a_folder_that_is_not_byte_for_byte_the_shipped_one_is_never_bootstrapped(store, tmp_path, how):
    folder = tampered_copy(tmp_path, how)

    for digest in (None, folder_digest(SHIPPED_DIR)):  # the recorded digest, given or not
        with pytest.raises(CurationError, match="not the shipped knowledge base"):
            store.bootstrap(folder, digest=digest)
    assert store.list() == [] and published(store) == {}


def test_a_shipped_entry_whose_shown_line_the_guard_flags_is_kept_as_a_draft_and_never_served(
        store, shipped_folder, tmp_path):
    folder = shipped_folder(tmp_path / "entries", ("discount_request",))
    entry = next(e for e in load_entries(folder) if e.lang == "zh" and e.say and e.status == "approved")
    Path(entry.path).write_text(render_entry(replace(entry, say=(*entry.say, POLICE))), encoding="utf-8")

    report = store.bootstrap(folder, digest=folder_digest(folder))  # as if these files were the shipped ones

    assert report["flagged"] == [entry.id]
    assert entry.id not in published(store) and store.get(entry.id).status == "draft"
    assert len(published(store)) == len(load_entries(folder)) - 1
    assert [a.action for a in store.audit(entry.id)] == ["bootstrap_flagged"]


def test_a_new_release_brings_untouched_shipped_entries_up_to_date_and_keeps_a_persons_edit(
        store, p, shipped_folder, tmp_path):
    v1 = shipped_folder(tmp_path / "v1", ("discount_request",))
    scripts = [e for e in load_entries(v1) if e.lang == "zh" and e.say and e.status == "approved"]
    fixed, reworded, edited = scripts[:3]
    Path(fixed.path).write_text(render_entry(replace(fixed, say=(*fixed.say, POLICE))), encoding="utf-8")
    assert store.bootstrap(v1, digest=folder_digest(v1))["flagged"] == [fixed.id]  # release 1 shipped a bad line
    mine = replace(store.get(edited.id).entry, do=(*edited.do, "先问清客户这个月实际能还多少。"))
    store.save(mine, by=p["alice"], expected_revision=store.get(edited.id).revision)

    v2 = tmp_path / "v2"  # release 2: the bad line gone, one entry reworded, and the entry alice edited changed
    shutil.copytree(v1, v2)
    rel = lambda e: v2 / Path(e.path).relative_to(v1)  # noqa: E731
    rel(fixed).write_text(render_entry(fixed), encoding="utf-8")
    better = replace(reworded, dont=(*reworded.dont, "不要替客户决定他能还多少。"))
    rel(reworded).write_text(render_entry(better), encoding="utf-8")
    rel(edited).write_text(render_entry(replace(edited, why=edited.why + " 以上按公司流程执行。")), encoding="utf-8")
    report = store.bootstrap(v2, digest=folder_digest(v2))

    assert sorted(report["updated"]) == sorted([fixed.id, reworded.id]) and report["kept"] == [edited.id]
    served = published(store)
    assert content_of(served[fixed.id]) == content_of(fixed)
    assert content_of(served[reworded.id]) == content_of(better) and served[reworded.id].version == reworded.version + 1
    assert content_of(served[edited.id]) == content_of(edited)  # release 1's, still serving
    assert content_of(store.get(edited.id).entry) == content_of(mine)  # and alice's draft is untouched
    assert [a.action for a in store.audit(fixed.id)] == ["shipped_update", "bootstrap_flagged"]  # newest first
    assert store.bootstrap(v2, digest=folder_digest(v2))["updated"] == []  # once per release


def test_an_entry_an_older_guard_withheld_is_served_once_the_new_release_guard_passes_it(
        db_url, shipped_folder, tmp_path):
    from assistant.curation.vetting import EntryVetting
    from guardrails import Guard
    from knowledge_base.shipped import shipped_laws

    v1 = shipped_folder(tmp_path / "v1", ("legal_action_explanation",))
    unaware = Guard(known_laws=())  # an older guard: it never heard of the interpretation this entry cites
    first = SqlStore(db_url, vet=EntryVetting(lambda: unaware, prebuilt=False))
    withheld = first.bootstrap(v1, digest=folder_digest(v1))["flagged"]
    assert "reg-cn-credit-card-interpretation" in withheld
    first.engine.dispose()

    v2 = tmp_path / "v2"  # the next release: the same files and one more entry
    shutil.copytree(v1, v2)
    extra = replace(new_entry(), status="approved")
    (v2 / extra.topic).mkdir(exist_ok=True)
    (v2 / extra.topic / f"{extra.id}.md").write_text(render_entry(extra), encoding="utf-8")
    aware = Guard(known_laws=shipped_laws())  # the release's guard knows the laws the shipped entries name
    upgraded = SqlStore(db_url, vet=EntryVetting(lambda: aware))
    report = upgraded.bootstrap(v2, digest=folder_digest(v2))

    assert report["added"] == [extra.id] and sorted(report["updated"]) == sorted(withheld)
    assert set(published(upgraded)) == {e.id for e in load_entries(v2) if e.status == "approved"}
    vouched = {v.approved_by for v in upgraded.history("reg-cn-credit-card-interpretation")}
    assert vouched == {f"shipped-review:{folder_digest(v2)[:12]}"}  # the release that passed it vouches
    upgraded.engine.dispose()


def test_a_bootstrap_interrupted_half_way_leaves_nothing_half_imported(store, shipped_folder, tmp_path):
    folder = shipped_folder(tmp_path / "entries", ("discount_request",))
    count = len(load_entries(folder))

    def interrupt(n: int) -> None:
        if n == count // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.bootstrap(folder, digest=folder_digest(folder), progress=interrupt)

    assert store.list() == [] and {a.action for a in store.audit()} == {"user_add"}
    assert len(store.bootstrap(folder, digest=folder_digest(folder))["added"]) == count


def test_a_process_killed_mid_bootstrap_leaves_nothing_half_imported(store, db_url, shipped_folder, tmp_path):
    folder = shipped_folder(tmp_path / "entries", ("discount_request",))
    count = len(load_entries(folder))
    crash = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from guardrails import Guard\n"
        "from assistant.curation.vetting import EntryVetting\n"
        "from knowledge_base.sql_store import SqlStore\n"
        "guard = Guard()\n"
        "store = SqlStore(sys.argv[1], vet=EntryVetting(lambda: guard))\n"
        "half = int(sys.argv[4])\n"
        "crash = lambda n: os._exit(9) if n == half else None\n"
        "store.bootstrap(Path(sys.argv[2]), digest=sys.argv[3], progress=crash)\n"
    )
    done = subprocess.run([sys.executable, "-c", crash, db_url, str(folder), folder_digest(folder), str(count // 2)],
                          capture_output=True, text=True)

    assert done.returncode == 9, done.stderr
    assert store.list() == []
    assert len(store.bootstrap(folder, digest=folder_digest(folder))["added"]) == count


# --- folder imports: for review, published by a second person -------------------------------------


def entry_folder(tmp_path, *entries: Entry) -> Path:
    """A folder of entry files that refer to nothing, each saying `status: approved`."""
    folder = tmp_path / "entries"
    for entry in entries or (new_entry(),):
        entry = replace(entry, status="approved")
        (folder / entry.topic).mkdir(parents=True, exist_ok=True)
        (folder / entry.topic / f"{entry.id}.md").write_text(render_entry(entry), encoding="utf-8")
    return folder


def test_a_folder_import_publishes_nothing_until_a_second_person_approves_the_batch(store, p, tmp_path):
    """The hole of issue 13: a file saying `status: approved` went live at once, audited as "import"."""
    folder = entry_folder(tmp_path)
    assert "status: approved" in next(folder.rglob("*.md")).read_text(encoding="utf-8")

    report = store.import_folder(folder, by=p["alice"], note="PR #42")

    assert report["submitted"] == ["discount-request-test-zh"] and published(store) == {}
    assert store.get("discount-request-test-zh").status == "in_review"
    assert store.approve_batch(report["batch"], by=p["alice"])["approved"] == []  # the importer cannot vouch
    assert published(store) == {}
    done = store.approve_batch(report["batch"], by=p["bob"])
    assert done["approved"] == ["discount-request-test-zh"] and "discount-request-test-zh" in published(store)
    trail = [(a.actor, a.action) for a in reversed(store.audit("discount-request-test-zh"))]
    assert trail == [("alice", "import"), ("alice", "approve_refused"), ("bob", "approve")]
    assert store.audit("discount-request-test-zh")[-1].diff["note"] == "PR #42"
    assert [(v.editor, v.approved_by) for v in store.history("discount-request-test-zh")] == [("alice", "bob")]


@pytest.mark.parametrize("approver", ["the importer", "an agent", "a signed-out admin"])
def test_no_one_can_publish_an_import_batch_alone(store, p, tmp_path, approver):
    report = store.import_folder(entry_folder(tmp_path), by=p["alice"])
    by = {"the importer": p["alice"], "an agent": p["carol"], "a signed-out admin": p["bob"]}[approver]
    if approver == "a signed-out admin":
        store.users.sign_out(by)

    done = store.approve_batch(report["batch"], by=by)

    assert done["approved"] == [] and len(done["refused"]) == 1
    assert published(store) == {} and store.get("discount-request-test-zh").status == "in_review"


def test_an_entry_edited_after_the_import_is_left_out_of_the_batch_approval(store, p, tmp_path):
    first, second = new_entry(), new_entry("discount-request-test-two-zh", title="客户只肯还本金")
    report = store.import_folder(entry_folder(tmp_path, first, second), by=p["alice"])
    rec = store.get(first.id)
    store.save(replace(rec.entry, title="客户要减免才还钱"), by=p["bob"], expected_revision=rec.revision)

    done = store.approve_batch(report["batch"], by=p["bob"])

    assert done["approved"] == [second.id] and done["skipped"] == [first.id]
    assert list(published(store)) == [second.id]


def test_a_changed_file_imported_again_keeps_the_approved_version_serving_until_it_is_approved(store, p, tmp_path):
    first = store.import_folder(entry_folder(tmp_path), by=p["alice"])
    store.approve_batch(first["batch"], by=p["bob"])
    better = ("您先别急，减免要走公司的审批流程，我把您的情况如实报上去。",)
    again = store.import_folder(entry_folder(tmp_path / "v2", new_entry(say=better)), by=p["alice"])

    assert again["submitted"] == [new_entry().id] and store.get(new_entry().id).status == "in_review"
    assert published(store)[new_entry().id].say == new_entry().say
    store.approve_batch(again["batch"], by=p["bob"])
    assert published(store)[new_entry().id].say == better and published(store)[new_entry().id].version == 2
    unchanged = store.import_folder(entry_folder(tmp_path / "v3", new_entry(say=better)), by=p["alice"])
    assert (unchanged["submitted"], unchanged["unchanged"]) == ([], [new_entry().id])


def test_a_folder_import_with_a_banned_line_stays_a_draft_and_is_never_served(store, p, tmp_path):
    folder = entry_folder(tmp_path, new_entry(say=(*new_entry().say, POLICE)))

    report = store.import_folder(folder, by=p["alice"])

    assert report["submitted"] == [] and list(report["flagged"]) == ["discount-request-test-zh"]
    assert POLICE in report["flagged"]["discount-request-test-zh"]  # the reviewer is told which line
    assert store.get("discount-request-test-zh").status == "draft" and published(store) == {}
    assert store.approve_batch(report["batch"], by=p["bob"])["skipped"] == ["discount-request-test-zh"]
    with pytest.raises(TransitionError):
        store.approve("discount-request-test-zh", by=p["bob"])
    assert published(store) == {}


def test_approving_a_batch_that_was_never_imported_is_refused(store, p):
    with pytest.raises(CurationError, match="no import batch"):
        store.approve_batch("import-0000000000", by=p["bob"])


@pytest.mark.parametrize("who", ["nobody", "carol", "revoked", "expired"])
def test_no_path_into_the_store_works_without_a_live_trainer_sign_in(store, p, who, tmp_path):
    from knowledge_base.curation import Principal

    principal = {"nobody": Principal("alice", "trainer", "made-up-session"), "carol": p["carol"],
                 "revoked": p["alice"],
                 "expired": store.users.sign_in("alice", "alice-password", hours=-1)}[who]
    if who == "revoked":
        store.users.sign_out(principal)
    with pytest.raises((SignInError, RoleError)):
        store.import_folder(entry_folder(tmp_path), by=principal)
    with pytest.raises((SignInError, RoleError)):
        store.save(new_entry(), by=principal)
    with pytest.raises((SignInError, RoleError)):
        store.import_drafts(imported_drafts(1), by=principal)
    assert store.list() == [] and published(store) == {}


def test_a_malformed_file_in_the_middle_of_an_import_imports_nothing(shipped_entries, store, p, tmp_path):
    folder = tmp_path / "entries"
    shutil.copytree(SHIPPED_DIR, folder)
    middle = sorted(folder.rglob("*.md"))[len(shipped_entries) // 2]
    middle.write_text(middle.read_text(encoding="utf-8").replace("kind:", "kind: [unclosed", 1), encoding="utf-8")

    with pytest.raises(EntryError) as err:
        store.import_folder(folder, by=p["alice"])

    assert str(middle) in str(err.value)
    assert store.list() == [] and store.list_approved() == []


def test_a_huge_or_binary_file_is_refused_by_name_and_nothing_is_imported(store, p, tmp_path):
    folder = tmp_path / "entries"
    shutil.copytree(SHIPPED_DIR, folder)
    huge = folder / "discount_request" / "discount-request-huge-zh.md"
    huge.write_text("---\n" + "x" * (MAX_FILE_BYTES + 1), encoding="utf-8")
    binary = folder / "call_opening" / "call-opening-binary-zh.md"
    binary.write_bytes(b"\xff\xfe\x00garbage")

    with pytest.raises(EntryError) as err:
        store.import_folder(folder, by=p["alice"])

    message = str(err.value)
    assert f"{huge}: file: larger than {MAX_FILE_BYTES} bytes" in message
    assert f"{binary}: file: not UTF-8 text" in message
    assert store.list() == []


def imported_drafts(n: int) -> list[Entry]:
    """What importing a document makes: drafts whose Do/Don't/Why are placeholders for the trainer."""
    return [new_entry(f"import-deck-pdf-{i}", kind="guidance", say=(), situation=f"第{i}段培训材料。",
                      do=(f"{PLACEHOLDER}: 写出怎么做",), dont=(f"{PLACEHOLDER}: 写出不能怎么做",),
                      why=f"{PLACEHOLDER}: 写出理由") for i in range(1, n + 1)]


def test_imported_drafts_are_stored_in_one_transaction_and_never_served(store, p):
    report = store.import_drafts(imported_drafts(3), by=p["alice"])

    assert report == {"added": ["import-deck-pdf-1", "import-deck-pdf-2", "import-deck-pdf-3"], "unchanged": []}
    assert {r.status for r in store.list()} == {"draft"} and published(store) == {}
    assert store.import_drafts(imported_drafts(3), by=p["alice"]) == {"added": [], "unchanged": report["added"]}

    clash = imported_drafts(5)
    clash[3] = replace(clash[3], situation="别的内容。")
    store.save(replace(clash[3], situation="已有的内容。"), by=p["bob"])
    with pytest.raises(ConflictError):
        store.import_drafts(clash, by=p["alice"])
    assert sorted(r.entry.id for r in store.list()) == [*report["added"], "import-deck-pdf-4"]
    with pytest.raises(RoleError):
        store.import_drafts(imported_drafts(1), by=p["carol"])


def test_a_draft_with_placeholders_cannot_be_submitted_until_they_are_written(store, p):
    store.import_drafts(imported_drafts(1), by=p["alice"])
    with pytest.raises(CurationError, match="placeholders in do, dont, why"):
        store.submit("import-deck-pdf-1", by=p["alice"])

    rec = store.get("import-deck-pdf-1")
    store.save(replace(rec.entry, do=("按流程提交申请。",), dont=("不要当场承诺。",), why="须按授权审批。"),
               by=p["alice"], expected_revision=rec.revision)
    store.submit("import-deck-pdf-1", by=p["alice"])
    store.approve("import-deck-pdf-1", by=p["bob"])
    assert published(store)["import-deck-pdf-1"].situation == "第1段培训材料。"


# --- lifecycle -------------------------------------------------------------------------------


def test_draft_review_approve_publishes_and_the_audit_log_tells_who_did_what(store, p):
    rec = store.save(new_entry(), by=p["alice"])
    assert (rec.status, rec.entry.version, rec.published_version) == ("draft", 1, None)
    assert rec.entry.id not in published(store)

    assert store.submit(rec.entry.id, by=p["alice"]).status == "in_review"
    assert rec.entry.id not in published(store)

    approved = store.approve(rec.entry.id, by=p["bob"])

    assert approved.status == "approved" and approved.published_version == 1
    served = published(store)[rec.entry.id]
    assert served.say == new_entry().say and served.status == "approved" and served.version == 1
    trail = [(a.actor, a.action, a.version) for a in reversed(store.audit(rec.entry.id))]
    assert trail == [("alice", "create", 1), ("alice", "submit", 1), ("bob", "approve", 1)]
    assert store.audit(rec.entry.id)[0].diff == {"status": ["in_review", "approved"]}
    assert all(a.at is not None for a in store.audit(rec.entry.id))


def test_an_edit_keeps_the_approved_version_serving_until_a_second_person_approves_it(store, p):
    entry_id = store.save(new_entry(), by=p["alice"]).entry.id
    store.submit(entry_id, by=p["alice"])
    first = store.approve(entry_id, by=p["bob"])
    better = ("您先别急，减免要走公司的审批流程，我把您的情况如实报上去。",)

    edited = store.save(replace(first.entry, say=better), by=p["alice"], expected_revision=first.revision)

    assert (edited.status, edited.entry.version, edited.published_version) == ("draft", 2, 1)
    assert published(store)[entry_id].say == new_entry().say
    assert store.audit(entry_id)[0].diff == {"say": [list(new_entry().say), list(better)]}
    store.submit(entry_id, by=p["alice"])
    store.approve(entry_id, by=p["bob"])
    assert published(store)[entry_id].say == better and published(store)[entry_id].version == 2
    assert store.get_version(entry_id, 1).say == new_entry().say
    assert [(v.version, v.editor, v.approved_by) for v in store.history(entry_id)] == [(1, "alice", "bob"),
                                                                                      (2, "alice", "bob")]


def test_the_last_editor_cannot_approve_their_own_version(store, p):
    entry_id = store.save(new_entry(), by=p["alice"]).entry.id
    store.submit(entry_id, by=p["bob"])

    with pytest.raises(TwoPersonError, match="second person"):
        store.approve(entry_id, by=p["alice"])

    assert store.get(entry_id).status == "in_review" and entry_id not in published(store)
    assert store.audit(entry_id)[0].action == "approve_refused" and store.audit(entry_id)[0].actor == "alice"


def test_bob_editing_alices_draft_makes_alice_a_valid_approver_and_bob_not(store, p):
    rec = store.save(new_entry(), by=p["alice"])
    rec = store.save(replace(rec.entry, title="客户要减免才还钱"), by=p["bob"], expected_revision=rec.revision)
    store.submit(rec.entry.id, by=p["bob"])

    with pytest.raises(TwoPersonError):
        store.approve(rec.entry.id, by=p["bob"])
    assert store.approve(rec.entry.id, by=p["alice"]).published_version == 2


def test_agents_and_unknown_users_cannot_curate(store, p):
    with pytest.raises(RoleError, match="agent"):
        store.save(new_entry(), by=p["carol"])
    with pytest.raises(SignInError):
        store.users.sign_in("mallory", "mallory-password")
    entry_id = store.save(new_entry(), by=p["alice"]).entry.id
    store.submit(entry_id, by=p["alice"])
    with pytest.raises(RoleError):
        store.approve(entry_id, by=p["carol"])
    assert entry_id not in published(store)


def test_actions_that_do_not_apply_to_the_state_are_refused(store, p):
    entry_id = store.save(new_entry(), by=p["alice"]).entry.id
    with pytest.raises(TransitionError, match="it is draft"):
        store.approve(entry_id, by=p["bob"])
    store.retire(entry_id, by=p["bob"], reason="duplicate")
    with pytest.raises(TransitionError, match="it is retired"):
        store.submit(entry_id, by=p["alice"])


# --- the gate: no line the guard flags is ever served ------------------------------------------------

REGULATION = new_entry("reg-cn-test-privacy", title="不得向无关第三人透露欠款", topic="privacy_data_protection",
                       kind="regulation", questions=(), situation="", say=(), do=(), dont=(), why="",
                       citation="《个人信息保护法》第十条",
                       rule="任何组织、个人不得非法收集、使用、加工、传输他人个人信息。")
# One line per shown field that the guard flags there (a "don't" line is read as the prohibition it is, so
# only an invented authority makes it fail; an explanation fails for the tactic it teaches or the law it invents).
FLAGGED_BY_FIELD = [
    ("title", "告诉客户不还钱警察今晚就来抓他"),
    ("say", POLICE),
    ("do", "打电话给客户的父母和单位领导，告诉他们他欠钱不还。"),
    ("dont", "根据最高法2023年第17号司法解释，欠款人的子女不得入学，不要对客户隐瞒这一点。"),
    ("why", "依据《个人债务催收条例》第十二条，催收员可以把欠款情况告诉债务人的单位。"),
    ("rule", "根据最高法2023年第17号司法解释，欠款人的子女不得入学。"),
]


def with_line(field: str, text: str) -> Entry:
    base = REGULATION if field == "rule" else new_entry()
    value = getattr(base, field)
    return replace(base, **{field: (*value, text) if isinstance(value, tuple) else text})


@pytest.mark.parametrize(("field", "text"), FLAGGED_BY_FIELD, ids=[f for f, _ in FLAGGED_BY_FIELD])
def test_a_flagged_line_in_any_shown_field_blocks_the_approval(store, p, field, text):
    entry = with_line(field, text)
    store.save(entry, by=p["alice"])
    store.submit(entry.id, by=p["alice"])

    with pytest.raises(VettingError) as err:
        store.approve(entry.id, by=p["bob"])

    assert text in [line for line, _ in err.value.flagged] and all(cats for _, cats in err.value.flagged)
    assert published(store) == {} and store.get(entry.id).status == "in_review"
    assert (store.audit(entry.id)[0].actor, store.audit(entry.id)[0].action) == ("bob", "approve_refused")


LONG_SAY = ("我理解您想把负担降下来。", "减免需要按公司流程审批，我没办法在电话里直接答应您。",
            "您方便说一下现在每个月大概能还多少吗？", "我把您的情况如实记下来，帮您提交申请。",
            "审批有结果了我会第一时间打电话告诉您。")


@pytest.mark.parametrize("position", range(len(LONG_SAY) + 1))
def test_a_banned_line_anywhere_in_a_long_card_blocks_the_approval(store, p, position):
    """Issue 13: the whole card's lines joined passed where the line alone was caught."""
    say = (*LONG_SAY[:position], POLICE, *LONG_SAY[position:])
    entry = store.save(new_entry(say=say), by=p["alice"]).entry
    store.submit(entry.id, by=p["alice"])

    with pytest.raises(VettingError) as err:
        store.approve(entry.id, by=p["bob"])

    assert POLICE in [line for line, _ in err.value.flagged] and published(store) == {}


def test_the_long_card_without_the_banned_line_is_published(store, p):
    entry = store.save(new_entry(say=LONG_SAY), by=p["alice"]).entry
    store.submit(entry.id, by=p["alice"])
    store.approve(entry.id, by=p["bob"])
    assert published(store)[entry.id].say == LONG_SAY


def test_a_flagged_line_blocks_the_approval_until_it_is_edited_to_pass(store, p):
    bad = store.save(new_entry(say=(COERCIVE_ZH,)), by=p["alice"])
    store.submit(bad.entry.id, by=p["alice"])
    with pytest.raises(VettingError):
        store.approve(bad.entry.id, by=p["bob"])

    current = store.get(bad.entry.id)
    fixed = store.save(replace(current.entry, say=new_entry().say), by=p["alice"], expected_revision=current.revision)
    store.submit(fixed.entry.id, by=p["alice"])
    assert store.approve(fixed.entry.id, by=p["bob"]).status == "approved"
    assert published(store)[fixed.entry.id].say == new_entry().say


class EarlierGuard:
    """The verdicts of an earlier guard release, which missed the line (a retrained guard catches it)."""

    fingerprint = "earlier-guard"

    def __call__(self, entry: Entry) -> dict:
        return {"guard": self.fingerprint, "blocked": False, "flagged": []}


def test_a_published_entry_the_current_guard_flags_is_withheld_once_it_is_vetted_again(db_url, vetting):
    earlier = SqlStore(db_url, vet=EarlierGuard(), bcrypt_rounds=4)
    add_people(earlier)
    entry = earlier.save(new_entry(say=(*new_entry().say, POLICE)), by=sign_in(earlier, "alice")).entry
    earlier.submit(entry.id, by=sign_in(earlier, "alice"))
    earlier.approve(entry.id, by=sign_in(earlier, "bob"))
    kept = earlier.save(new_entry("discount-request-kept-zh"), by=sign_in(earlier, "alice")).entry
    earlier.submit(kept.id, by=sign_in(earlier, "alice"))
    earlier.approve(kept.id, by=sign_in(earlier, "bob"))
    assert sorted(published(earlier)) == sorted([entry.id, kept.id])

    now = SqlStore(db_url, vet=vetting)  # the next start, with the retrained guard
    assert sorted(i for i, _ in now.stale_vetting(vetting.fingerprint)) == sorted([entry.id, kept.id])

    assert now.revet() == [entry.id]

    assert list(published(now)) == [kept.id]
    withheld = now.audit(entry.id)[0]
    assert withheld.action == "withheld_by_guard" and POLICE in [f["text"] for f in withheld.diff["flagged"]]
    assert now.revet() == [] and now.stale_vetting(vetting.fingerprint) == []


@pytest.mark.parametrize("tamper", [
    "UPDATE kb_entry_versions SET approved_by = NULL, vetting = NULL",  # written straight to the tables
    "UPDATE kb_entry_versions SET approved_by = editor",  # approved by its own editor
    "UPDATE kb_entry_versions SET vetting = NULL",  # no verdict on its lines
    """UPDATE kb_entry_versions SET vetting = '{"guard": "x", "blocked": true, "flagged": []}'""",
], ids=["never-approved", "self-approved", "never-vetted", "flagged"])
def test_a_version_without_its_proof_is_never_served_whatever_the_tables_say(store, p, tamper):
    entry_id = store.save(new_entry(), by=p["alice"]).entry.id
    store.submit(entry_id, by=p["alice"])
    store.approve(entry_id, by=p["bob"])
    assert entry_id in published(store)

    with store.engine.begin() as conn:
        conn.execute(text(tamper))
        conn.execute(text("UPDATE kb_entries SET status = 'approved', published_version = version"))

    assert published(store) == {}


def test_a_store_without_vetting_approves_nothing(db_url):
    store = SqlStore(db_url, bcrypt_rounds=4)
    add_people(store)
    p = {name: sign_in(store, name) for name in ("alice", "bob")}
    entry_id = store.save(new_entry(), by=p["alice"]).entry.id
    store.submit(entry_id, by=p["alice"])

    with pytest.raises(CurationError, match="vetting"):
        store.approve(entry_id, by=p["bob"])
    assert store.list_approved() == []


def test_retiring_an_entry_removes_it_from_what_agents_see_at_once(store, p):
    store.bootstrap()
    before = published(store)
    victim = next(iter(before))

    rec = store.retire(victim, by=p["alice"], reason="superseded by a newer script")

    assert rec.status == "retired" and rec.published_version is None
    assert published(store) == {i: e for i, e in before.items() if i != victim}
    last = store.audit(victim)[0]
    assert (last.actor, last.action, last.diff["reason"]) == ("alice", "retire", "superseded by a newer script")


def test_a_restored_entry_is_served_again_only_when_a_second_person_approves_it(store, p):
    """The restore is the change to vouch for: whoever brings an entry back cannot put it in service alone."""
    store.bootstrap()
    victim = next(iter(published(store)))
    store.retire(victim, by=p["bob"], reason="outdated")

    rec = store.restore(victim, by=p["alice"], reason="still valid")

    assert rec.status == "draft" and victim not in published(store)
    store.submit(victim, by=p["alice"])
    with pytest.raises(TwoPersonError):
        store.approve(victim, by=p["alice"])
    assert victim not in published(store)
    store.approve(victim, by=p["bob"])
    assert victim in published(store)


def test_only_entries_in_date_are_served(store, p):
    today = date(2026, 12, 1)
    for entry_id, effective, expires in [("discount-request-future-zh", today + timedelta(days=1), None),
                                         ("discount-request-expired-zh", None, today - timedelta(days=1)),
                                         ("discount-request-current-zh", today, today)]:
        store.save(new_entry(entry_id, effective=effective, expires=expires), by=p["alice"])
        store.submit(entry_id, by=p["alice"])
        store.approve(entry_id, by=p["bob"])

    assert list(published(store, today)) == ["discount-request-current-zh"]
    assert "discount-request-future-zh" in published(store, today + timedelta(days=1))


# --- concurrency -----------------------------------------------------------------------------


def test_a_stale_save_is_a_conflict_and_the_first_save_is_kept(store, p):
    rec = store.save(new_entry(), by=p["alice"])
    alice_title, bob_title = "Alice 的标题", "Bob 的标题"
    store.save(replace(rec.entry, title=alice_title), by=p["alice"], expected_revision=rec.revision)

    with pytest.raises(ConflictError, match="changed by alice") as err:
        store.save(replace(rec.entry, title=bob_title), by=p["bob"], expected_revision=rec.revision)

    assert "nothing was saved" in str(err.value)
    assert store.get(rec.entry.id).entry.title == alice_title
    assert [v.editor for v in store.history(rec.entry.id)] == ["alice", "alice"]


def test_creating_an_id_that_exists_is_a_conflict(store, p):
    store.save(new_entry(), by=p["alice"])
    with pytest.raises(ConflictError, match="already exists"):
        store.save(new_entry(title="另一个"), by=p["bob"])
    assert store.get(new_entry().id).entry.title == new_entry().title


def test_an_edit_landing_while_an_approval_is_being_checked_wins_and_the_approval_fails(db_url, vetting):
    """Bob approves what he read; Alice's edit commits between his read and his write: no stale publish."""
    other = SqlStore(db_url, bcrypt_rounds=4)
    add_people(other)
    p = {name: sign_in(other, name) for name in ("alice", "bob")}
    entry_id = other.save(new_entry(), by=p["alice"]).entry.id
    other.submit(entry_id, by=p["alice"])
    edited_say = ("我先把您的情况记下来，减免要按流程审批。",)

    class VetWhileAliceEdits:
        fingerprint = vetting.fingerprint

        def __call__(self, entry):
            if other.get(entry_id).status == "in_review":
                current = other.get(entry_id)
                other.save(replace(current.entry, say=edited_say), by=p["alice"], expected_revision=current.revision)
            return vetting(entry)

    bob = SqlStore(db_url, vet=VetWhileAliceEdits())
    with pytest.raises(ConflictError):
        bob.approve(entry_id, by=p["bob"])

    assert bob.list_approved() == []
    assert bob.get(entry_id).status == "draft" and bob.get(entry_id).entry.say == edited_say


# --- validation, export, schema ---------------------------------------------------------


@pytest.mark.parametrize(("change", "field"), [
    ({"topic": "no_such_topic"}, "topic"),
    ({"say": ("第一行\n第二行",)}, "say"),
    ({"refs": ("reg-cn-missing",)}, "refs"),
    ({"id": "Bad Id"}, "id"),
])
def test_invalid_entries_are_refused_by_field(store, p, change, field):
    with pytest.raises(EntryError) as err:
        store.save(new_entry(**change), by=p["alice"])
    assert err.value.problems[0].field == field
    assert store.list() == []


def test_export_writes_files_that_load_back_as_the_same_entries(shipped_entries, store, p, tmp_path):
    store.bootstrap()
    rec = store.get(shipped_entries[5].id)
    store.save(replace(rec.entry, title=rec.entry.title + "（修订）"), by=p["alice"], expected_revision=rec.revision)

    assert store.export(tmp_path / "out") == len(shipped_entries)

    exported = by_id(load_entries(tmp_path / "out"))
    assert exported == by_id(r.entry for r in store.list())
    assert [e for e in exported if e.id == rec.entry.id][0].status == "draft"
    unchanged = {e.id: content_of(e) for e in exported if e.id != rec.entry.id}
    assert unchanged == {e.id: content_of(e) for e in shipped_entries if e.id != rec.entry.id}


def test_export_refuses_a_folder_that_is_not_empty(store, tmp_path):
    store.bootstrap()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine", encoding="utf-8")

    with pytest.raises(FileExistsError):
        store.export(tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


def test_the_migrations_build_exactly_the_models_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from knowledge_base.sql_models import SCHEMA_REVISION, Base

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": lambda name, type_, parents:
                                                         type_ != "table" or name in Base.metadata.tables})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == SCHEMA_REVISION


def test_the_alembic_command_line_upgrades_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", str(root / "alembic.ini"), "-x", f"url={url}",
                           "upgrade", "head"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    store = SqlStore(url, bcrypt_rounds=4)
    assert store.list() == [] and store.users.list() == []


def test_app_processes_opening_a_new_database_at_once_all_get_the_schema(db_url):
    """Several processes (and threads of one process) open a brand-new database at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    opener = "import sys; from knowledge_base.sql_store import SqlStore; SqlStore(sys.argv[1])"
    processes = [subprocess.Popen([sys.executable, "-c", opener, db_url], stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        stores = list(pool.map(lambda _: SqlStore(db_url, bcrypt_rounds=4), range(3)))
    errors = [p.communicate()[1] for p in processes]

    assert [p.returncode for p in processes] == [0, 0, 0], errors
    stores[0].users.add("alice", "trainer", "alice-password")
    assert [u.name for s in stores for u in s.users.list()] == ["alice"] * 3
