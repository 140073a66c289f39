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
