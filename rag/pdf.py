"""Turn a PDF's extracted pages into clean text: no running headers, footers or page numbers,
hard-wrapped lines and hyphenated words rejoined into paragraphs, and each page's start offset.

pypdf reports every text fragment with its position; the gap between baselines tells a wrapped
line (normal line spacing) from a paragraph break (a larger gap), and a line that stops well short
of the page's usual width ends a paragraph or is a heading.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# Lines looked at from the top and the bottom of each page for running headers and footers.
EDGE_LINES = 3
# A line counts as running when it recurs (digits ignored) on this share of pages, at least twice.
RUNNING_SHARE = 0.4
# A line this much shorter than a full line of the document ends its paragraph.
SHORT_LINE = 0.75
# A baseline gap this much larger than the usual line spacing is a paragraph break.
PARAGRAPH_GAP = 1.35
# Most text is set with a leading of about 1.2 times its font size; more than this is a gap.
LEADING = 1.6

_PAGE_NUMBER = re.compile(
    r"(?:page|p\.|pg\.?)?\s*[-–—(\[]?\s*(?:\d{1,4}|[ivxlc]{1,7})\s*[-–—)\]]?"
    r"(?:\s*(?:of|/)\s*\d{1,4})?",
    re.I,
)
_NUMBERED_HEADING = re.compile(
    r"(?:recommendation|finding|learning|section|part|chapter|appendix|step|theme|action)s?\b"
)
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "\u00a0": " "})
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_SENTENCE_END = (".", "!", "?", ":", ";", "”", '"', ")")
# Prefixes that keep their hyphen when a line breaks after them ("co-ordinate", "multi-agency").
_COMPOUND_PREFIXES = frozenset({"co", "cross", "ex", "multi", "non", "self", "semi", "well"})


@dataclass(frozen=True)
class Line:
    """One extracted text line, its baseline height on the page and font size (None: unknown)."""

    text: str
    y: float | None = None
    size: float | None = None


def page_lines(page) -> list[Line]:
    """The text lines of one pypdf page, each with its baseline height."""
    fragments: list[tuple[str, float | None, float | None]] = []

    def visit(text, cm, tm, _font, size):
        # Empty and newline-only fragments carry no real position.
        if not text.strip():
            fragments.append((text, None, None))
            return
        y = tm[5] * cm[3] + tm[4] * cm[1] + cm[5]
        fragments.append((text, y, abs(size * tm[3] * cm[3]) or None))

    page.extract_text(visitor_text=visit)
    lines: list[Line] = []
    text, y, size = "", None, None
    for frag, fy, fsize in fragments:
        for k, part in enumerate(frag.split("\n")):
            if k > 0:
                lines.append(Line(text, y, size))
                text, y, size = "", None, None
            if part.strip() and y is None:
                y, size = fy, fsize
            text += part
    lines.append(Line(text, y, size))
    return [
        Line(ln.text.translate(_LIGATURES).strip(), ln.y, ln.size)
        for ln in lines
        if ln.text.strip()
    ]


def _shape(text: str) -> str:
    """A line's shape for spotting repeats: case, spacing and numbers ignored.

    Numbered headings keep their numbers: "Recommendation 3" at the top of one page and
    "Recommendation 4" at the top of the next are content, not a running header.
    """
    flat = re.sub(r"\s+", " ", text.lower()).strip()
    return flat if _NUMBERED_HEADING.match(flat) else re.sub(r"\d+", "#", flat)


def _running(pages: Sequence[Sequence[Line]], edge: str) -> set[str]:
    counts: Counter[str] = Counter()
    for lines in pages:
        zone = lines[:EDGE_LINES] if edge == "top" else lines[-EDGE_LINES:]
        counts.update({_shape(ln.text) for ln in zone})
    need = max(2, RUNNING_SHARE * len(pages))
    return {shape for shape, n in counts.items() if n >= need}


def strip_running(pages: Sequence[Sequence[Line]]) -> list[list[Line]]:
    """Pages without the headers, footers and page numbers that repeat at their edges."""
    top = _running(pages, "top") if len(pages) > 1 else set()
    bottom = _running(pages, "bottom") if len(pages) > 1 else set()
    out = []
    for lines in pages:
        lines = list(lines)
        for _ in range(EDGE_LINES):
            if lines and (_shape(lines[0].text) in top or _PAGE_NUMBER.fullmatch(lines[0].text)):
                lines.pop(0)
        for _ in range(EDGE_LINES):
            if lines and (
                _shape(lines[-1].text) in bottom or _PAGE_NUMBER.fullmatch(lines[-1].text)
            ):
                lines.pop()
        out.append(lines)
    return out


def _vocabulary(pages: Sequence[Sequence[Line]]) -> set[str]:
    words: set[str] = set()
    for lines in pages:
        for ln in lines:
            body = ln.text[:-1] if ln.text.endswith("-") else ln.text
            words.update(w.lower() for w in _WORD.findall(body))
    return words


def _keeps_hyphen(head: str, tail: str, vocabulary: set[str]) -> bool:
    """Whether "head-" + "tail" broken across lines is a hyphenated compound, not a split word."""
    head_word = re.findall(r"[A-Za-z]+$", head)
    tail_word = re.findall(r"^[A-Za-z]+", tail)
    if not head_word or not tail_word:
        return True
    h, t = head_word[0].lower(), tail_word[0].lower()
    compound = f"{re.findall(r'[A-Za-z-]+$', head)[0].lower()}-{t}"
    if compound in vocabulary:
        return True
    if compound.replace("-", "") in vocabulary or f"{h}{t}" in vocabulary:
        return False
    return h in _COMPOUND_PREFIXES or (h in vocabulary and len(t) > 2 and t in vocabulary)


def _full_width(pages: Sequence[Sequence[Line]]) -> float:
    lengths = sorted(len(ln.text) for lines in pages for ln in lines)
    return lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0.0


def _line_spacing(pages: Sequence[Sequence[Line]]) -> float | None:
    gaps = sorted(
        a.y - b.y
        for lines in pages
        for a, b in zip(lines, lines[1:])
        if a.y is not None and b.y is not None and a.y > b.y
    )
    if not gaps:
        return None
    # Wrapped lines are the closest; a low percentile ignores the odd superscript.
    spacing = gaps[int(0.1 * (len(gaps) - 1))]
    sizes = [ln.size for lines in pages for ln in lines if ln.size]
    # When every gap is a paragraph gap (short paragraphs), the font size still tells the leading.
    return min(spacing, LEADING * statistics.median(sizes)) if sizes else spacing


def _joiner(prev: Line, cur: Line, same_page: bool, full: float, spacing: float | None) -> str:
    """What goes between two consecutive lines: a space, a newline, or a paragraph break."""
    if same_page and spacing and prev.y is not None and cur.y is not None:
        gap = prev.y - cur.y
        if gap > PARAGRAPH_GAP * spacing or gap < 0:
            return "\n\n"
    elif not same_page and cur.text[:1].isupper() and prev.text.endswith(_SENTENCE_END):
        # Across a page break there is no gap to measure: a finished sentence ends a paragraph.
        return "\n\n"
    if len(prev.text) < SHORT_LINE * full:
        return "\n"
    return " "


def assemble(pages: Sequence[Sequence[Line]]) -> tuple[str, tuple[int, ...]]:
    """Join cleaned pages into one text of paragraphs, and the offset where each page starts."""
    full = _full_width(pages)
    spacing = _line_spacing(pages)
    vocabulary = _vocabulary(pages)
    text, starts = "", []
    prev: Line | None = None
    for lines in pages:
        starts.append(len(text))
        for i, line in enumerate(lines):
            if prev is not None:
                sep = _joiner(prev, line, i > 0, full, spacing)
                hyphen = prev.text.endswith("-") and prev.text[-2:-1].isalpha()
                if sep != "\n\n" and hyphen and line.text[:1].islower():
                    keep = _keeps_hyphen(prev.text[:-1], line.text, vocabulary)
                    text = text if keep else text[:-1]
                    sep = ""
                elif sep == " " and prev.text.endswith("\u00ad"):
                    text, sep = text[:-1], ""
                text += sep
            if i == 0:
                starts[-1] = len(text)
            text += line.text
            prev = line
    return text, tuple(starts)


def clean_pages(pages: Sequence[Sequence[Line]]) -> tuple[str, tuple[int, ...]]:
    """The document text of extracted pages, and each page's start offset in it."""
    return assemble(strip_running(pages))
