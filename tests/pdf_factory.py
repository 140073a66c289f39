"""Real PDFs for the tests, written with fpdf2 from corpus text."""

from __future__ import annotations

import re
from pathlib import Path

from fpdf import FPDF

# Debian's fonts-dejavu-core, present on every machine of this project's kind; fpdf2's built-in
# fonts cannot write the corpus's curly quotes and dashes.
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
HEADER = "Child P: response to the recommendations (HSCP)"
_REC_LINE = re.compile(r"^(Recommendation \w+):?")
_GROUP_LINE = re.compile(r"^Recommendations for .+")
SEP = " › "


class _Report(FPDF):
    """A report page with a running header and a 'Page N of M' footer."""

    running = True

    def header(self):
        if self.running:
            self.set_font("body", size=7)
            self.cell(0, 5, HEADER, new_x="LMARGIN", new_y="NEXT")
            self.ln(3)
            self.set_font("body", size=8.5)

    def footer(self):
        if self.running:
            self.set_y(-15)
            self.set_font("body", size=7)
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")
            self.set_font("body", size=8.5)


def _new(running: bool = True) -> _Report:
    if not FONT.exists():
        raise FileNotFoundError(f"{FONT} is missing: apt-get install fonts-dejavu-core")
    pdf = _Report(format="A4")
    pdf.running = running
    pdf.add_font("body", fname=str(FONT))
    pdf.set_font("body", size=8.5)
    pdf.set_auto_page_break(True, margin=20)
    return pdf


def write_lines(text: str, out: Path, running: bool = True) -> dict[str, int]:
    """Write `text` keeping its line breaks (a blank line is a paragraph gap).

    Returns the page each recommendation heading was written on, keyed "Group › Recommendation N".
    """
    pdf = _new(running)
    pdf.add_page()
    pages: dict[str, int] = {}
    group = ""
    for line in text.splitlines():
        if not line.strip():
            pdf.ln(4)
            continue
        if _GROUP_LINE.match(line):
            group = line.strip()
        if m := _REC_LINE.match(line):
            # A heading never sits alone at the foot of a page.
            if pdf.will_page_break(12):
                pdf.add_page()
            pages[f"{group}{SEP}{m[1]}" if group else m[1]] = pdf.page_no()
        pdf.multi_cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(out))
    return pages


def write_pages(pages: list[list[str]], out: Path, running: bool = False) -> None:
    """Write each inner list as one page, one string per line."""
    pdf = _new(running)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            if line:
                pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.ln(4)
    pdf.output(str(out))


def write_image_only(out: Path, pages: int = 2) -> None:
    """A scanned-looking PDF: each page is a picture, with no text layer."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (600, 300), "white")
    ImageDraw.Draw(img).text((20, 20), "Recommendation 1: scanned text", fill="black")
    pdf = _new(running=False)
    for _ in range(pages):
        pdf.add_page()
        pdf.image(img, x=10, y=10, w=180)
    pdf.output(str(out))


BOLD = FONT.with_name("DejaVuSans-Bold.ttf")


def write_layout(blocks: list[tuple], out: Path, interleave: bool = False) -> None:
    """Write a page from layout blocks, each a tuple whose first item names its kind.

    ("heading", text, size) a bold heading in a larger font; ("bold", text) a bold body-size
    line; ("para", text) body prose, **bold** inline; ("pairs", [(label, value)]) and
    ("bullets", items) rows of two placed texts; ("table", rows, widths) a ruled table;
    ("columns", text, height) two text columns of `height` mm, written column by column, or
    baseline by baseline across both columns when `interleave`; ("page",) a new page.
    """
    pdf = _new(running=False)
    pdf.add_font("body", style="B", fname=str(BOLD))
    pdf.set_font("body", size=10)
    pdf.add_page()
    for kind, *args in blocks:
        if kind == "heading":
            pdf.set_font("body", "B", args[1])
            pdf.multi_cell(0, args[1] * 0.5, args[0], new_x="LMARGIN", new_y="NEXT")
        elif kind == "bold":
            pdf.set_font("body", "B", 10)
            pdf.multi_cell(0, 5, args[0], new_x="LMARGIN", new_y="NEXT")
        elif kind == "para":
            pdf.set_font("body", size=10)
            pdf.multi_cell(0, 5, args[0], new_x="LMARGIN", new_y="NEXT", markdown=True)
            pdf.ln(3)
        elif kind == "table":
            pdf.set_font("body", size=9)
            with pdf.table(col_widths=args[1], line_height=4.5) as table:
                for row in args[0]:
                    cells = table.row()
                    for cell in row:
                        cells.cell(cell)
            pdf.ln(3)
        elif kind == "columns":
            _columns(pdf, args[0], args[1], interleave)
        elif kind == "pairs":
            _cells(pdf, args[0], (0, 40))
        elif kind == "bullets":
            _cells(pdf, [("•", item) for item in args[0]], (4, 8))
        elif kind == "page":
            pdf.add_page()
    pdf.output(str(out))


def _cells(pdf: FPDF, rows: list[tuple[str, str]], xs: tuple[float, float]) -> None:
    """Rows of two separately placed texts, such as cover-sheet fields or bullets and items."""
    pdf.set_font("body", size=10)
    for first, second in rows:
        y = pdf.get_y()
        pdf.set_xy(pdf.l_margin + xs[0], y)
        pdf.cell(xs[1] - xs[0], 5, first)
        pdf.set_xy(pdf.l_margin + xs[1], y)
        pdf.cell(0, 5, second, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _columns(pdf: FPDF, text: str, height: float, interleave: bool) -> None:
    pdf.set_font("body", size=10)
    gutter = 8
    width = (pdf.epw - gutter) / 2
    if not interleave:
        top = pdf.get_y()
        with pdf.text_columns(
            ncols=2, gutter=gutter, text_align="LEFT", balance=True, line_height=1.42
        ) as cols:
            cols.write(text)
        pdf.set_y(max(pdf.get_y(), top + height))
        return
    # Word-processor output: each baseline holds a line of the left column, then of the right.
    lines = pdf.multi_cell(width, 5, text, dry_run=True, output="LINES")
    half = (len(lines) + 1) // 2
    x = pdf.l_margin
    for left, right in zip(lines[:half], [*lines[half:], ""]):
        y = pdf.get_y()
        pdf.set_xy(x, y)
        pdf.cell(width, 5, left)
        pdf.set_xy(x + width + gutter, y)
        pdf.cell(width, 5, right)
        pdf.set_xy(x, y + 5)
