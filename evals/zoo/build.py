"""Rebuild the binary documents (PDF, DOCX) of the layout zoo from evals/zoo/src/.

Usage:  /tmp/zoo-venv/bin/python evals/zoo/build.py
Needs:  fpdf2, python-docx (pip install fpdf2 python-docx), and the DejaVu fonts
        (Debian package fonts-dejavu-core).

Output is deterministic: fixed creation dates in the PDF metadata and in the DOCX
core properties, and fixed timestamps on the DOCX zip entries.

The source files use a tiny line-based markup:
  # text / ## text        level-1 / level-2 heading
  - text                  bullet item
  blank line              paragraph break
  @cover ... (Key: value lines)   cover-sheet fields (until the next @ line)
  @table w1,w2,...  rows "a | b | c"  @endtable
  @box Title ... @endbox          boxed area
  @columns ... @endcolumns        two-column flowing text
  @title/@subtitle/@subtitle2/@line/@masthead/@big/@para/@marking/@disclaimer text
  @pagebreak, @toc
All content is fictional.
"""

from __future__ import annotations

import io
import os
import sys
import zipfile
from datetime import UTC, datetime

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
DOCS = os.path.join(HERE, "docs")
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_REG = os.path.join(FONT_DIR, "DejaVuSans.ttf")
FONT_BOLD = os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf")
FIXED = datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- parsing
def parse(text: str) -> list:
    lines = text.split("\n")
    pos = 0

    def block_list(end: str | None) -> list:
        nonlocal pos
        out: list = []
        para: list[str] = []
        bullets: list[str] = []

        def flush():
            nonlocal para, bullets
            if para:
                out.append(("p", " ".join(para)))
                para = []
            if bullets:
                out.append(("bullets", bullets))
                bullets = []

        while pos < len(lines):
            raw = lines[pos]
            line = raw.rstrip()
            pos += 1
            if end and line == end:
                flush()
                return out
            if not line.strip():
                flush()
                continue
            if line.startswith("@"):
                flush()
                name, _, arg = line[1:].partition(" ")
                if name == "cover":
                    fields = []
                    while (
                        pos < len(lines) and lines[pos].strip() and not lines[pos].startswith("@")
                    ):
                        k, _, v = lines[pos].partition(":")
                        fields.append((k.strip(), v.strip()))
                        pos += 1
                    out.append(("cover", fields))
                elif name == "table":
                    widths = [float(x) for x in arg.split(",")]
                    rows = []
                    while lines[pos].strip() != "@endtable":
                        if lines[pos].strip():
                            rows.append([c.strip() for c in lines[pos].split(" | ")])
                        pos += 1
                    pos += 1
                    out.append(("table", widths, rows))
                elif name == "box":
                    out.append(("box", arg, block_list("@endbox")))
                elif name == "columns":
                    out.append(("columns", block_list("@endcolumns")))
                else:
                    out.append((name, arg))
                continue
            if line.startswith("## "):
                flush()
                out.append(("h2", line[3:].strip()))
            elif line.startswith("# "):
                flush()
                out.append(("h1", line[2:].strip()))
            elif line.startswith("- "):
                if para:
                    out.append(("p", " ".join(para)))
                    para = []
                bullets.append(line[2:].strip())
            else:
                if bullets:
                    out.append(("bullets", bullets))
                    bullets = []
                para.append(line.strip())
        flush()
        return out

    return block_list(None)


def read_src(name: str) -> list:
    with open(os.path.join(SRC, name), encoding="utf-8") as f:
        return parse(f.read())


