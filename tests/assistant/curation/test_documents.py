"""Reading training material: real .docx/.pptx/.pdf files made with python-docx, python-pptx and
reportlab; clear errors for malformed, empty, password-protected and huge files; the dry run's JSON
contract for all five types."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from assistant import Settings
from assistant.curation.documents import (
    MAX_DOCUMENT_BYTES,
    MAX_PDF_PAGES,
    MAX_TEXT_CHARS,
    MAX_UNPACKED_BYTES,
    DocumentError,
    read_document,
)
from guardrails.vetting import sections, split_passages
from tests.assistant.cli.runner import coach

COERCIVE_ZH = "今天不还钱，我们就打电话给你父母和单位领导，让他们都知道你欠钱不还。"
SOUND_ZH = "客户要求减免利息时，先感谢客户愿意沟通，再说明减免要按公司政策申请，不能在电话里当场承诺。"
SOUND_EN = ("When a customer asks for a discount, thank them for calling and explain that any waiver follows "
            "the written policy.")


def make_docx(path: Path, heading: str, paragraphs: list[str], table: list[list[str]] = ()) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    document.save(str(path))
    return path


def make_pptx(path: Path, title: str, bullets: list[str], notes: str = "", table: list[list[str]] = ()) -> Path:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
    slide.shapes.title.text = title
    body = slide.placeholders[1].text_frame
    body.text = bullets[0]
    for text in bullets[1:]:
        body.add_paragraph().text = text
    if notes:
        slide.notes_slide.notes_text_frame.text = notes
    if table:
        from pptx.util import Inches

        shape = deck.slides.add_slide(deck.slide_layouts[6]).shapes.add_table(
            len(table), len(table[0]), Inches(1), Inches(1), Inches(6), Inches(2))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                shape.table.cell(r, c).text = text
    deck.save(str(path))
    return path


def make_pdf(path: Path, lines: list[str], pages: int = 1) -> Path:
    """A real text PDF (reportlab, with its built-in Chinese CID font); pypdf reads text but cannot write it."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    for _ in range(pages):
        y = 760
        for line in lines:
            pdf.setFont("STSong-Light", 11)
            pdf.drawString(40, y, line)
            y -= 20
        pdf.showPage()
    pdf.save()
    return path


