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
from collections.abc import Iterable, Sequence
from dataclasses import replace

from rag.core.text import LEADER
from rag.core.words import words
from rag.ingest.pdf_layout import Line, header_key, page_lines

__all__ = ["Line", "clean_pages", "document_lines", "page_lines", "strip_running"]

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
# A line set this much larger than the body text is a heading: type sizes step by a point or more
# at body sizes of 9-12pt, while one size varies by less than this.
HEADING_SIZE = 1.08
# A heading runs to at most this many lines and words; longer large text is a lead paragraph.
HEADING_LINES = 3
HEADING_WORDS = 25
# Larger text that ends a sentence of more words than this is a lead-in or a quote, not a heading.
SENTENCE_WORDS = 8
# A bold body-size heading is shorter: a bold sentence in running text is emphasis.
BOLD_HEADING_LINES = 2
BOLD_HEADING_WORDS = 12

_PAGE_NUMBER = re.compile(
    r"(?:page|p\.|pg\.?)?\s*[-–—(\[]?\s*(?:\d{1,4}|[ivxlc]{1,7})\s*[-–—)\]]?"
    r"(?:\s*(?:of|/)\s*\d{1,4})?",
    re.I,
)
_NUMBERED_HEADING = re.compile(
    r"(?:recommendation|finding|learning|section|part|chapter|appendix|step|theme|action)s?\b"
)
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_SENTENCE_END = (".", "!", "?", ":", ";", "”", '"', ")")
# A heading does not end like a clause of running text.
_PROSE_END = (".", ",", ";", "!", "?")
_WORDLIKE = re.compile(r"[^\W\d_]{2}")
# Prefixes that keep their hyphen when a line breaks after them ("co-ordinate", "multi-agency").
_COMPOUND_PREFIXES = words("compound_prefixes")


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


def document_lines(pages: Iterable) -> list[list[Line]]:
    """Each pypdf page's lines, a table's header row carried forward to the pages after it."""
    out: list[list[Line]] = []
    headers: set[str] = set()
    for page in pages:
        lines = page_lines(page, headers)
        # The first row of each table is its header row.
        firsts = {ln.table: ln for ln in reversed(lines) if ln.table}
        headers |= {header_key(ln.text) for ln in firsts.values()}
        out.append(lines)
    return out


def strip_running(pages: Sequence[Sequence[Line]]) -> list[list[Line]]:
    """Pages without the headers, footers and page numbers that repeat at their edges."""
    many = len(pages) > 1
    # Either edge's repeats, at either edge: a page's content stream may draw its footer first.
    running = (_running(pages, "top") | _running(pages, "bottom")) if many else set()

    def furniture(line: Line) -> bool:
        # A table's header row repeated on each page names the columns of the rows under it.
        if line.table:
            return False
        return _shape(line.text) in running or _PAGE_NUMBER.fullmatch(line.text) is not None

    out = []
    for lines in pages:
        lines = list(lines)
        for _ in range(EDGE_LINES):
            if lines and furniture(lines[0]):
                lines.pop(0)
        for _ in range(EDGE_LINES):
            if lines and furniture(lines[-1]):
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


def _full_width(pages: Sequence[Sequence[Line]]) -> dict[bool, float]:
    """The length of a full line, for full-width lines (False) and lines in a column (True)."""
    out = {}
    for in_col in (False, True):
        lengths = sorted(
            len(ln.text)
            for lines in pages
            for ln in lines
            if (ln.col > 0) == in_col and not ln.table and not ln.heading
        )
        out[in_col] = lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0.0
    return out


