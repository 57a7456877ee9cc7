"""Loading and validating entry files: every malformed entry is rejected with its file, field and reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge_base import EntryError, load_entries
from knowledge_base.entries import MAX_FILE_BYTES, parse_entry
from knowledge_base.store import ENTRIES_DIR, FileEntrySource

REPO = Path(__file__).resolve().parents[2]

REGULATION = """---
id: reg-test-privacy
title: 不得向无关第三人透露欠款
topic: privacy_data_protection
kind: regulation
lang: zh
jurisdiction: CN
status: approved
version: 1
refs: []
citation: 《个人信息保护法》第十条
---

## Rule
不得非法向他人提供或公开个人信息。
"""

SCRIPT = """---
id: test-wrong-number-zh
title: 接电话的人说打错了
topic: wrong_number
kind: script
lang: zh
jurisdiction: CN
status: approved
version: 2
refs: [reg-test-privacy]
questions: [对方说打错了怎么办, 他说不认识这个人]
---

## Situation
接电话的人说不认识客户。

## Say
- 不好意思打扰您了，我核实一下号码。
- 如果打错了，我们会更新记录，不会再打扰您。

## Do
- 在系统里标记号码可能有误。

## Don't
- 不要向对方提起任何欠款信息。

## Why
不能向无关的人透露客户的信息（《个人信息保护法》第十条）。
"""


def write(root: Path, topic: str, name: str, text: str | bytes) -> Path:
    path = root / topic / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def kb(tmp_path) -> Path:
    """A tiny valid knowledge base: one regulation and one script that cites it."""
    write(tmp_path, "privacy_data_protection", "reg-test-privacy", REGULATION)
    write(tmp_path, "wrong_number", "test-wrong-number-zh", SCRIPT)
    return tmp_path


def problems(root: Path) -> list:
    with pytest.raises(EntryError) as caught:
        load_entries(root)
    return caught.value.problems


def only_problem(root: Path):
    found = problems(root)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_a_valid_knowledge_base_loads_with_every_field(kb):
    entries = {e.id: e for e in load_entries(kb)}
    script = entries["test-wrong-number-zh"]
    assert (script.topic, script.kind, script.lang, script.jurisdiction, script.status, script.version) == (
        "wrong_number", "script", "zh", "CN", "approved", 2)
    assert script.refs == ("reg-test-privacy",)
    assert script.questions == ("对方说打错了怎么办", "他说不认识这个人")
    assert script.say == ("不好意思打扰您了，我核实一下号码。", "如果打错了，我们会更新记录，不会再打扰您。")
    assert script.dont == ("不要向对方提起任何欠款信息。",)
    assert entries["reg-test-privacy"].citation == "《个人信息保护法》第十条"


def test_the_documented_example_entry_parses():
    doc = (REPO / "docs" / "entry-format.md").read_text(encoding="utf-8")
    example = re.search(r"```markdown\n(.*?)```", doc, re.S).group(1)
    entry = parse_entry(example, "docs/entry-format.md")
    assert entry.topic == "discount_request"
    assert entry.say and entry.do and entry.dont and entry.why


def test_missing_front_matter(kb):
    path = write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.split("---", 2)[2])
    problem = only_problem(kb)
    assert problem.path == str(path)
    assert problem.field == "front matter"
    assert "missing" in problem.reason


def test_bad_yaml(kb):
    write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.replace("refs: [reg-test-privacy]", "refs: [reg-test"))
    problem = only_problem(kb)
    assert problem.path.endswith("test-wrong-number-zh.md")
    assert (problem.field, problem.reason.split(" (")[0]) == ("front matter", "invalid YAML")


def test_unknown_topic(kb):
    write(kb, "weather", "test-wrong-number-zh", SCRIPT.replace("topic: wrong_number", "topic: weather"))
    (kb / "wrong_number" / "test-wrong-number-zh.md").unlink()
    problem = only_problem(kb)
    assert problem.field == "topic"
    assert "unknown topic 'weather'" in problem.reason


@pytest.mark.parametrize(("field", "good", "bad"), [
    ("kind", "script", "checklist"),
    ("lang", "zh", "fr"),
    ("status", "approved", "published"),
    ("jurisdiction", "CN", "UK"),
])
def test_a_value_outside_the_allowed_set(kb, field, good, bad):
    write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.replace(f"{field}: {good}", f"{field}: {bad}"))
    problem = only_problem(kb)
    assert problem.field == field
    assert repr(bad) in problem.reason and "is not one of" in problem.reason


@pytest.mark.parametrize("field", ["id", "title", "version", "refs"])
def test_a_required_field_is_missing(kb, field):
    text = re.sub(rf"^{field}: .*\n", "", SCRIPT, flags=re.M)
    write(kb, "wrong_number", "test-wrong-number-zh", text)
    problem = only_problem(kb)
    assert (problem.field, problem.reason) == (field, "required field is missing")


def test_a_bad_version(kb):
    write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.replace("version: 2", "version: two"))
    assert only_problem(kb).field == "version"


@pytest.mark.parametrize(("section", "field"), [("Say", "## Say"), ("Why", "## Why"), ("Don't", "## Don't")])
def test_a_script_missing_a_section(kb, section, field):
    text = re.sub(rf"## {re.escape(section)}\n.*?(?=\n## |\Z)", "", SCRIPT, flags=re.S)
    write(kb, "wrong_number", "test-wrong-number-zh", text)
    problem = only_problem(kb)
    assert problem.field == field
    assert "required for kind script" in problem.reason


@pytest.mark.parametrize(("text", "field"), [
    (REGULATION.split("## Rule")[0], "## Rule"),
    (REGULATION.replace("citation: 《个人信息保护法》第十条\n", ""), "citation"),
])
def test_a_regulation_needs_its_rule_and_citation(kb, text, field):
    write(kb, "privacy_data_protection", "reg-test-privacy", text)
    found = {(Path(p.path).name, p.field) for p in problems(kb)}
    # the broken regulation is named, and so is the script whose ref no longer resolves
    assert found == {("reg-test-privacy.md", field), ("test-wrong-number-zh.md", "refs")}


def test_a_section_without_list_items(kb):
    text = SCRIPT.replace("- 在系统里标记号码可能有误。", "在系统里标记号码可能有误。")
    write(kb, "wrong_number", "test-wrong-number-zh", text)
    problem = only_problem(kb)
    assert problem.field == "## do" and "list items" in problem.reason


def test_an_unknown_section_heading(kb):
    write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.replace("## Why", "## Reasons"))
    problem = only_problem(kb)
    assert problem.field == "body" and "Reasons" in problem.reason


def test_dangling_ref(kb):
    write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.replace("refs: [reg-test-privacy]", "refs: [reg-made-up]"))
    problem = only_problem(kb)
    assert problem.path.endswith("test-wrong-number-zh.md")
    assert (problem.field, problem.reason) == ("refs", "dangling ref 'reg-made-up'")


def test_a_ref_must_point_to_a_regulation(kb):
    other = SCRIPT.replace("id: test-wrong-number-zh", "id: test-wrong-number-two-zh").replace(
        "refs: [reg-test-privacy]", "refs: [test-wrong-number-zh]")
    write(kb, "wrong_number", "test-wrong-number-two-zh", other)
    problem = only_problem(kb)
    assert problem.field == "refs" and "not a regulation" in problem.reason


def test_duplicate_ids(kb):
    # Same id in two topic folders: each file is fine on its own, the pair is not.
    dup = SCRIPT.replace("topic: wrong_number", "topic: identity_verification")
    write(kb, "identity_verification", "test-wrong-number-zh", dup)
    problem = only_problem(kb)
    assert problem.field == "id"
    assert "duplicate id" in problem.reason
    assert {"identity_verification", "wrong_number"} <= set(re.findall(r"[a-z_]+(?=/test-wrong)", str(problem)))


def test_file_name_and_folder_must_match_id_and_topic(kb):
    write(kb, "wrong_number", "renamed", SCRIPT)
    (kb / "wrong_number" / "test-wrong-number-zh.md").unlink()
    assert only_problem(kb).field == "id"
    write(kb, "identity_verification", "test-wrong-number-zh", SCRIPT)
    (kb / "wrong_number" / "renamed.md").unlink()
    problem = only_problem(kb)
    assert problem.field == "topic" and "differs from the folder" in problem.reason


@pytest.mark.parametrize(("pair", "reason"), [
    ("test-nowhere-en", "unknown entry"),
    ("reg-test-privacy", "other-language entry pointing back"),  # exists, but same language and no pair back
])
def test_bad_pair(kb, pair, reason):
    write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.replace("questions:", f"pair: {pair}\nquestions:"))
    problem = only_problem(kb)
    assert problem.field == "pair" and reason in problem.reason


def test_a_mutual_pair_in_two_languages_is_fine(kb):
    chinese = SCRIPT.replace("questions:", "pair: test-wrong-number-en\nquestions:")
    write(kb, "wrong_number", "test-wrong-number-zh", chinese)
    english = (SCRIPT.replace("id: test-wrong-number-zh", "id: test-wrong-number-en").replace("lang: zh", "lang: en")
               .replace("questions:", "pair: test-wrong-number-zh\nquestions:"))
    write(kb, "wrong_number", "test-wrong-number-en", english)
    assert len(load_entries(kb)) == 3


def test_not_utf8(kb):
    write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.encode("gb18030"))
    problem = only_problem(kb)
    assert (problem.field, problem.reason) == ("file", "not UTF-8 text")


def test_too_big(kb):
    padding = "\n".join(f"- 第{i}条：不要向对方提起任何欠款信息。" for i in range(MAX_FILE_BYTES // 40))
    write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.replace("## Why", padding + "\n\n## Why"))
    problem = only_problem(kb)
    assert problem.field == "file" and "larger than" in problem.reason


def test_every_problem_is_reported_at_once(kb):
    write(kb, "wrong_number", "test-wrong-number-zh", SCRIPT.replace("lang: zh", "lang: fr"))
    write(kb, "scam_suspicion", "test-broken", "no front matter here")
    found = problems(kb)
    assert {(Path(p.path).name, p.field) for p in found} == {("test-wrong-number-zh.md", "lang"),
                                                            ("test-broken.md", "front matter")}
    message = str(EntryError(found))
    assert "test-broken.md: front matter:" in message


def test_only_approved_in_date_entries_reach_agents(kb):
    write(kb, "wrong_number", "test-draft-zh", SCRIPT.replace("id: test-wrong-number-zh", "id: test-draft-zh")
          .replace("status: approved", "status: draft"))
    write(kb, "wrong_number", "test-expired-zh", SCRIPT.replace("id: test-wrong-number-zh", "id: test-expired-zh")
          .replace("questions:", "expires: 2020-01-01\nquestions:"))
    source = FileEntrySource(kb)
    assert len(source.list_all()) == 4
    assert {e.id for e in source.list_approved()} == {"reg-test-privacy", "test-wrong-number-zh"}


def test_the_shipped_knowledge_base_validates():
    entries = load_entries(ENTRIES_DIR)
    assert len(entries) >= 150
    assert len({e.id for e in entries}) == len(entries)