def encrypted(path: Path, source: Path, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(source)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    with path.open("wb") as f:
        writer.write(f)
    return path


def test_a_docx_reads_as_its_paragraphs_and_tables_in_order(tmp_path):
    path = make_docx(tmp_path / "deck.docx", "减免请求", [SOUND_ZH, SOUND_EN],
                     table=[["场景", "Stay calm and repeat the official payment channels."]])
    passages = sections(read_document(path))
    assert passages[:2] == [("减免请求", SOUND_ZH), ("减免请求", SOUND_EN)]  # the heading names them, glued to none
    assert ("减免请求", "Stay calm and repeat the official payment channels.") in passages


def test_a_pptx_reads_as_its_slides_bullets_speaker_notes_and_tables(tmp_path):
    path = make_pptx(tmp_path / "deck.pptx", "Discount requests", [SOUND_EN, SOUND_ZH],
                     notes="Never promise a waiver the policy does not allow.",
                     table=[["场景", "Offer only the official payment channels."]])
    passages = sections(read_document(path))
    assert passages[:2] == [("Discount requests", SOUND_EN), ("Discount requests", SOUND_ZH)]  # the slide's title
    assert ("Discount requests", "Never promise a waiver the policy does not allow.") in passages
    assert ("Discount requests", "Offer only the official payment channels.") in passages


def test_a_pdf_reads_as_its_text_with_lines_broken_mid_sentence_joined(tmp_path):
    path = make_pdf(tmp_path / "deck.pdf", [SOUND_ZH[:20], SOUND_ZH[20:], "Explain that any waiver follows",
                                            "the written policy."])
    passages = split_passages(read_document(path))
    assert SOUND_ZH in passages
    assert "Explain that any waiver follows the written policy." in passages


def test_a_pdf_with_only_an_owner_password_still_reads(tmp_path):
    plain = make_pdf(tmp_path / "plain.pdf", [SOUND_EN[:60], SOUND_EN[60:]])
    restricted = encrypted(tmp_path / "restricted.pdf", plain, user_password="")
    assert read_document(restricted) == read_document(plain)


def written(data: bytes):
    def make(path: Path) -> Path:
        path.write_bytes(data)
        return path

    return make


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("word/document.xml", b"\0" * (MAX_UNPACKED_BYTES + 1))
    return path


def _dense_part(path: Path) -> Path:
    """A deck far under the size limits whose one part unpacks to 200 times its packed size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ppt/slides/slide1.xml", b" " * 5_000_000)
    return path


def _not_a_docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "a zip, but not a Word document")
    return path


def _ole(path: Path) -> Path:
    # Office saves a password-protected .docx/.pptx inside an OLE compound file (this signature), not a zip
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    return path


def _huge(path: Path) -> Path:
    with path.open("wb") as f:  # sparse: no disk is used
        f.truncate(MAX_DOCUMENT_BYTES + 1)
    return path


def _blank_pdf(path: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with path.open("wb") as f:
        writer.write(f)
    return path


def _many_pages(path: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(MAX_PDF_PAGES + 1):
        writer.add_blank_page(width=595, height=842)
    with path.open("wb") as f:
        writer.write(f)
    return path


BAD_FILES = {
    "random bytes as .docx": ("x.docx", written(b"PK-not-really" * 50), "not a valid .docx"),
    "a zip that is no Word document": ("x.docx", _not_a_docx, "not a readable .docx"),
    "garbage as .pdf": ("x.pdf", written(b"%PDF-1.4\n garbage"), "not a readable PDF"),
    "a truncated .pptx": ("x.pptx", written(b"PK\x03\x04" + b"\0" * 40), "not a valid .pptx"),
    "an empty file": ("x.pdf", written(b""), "the file is empty"),
    "a docx with no text": ("x.docx", lambda p: make_docx(p, "", []), "no text found"),
    "a pptx with no text": ("x.pptx", lambda p: make_pptx(p, "", [""]), "no text found"),
    "a scanned (text-less) pdf": ("x.pdf", _blank_pdf, "scanned PDF needs OCR"),
    "a password-protected pdf": ("x.pdf", lambda p: encrypted(p, make_pdf(p.with_name("o.pdf"), [SOUND_EN]),
                                                              "secret"), "password-protected"),
    "a password-protected docx": ("x.docx", _ole, "password-protected"),
    "a huge file": ("x.pptx", _huge, "larger than the 20 MB limit"),
    "a zip bomb": ("x.docx", _zip_bomb, "unpacks to"),
    "a part packed too densely": ("x.pptx", _dense_part, "times: not a normal document"),
    "a missing file": ("x.docx", lambda p: p, "no such file"),
    "text that is not UTF-8": ("x.txt", written("培训材料".encode("gb18030")), "not UTF-8 text"),
    "an empty Markdown file": ("x.md", written(b""), "the file is empty"),
    "a blank text file": ("x.txt", written(b" \n\n \t\n"), "no text found"),
    "too much text": ("x.txt", written(b"x" * (MAX_TEXT_CHARS + 1)), "characters of text is more than"),
    "no file type": ("notes", written(b"some notes"), "unsupported file type '(none)'"),
    "too many pages": ("x.pdf", _many_pages, "page limit"),
    "a spreadsheet": ("x.xlsx", written(b"PK"), "unsupported file type '.xlsx'"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_gets_an_error_naming_the_file_and_the_problem(tmp_path, case):
    name, make, message = BAD_FILES[case]
    path = make(tmp_path / name)
    with pytest.raises(DocumentError) as error:
        read_document(path)
    assert message in str(error.value) and name in str(error.value)


def test_the_dry_run_of_a_bad_file_is_bad_input_and_stores_nothing(tmp_path):
    path = BAD_FILES["a password-protected pdf"][1](tmp_path / "locked.pdf")
    done = coach("kb", "import", str(path), "--dry-run", "--json")
    assert done.exit_code == 2 and "locked.pdf: the PDF is password-protected" in done.stderr
    assert done.stdout == ""
    assert not [p for p in Settings().data_dir.rglob("*") if p.is_file()]  # no store, no index: nothing written


def _five_types(tmp_path: Path) -> dict[str, Path]:
    text = f"{SOUND_ZH}\n\n{COERCIVE_ZH}\n\n{SOUND_EN}\n"
    (tmp_path / "deck.txt").write_text(text, encoding="utf-8")
    (tmp_path / "deck.md").write_text(f"# 培训\n\n{text}", encoding="utf-8")
    return {
        "txt": tmp_path / "deck.txt",
        "md": tmp_path / "deck.md",
        "docx": make_docx(tmp_path / "deck.docx", "培训", [SOUND_ZH, COERCIVE_ZH, SOUND_EN]),
        "pptx": make_pptx(tmp_path / "deck.pptx", "培训", [SOUND_ZH, COERCIVE_ZH, SOUND_EN]),
        "pdf": make_pdf(tmp_path / "deck.pdf", [SOUND_ZH, COERCIVE_ZH[:20], COERCIVE_ZH[20:], SOUND_EN[:60],
                                                SOUND_EN[60:]]),
    }


@pytest.mark.slow
def test_the_dry_run_prints_the_same_contract_for_all_five_types(tmp_path):
    for kind, path in _five_types(tmp_path).items():
        done = coach("kb", "import", str(path), "--dry-run", "--json")
        assert done.exit_code == 0, (kind, done.stderr)
        passages = json.loads(done.stdout)["passages"]
        assert all(set(p) == {"text", "heading", "verdict", "categories", "reasons"} for p in passages), kind
        verdicts = {p["text"]: p["verdict"] for p in passages}
        coercive = [v for text, v in verdicts.items() if COERCIVE_ZH in text]
        assert coercive == ["violation"], (kind, verdicts)
        assert [v for text, v in verdicts.items() if SOUND_EN in text] == ["ok"], (kind, verdicts)
        assert [v for text, v in verdicts.items() if SOUND_ZH in text] == ["ok"], (kind, verdicts)
    assert not (Settings().data_dir / "coach.db").exists()  # a dry run stores nothing