def _line_spacing(pages: Sequence[Sequence[Line]]) -> float | None:
    gaps = sorted(
        a.y - b.y
        for lines in pages
        for a, b in zip(lines, lines[1:])
        if a.y is not None and b.y is not None and a.y > b.y
        if not (a.table or b.table or a.heading or b.heading) and a.col == b.col
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
    if prev.heading or cur.heading:
        return "\n\n"
    if prev.table or cur.table:
        # A table's rows are one line each; the table is a paragraph of its own.
        return "\n" if same_page and prev.table == cur.table else "\n\n"
    if prev.col and cur.col and prev.col != cur.col:
        # From the foot of one column to the head of the next reads like a page break.
        same_page = False
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


def _rounded(size: float) -> float:
    return round(size * 2) / 2


def _body_size(pages: Sequence[Sequence[Line]]) -> float | None:
    """The size most of the text is set in (by characters)."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for ln in lines:
            if ln.size and not ln.table:
                sizes[_rounded(ln.size)] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else None


def _block(lines: Sequence[Line], i: int) -> int:
    """Where the run of lines from i set alike (size, weight, column) and wrapped closely ends."""
    first, j = lines[i], i + 1
    while j < len(lines) and first.size:
        a, b = lines[j - 1], lines[j]
        alike = (b.size and _rounded(b.size), b.bold, b.col, b.table) == (
            _rounded(first.size),
            first.bold,
            first.col,
            first.table,
        )
        if not (alike and a.y is not None and b.y is not None):
            break
        if not 0 < a.y - b.y <= LEADING * first.size:
            break
        j += 1
    return j


def _heading_kind(lines: Sequence[Line], i: int, j: int, body: float, full, starts: bool):
    """ "size" or "bold" when lines[i:j] is a heading; None when it is not."""
    block, first = lines[i:j], lines[i]
    text = " ".join(ln.text for ln in block)
    # A contents line, or a lone initial or number, is not a heading.
    if first.table or not first.size or LEADER.search(text) or not _WORDLIKE.search(text):
        return None
    n = len(text.split())
    if first.size >= HEADING_SIZE * body:
        sentence = text.endswith((".", "!", "?")) and n > SENTENCE_WORDS
        return "size" if j - i <= HEADING_LINES and n <= HEADING_WORDS and not sentence else None
    if not first.bold or first.size * HEADING_SIZE <= body or not starts:
        return None
    if j - i > BOLD_HEADING_LINES or n > BOLD_HEADING_WORDS:
        return None
    following = lines[j].text if j < len(lines) else ""
    # A bold line that runs on (full width, into a lower-case line, or mid-clause) is emphasis.
    if block[-1].text.endswith(_PROSE_END) or following[:1].islower():
        return None
    return "bold" if len(block[-1].text) < SHORT_LINE * full[first.col > 0] else None


def _merge(block: Sequence[Line], level: int) -> Line:
    text = ""
    for ln in block:
        text += ln.text if not text or text.endswith("-") else " " + ln.text
    return replace(block[0], text=f"{'#' * level} {text}", heading=level)


def mark_headings(pages: Sequence[Sequence[Line]]) -> list[list[Line]]:
    """Pages with each heading (larger or bold standalone lines) as one `#`-marked line."""
    body = _body_size(pages)
    if body is None:
        return [list(lines) for lines in pages]
    full, spacing = _full_width(pages), _line_spacing(pages)
    found: dict[tuple[int, int], tuple[int, str, float]] = {}
    for p, lines in enumerate(pages):
        i = 0
        while i < len(lines):
            j = _block(lines, i)
            prev = lines[i - 1] if i else None
            starts = (
                prev is None or _joiner(prev, lines[i], True, full[prev.col > 0], spacing) != " "
            )
            if kind := _heading_kind(lines, i, j, body, full, starts):
                found[p, i] = (j, kind, _rounded(lines[i].size or body))
            i = j
    # The largest heading size is level 1, the next level 2; smaller ones and bold ones level 3.
    sizes = sorted({size for _, kind, size in found.values() if kind == "size"}, reverse=True)
    out = []
    for p, lines in enumerate(pages):
        page, i = [], 0
        while i < len(lines):
            if (p, i) not in found:
                page.append(lines[i])
                i += 1
                continue
            j, kind, size = found[p, i]
            level = min(sizes.index(size) + 1, 3) if kind == "size" else 3
            page.append(_merge(lines[i:j], level))
            i = j
        out.append(page)
    return out


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
                sep = _joiner(prev, line, i > 0, full[prev.col > 0], spacing)
                hyphen = prev.text.endswith("-") and prev.text[-2:-1].isalpha()
                if sep in (" ", "\n") and hyphen and line.text[:1].islower():
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
    return assemble(mark_headings(strip_running(pages)))
