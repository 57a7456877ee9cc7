"""Training material as plain text: .txt, .md, .docx, .pptx and .pdf (python-docx, python-pptx, pypdf).

>>> text = read_document(Path("deck.pptx"))     # DocumentError (a ValueError) says what is wrong

The text keeps the document's structure the way guardrails.vetting.split_passages reads it: one line
per paragraph (lines broken mid-sentence are joined back there), a blank line between sections
(a Word heading's section, a slide, its speaker notes, a table cell, a PDF page), and a Word heading or a
slide title as a Markdown heading line ("# 客户要求减免"), which names the drafts of its section. The
guardrails only ever see this text, never the libraries.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

SUFFIXES = (".txt", ".md", ".docx", ".pptx", ".pdf")
MAX_DOCUMENT_BYTES = 20_000_000
MAX_UNPACKED_BYTES = 30_000_000  # a .docx/.pptx is a zip: refuse one that unpacks to more (a zip bomb)
MAX_RATIO = 100  # ... or any of whose parts unpacks to more than 100 times its packed size
MAX_PDF_PAGES = 1000
MAX_TEXT_CHARS = 2_000_000  # about 1,000 pages of prose; more is not one deck of training material
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of password-protected Office files (and .doc/.ppt)


class DocumentError(ValueError):
    """A document that cannot be read as training material; the message names the file and why."""


def read_document(path: Path) -> str:
    """The text of a .txt, .md, .docx, .pptx or .pdf file; DocumentError for missing, unsupported,
    huge, malformed, password-protected or textless files."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(f"{path.name}: unsupported file type {path.suffix or '(none)'!r} "
                            f"(use {', '.join(SUFFIXES)})")
    if not path.is_file():
        raise DocumentError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"{path.name}: {size / 1e6:.0f} MB is larger than the "
                            f"{MAX_DOCUMENT_BYTES // 1_000_000} MB limit; split the document")
    if size == 0:
        raise DocumentError(f"{path.name}: the file is empty")
    if suffix in (".txt", ".md"):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DocumentError(f"{path.name}: not UTF-8 text") from None
    else:
        text = "\n\n".join(block for block in _READERS[suffix](path) if block.strip())
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentError(f"{path.name}: {len(text):,} characters of text is more than the "
                            f"{MAX_TEXT_CHARS:,} limit; split the document")
    if not text.strip():
        hint = " (a scanned PDF needs OCR first)" if suffix == ".pdf" else ""
        raise DocumentError(f"{path.name}: no text found{hint}")
    return text


def _check_office_zip(path: Path) -> None:
    """A .docx/.pptx must be a zip of sensible size; a password-protected one is an OLE container."""
    with path.open("rb") as f:
        if f.read(8) == _OLE_MAGIC:
            raise DocumentError(f"{path.name}: password-protected (or an old binary .doc/.ppt file); "
                                "save it without a password as .docx/.pptx and upload again")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            unpacked = sum(info.file_size for info in members)
            bomb = next((i for i in members if i.file_size > 1_000_000
                         and i.file_size > MAX_RATIO * max(i.compress_size, 1)), None)
    except zipfile.BadZipFile:
        raise DocumentError(f"{path.name}: not a valid {path.suffix} file (damaged or not an Office "
                            "document)") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise DocumentError(f"{path.name}: unpacks to {unpacked / 1e6:.0f} MB, more than the "
                            f"{MAX_UNPACKED_BYTES // 1_000_000} MB limit")
    if bomb is not None:
        raise DocumentError(f"{path.name}: part {bomb.filename} unpacks to {bomb.file_size / 1e6:.0f} MB from "
                            f"{bomb.compress_size / 1e3:.0f} KB, more than {MAX_RATIO} times: not a normal document")


def _open_office(path: Path, open_document):
    """A .docx or .pptx opened by its library, after the zip itself passed the size checks."""
    _check_office_zip(path)
    try:
        return open_document(str(path))
    except Exception as exc:  # python-docx/-pptx raise KeyError, PackageNotFoundError, lxml errors, ...
        raise DocumentError(f"{path.name}: not a readable {path.suffix} file ({type(exc).__name__}: {exc})") from None


def _docx_blocks(path: Path) -> Iterator[str]:
    import docx
    from docx.table import Table

    document = _open_office(path, docx.Document)
    lines: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            yield "\n".join(lines)
            lines = []
            yield from (cell.text for row in item.rows for cell in row.cells)  # a cell is a paragraph
            continue
        if item.style is not None and item.style.name.lower().startswith(("heading", "title")) and item.text.strip():
            yield "\n".join(lines)  # a heading starts a new section, and names it
            lines = [_heading(item.text)]
            continue
        lines.append(item.text)
    yield "\n".join(lines)


def _heading(text: str) -> str:
    """A document's heading as the Markdown heading line the passage splitter reads as a section's name."""
    return "# " + " ".join(text.split())


def _shape_texts(shapes) -> Iterator[str]:
    from pptx.shapes.group import GroupShape

    for shape in shapes:
        if isinstance(shape, GroupShape):  # its shapes, in order
            yield from _shape_texts(shape.shapes)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield from (p.text for p in shape.text_frame.paragraphs)
        elif getattr(shape, "has_table", False) and shape.has_table:
            yield from (f"\n{cell.text}\n" for row in shape.table.rows for cell in row.cells)  # a cell apart


def _pptx_blocks(path: Path) -> Iterator[str]:
    import pptx

    deck = _open_office(path, pptx.Presentation)
    for slide in deck.slides:
        title = slide.shapes.title  # the title placeholder, if the layout has one
        named = title is not None and title.has_text_frame and title.text_frame.text.strip()
        heading = [_heading(title.text_frame.text)] if named else []
        yield "\n".join([*heading, *_shape_texts(s for s in slide.shapes if not named or s.shape_id != title.shape_id)])
        if slide.has_notes_slide:  # trainers often put the actual advice in the speaker notes
            yield slide.notes_slide.notes_text_frame.text


def _pdf_blocks(path: Path) -> Iterator[str]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError, PyPdfError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # restrictions only (no open password) still read
            except (DependencyError, NotImplementedError):
                opened = 0
            if not opened:
                raise DocumentError(f"{path.name}: the PDF is password-protected; remove the password and "
                                    "upload again")
        pages = len(reader.pages)
    except DocumentError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"{path.name}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    if pages > MAX_PDF_PAGES:
        raise DocumentError(f"{path.name}: {pages} pages, more than the {MAX_PDF_PAGES} page limit")
    for number, page in enumerate(reader.pages, 1):
        try:
            yield page.extract_text() or ""
        except Exception as exc:  # pypdf's content-stream parser raises many kinds on a damaged page
            raise DocumentError(f"{path.name}: page {number} cannot be read ({type(exc).__name__}: {exc})") from None


_READERS = {".docx": _docx_blocks, ".pptx": _pptx_blocks, ".pdf": _pdf_blocks}
