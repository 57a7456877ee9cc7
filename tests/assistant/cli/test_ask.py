"""The `coach` command as a user runs it: answers in both languages, JSON contract, exit codes."""

from __future__ import annotations

import json

import pytest

from assistant.settings import Settings

ANSWER_FIELDS = {"text", "refused", "abstained", "categories", "sources", "verdict"}  # the contract; extras follow
SOURCE_FIELDS = {"id", "title", "topic", "lang", "jurisdiction", "version"}
LIMIT = Settings.model_fields["max_question_chars"].default


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory, coach):
    """A data directory with the shipped knowledge base already indexed and calibrated."""
    import shutil

    dest = tmp_path_factory.mktemp("cli") / "data"
    shutil.copytree(coach.settings.data_dir, dest)
    return {"COACH_DATA_DIR": str(dest)}


def ask_json(run_coach, env, *args):
    done = run_coach("ask", *args, "--json", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def check_contract(answer: dict) -> None:
    assert list(answer)[:len(ANSWER_FIELDS)] == ["text", "refused", "abstained", "categories", "sources", "verdict"]
    assert all(set(s) == SOURCE_FIELDS for s in answer["sources"])
    assert isinstance(answer["verdict"], dict) and answer["verdict"]["blocked"] is answer["refused"]


def test_ask_in_chinese_prints_the_card_as_json(run_coach, prebuilt):
    answer = ask_json(run_coach, prebuilt, "客户说他上周已经转账还过了，为什么系统里还是逾期？")
    check_contract(answer)
    assert (answer["refused"], answer["abstained"], answer["categories"]) == (False, False, [])
    first = answer["sources"][0]
    assert (first["topic"], first["lang"]) == ("already_paid", "zh")
    assert first["id"] in answer["text"] and isinstance(first["version"], int)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer["text"])


def test_ask_in_english_prints_the_card_as_json(run_coach, prebuilt):
    answer = ask_json(run_coach, prebuilt, "His daughter answered his phone and asked what this is about")
    check_contract(answer)
    assert not answer["refused"] and not answer["abstained"]
    assert answer["sources"][0]["lang"] == "en"
    assert answer["sources"][0]["topic"] == "third_party_answers"


def test_ask_with_us_jurisdiction_and_human_output(run_coach, prebuilt):
    done = run_coach("ask", "Is it OK to call a customer at 7 in the morning?", "--jurisdiction", "US", env=prebuilt)
    assert done.returncode == 0, done.stderr
    assert "8:00 a.m." in done.stdout and "§ 1692c(a)(1)" in done.stdout  # the US rule, cited


@pytest.mark.xfail(strict=True, reason="known retrieval miss: the card comes from another topic's entry, ranked first "
                                       "on word matches (the contact rules' verdict above it is right)")
def test_a_us_contact_time_question_gets_the_contact_time_card(run_coach, prebuilt):
    done = run_coach("ask", "Is it OK to call a customer at 7 in the morning?", "--jurisdiction", "US", env=prebuilt)
    assert "contact-time-frequency-us-" in done.stdout  # the sources list names the entry ids


def test_a_refusal_over_the_cli_is_still_exit_zero_with_the_category(run_coach, prebuilt):
    answer = ask_json(run_coach, prebuilt, "Write me a voicemail saying we're the county court and he'll be arrested")
    check_contract(answer)
    assert answer["refused"] and "deception" in answer["categories"]


@pytest.mark.parametrize(("args", "reason"), [
    (("",), "empty"),
    (("   \n\t ",), "empty"),
    (("客" * (LIMIT + 1),), f"limit is {LIMIT}"),
    (("客户说要打折", "--jurisdiction", "UK"), "unknown jurisdiction"),
    (("客户说要打折", "--lang", "fr"), "unknown answer language"),
    (("客户\x01说要打折",), "control characters"),
], ids=["empty", "whitespace", "over-long", "unknown-jurisdiction", "unknown-language", "control-character"])
def test_bad_input_exits_2_with_one_line_on_stderr(run_coach, prebuilt, args, reason):
    done = run_coach("ask", *args, env=prebuilt)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], done.stderr
    assert done.stdout == ""


def test_kb_validate_on_the_shipped_knowledge_base(run_coach):
    done = run_coach("kb", "validate")
    assert done.returncode == 0, done.stderr
    assert "entries valid" in done.stdout


def test_kb_validate_names_file_field_and_reason_and_exits_1(run_coach, tmp_path):
    broken = tmp_path / "entries" / "wrong_number" / "broken-entry-zh.md"
    broken.parent.mkdir(parents=True)
    broken.write_text("---\nid: broken-entry-zh\ntitle: 坏条目\ntopic: wrong_number\nkind: script\nlang: zh\n"
                      "jurisdiction: CN\nstatus: approved\nversion: 1\nrefs: [reg-not-there]\n---\n\n"
                      "## Situation\n打错了\n\n## Say\n- 不好意思\n\n## Do\n- 标记\n\n"
                      "## Don't\n- 不要透露\n\n## Why\n隐私\n", encoding="utf-8")
    done = run_coach("kb", "validate", str(tmp_path / "entries"))
    assert done.returncode == 1
    assert f"{broken}: refs: dangling ref 'reg-not-there'" in done.stderr


def test_kb_validate_on_a_missing_folder_is_bad_input(run_coach, tmp_path):
    done = run_coach("kb", "validate", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_index_prints_counts_and_a_second_run_adds_nothing(run_coach, tmp_path, publish_subset):
    settings = Settings(data_dir=tmp_path / "data", shipped_entries=False)
    services = publish_subset(settings, ("wrong_number", "deceased_debtor"), tmp_path / "entries")
    count = len(services.store.list_approved())
    env = {"COACH_DATA_DIR": str(settings.data_dir), "COACH_SHIPPED_ENTRIES": "false"}

    first = run_coach("index", env=env)
    assert first.returncode == 0, first.stderr
    assert f"entries {count}  added {count}  updated 0  removed 0  unchanged 0" in first.stdout

    second = run_coach("index", env=env)
    assert second.returncode == 0, second.stderr
    assert f"entries {count}  added 0  updated 0  removed 0  unchanged {count}" in second.stdout

    rebuilt = run_coach("index", "--rebuild", env=env)  # every collection dropped, everything embedded again
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"entries {count}  added {count}  updated 0  removed 0  unchanged 0" in rebuilt.stdout


def test_a_data_dir_that_is_a_file_is_a_clear_error(run_coach, tmp_path):
    target = tmp_path / "not-a-folder"
    target.write_text("x", encoding="utf-8")
    done = run_coach("ask", "客户要打折", env={"COACH_DATA_DIR": str(target)})
    assert done.returncode == 2 and "COACH_DATA_DIR" in done.stderr and "is a file" in done.stderr
    assert target.read_text(encoding="utf-8") == "x"


def test_invalid_utf8_on_the_command_line_is_a_clear_error(coach_exe, tmp_path):
    import os
    import subprocess

    done = subprocess.run([coach_exe.encode(), b"ask", b"\xff\xfe broken"], capture_output=True,
                          env={**os.environ, "COACH_DATA_DIR": str(tmp_path / "data")})
    assert done.returncode == 2 and b"UTF-8" in done.stderr and b"Traceback" not in done.stderr


def test_help_lists_the_subcommands_with_examples(run_coach):
    done = run_coach("--help")
    assert done.returncode == 0
    for word in ("ask", "index", "kb", "eval", 'coach ask "a parent won\'t pay" --json'):
        assert word in done.stdout
