"""Word files through python-docx, its one importer: read for ingest, written for export.

Reading turns a .docx into plain text in reading order (paragraphs and tables, as the body holds
them) with Markdown-style heading marks for paragraphs in a Heading style, and table rows as
`a | b | c` lines, so the layout reader sees the same cues it sees in Markdown.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.opc.exceptions import PackageNotFoundError
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

_HEADING_STYLE = re.compile(r"^(?:Heading|Überschrift|Titre)\s*(\d)$", re.IGNORECASE)


def new_document(title: str, font_pt: float = 10) -> DocumentObject:
    """A blank Word document with narrow margins, `title` as its title property and body size."""
    doc = Document()
    for section in doc.sections:
        section.top_margin = section.bottom_margin = Cm(1.6)
        section.left_margin = section.right_margin = Cm(1.8)
    doc.core_properties.title = title
    doc.styles["Normal"].font.size = Pt(font_pt)
    return doc


def to_bytes(doc: DocumentObject) -> bytes:
    """The saved .docx file of `doc`."""
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _paragraph_text(p: Paragraph) -> str:
    text = p.text.strip()
    if not text:
        return ""
    style = p.style.name if p.style is not None else ""
    if style == "Title":
        return f"# {text}"
    if m := _HEADING_STYLE.match(style):
        return f"{'#' * min(int(m.group(1)) + 1, 6)} {text}"
    return text


def _table_lines(t: Table) -> list[str]:
    lines = []
    for row in t.rows:
        cells: list[str] = []
        for cell in row.cells:
            # A merged cell repeats across the columns it spans; keep it once.
            text = " ".join(cell.text.split())
            if not cells or text != cells[-1]:
                cells.append(text)
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def read_docx(path: Path) -> tuple[str, str]:
    """The text of a .docx in reading order, and its title property ("" when unset)."""
    try:
        doc = Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError) as exc:
        # One error type for every way a file is not a Word document.
        raise ValueError(f"not a readable .docx ({type(exc).__name__}: {exc})") from exc
    blocks: list[str] = []
    for item in doc.iter_inner_content():
        if isinstance(item, Paragraph):
            if text := _paragraph_text(item):
                blocks.append(text)
        elif isinstance(item, Table):
            blocks.append("\n".join(_table_lines(item)))
    title = (doc.core_properties.title or "").strip()
    return "\n\n".join(b for b in blocks if b), title
