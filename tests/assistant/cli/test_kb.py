"""Curation through `coach kb …` and `coach users …` as trainers use it: signed in with --user and a password,
a folder of entry files imported for review with --note and published only when a second person approves
the batch, every shown line vetted at approval, exit codes that mean something. A real SQLite store in
tmp_path, the real guard; each `coach` run reads its settings and builds its services afresh."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant import Services, Settings
from tests.assistant.cli.runner import coach
from tests.folders import entry_folder, use_data

TOPICS = ("discount_request",)
ENTRY = "discount-request-insists-zh"
COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"
POLICE_ZH = "你今天不还钱，警察今晚就来抓你。"  # the line issue 13 saw reach an agent through a folder import
PEOPLE = (("alice", "trainer"), ("carol", "agent"), ("bob", "admin"))  # the admin last: then only admins add


def add_logins() -> None:
    for name, role in PEOPLE:
        done = coach("users", "add", name, "--role", role, "--password-stdin", input=f"{name}-password\n")
        assert done.exit_code == 0, done.stderr


def store():
    """The store `coach` uses under the current settings (read back the way another process would)."""
    return Services(Settings()).store


def served() -> dict:
    """What agents are served now: the published, proven versions."""
    return {e.id: e for e in store().list_approved()}


def import_json(folder: Path, user: str = "alice", note: str = "") -> dict:
    done = coach("kb", "import", str(folder), "--user", user, *(("--note", note) if note else ()), "--json")
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def published(tmp_path_factory, shipped_entries) -> Path:
    """A data directory whose discount_request entries alice imported for review and bob approved, by the CLI."""
    root = tmp_path_factory.mktemp("kb")
    folder = entry_folder(root / "entries", shipped_entries, topics=TOPICS)
    with pytest.MonkeyPatch.context() as mp:
        use_data(mp, root / "data")
        add_logins()
        batch = import_json(folder, note="PR #42")["batch"]
        approved = coach("kb", "approve", "--batch", batch, "--user", "bob")
        assert approved.exit_code == 0, approved.stderr
    return root / "data"


@pytest.fixture
def kb(published, tmp_path, monkeypatch) -> Path:
    """A copy of the published store for one test."""
    data = tmp_path / "data"
    shutil.copytree(published, data)
    use_data(monkeypatch, data)
    return data


@pytest.fixture
def empty(tmp_path, monkeypatch) -> None:
    """An empty store with alice (trainer), carol (agent) and bob (admin)."""
    use_data(monkeypatch, tmp_path / "empty")
    add_logins()


@pytest.fixture
def small(tmp_path, shipped_entries) -> Path:
    """A folder with one entry, its pair and the regulations they cite."""
    return entry_folder(tmp_path / "small", shipped_entries, ids=(ENTRY,))


def show(entry_id: str) -> dict:
    done = coach("kb", "show", entry_id, "--json")
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


def edit_file(tmp_path, entry_id: str, old: str, new: str) -> Path:
    """What a trainer does by hand: `kb show ID > file`, edit the file."""
    path = tmp_path / "edit" / show(entry_id)["topic"] / f"{entry_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = coach("kb", "show", entry_id).stdout
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_folder_is_imported_for_review_and_served_only_when_a_second_person_approves_the_batch(empty, small):
    ids = sorted(p.stem for p in small.rglob("*.md"))

    done = coach("kb", "import", str(small), "--user", "alice", "--note", "PR #42")
    assert done.exit_code == 0, done.stderr
    assert f"{len(ids)} entries submitted for review" in done.stdout
    batch = done.stdout.split()[1].rstrip(":")
    assert f"coach kb approve --batch {batch}" in done.stdout
    assert served() == {}  # the files say `status: approved`; nothing is served before a second person
    listed = json.loads(coach("kb", "list", "--json").stdout)
    assert sorted(r["id"] for r in listed) == ids
    assert {(r["status"], r["published_version"], r["last_editor"]) for r in listed} == {("in_review", None, "alice")}

    own = coach("kb", "approve", "--batch", batch, "--user", "alice")
    assert own.exit_code == 1 and f"approved 0, refused {len(ids)}" in own.stdout
    assert "second person" in own.stderr
    assert served() == {}

    approved = coach("kb", "approve", "--batch", batch, "--user", "bob")
    assert approved.exit_code == 0, approved.stderr
    assert f"approved {len(ids)}, refused 0, skipped 0" in approved.stdout
    assert sorted(served()) == ids

    audit = json.loads(coach("kb", "audit", ENTRY, "--json").stdout)
    steps = [(a["actor"], a["action"]) for a in reversed(audit)]
    assert steps == [("alice", "import"), ("alice", "approve_refused"), ("bob", "approve")]
    assert (audit[-1]["diff"]["note"], audit[-1]["diff"]["batch"]) == ("PR #42", batch)  # who vouched, and for what


def test_importing_the_same_folder_again_changes_nothing(kb, tmp_path, shipped_entries):
    folder = entry_folder(tmp_path / "again", shipped_entries, topics=TOPICS)
    before = show(ENTRY)

    report = import_json(folder)

    assert report["submitted"] == [] and report["flagged"] == {}
    assert sorted(report["unchanged"]) == sorted(p.stem for p in folder.rglob("*.md"))
    assert show(ENTRY)["revision"] == before["revision"]


def test_an_entry_changed_after_the_import_is_skipped_by_the_batch_approval(empty, small, tmp_path):
    batch = import_json(small)["batch"]
    rec = show(ENTRY)
    path = edit_file(tmp_path, ENTRY, "title: ", "title: （改过）")
    assert coach("kb", "save", str(path), "--user", "alice", "--revision", str(rec["revision"])).exit_code == 0

    done = coach("kb", "approve", "--batch", batch, "--user", "bob")

    assert done.exit_code == 0, done.stderr
    assert "skipped 1" in done.stdout
    assert ENTRY not in served() and show(ENTRY)["status"] == "draft"  # bob never vouched for the change
    assert set(served()) == {p.stem for p in small.rglob("*.md")} - {ENTRY}


def test_a_violating_line_in_an_imported_file_stays_a_draft_and_never_reaches_an_agent(empty, small):
    path = next(small.rglob(f"{ENTRY}.md"))
    path.write_text(path.read_text(encoding="utf-8").replace("## Say\n- ", f"## Say\n- {POLICE_ZH}\n- ", 1),
                    encoding="utf-8")

    anonymous = coach("kb", "import", str(small))
    assert anonymous.exit_code == 2 and "needs --user" in anonymous.stderr
    assert json.loads(coach("kb", "list", "--json").stdout) == []

    report = import_json(small)
    assert list(report["flagged"]) == [ENTRY] and POLICE_ZH in report["flagged"][ENTRY]
    assert ENTRY not in report["submitted"] and show(ENTRY)["status"] == "draft"
    assert coach("kb", "approve", "--batch", report["batch"], "--user", "bob").exit_code == 0
    assert coach("kb", "submit", ENTRY, "--user", "alice").exit_code == 0

    refused = coach("kb", "approve", ENTRY, "--user", "bob")

    assert refused.exit_code == 1 and "flagged (" in refused.stderr and POLICE_ZH in refused.stderr
    assert ENTRY not in served() and set(served()) == set(report["submitted"])
    assert not [e for e in served().values() if POLICE_ZH in (*e.say, *e.do)]


def test_an_edit_is_published_when_a_second_person_approves_it(kb, tmp_path):
    before = show(ENTRY)
    path = edit_file(tmp_path, ENTRY, "title: ", "title: （修订）")

    saved = coach("kb", "save", str(path), "--user", "alice", "--revision", str(before["revision"]))
    assert saved.exit_code == 0, saved.stderr
    assert f"draft, version {before['version'] + 1} (v{before['version']} published)" in saved.stdout
    assert served()[ENTRY].version == before["version"]  # agents keep the published version meanwhile
    assert coach("kb", "submit", ENTRY, "--user", "alice").exit_code == 0

    own = coach("kb", "approve", ENTRY, "--user", "alice")
    assert own.exit_code == 1 and "second person" in own.stderr
    assert show(ENTRY)["published_version"] == before["version"]

    approved = coach("kb", "approve", ENTRY, "--user", "bob")
    assert approved.exit_code == 0, approved.stderr
    assert served()[ENTRY].title.startswith("（修订）") and served()[ENTRY].version == before["version"] + 1
    assert "title: （修订）" not in coach("kb", "show", ENTRY, "--version", str(before["version"])).stdout

    audit = json.loads(coach("kb", "audit", ENTRY, "--json").stdout)
    assert [(a["actor"], a["action"]) for a in reversed(audit)] == [
        ("alice", "import"), ("bob", "approve"), ("alice", "edit"), ("alice", "submit"), ("alice", "approve_refused"),
        ("bob", "approve")]
    assert audit[3]["diff"]["title"][1].startswith("（修订）")


def test_retire_needs_a_reason_and_takes_an_entry_away_from_agents_at_once(kb):
    assert ENTRY in served()

    silent = coach("kb", "retire", ENTRY, "--user", "bob")
    assert silent.exit_code == 2 and "needs a reason" in silent.stderr
    assert ENTRY in served()

    done = coach("kb", "retire", ENTRY, "--user", "bob", "--reason", "withdrawn by compliance")
    assert done.exit_code == 0 and "retired" in done.stdout
    assert ENTRY not in served()
    assert [r["id"] for r in json.loads(coach("kb", "list", "--status", "retired", "--json").stdout)] == [ENTRY]
    assert json.loads(coach("kb", "audit", ENTRY, "--json").stdout)[0]["diff"]["reason"] == "withdrawn by compliance"


def test_a_stale_revision_is_a_conflict_with_exit_code_3(kb, tmp_path):
    revision = show(ENTRY)["revision"]
    alice = edit_file(tmp_path / "a", ENTRY, "title: ", "title: A ")
    bob = edit_file(tmp_path / "b", ENTRY, "title: ", "title: B ")
    assert coach("kb", "save", str(alice), "--user", "alice", "--revision", str(revision)).exit_code == 0

    late = coach("kb", "save", str(bob), "--user", "bob", "--revision", str(revision))

    assert late.exit_code == 3
    assert "changed by alice" in late.stderr and "nothing was saved" in late.stderr
    assert show(ENTRY)["content"]["title"].startswith("A ")


def test_a_flagged_say_line_blocks_approval_and_is_shown(kb, tmp_path):
    before = show(ENTRY)
    path = edit_file(tmp_path, ENTRY, "## Say\n- ", f"## Say\n- {COERCIVE_ZH}\n- ")
    assert coach("kb", "save", str(path), "--user", "alice", "--revision", str(before["revision"])).exit_code == 0
    assert coach("kb", "submit", ENTRY, "--user", "alice").exit_code == 0

    refused = coach("kb", "approve", ENTRY, "--user", "bob")

    assert refused.exit_code == 1
    assert "flagged (" in refused.stderr and COERCIVE_ZH in refused.stderr
    assert show(ENTRY)["status"] == "in_review" and show(ENTRY)["published_version"] == before["version"]
    assert COERCIVE_ZH not in served()[ENTRY].say


def test_a_malformed_file_in_a_folder_imports_nothing(kb, tmp_path, shipped_entries):
    folder = entry_folder(tmp_path / "entries", shipped_entries, topics=("wrong_number",))
    broken = sorted(folder.rglob("*.md"))[3]
    broken.write_text("no front matter here", encoding="utf-8")
    before = json.loads(coach("kb", "list", "--json").stdout)

    done = coach("kb", "import", str(folder), "--user", "alice")

    assert done.exit_code == 2
    assert str(broken) in done.stderr and "nothing was stored" in done.stderr
    assert json.loads(coach("kb", "list", "--json").stdout) == before


BAD_INPUT = {
    "import of a missing path": (("kb", "import", "{tmp}/nowhere.docx", "--user", "alice"), "no such file or folder"),
    "import without --user": (("kb", "import", "{tmp}/entries"), "needs --user"),
    "unknown entry": (("kb", "show", "no-such-entry"), "no entry 'no-such-entry'"),
    "unknown version": (("kb", "show", ENTRY, "--version", "9"), "no version 9"),
    "unknown status": (("kb", "list", "--status", "published"), "unknown status"),
    "export into a folder with files": (("kb", "export", "{tmp}"), "not an empty folder"),
    "save of a file that is no entry": (("kb", "save", "{tmp}/notes.md", "--user", "alice"), "front matter"),
    "approve of nothing": (("kb", "approve", "--user", "bob"), "give an entry id"),
    "approve of an unknown batch": (("kb", "approve", "--batch", "import-0000000000", "--user", "bob"),
                                    "no import batch"),
    "retire without a reason": (("kb", "retire", ENTRY, "--user", "bob"), "needs a reason"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_gets_a_clear_message_and_exit_code_2(kb, tmp_path, case):
    (tmp_path / "notes.md").write_text("# notes", encoding="utf-8")
    (tmp_path / "entries").mkdir()
    args, message = BAD_INPUT[case]
    before = json.loads(coach("kb", "list", "--json").stdout)

    done = coach(*(a.format(tmp=tmp_path) for a in args))

    assert (done.exit_code, message in done.stderr) == (2, True), done.stderr
    assert json.loads(coach("kb", "list", "--json").stdout) == before


@pytest.mark.parametrize(("user", "message"), [("carol", "signed in as agent"),
                                               ("mallory", "wrong user name or password for 'mallory'")])
def test_agents_and_unknown_users_change_nothing_and_get_exit_code_1(kb, small, user, message):
    for args in (("kb", "retire", ENTRY, "--reason", "x"), ("kb", "import", str(small)), ("kb", "submit", ENTRY)):
        done = coach(*args, "--user", user)
        assert done.exit_code == 1 and message in done.stderr, (args, done.stderr)
    assert show(ENTRY)["status"] == "approved" and ENTRY in served()
    assert {a["actor"] for a in json.loads(coach("kb", "audit", "--json").stdout)} <= {"alice", "bob", "setup"}


def test_nothing_is_done_in_a_users_name_without_their_password(kb):
    wrong = coach("kb", "retire", ENTRY, "--user", "bob", "--reason", "x", password="not-bobs-password")
    assert wrong.exit_code == 1 and "wrong user name or password for 'bob'" in wrong.stderr
    assert show(ENTRY)["status"] == "approved"
    assert "retire" not in [a["action"] for a in json.loads(coach("kb", "audit", ENTRY, "--json").stdout)]

    missing = coach("kb", "retire", ENTRY, "--user", "bob", "--reason", "x", password=False, input="")  # nothing piped
    assert missing.exit_code == 2 and "no password for 'bob'" in missing.stderr
    assert show(ENTRY)["status"] == "approved"


def test_the_password_can_be_piped_on_stdin_and_is_never_printed(kb):
    done = coach("kb", "retire", ENTRY, "--user", "bob", "--reason", "x", password=False, input="bob-password\n")

    assert done.exit_code == 0, done.stderr
    assert "bob-password" not in done.stdout + done.stderr
    assert show(ENTRY)["status"] == "retired"


def test_users_add_asks_for_the_password_twice_and_stores_only_a_hash(tmp_path, monkeypatch):
    use_data(monkeypatch, tmp_path / "data")

    done = coach("users", "add", "dana", "--role", "admin", input="dana-password\ndana-password\n")

    assert done.exit_code == 0, done.stderr
    assert "dana-password" not in done.stdout
    users = Services(Settings()).auth
    assert users.authenticate("dana", "dana-password").role == "admin"
    assert users.authenticate("dana", "wrong-password") is None
    assert b"dana-password" not in (tmp_path / "data" / "coach.db").read_bytes()
    again = coach("users", "add", "dana", "--role", "admin", "--by", "dana", "--password-stdin",
                  input="other-password\n")
    assert again.exit_code == 1 and "already exists" in again.stderr
    short = coach("users", "add", "erin", "--role", "trainer", "--by", "dana", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "at least 8" in short.stderr
    listed = coach("users", "list").stdout
    assert "dana" in listed and "erin" not in listed


def test_once_the_store_has_an_admin_only_an_admin_adds_logins(empty):
    anyone = coach("users", "add", "mallory", "--role", "trainer", "--password-stdin", input="mallory-password\n")
    assert anyone.exit_code == 1 and "only a signed-in admin adds logins" in anyone.stderr
    trainer = coach("users", "add", "mallory", "--role", "trainer", "--by", "alice", "--password-stdin",
                    input="mallory-password\n")
    assert trainer.exit_code == 1 and "needs admin" in trainer.stderr
    assert "mallory" not in coach("users", "list").stdout

    admin = coach("users", "add", "erin", "--role", "trainer", "--by", "bob", "--password-stdin",
                  input="erin-password\n")
    assert admin.exit_code == 0, admin.stderr
    assert "erin" in coach("users", "list").stdout


@pytest.mark.slow
def test_a_retirement_by_the_cli_is_seen_by_a_running_coachs_next_ask(kb):
    """The coach of another process (here: its own Services) follows the store: an entry retired through the CLI
    is no longer cited by its next answer."""
    running = Services(Settings(), log_questions=False).coach
    question = "客户说打个折就还，我该怎么说"
    cited = running.ask(question, jurisdiction="CN").main.id
    assert cited.startswith("discount-request")

    assert coach("kb", "retire", cited, "--user", "bob", "--reason", "outdated").exit_code == 0

    again = running.ask(question, jurisdiction="CN")
    assert cited not in {s.id for s in again.shown}