# --------------------------------------------------------------------------- PDF helpers
def make_pdf_class():
    from fpdf import FPDF

    class ZooPDF(FPDF):
        header_text = ""
        footer_text = ""
        footer_style = "of"  # "of" -> Page N of M, "n" -> Page N, "bare" -> N
        skip_header_pages: set = set()

        def header(self):
            if self.page_no() in self.skip_header_pages or not self.header_text:
                return
            self.set_font("DejaVu", "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, self.header_text, align="R", new_x="LMARGIN", new_y="NEXT")
            self.set_draw_color(160, 160, 160)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
            self.ln(4)
            self.set_text_color(0, 0, 0)

        def footer(self):
            if self.page_no() in self.skip_header_pages:
                return
            self.set_y(-14)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(90, 90, 90)
            if self.footer_style == "of":
                num = f"Page {self.page_no()} of {{nb}}"
            elif self.footer_style == "n":
                num = f"Page {self.page_no()}"
            else:
                num = f"{self.page_no()}"
            if self.footer_text:
                self.cell(0, 5, self.footer_text, align="L")
                self.set_x(self.l_margin)
            self.cell(0, 5, num, align="R")
            self.set_text_color(0, 0, 0)

    return ZooPDF


def new_pdf(title: str, author: str, subject: str):
    ZooPDF = make_pdf_class()
    pdf = ZooPDF(format="A4")
    pdf.set_creation_date(FIXED)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_subject(subject)
    pdf.set_creator("Layout zoo build.py (fictional test documents)")
    pdf.add_font("DejaVu", "", FONT_REG)
    pdf.add_font("DejaVu", "B", FONT_BOLD)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    return pdf


def para(pdf, text, size=10.5, lh=5.4, style="", gap=2.5):
    pdf.set_font("DejaVu", style, size)
    pdf.multi_cell(0, lh, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(gap)


def bullets(pdf, items, size=10.5, lh=5.4):
    pdf.set_font("DejaVu", "", size)
    for it in items:
        x = pdf.l_margin
        pdf.set_x(x)
        pdf.cell(6, lh, "•")
        pdf.multi_cell(0, lh, it, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.ln(1.5)


def heading(pdf, text, size, gap_before=3, gap_after=2, toc_level=None):
    if pdf.get_y() > pdf.h - 45:
        pdf.add_page()
    pdf.ln(gap_before)
    if toc_level is not None:
        pdf.start_section(text, level=toc_level)
    pdf.set_font("DejaVu", "B", size)
    pdf.multi_cell(0, size * 0.55, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(gap_after)


def render_toc_dotted(pdf, outline):
    pdf.set_x(pdf.l_margin)
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, "Contents", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for section in outline:
        indent = 8 * section.level
        pdf.set_font("DejaVu", "B" if section.level == 0 else "", 10.5)
        name = section.name
        num = str(section.page_number)
        avail = width - indent - pdf.get_string_width(name) - pdf.get_string_width(num) - 4
        dots = "." * max(3, int(avail / pdf.get_string_width(".")))
        pdf.set_x(pdf.l_margin + indent)
        pdf.cell(0, 7, f"{name} {dots} {num}", new_x="LMARGIN", new_y="NEXT")


def table(pdf, widths, rows, size=8.5):
    from fpdf.fonts import FontFace

    scale = pdf.epw / sum(widths)
    widths = [w * scale for w in widths]
    pdf.set_font("DejaVu", "", size)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        text_align="LEFT",
        v_align="TOP",
        line_height=size * 0.5,
        padding=1.5,
        headings_style=FontFace(emphasis="BOLD", fill_color=(220, 220, 220)),
        borders_layout="ALL",
        repeat_headings=1,
    ) as t:
        for r in rows:
            row = t.row()
            for c in r:
                row.cell(c)
    pdf.ln(4)


# --------------------------------------------------------------------------- documents
def build_baby_k():
    """Layout 2: SCR overview report with cover sheet, contents page, running header/footer."""
    blocks = read_src("northmoor-lscb-scr-baby-k-overview.txt")
    pdf = new_pdf(
        "Serious Case Review – Baby K: Overview Report",
        "Ruth Castleton",
        "Northmoor Local Safeguarding Children Board – fictional test document",
    )
    pdf.header_text = "Northmoor LSCB – Serious Case Review: Baby K – Overview Report"
    pdf.footer_text = "OFFICIAL – FOR PUBLICATION"
    pdf.footer_style = "of"
    pdf.skip_header_pages = {1}
    pdf.add_page()
    for b in blocks:
        kind = b[0]
        if kind == "cover":
            pdf.set_font("DejaVu", "B", 13)
            pdf.cell(0, 8, "Document repository – cover sheet", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
            for k, v in b[1]:
                pdf.set_font("DejaVu", "B", 11)
                pdf.cell(48, 9, f"{k}:", border=1)
                pdf.set_font("DejaVu", "", 11)
                pdf.multi_cell(0, 9, v, border=1, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(8)
        elif kind == "marking":
            pdf.set_font("DejaVu", "B", 10)
            pdf.multi_cell(0, 6, b[1], border=1, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(6)
        elif kind == "disclaimer":
            pdf.set_font("DejaVu", "", 9)
            pdf.multi_cell(0, 5, b[1], new_x="LMARGIN", new_y="NEXT")
        elif kind == "pagebreak":
            pdf.add_page()
        elif kind == "toc":
            pdf.insert_toc_placeholder(render_toc_dotted, pages=1)
        elif kind == "h1":
            heading(pdf, b[1], 15, gap_before=4, gap_after=3, toc_level=0)
        elif kind == "h2":
            heading(pdf, b[1], 11.5, gap_before=2, gap_after=2, toc_level=1)
        elif kind == "p":
            para(pdf, b[1])
        elif kind == "bullets":
            bullets(pdf, b[1])
    pdf.output(os.path.join(DOCS, "northmoor-lscb-scr-baby-k-overview.pdf"))


def build_child_d():
    """Layout 7: SCR report whose recommendations sit in a ruled appendix table."""
    blocks = read_src("greywater-lscb-scr-child-d.txt")
    pdf = new_pdf(
        "Serious Case Review: Child D",
        "Gordon Hale",
        "Greywater Local Safeguarding Children Board – fictional test document",
    )
    pdf.header_text = ""
    pdf.footer_text = "Greywater LSCB | Serious Case Review: Child D"
    pdf.footer_style = "n"
    pdf.add_page()
    for b in blocks:
        kind = b[0]
        if kind == "title":
            pdf.set_font("DejaVu", "B", 18)
            pdf.multi_cell(0, 10, b[1], align="L", new_x="LMARGIN", new_y="NEXT")
        elif kind == "subtitle":
            pdf.set_font("DejaVu", "B", 14)
            pdf.multi_cell(0, 8, b[1], new_x="LMARGIN", new_y="NEXT")
        elif kind == "subtitle2":
            pdf.set_font("DejaVu", "", 11)
            pdf.multi_cell(0, 7, b[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif kind == "line":
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(0, 6, b[1], new_x="LMARGIN", new_y="NEXT")
        elif kind == "disclaimer":
            pdf.ln(3)
            pdf.set_font("DejaVu", "", 9)
            pdf.multi_cell(0, 5, b[1], border="TB", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        elif kind == "pagebreak":
            pdf.add_page()
        elif kind == "h1":
            heading(pdf, b[1], 14, gap_before=3, gap_after=2, toc_level=0)
        elif kind == "h2":
            heading(pdf, b[1], 11.5, gap_before=2, gap_after=1.5, toc_level=1)
        elif kind == "p":
            para(pdf, b[1])
        elif kind == "bullets":
            bullets(pdf, b[1])
        elif kind == "table":
            table(pdf, b[1], b[2])
    pdf.output(os.path.join(DOCS, "greywater-lscb-scr-child-d.pdf"))


def build_baby_r():
    """Layout 8: two-column learning briefing with a boxed key messages area."""
    blocks = read_src("marlstone-scp-learning-briefing-baby-r.txt")
    pdf = new_pdf(
        "Learning Briefing: Baby R",
        "Marlstone Safeguarding Children Partnership",
        "Marlstone Safeguarding Children Partnership – fictional test document",
    )
    pdf.header_text = ""
    pdf.footer_text = "Marlstone SCP | Learning Briefing: Baby R"
    pdf.footer_style = "n"
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for b in blocks:
        kind = b[0]
        if kind == "masthead":
            pdf.set_fill_color(31, 78, 121)
            pdf.set_text_color(255, 255, 255)
            pdf.set_font("DejaVu", "B", 12)
            pdf.cell(0, 10, "  " + b[1], fill=True, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(3)
        elif kind == "title":
            pdf.set_font("DejaVu", "B", 20)
            pdf.cell(0, 11, b[1], new_x="LMARGIN", new_y="NEXT")
        elif kind == "subtitle":
            pdf.set_font("DejaVu", "", 9.5)
            pdf.multi_cell(0, 5, b[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "disclaimer":
            pdf.set_font("DejaVu", "", 8)
            pdf.multi_cell(0, 4.5, b[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        elif kind == "box":
            title, inner = b[1], b[2]
            y0 = pdf.get_y()
            pdf.set_fill_color(234, 242, 250)
            # measure height first with a dry run
            pdf.set_font("DejaVu", "", 9.5)
            lines = 0
            for ib in inner:
                for it in ib[1] if ib[0] == "bullets" else [ib[1]]:
                    lines += len(pdf.multi_cell(width - 14, 5, it, dry_run=True, output="LINES"))
            h = 12 + lines * 5 + 4
            pdf.set_draw_color(31, 78, 121)
            pdf.set_line_width(0.6)
            pdf.rect(pdf.l_margin, y0, width, h, style="DF")
            pdf.set_xy(pdf.l_margin + 4, y0 + 3)
            pdf.set_font("DejaVu", "B", 11)
            pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 9.5)
            for ib in inner:
                for it in ib[1] if ib[0] == "bullets" else [ib[1]]:
                    pdf.set_x(pdf.l_margin + 4)
                    pdf.cell(5, 5, "•")
                    pdf.multi_cell(width - 14, 5, it, new_x="LMARGIN", new_y="NEXT")
            pdf.set_y(y0 + h + 5)
            pdf.set_line_width(0.2)
        elif kind == "columns":
            with pdf.text_columns(ncols=2, gutter=8, text_align="LEFT", line_height=1.3) as cols:
                for ib in b[1]:
                    if ib[0] == "h2":
                        pdf.set_font("DejaVu", "B", 11)
                        pdf.set_text_color(31, 78, 121)
                        with cols.paragraph(top_margin=2.5, bottom_margin=1.2) as p:
                            p.write(ib[1])
                        pdf.set_text_color(0, 0, 0)
                    elif ib[0] == "p":
                        pdf.set_font("DejaVu", "", 9.5)
                        with cols.paragraph(bottom_margin=2) as p:
                            p.write(ib[1])
                    elif ib[0] == "bullets":
                        pdf.set_font("DejaVu", "", 9.5)
                        for it in ib[1]:
                            with cols.paragraph(bottom_margin=1) as p:
                                p.write("• " + it)
    pdf.output(os.path.join(DOCS, "marlstone-scp-learning-briefing-baby-r.pdf"))


def build_ellie():
    """Extra layout: headings distinguished only by font size and bold (no numbering)."""
    blocks = read_src("hollinsford-scp-lcspr-ellie-learning-summary.txt")
    pdf = new_pdf(
        "Ellie: Learning from a Local Child Safeguarding Practice Review",
        "Naomi Pritchard",
        "Hollinsford Safeguarding Children Partnership – fictional test document",
    )
    pdf.header_text = ""
    pdf.footer_text = ""
    pdf.footer_style = "bare"
    pdf.set_margins(25, 20, 25)
    pdf.add_page()
    for b in blocks:
        kind = b[0]
        if kind == "title":
            pdf.set_font("DejaVu", "", 11)
            pdf.set_text_color(80, 80, 80)
            pdf.cell(0, 7, b[1], new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(2)
        elif kind == "big":
            pdf.set_font("DejaVu", "B", 19)
            pdf.multi_cell(0, 9.5, b[1], align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        elif kind == "para":
            pdf.set_font("DejaVu", "", 9.5)
            pdf.multi_cell(0, 5, b[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        elif kind == "h1":
            heading(pdf, b[1], 14, gap_before=4, gap_after=2)
        elif kind == "h2":
            heading(pdf, b[1], 11, gap_before=2, gap_after=1)
        elif kind == "p":
            para(pdf, b[1], size=10.5, lh=5.6)
        elif kind == "bullets":
            bullets(pdf, b[1])
        elif kind == "pagebreak":
            pdf.add_page()
    pdf.output(os.path.join(DOCS, "hollinsford-scp-lcspr-ellie-learning-summary.pdf"))


# --------------------------------------------------------------------------- DOCX
def _deterministic_zip(path: str) -> None:
    with open(path, "rb") as f:
        data = f.read()
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, zin.read(info.filename))
    with open(path, "wb") as f:
        f.write(out.getvalue())


def build_child_e():
    """Layout 9: Word document with Heading 1/2 styles and a recommendations table."""
    from docx import Document
    from docx.shared import Cm, Pt

    blocks = read_src("oakhurst-scp-lcspr-child-e.txt")
    doc = Document()
    cp = doc.core_properties
    cp.author = "Oakhurst Safeguarding Children Partnership"
    cp.title = "Local Child Safeguarding Practice Review: Child E (aged 13)"
    cp.subject = "Fictional test document"
    cp.created = FIXED.replace(tzinfo=None)
    cp.modified = FIXED.replace(tzinfo=None)
    cp.last_modified_by = "OSCP Business Unit"
    cp.revision = 1
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(11)
    for b in blocks:
        kind = b[0]
        if kind == "title":
            doc.add_paragraph(b[1], style="Subtitle")
        elif kind == "subtitle":
            doc.add_paragraph(b[1], style="Title")
        elif kind == "para":
            doc.add_paragraph(b[1])
        elif kind == "h1":
            doc.add_heading(b[1], level=1)
        elif kind == "h2":
            doc.add_heading(b[1], level=2)
        elif kind == "p":
            doc.add_paragraph(b[1])
        elif kind == "bullets":
            for it in b[1]:
                doc.add_paragraph(it, style="List Bullet")
        elif kind == "table":
            widths, rows = b[1], b[2]
            t = doc.add_table(rows=0, cols=len(rows[0]))
            t.style = "Table Grid"
            for i, r in enumerate(rows):
                cells = t.add_row().cells
                for j, c in enumerate(r):
                    cells[j].text = c
                    cells[j].width = Cm(widths[j] / 10 * 1.6)
                    if i == 0:
                        for run in cells[j].paragraphs[0].runs:
                            run.bold = True
            doc.add_paragraph("")
    path = os.path.join(DOCS, "oakhurst-scp-lcspr-child-e.docx")
    doc.save(path)
    _deterministic_zip(path)


def main() -> int:
    for f in (FONT_REG, FONT_BOLD):
        if not os.path.exists(f):
            print(f"missing font {f}: apt-get install fonts-dejavu-core", file=sys.stderr)
            return 1
    os.makedirs(DOCS, exist_ok=True)
    build_baby_k()
    build_child_d()
    build_baby_r()
    build_ellie()
    build_child_e()
    print(
        "built: northmoor-lscb-scr-baby-k-overview.pdf, greywater-lscb-scr-child-d.pdf, "
        "marlstone-scp-learning-briefing-baby-r.pdf, "
        "hollinsford-scp-lcspr-ellie-learning-summary.pdf, "
        "oakhurst-scp-lcspr-child-e.docx"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
