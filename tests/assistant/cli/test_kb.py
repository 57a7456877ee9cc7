"""The trainer workflow through `coach kb …` and `coach users …`, on a real SQLite store in tmp_path."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.curation.store import entry_source, open_store
from assistant.settings import Settings
from knowledge_base import load_entries
from knowledge_base.store import ENTRIES_DIR
from tests.assistant.cli.runner import coach

ENTRY = "discount-request-insists-zh"
COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"


@pytest.fixture
def trainers():
    """The shipped entries imported, and two trainers (alice, bob) added through the CLI."""
    assert coach("kb", "import", str(ENTRIES_DIR)).exit_code == 0
    for name in ("alice", "bob"):
        done = coach("users", "add", name, "--role", "trainer", "--password-stdin", input=f"{name}-password\n")
        assert done.exit_code == 0, done.stderr


def show(entry_id: str) -> dict:
    done = coach("kb", "show", entry_id, "--json")
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


def edit_file(tmp_path, entry_id: str, old: str, new: str):
    """What a trainer does by hand: `kb show ID > file`, edit the file."""
    path = tmp_path / "edit" / show(entry_id)["topic"] / f"{entry_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = coach("kb", "show", entry_id).stdout
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_first_import_lists_shows_and_exports_the_shipped_entries(tmp_path, shipped_entries):
    done = coach("kb", "import", str(ENTRIES_DIR))
    assert done.exit_code == 0 and f"imported {len(shipped_entries)} entries" in done.stdout
    assert f"{len(shipped_entries)} unchanged" in coach("kb", "import", str(ENTRIES_DIR)).stdout

    listed = json.loads(coach("kb", "list", "--topic", "discount_request", "--lang", "zh", "--json").stdout)
    expected = sorted(e.id for e in shipped_entries if e.topic == "discount_request" and e.lang == "zh")
    assert [r["id"] for r in listed] == expected
    assert all(r["status"] == "approved" and r["published_version"] == r["version"] for r in listed)

    assert coach("kb", "export", str(tmp_path / "out")).exit_code == 0
    assert sorted(load_entries(tmp_path / "out"), key=lambda e: e.id) == sorted(shipped_entries, key=lambda e: e.id)


def test_edit_submit_and_a_second_trainers_approval_publish_a_change(tmp_path, trainers):
    before = show(ENTRY)
    path = edit_file(tmp_path, ENTRY, "title: ", "title: （修订）")

    saved = coach("kb", "save", str(path), "--user", "alice", "--revision", str(before["revision"]))
    assert saved.exit_code == 0, saved.stderr
    assert f"draft, version {before['version'] + 1} (v{before['version']} published)" in saved.stdout
    assert coach("kb", "submit", ENTRY, "--user", "alice").exit_code == 0

    own = coach("kb", "approve", ENTRY, "--user", "alice")
    assert own.exit_code == 1 and "second person" in own.stderr
    assert show(ENTRY)["published_version"] == before["version"]

    approved = coach("kb", "approve", ENTRY, "--user", "bob")
    assert approved.exit_code == 0, approved.stderr
    served = {e.id: e for e in entry_source(Settings()).list_approved()}
    assert served[ENTRY].title.startswith("（修订）") and served[ENTRY].version == before["version"] + 1
    assert "title: （修订）" not in coach("kb", "show", ENTRY, "--version", str(before["version"])).stdout

    audit = json.loads(coach("kb", "audit", ENTRY, "--json").stdout)
    assert [(a["actor"], a["action"]) for a in reversed(audit)] == [
        ("import", "import"), ("alice", "edit"), ("alice", "submit"), ("alice", "approve_refused"), ("bob", "approve")]
    assert audit[3]["diff"]["title"][1].startswith("（修订）")


def test_retire_takes_an_entry_away_from_agents_at_once(trainers):
    assert ENTRY in {e.id for e in entry_source(Settings()).list_approved()}

    done = coach("kb", "retire", ENTRY, "--user", "bob")

    assert done.exit_code == 0 and "retired" in done.stdout
    assert ENTRY not in {e.id for e in entry_source(Settings()).list_approved()}
    assert [r["id"] for r in json.loads(coach("kb", "list", "--status", "retired", "--json").stdout)] == [ENTRY]


def test_a_stale_revision_is_a_conflict_with_exit_code_3(tmp_path, trainers):
    revision = show(ENTRY)["revision"]
    alice = edit_file(tmp_path / "a", ENTRY, "title: ", "title: A ")
    bob = edit_file(tmp_path / "b", ENTRY, "title: ", "title: B ")
    assert coach("kb", "save", str(alice), "--user", "alice", "--revision", str(revision)).exit_code == 0

    late = coach("kb", "save", str(bob), "--user", "bob", "--revision", str(revision))

    assert late.exit_code == 3
    assert "changed by alice" in late.stderr and "nothing was saved" in late.stderr
    assert show(ENTRY)["content"]["title"].startswith("A ")


def test_a_flagged_say_line_blocks_approval_and_is_shown(tmp_path, trainers):
    before = show(ENTRY)
    path = edit_file(tmp_path, ENTRY, "## Say\n- ", f"## Say\n- {COERCIVE_ZH}\n- ")
    assert coach("kb", "save", str(path), "--user", "alice", "--revision", str(before["revision"])).exit_code == 0
    coach("kb", "submit", ENTRY, "--user", "alice")

    refused = coach("kb", "approve", ENTRY, "--user", "bob")

    assert refused.exit_code == 1
    assert "flagged (" in refused.stderr and COERCIVE_ZH in refused.stderr
    assert show(ENTRY)["status"] == "in_review" and show(ENTRY)["published_version"] == before["version"]


def test_a_malformed_file_in_a_folder_imports_nothing(tmp_path):
    folder = tmp_path / "entries"
    shutil.copytree(ENTRIES_DIR, folder)
    broken = sorted(folder.rglob("*.md"))[100]
    broken.write_text("no front matter here", encoding="utf-8")

    done = coach("kb", "import", str(folder))

    assert done.exit_code == 2
    assert str(broken) in done.stderr and "nothing was stored" in done.stderr
    assert json.loads(coach("kb", "list", "--json").stdout) == []


def test_bad_input_gets_a_clear_message_and_exit_code_2(tmp_path, trainers):
    (tmp_path / "notes.md").write_text("# notes", encoding="utf-8")
    cases = [
        (("kb", "import", str(tmp_path / "notes.md")), "folder of entry files"),
        (("kb", "show", "no-such-entry"), "no entry 'no-such-entry'"),
        (("kb", "show", ENTRY, "--version", "9"), "no version 9"),
        (("kb", "list", "--status", "published"), "unknown status"),
        (("kb", "export", str(tmp_path)), "not an empty folder"),
        (("kb", "save", str(tmp_path / "notes.md"), "--user", "alice"), "front matter"),
    ]
    for args, message in cases:
        done = coach(*args)
        assert (done.exit_code, message in done.stderr) == (2, True), (args, done.stderr)


def test_agents_and_unknown_users_are_refused_with_exit_code_1(trainers):
    added = coach("users", "add", "carol", "--role", "agent", "--password-stdin", input="carol-password\n")
    assert added.exit_code == 0
    for user, message in (("carol", "is an agent"), ("mallory", "wrong user name or password")):
        done = coach("kb", "retire", ENTRY, "--user", user)
        assert done.exit_code == 1 and message in done.stderr
    assert show(ENTRY)["status"] == "approved"


def test_users_add_asks_for_the_password_twice_and_stores_only_a_hash():
    done = coach("users", "add", "dana", "--role", "admin", input="dana-password\ndana-password\n")

    assert done.exit_code == 0, done.stderr
    assert "dana-password" not in done.stdout
    store = open_store(Settings())
    assert store.users.authenticate("dana", "dana-password").role == "admin"
    assert store.users.authenticate("dana", "wrong-password") is None
    again = coach("users", "add", "dana", "--role", "admin", "--by", "dana", "--password-stdin",
                  input="other-password\n")
    assert again.exit_code == 1 and "already exists" in again.stderr
    short = coach("users", "add", "erin", "--role", "trainer", "--by", "dana", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "at least 8" in short.stderr
    assert "dana" in coach("users", "list").stdout and "erin" not in coach("users", "list").stdout


@pytest.mark.slow
def test_the_store_can_stand_in_for_the_entry_files_behind_the_coach(tmp_path, kb_subset):
    """The coach serves from the store (its first run imports the entry files): answers cite store entries,
    and retiring one removes it."""
    from assistant.coaching.pipeline import Coach

    settings = Settings(data_dir=tmp_path / "data", entries_dir=kb_subset(tmp_path / "kb", ("discount_request",)))
    question = "客户说打个折就还，我该怎么说"

    cited = Coach.from_settings(settings, log_questions=False).ask(question, jurisdiction="CN").sources[0].id
    assert cited.startswith("discount-request")
    open_store(settings).users.add("bob", "trainer", "bob-password")
    open_store(settings).retire(cited, user="bob")

    again = Coach.from_settings(settings, log_questions=False).ask(question, jurisdiction="CN")
    assert cited not in [s.id for s in again.sources]


def test_nothing_is_done_in_a_users_name_without_their_password(trainers):
    wrong = coach("kb", "retire", ENTRY, "--user", "bob", password="not-bobs-password")
    assert wrong.exit_code == 1 and "wrong user name or password for 'bob'" in wrong.stderr
    assert show(ENTRY)["status"] == "approved"
    assert "retire" not in [e.action for e in open_store(Settings()).audit(ENTRY)]

    missing = CliRunner().invoke(app, ["kb", "retire", ENTRY, "--user", "bob"], input="")  # nothing piped
    assert missing.exit_code == 2 and "no password for 'bob'" in missing.stderr
    assert show(ENTRY)["status"] == "approved"

    typed = CliRunner().invoke(app, ["kb", "retire", ENTRY, "--user", "bob"], input="bob-password\n")  # piped
    assert typed.exit_code == 0, typed.stderr
    assert "bob-password" not in typed.stdout
    assert show(ENTRY)["status"] == "retired"


def test_once_the_store_has_an_admin_only_an_admin_adds_logins(trainers):
    assert coach("users", "add", "dana", "--role", "admin", "--password-stdin", input="dana-password\n").exit_code == 0

    anyone = coach("users", "add", "mallory", "--role", "trainer", "--password-stdin", input="mallory-password\n")
    assert anyone.exit_code == 1 and "needs --by ADMIN" in anyone.stderr
    trainer = coach("users", "add", "mallory", "--role", "trainer", "--by", "alice", "--password-stdin",
                    input="mallory-password\n")
    assert trainer.exit_code == 1 and "not an admin" in trainer.stderr
    assert "mallory" not in coach("users", "list").stdout

    admin = coach("users", "add", "erin", "--role", "trainer", "--by", "dana", "--password-stdin",
                  input="erin-password\n")
    assert admin.exit_code == 0, admin.stderr
    assert "erin" in coach("users", "list").stdout
