"""Tables in a document's text: Markdown pipe tables and the `a | b | c` rows PDF and Word give.

A row is one unit. Its header names travel with it as context, so "Lead agency | Police" is
searchable though the header row is far away in the text; the cell under an item column
("Recommendation", "Action") is the row's own words, the recommendation text of its chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.core import items, numbers

_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_CONTINUED = re.compile(r"\(?(?:continued|cont(?:'d|\.|d)?)?\)?", re.IGNORECASE)
_LEADING_ITEM = re.compile(
    rf"(?:\*\*|__)?(?P<label>{items.pattern().pattern})(?:\*\*|__)?"
    r"(?:\s*\([^)]{1,40}\))?\s*[:.–—-]?\s*(?:\*\*|__)?\s*",
    re.IGNORECASE,
)
# Two or more cell separators make a row; a lone "|" in prose does not.
_MIN_CELLS = 3


@dataclass(frozen=True)
class Row:
    """One data row of a table, as document offsets."""

    line: int
    start: int
    end: int
    label: str
    # The cell holding the item's own words (document offsets), or None.
    item: tuple[int, int] | None
    # "Column: value" pairs of the other cells' headers, for search.
    context: str


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Trimmed offsets of each cell of a row; outer pipes are not cells."""
    row = text[start:end]
    bounds = [-1, *[i for i, ch in enumerate(row) if ch == "|"], len(row)]
    cells = []
    for a, b in zip(bounds, bounds[1:]):
        s, e = start + a + 1, start + b
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        cells.append((s, e))
    if row.lstrip().startswith("|"):
        cells = cells[1:]
    if row.rstrip().endswith("|"):
        cells = cells[:-1]
    return cells


def _is_row(text: str, start: int, end: int) -> bool:
    return text.count("|", start, end) >= _MIN_CELLS - 1


def _bare(cell: str) -> str:
    return re.sub(r"\*\*|__|`", "", cell).strip()


def _singular(header: str) -> str:
    word = header.strip()
    return word[:-1] if word.lower().endswith("s") and not word.lower().endswith("ss") else word


def _runs(text: str, lines: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Line index ranges [i, j) of consecutive table rows, at least a header and one row."""
    runs, i = [], 0
    while i < len(lines):
        j = i
        while j < len(lines) and _is_row(text, *lines[j]):
            j += 1
        if j - i >= 2:
            runs.append((i, j))
        i = max(j, i + 1)
    return runs


def table_rows(text: str, lines: list[tuple[int, int]]) -> list[Row]:
    """Every data row of every table whose header names an item column."""
    out: list[Row] = []
    for i, j in _runs(text, lines):
        header = [_bare(text[s:e]) for s, e in _cells(text, *lines[i])]
        roles = [items.column_role(h) for h in header]
        if "item" not in roles:
            continue
        col = roles.index("item")
        for k in range(i + 1, j):
            s, e = lines[k]
            if _RULE.match(text[s:e]):
                continue
            cells = _cells(text, s, e)
            if len(cells) != len(header) or not any(a < b for a, b in cells):
                continue
            row = _row(text, k, s, e, header, cells, col)
            # A row that only continues the one above (same label, or no item text of its own)
            # stays in that row's unit.
            item = _bare(text[slice(*row.item)]) if row.item else ""
            if (
                out
                and out[-1].line >= i
                and (row.label == out[-1].label or _CONTINUED.fullmatch(item))
            ):
                continue
            out.append(row)
    return out


def _row(text, k, s, e, header, cells, col) -> Row:
    first = _bare(text[slice(*cells[0])])
    item = cells[col] if cells[col][0] < cells[col][1] else None
    m = _LEADING_ITEM.match(text, *cells[0]) if cells[0][0] < cells[0][1] else None
    if m and items.read(m):
        # "Recommendation 1: Schools should ..." names its item, and its words follow the label.
        label = " ".join(m["label"].split())
        if col == 0 and m.end() < cells[0][1]:
            item = (m.end(), cells[0][1])
    elif numbers.item(first.rstrip(".")):
        # A bare number names the item of its column: "Recommendation 2".
        label = f"{_singular(header[col])} {first.rstrip('.')}"
    elif col != 0 and first and len(first.split()) <= 3:
        label = first
    else:
        label = f"{_singular(header[col])} row {k}"
    context = "; ".join(
        f"{h}: {_bare(text[a:b])}" for n, (h, (a, b)) in enumerate(zip(header, cells)) if n != col
    )
    return Row(k, s, e, label, item, context)
