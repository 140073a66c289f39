"""Where a PDF page's text sits: its lines with position, size and weight, tables read row by row
and two-column pages read column by column.

pypdf's text visitor reports each text fragment with its start, font and size; a fragment's end
comes from the font's glyph widths. Lines keep pypdf's stream order unless the geometry shows a
table or two text columns, which are then rebuilt from the fragments' positions.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Set
from dataclasses import dataclass, replace

from rag.ingest.pdf_fonts import Font

# Fragments on baselines closer than this share of the font size are on the same line.
SAME_BASELINE = 0.3
# A horizontal gap wider than this many ems separates two cells; word spaces are under half an em.
CELL_GAP = 1.0
# Cells of one column start within this many points of each other (generated tables align exactly).
X_TOLERANCE = 2.5
# A table has at least this many columns and rows (header included): two columns or two rows are
# too easily a form, a signature block or two lines that happen to align.
MIN_COLUMNS = 3
MIN_ROWS = 3
# A table continued onto a new page under its repeated header row may have one row left there.
MIN_CONTINUED_ROWS = 2
# Columns of a table start at least this many ems apart.
MIN_COLUMN_GAP = 2.0
# Baselines further apart than this many ems are not in the same table.
MAX_ROW_GAP = 3.0
# A baseline gap this much larger than the table's smallest one starts a new row.
ROW_GAP = 1.5
# Each text column of a two-column page has at least this many lines...
MIN_COLUMN_LINES = 6
# ...spanning this share of the page's text height...
COLUMN_SPAN = 0.5
# ...and this share of its lines reach FILL of the column's width, as wrapped prose does.
FULL_SHARE = 0.5
FILL = 0.75
# Neither column is more than this many times as wide as the other: a label column beside values
# (a cover sheet, a form) is not a text column.
COLUMN_BALANCE = 2.0
# This share of the columns' lines start at one of the two column edges: a table's cells start at
# more places than two, while a column's indents and bullets are few.
COLUMN_STARTS = 0.8
# A gap this many times the usual baseline gap cuts a header or footer off a column page.
FURNITURE_GAP = 2.5
# A line is bold when this share of its characters is set in a bold face.
BOLD_SHARE = 0.8
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "\u00a0": " "})


@dataclass(frozen=True)
class Line:
    """One text line: baseline height, size and x extent (None: unknown), weight, and its role."""

    text: str
    y: float | None = None
    size: float | None = None
    x: float | None = None
    end: float | None = None
    bold: bool = False
    col: int = 0  # 0: full width; 1 or 2: left or right column of a two-column page
    table: int = 0  # rows of one table share its number (from 1); 0: not a table row
    heading: int = 0  # Markdown heading level given to the line; 0: not a heading


@dataclass(frozen=True)
class _Frag:
    text: str
    x: float
    y: float
    end: float
    size: float
    bold: bool


class _Piece:
    """Fragments of one stream line that run on without a cell-sized gap."""

    def __init__(self, frag: _Frag, line: int) -> None:
        self.parts, self.frags, self.line = [frag.text], [frag], line
        self.x, self.y, self.size, self.end = frag.x, frag.y, frag.size, frag.end

    def add(self, text: str, frag: _Frag | None = None) -> None:
        self.parts.append(text)
        if frag is not None:
            self.frags.append(frag)
            self.end = max(self.end, frag.end)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _stream(page) -> tuple[list[list[tuple[str, _Frag | None]]], bool]:
    """pypdf's lines, each a list of (text, placed fragment or None), and whether all are placed."""
    fonts: dict[int, tuple[object, Font]] = {}
    lines: list[list[tuple[str, _Frag | None]]] = [[]]
    placed = True

    def visit(text, cm, tm, font, size):
        nonlocal placed
        parts = text.split("\n")
        filled = [p for p in parts if p.strip()]
        # Text after a newline inside one fragment has no position of its own.
        placed = placed and len(filled) <= 1
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[5] * cm[3] + tm[4] * cm[1] + cm[5]
        eff = abs(size * tm[3] * cm[3])
        # The dictionary is kept with its reading, so its id is not reused while cached.
        info = fonts.setdefault(id(font), (font, Font(font or {})))[1]
        for k, part in enumerate(parts):
            if k:
                lines.append([])
            frag = None
            if part.strip() and eff:
                # pypdf puts a space before a fragment that starts after a gap; it has no glyph.
                width = info.width(part.lstrip()) * abs(size * tm[0] * cm[0]) / 1000
                frag = _Frag(part, x, y, x + width, eff, info.bold)
            lines[-1].append((part, frag))

    page.extract_text(visitor_text=visit)
    return [ln for ln in lines if "".join(t for t, _ in ln).strip()], placed


