"""A briefing as Markdown, Word (python-docx) or a print-ready HTML page of two A4 sides.

Every renderer prints each quote's words exactly as `Item.text` holds them: Markdown escapes
its markup characters with backslashes (CommonMark), HTML escapes every piece of text.
"""

from __future__ import annotations

import html
import re

from rag.core.word import new_document, to_bytes
from rag.trainer.briefing import Briefing, Item, Point
from rag.trainer.reflective import QUESTIONS_LABEL

FORMATS = ("md", "docx", "html")
MEDIA_TYPES = {
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
}
INTRO = (
    "Every quotation is word for word from the published review documents and was checked "
    "against them; the numbers in brackets point to the sources at the end."
)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def title(b: Briefing) -> str:
    """The briefing's title line."""
    return f"7-minute briefing: {b.topic}"


def _focus(b: Briefing) -> str:
    return f"Agency focus: {b.agency}" if b.agency else ""


def _quote(item: Item) -> str:
    return f"\u201c{item.text}\u201d"


def role_label(point: Point, item: Item) -> str:
    """What the quote is ('Recommendation', 'Finding', 'Response'...), printed before it; ''
    when the point's title already says it."""
    return "" if item.label == point.title else item.label


# -- Markdown ----------------------------------------------------------------------------------


def md_escape(text: str) -> str:
    """Text with Markdown markup characters backslash-escaped, so it renders as written."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def to_markdown(b: Briefing) -> str:
    """The briefing as Markdown: headings, block-quoted quotes, numbered sources."""
    out = [f"# {md_escape(title(b))}", ""]
    if b.agency:
        out += [f"*{md_escape(_focus(b))}*", ""]
    if b.notice:
        out += [f"> **{md_escape(b.notice)}**", ""]
    out += [md_escape(INTRO), ""]
    for p in b.points:
        out += [f"## {md_escape(p.heading)}", ""]
        for item in p.items:
            label = f"**{md_escape(role_label(p, item))}:** " if role_label(p, item) else ""
            out += [f"> {label}{md_escape(_quote(item))} \\[{b.number(item)}\\]", ""]
        if p.note and not p.items:
            out += [f"*{md_escape(p.note)}*", ""]
    if b.questions:
        out += ["## Questions for reflection", "", f"*{md_escape(QUESTIONS_LABEL)}*", ""]
        out += [f"{n}. {md_escape(q)}" for n, q in enumerate(b.questions, 1)] + [""]
    if b.sources:
        out += ["## Sources", ""]
        out += [f"{n}. {md_escape(s.cite())}" for n, s in enumerate(b.sources, 1)] + [""]
    return "\n".join(out)


# -- Word --------------------------------------------------------------------------------------


def to_docx(b: Briefing) -> bytes:
    """The briefing as a .docx: real headings, quotes in the Quote style, an endnote list."""
    doc = new_document(title(b))
    doc.add_heading(title(b), level=0)
    if b.agency:
        doc.add_paragraph().add_run(_focus(b)).italic = True
    if b.notice:
        doc.add_paragraph(style="Intense Quote").add_run(b.notice).bold = True
    doc.add_paragraph(INTRO).runs[0].italic = True
    for p in b.points:
        doc.add_heading(p.heading, level=1)
        for item in p.items:
            para = doc.add_paragraph(style="Quote")
            if label := role_label(p, item):
                para.add_run(f"{label}: ").bold = True
            para.add_run(_quote(item))
            para.add_run(f" [{b.number(item)}]").font.superscript = True
        if p.note and not p.items:
            doc.add_paragraph().add_run(p.note).italic = True
    if b.questions:
        doc.add_heading("Questions for reflection", level=1)
        doc.add_paragraph().add_run(QUESTIONS_LABEL).italic = True
        for q in b.questions:
            doc.add_paragraph(q, style="List Bullet")
    if b.sources:
        doc.add_heading("Sources", level=1)
        for n, s in enumerate(b.sources, 1):
            doc.add_paragraph(f"[{n}] {s.cite()}", style="No Spacing")
    return to_bytes(doc)


# -- HTML --------------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 11mm 12mm; }
* { box-sizing: border-box; }
body { font: 9pt/1.32 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0; }
main { max-width: 186mm; margin: 0 auto; }
header { border-bottom: 2px solid #1d4e89; margin-bottom: 2.5mm; }
h1 { font-size: 15pt; margin: 0 0 1mm; color: #1d4e89; }
.focus, .intro { margin: 0 0 1.5mm; color: #333; font-style: italic; }
.notice { border: 1.5px solid #b00020; background: #fff3f3; padding: 1.5mm 2.5mm;
  margin: 0 0 2.5mm; font-weight: bold; }
.points { column-count: 2; column-gap: 6mm; }
section { break-inside: avoid-column; margin: 0 0 2mm; }
h2 { font-size: 10.5pt; margin: 0 0 1mm; color: #1d4e89; break-after: avoid; }
blockquote { margin: 0 0 1.2mm; padding: 0.4mm 0 0.4mm 2.5mm; border-left: 2px solid #9ab;
  break-inside: avoid; }
sup { font-size: 7pt; color: #1d4e89; }
.note { margin: 0 0 1mm; color: #555; font-style: italic; }
.questions { break-inside: avoid; border-top: 1px solid #9ab; padding-top: 1.5mm; }
.questions p { margin: 0 0 1mm; font-style: italic; color: #333; }
.questions ol { margin: 0 0 2mm; padding-left: 5mm; }
.sources { font-size: 7.5pt; border-top: 1px solid #9ab; padding-top: 1.5mm; }
.sources h2, .questions h2 { column-span: all; }
.sources ol { margin: 0; padding-left: 5mm; column-count: 2; column-gap: 6mm; }
li { break-inside: avoid; }
@media screen { main { padding: 8mm 0; } }
"""


