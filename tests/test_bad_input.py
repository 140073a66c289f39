"""Bad input: each kind gets a clear message, the rest still ingests, and the index stays intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fpdf.enums import EncryptionMethod
from pypdf import PdfWriter

from rag.assistant import Assistant
from rag.core import errors
from rag.ingest import reading as ingest
from tests.conftest import CORPUS, make_settings
from tests.pdf_factory import write_image_only, write_lines, write_pages

GOOD = "hampshire-baby-sally-response"


def _pdf(out: Path, **encryption) -> Path:
    from tests.pdf_factory import _new

    pdf = _new(running=False)
    if encryption:
        pdf.set_encryption(**encryption)
    pdf.add_page()
    pdf.multi_cell(0, 5, "Recommendation 1: agencies should share information promptly.")
    pdf.output(str(out))
    return out


def encrypted(folder: Path) -> Path:
    return _pdf(
        folder / "locked.pdf",
        owner_password="owner",
        user_password="secret",
        encryption_method=EncryptionMethod.AES_256,
    )


def truncated(folder: Path) -> Path:
    whole = write_lines_pdf(folder / "whole.tmp")
    data = whole.read_bytes()
    whole.unlink()
    out = folder / "truncated.pdf"
    out.write_bytes(data[: len(data) // 2])
    return out


def corrupt(folder: Path) -> Path:
    out = folder / "corrupt.pdf"
    out.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    return out


def image_only(folder: Path) -> Path:
    out = folder / "scanned.pdf"
    write_image_only(out)
    return out


def empty_file(folder: Path) -> Path:
    out = folder / "empty.md"
    out.write_bytes(b"")
    return out


def blank_text(folder: Path) -> Path:
    out = folder / "blank.txt"
    out.write_text(" \n\n\t\n", encoding="utf-8")
    return out


def zero_pages(folder: Path) -> Path:
    out = folder / "no-pages.pdf"
    with out.open("wb") as fh:
        PdfWriter().write(fh)
    return out


def unsupported(folder: Path) -> Path:
    out = folder / "minutes.odt"
    out.write_bytes(b"PK\x03\x04 an OpenDocument file")
    return out


def broken_docx(folder: Path) -> Path:
    out = folder / "minutes.docx"
    out.write_bytes(b"PK\x03\x04 not really a word document")
    return out


def not_utf8(folder: Path) -> Path:
    out = folder / "latin1.txt"
    out.write_bytes("Recommendation 1: the café staff".encode("latin-1"))
    return out


def too_large(folder: Path) -> Path:
    out = folder / "huge.txt"
    out.write_text("Recommendation 1: a very long review.\n" * 60_000, encoding="utf-8")
    return out


def duplicate(folder: Path) -> Path:
    out = folder / "zz-copy-of-sally.md"
    shutil.copy(CORPUS / f"{GOOD}.md", out)
    return out


def write_lines_pdf(out: Path) -> Path:
    write_lines((CORPUS / "hampshire-child-p-response.md").read_text(encoding="utf-8"), out)
    return out


CASES = {
    "encrypted": (encrypted, errors.EncryptedDocument, "encrypted PDF"),
    "truncated": (truncated, errors.CorruptDocument, "corrupt or truncated"),
    "corrupt": (corrupt, errors.CorruptDocument, "corrupt or truncated"),
    "image_only": (image_only, errors.NeedsOCR, "needs OCR"),
    "empty_file": (empty_file, errors.EmptyDocument, "no text"),
    "blank_text": (blank_text, errors.EmptyDocument, "no text"),
    "zero_pages": (zero_pages, errors.EmptyDocument, "zero pages"),
    "unsupported": (unsupported, errors.UnsupportedFormat, "unsupported file type"),
    "broken_docx": (broken_docx, errors.CorruptDocument, "corrupt or truncated"),
    "not_utf8": (not_utf8, errors.NotUtf8, "not UTF-8"),
    "too_large": (too_large, errors.TooLarge, "over the size limit"),
    "duplicate": (duplicate, errors.DuplicateDocument, f"same text as {GOOD}"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_file_is_reported_and_the_rest_loads(case, tmp_path):
    make, error, message = CASES[case]
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(CORPUS / f"{GOOD}.md", folder)
    bad = make(folder)
    settings = make_settings(tmp_path, max_file_mb=1.0)
    loaded = ingest.load([folder], settings)
    assert [d.id for d in loaded.documents] == [GOOD]
    assert len(loaded.failures) == 1
    failure = loaded.failures[0]
    assert type(failure) is error
    assert failure.path == str(bad)
    assert message in str(failure)
    assert str(failure).startswith(str(bad))


def test_owner_only_encryption_still_reads(tmp_path):
    """Many published reports forbid editing with an owner password but open for anyone."""
    out = _pdf(
        tmp_path / "restricted.pdf",
        owner_password="owner",
        encryption_method=EncryptionMethod.AES_256,
    )
    doc = ingest.read_document(out, {}, make_settings(tmp_path))
    assert "agencies should share information promptly" in doc.text


def test_same_id_twice_is_reported(tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(CORPUS / f"{GOOD}.md", folder)
    write_pages([["Another review with the same file name."]], folder / "sub" / f"{GOOD}.pdf")
    loaded = ingest.load([folder], make_settings(tmp_path))
    assert [d.id for d in loaded.documents] == [GOOD]
    assert "same id" in str(loaded.failures[0])


def test_bad_files_leave_the_index_intact(tmp_path, embedder):
    """A run full of bad files writes nothing, and every answer stays exactly as it was."""
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(CORPUS / f"{GOOD}.md", folder)
    pipe = Assistant(make_settings(tmp_path, max_file_mb=1.0), embedder=embedder)
    assert pipe.ingest([folder]).sync.added == (GOOD,)
    questions = [
        "What did the Baby Sally review recommend about fathers?",
        "What was Recommendation 1 of the Baby Sally review?",
    ]
    before = [pipe.ask(q).to_json() for q in questions]
    gen = pipe.store.active_generation()

    for make, _, _ in CASES.values():
        make(folder)
    report = pipe.ingest([folder])
    assert sorted(type(f).__name__ for f in report.failures) == sorted(
        e.__name__ for _, e, _ in CASES.values()
    )
    assert report.sync.unchanged == (GOOD,)
    assert not report.sync.wrote and pipe.store.active_generation() == gen
    assert [pipe.ask(q).to_json() for q in questions] == before
    assert any(not a["abstained"] for a in before)