def _make_line(parts: list[str], frags: list[_Frag], col: int = 0, table: int = 0) -> Line | None:
    text = "".join(parts).translate(_LIGATURES).strip()
    if not text:
        return None
    if not frags:
        return Line(text, col=col, table=table)
    chars: Counter[float] = Counter()
    bold = 0
    for f in frags:
        n = len(f.text.strip())
        chars[f.size] += n
        bold += n if f.bold else 0
    size = chars.most_common(1)[0][0]
    heavy = bold >= BOLD_SHARE * sum(chars.values())
    end = max(f.end for f in frags)
    return Line(text, frags[0].y, size, frags[0].x, end, heavy, col, table)


def _pieces(stream: list[list[tuple[str, _Frag | None]]]) -> list[_Piece]:
    pieces: list[_Piece] = []
    for n, line in enumerate(stream):
        cur: _Piece | None = None
        for text, frag in line:
            if frag is None:
                if cur is not None:
                    cur.add(text)
            elif cur is None or abs(frag.x - cur.end) >= CELL_GAP * frag.size:
                cur = _Piece(frag, n)
                pieces.append(cur)
            else:
                cur.add(text, frag)
    return pieces


def _baselines(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Pieces grouped by baseline, top of the page first, each baseline left to right."""
    rows: list[list[_Piece]] = []
    for p in sorted(pieces, key=lambda p: (-p.y, p.x)):
        if rows and abs(rows[-1][0].y - p.y) <= SAME_BASELINE * p.size:
            rows[-1].append(p)
        else:
            rows.append([p])
    return [sorted(r, key=lambda p: p.x) for r in rows]


def _joined(pieces: list[_Piece], col: int = 0, table: int = 0) -> Line | None:
    parts: list[str] = []
    for p in pieces:
        if parts and not parts[-1].endswith(" ") and not p.text.startswith(" "):
            parts.append(" ")
        parts.append(p.text)
    return _make_line(parts, [f for p in pieces for f in p.frags], col, table)


def header_key(text: str) -> str:
    """A table row's text as rows are compared across pages: case and spacing folded."""
    return " ".join(text.lower().split())


def page_lines(page, headers: Set[str] = frozenset()) -> list[Line]:
    """The text lines of one pypdf page in reading order, with position, size and weight;
    `headers` are the header rows of tables on earlier pages, which may continue here."""
    stream, placed = _stream(page)
    pieces = _pieces(stream) if placed else []
    rows = _baselines(pieces)
    if rows and (gutter := _gutter(rows)) is not None:
        return _read_columns(rows, gutter)
    lines: list[Line | None] = [
        _make_line([t for t, _ in ln], [f for _, f in ln if f is not None]) for ln in stream
    ]
    for number, (lo, hi, table_rows) in enumerate(_tables(rows, headers), start=1):
        # The rows stand where the table's first line was; its other lines are in the rows.
        rows_here = [replace(r, table=number) for r in table_rows]
        lines[lo:hi] = rows_here + [None] * (hi - lo - len(rows_here))
    return [ln for ln in lines if ln is not None]


def _fills(pieces: list[_Piece], start: float) -> bool:
    """Whether most pieces run to near their column's right edge, as wrapped prose does."""
    ends = sorted(p.end for p in pieces)
    right = ends[int(0.9 * (len(ends) - 1))]
    return sum(p.end >= start + FILL * (right - start) for p in pieces) >= FULL_SHARE * len(ends)


def _gutter(rows: list[list[_Piece]]) -> float | None:
    """The x where a two-column page's right column starts, or None for other pages."""
    pieces = [p for r in rows for p in r]
    left, right = min(p.x for p in pieces), max(p.end for p in pieces)
    height = rows[0][0].y - rows[-1][0].y
    middle = Counter(
        round(p.x)
        for p in pieces
        if left + 0.3 * (right - left) < p.x < left + 0.7 * (right - left)
    )
    for start, n in middle.most_common(3):
        if n < MIN_COLUMN_LINES:
            break
        rights = [p for p in pieces if abs(p.x - start) <= X_TOLERANCE]
        lefts = [p for p in pieces if p.x < start and p.end < start - X_TOLERANCE]
        margin = min((p.x for p in lefts), default=start)
        widths = (start - margin, right - start)
        if (
            len(lefts) < MIN_COLUMN_LINES
            or not height
            or max(widths) > COLUMN_BALANCE * min(widths)
        ):
            continue
        spans = [max(p.y for p in ps) - min(p.y for p in ps) for ps in (lefts, rights)]
        if min(spans) < COLUMN_SPAN * height:
            continue
        edges = sum(abs(p.x - margin) <= X_TOLERANCE for p in lefts) + len(rights)
        if edges < COLUMN_STARTS * (len(lefts) + len(rights)):
            continue
        if _fills(rights, start) and _fills(lefts, margin):
            return start - X_TOLERANCE
    return None


def _furniture(rows: list[list[_Piece]]) -> tuple[int, int]:
    """Baseline index range of a page's body: headers and footers set apart by a wide gap."""
    gaps = [a[0].y - b[0].y for a, b in zip(rows, rows[1:])]
    if not gaps:
        return 0, len(rows)
    usual = statistics.median(gaps)
    lo, hi = 0, len(rows)
    while lo < min(3, len(gaps)) and gaps[lo] > FURNITURE_GAP * usual:
        lo += 1
    while hi - 1 > lo and len(rows) - hi < 3 and gaps[hi - 2] > FURNITURE_GAP * usual:
        hi -= 1
    return lo, hi


def _read_columns(rows: list[list[_Piece]], gutter: float) -> list[Line | None]:
    """A two-column page read band by band: the left column, then the right, then what spans."""
    lo, hi = _furniture(rows)
    out: list[Line | None] = []
    band: tuple[list[Line | None], list[Line | None]] = ([], [])

    def flush():
        out.extend(band[0] + band[1])
        band[0].clear()
        band[1].clear()

    for k, row in enumerate(rows):
        spans = any(p.x < gutter and p.end > gutter for p in row)
        if spans or not lo <= k < hi:
            flush()
            out.append(_joined(row))
            continue
        for col, side in (
            (1, [p for p in row if p.x < gutter]),
            (2, [p for p in row if p.x >= gutter]),
        ):
            if side:
                band[col - 1].append(_joined(side, col))
    flush()
    return [ln for ln in out if ln is not None]


def _columns(row: list[_Piece]) -> list[float] | None:
    """The x of each cell of a baseline that could head a table."""
    xs = [p.x for p in row]
    gap = MIN_COLUMN_GAP * row[0].size
    if len(xs) < MIN_COLUMNS or any(b - a < gap for a, b in zip(xs, xs[1:])):
        return None
    return xs


def _column_of(p: _Piece, cols: list[float]) -> int | None:
    for k, x in enumerate(cols):
        if abs(p.x - x) <= X_TOLERANCE:
            # A cell never runs into the next column.
            return k if k + 1 == len(cols) or p.end <= cols[k + 1] + X_TOLERANCE else None
    return None


def _group(ys: list[float], cells: list[dict[int, _Piece]]) -> list[list[int]]:
    """Baselines grouped into table rows: by wider row gaps, or by cells wrapping in one column."""
    gaps = [a - b for a, b in zip(ys, ys[1:])]
    small = min(gaps, default=0.0)
    wide = [g > ROW_GAP * small for g in gaps]
    # Rows set apart by padding: a cell's wrapped lines sit closer than the rows do.
    by_gap = sum(wide) >= 2 and not all(wide)
    groups = [[0]]
    for k in range(1, len(ys)):
        cur, prev = set(cells[k]), set(cells[k - 1])
        wraps = cur <= prev and (0 not in cur or len(cur) == 1) and not wide[k - 1]
        if wide[k - 1] if by_gap else not wraps:
            groups.append([k])
        else:
            groups[-1].append(k)
    return groups


def _cell_text(parts: list[str]) -> str:
    text = ""
    for part in parts:
        # A wrapped cell keeps a hyphen at its line end, as a compound would.
        text += part if not text or text.endswith("-") else " " + part
    return text


def _table_cells(rows: list[list[_Piece]], i: int, cols: list[float]) -> list[dict[int, _Piece]]:
    """Each baseline's pieces by column, from baseline i while they keep to the columns."""
    cells: list[dict[int, _Piece]] = []
    for j in range(i, len(rows)):
        if j > i and rows[j - 1][0].y - rows[j][0].y > MAX_ROW_GAP * rows[j][0].size:
            break
        ks = [_column_of(p, cols) for p in rows[j]]
        if None in ks or len(set(ks)) < len(ks):
            break
        cells.append(dict(zip(ks, rows[j])))
    return cells


def _table_at(rows: list[list[_Piece]], i: int, headers: Set[str]) -> tuple[int, list[Line]] | None:
    """The table whose header is baseline i: the baseline after it and its rows as lines."""
    cols = _columns(rows[i])
    if cols is None:
        return None
    cells = _table_cells(rows, i, cols)
    groups = _group([r[0].y for r in rows[i : i + len(cells)]], cells)
    # A last row with one cell is more likely text after the table than a row of it.
    while len(groups) > 1 and len({k for b in groups[-1] for k in cells[b]}) < 2:
        groups.pop()
    filled = [len({k for b in g for k in cells[b]}) >= 2 for g in groups]
    texts = [
        " | ".join(
            _cell_text([cells[b][k].text.strip() for b in g if k in cells[b]])
            for k in range(len(cols))
        )
        for g in groups
    ]
    least = MIN_CONTINUED_ROWS if texts and header_key(texts[0]) in headers else MIN_ROWS
    if len(groups) < least or not all(filled[:least]):
        return None
    lines = []
    for g, text in zip(groups, texts):
        frags = [f for b in g for p in rows[i + b] for f in p.frags]
        lines.append(_make_line([text], frags))
    return i + groups[-1][-1] + 1, [ln for ln in lines if ln is not None]


def _tables(rows: list[list[_Piece]], headers: Set[str]) -> list[tuple[int, int, list[Line]]]:
    """Each table of a page: the stream lines [lo, hi) it replaces and its rows as lines."""
    out = []
    i = 0
    while i < len(rows):
        found = _table_at(rows, i, headers)
        if found is None:
            i += 1
            continue
        j, lines = found
        inside = [p for r in rows[i:j] for p in r]
        lo, hi = min(p.line for p in inside), max(p.line for p in inside) + 1
        # Only a table whose stream lines hold nothing else is rebuilt.
        others = sum(1 for r in rows for p in r if lo <= p.line < hi) - len(inside)
        if not others and len(lines) <= hi - lo:
            out.append((lo, hi, lines))
        i = j
    return out