def to_html(b: Briefing) -> str:
    """The briefing as one self-contained HTML page laid out to print on two A4 sides."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>{e(title(b))}</title><style>{_CSS}</style></head><body><main>",
        f"<header><h1>{e(title(b))}</h1>",
    ]
    if b.agency:
        parts.append(f'<p class="focus">{e(_focus(b))}</p>')
    parts.append(f'<p class="intro">{e(INTRO)}</p></header>')
    if b.notice:
        parts.append(f'<p class="notice" role="note">{e(b.notice)}</p>')
    parts.append('<div class="points">')
    for p in b.points:
        parts.append(f"<section><h2>{e(p.heading)}</h2>")
        for item in p.items:
            n = b.number(item)
            label = f'<b class="role">{e(role_label(p, item))}:</b> ' if role_label(p, item) else ""
            parts.append(f"<blockquote>{label}{e(_quote(item))} <sup>[{n}]</sup></blockquote>")
        if p.note and not p.items:
            parts.append(f'<p class="note">{e(p.note)}</p>')
        parts.append("</section>")
    parts.append("</div>")
    if b.questions:
        parts.append('<section class="questions"><h2>Questions for reflection</h2>')
        parts.append(f"<p>{e(QUESTIONS_LABEL)}</p><ol>")
        parts += [f"<li>{e(q)}</li>" for q in b.questions]
        parts.append("</ol></section>")
    if b.sources:
        parts.append('<section class="sources"><h2>Sources</h2><ol>')
        parts += [f"<li>{e(s.cite())}</li>" for s in b.sources]
        parts.append("</ol></section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def render(b: Briefing, fmt: str) -> bytes:
    """The briefing in one of FORMATS, as bytes ready to write or download."""
    if fmt == "md":
        return to_markdown(b).encode("utf-8")
    if fmt == "docx":
        return to_docx(b)
    if fmt == "html":
        return to_html(b).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
