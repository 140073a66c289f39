"""The one item grammar: how reviews and questions name a numbered item, from rag/data/layout.toml.

"Recommendation 4", "Rec 4", "R4", "recommendation iv" and "the fourth recommendation" all name
item ("recommendation", 4); "Learning Point 2" and "LP2" name ("learning", 2). Chunking reads
headings with it and question reading reads references with it, so the two always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rag.core import numbers
from rag.core.resources import read_toml


@dataclass(frozen=True)
class ItemRef:
    """One item label found in a line: its kind, number, and where the label ends."""

    kind: str
    number: int
    label: str
    end: int


@cache
def _table() -> dict:
    return read_toml("layout.toml")


@cache
def _word_kinds() -> dict[str, str]:
    out: dict[str, str] = {}
    for kind, spec in _table()["items"].items():
        out |= {w.lower(): kind for w in spec["words"]}
    return out


@cache
def _short_kinds() -> dict[str, str]:
    out: dict[str, str] = {}
    for kind, spec in _table()["items"].items():
        out |= {w.lower().rstrip("."): kind for w in spec["short"]}
    return out


def _alternation(words) -> str:
    # Longest first, so "learning point" wins over "learning".
    return "|".join(
        re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True)
    )


@cache
def pattern(numerals: str = numbers.ITEM) -> re.Pattern[str]:
    """An item label: a word and a number ("Finding 2", "finding no. two"), or a short form
    and digits ("R1", "Rec. 3", "LP2"). Groups: word/num or short/snum."""
    words = _alternation(_word_kinds())
    short = _alternation(_short_kinds())
    return re.compile(
        rf"\b(?:(?P<word>{words})s?\.?\s*(?:no\.?\s*|number\s+)?(?P<num>{numerals})"
        rf"|(?P<short>{short})\.?\s?(?P<snum>\d{{1,3}}[a-z]?))\b",
        re.IGNORECASE,
    )


def kind_of(word: str) -> str:
    """The item kind a label word or short form names ("LP" -> "learning")."""
    low = " ".join(word.lower().rstrip(".").split())
    if low.endswith("s") and low[:-1] in _word_kinds():
        low = low[:-1]
    return _word_kinds().get(low) or _short_kinds().get(low) or "recommendation"


def written(m: re.Match[str]) -> str:
    """A match of `pattern()` written in one form: "rec 4" and "R4" -> "Recommendation 4"."""
    kind = kind_of(m["word"] or m["short"])
    token = m["num"] if m["word"] else m["snum"]
    if token.isalpha():
        token = token.upper() if numbers.roman(token.lower()) else token.title()
    return f"{_table()['items'][kind]['name']} {token}"


def chunk_kind(kind: str) -> str:
    """The chunk kind of an item kind's section ("learning" -> "finding")."""
    return _table()["items"].get(kind, {}).get("chunk", "other")


def read(m: re.Match[str]) -> ItemRef | None:
    """The item a match of `pattern()` names, or None when its number is not a number."""
    word, token = (m["word"], m["num"]) if m["word"] else (m["short"], m["snum"])
    found = numbers.item(token)
    if found is None:
        return None
    return ItemRef(kind_of(word), found[0], m.group(0), m.end())


def references(text: str, numerals: str = numbers.ITEM) -> list[tuple[str, int]]:
    """Every (kind, number) item that `text` names, in order."""
    return [(r.kind, r.number) for m in pattern(numerals).finditer(text) if (r := read(m))]


def ordinal_pattern(numerals: str = numbers.ITEM) -> re.Pattern[str]:
    """A number before the item word: "the second recommendation", "3 findings"."""
    words = _alternation(_word_kinds())
    return re.compile(rf"\b(?P<num>{numerals})\s+(?P<word>{words})\b", re.IGNORECASE)


@cache
def label_pattern(role: str) -> re.Pattern[str]:
    """A line-opening label of one part of an item ("Response (Police):", "Progress rating:")."""
    alternatives = "|".join(f"(?:{rx})" for rx in _table()["labels"][role])
    return re.compile(rf"(?:{alternatives})", re.IGNORECASE)


def label_role(line: str) -> str | None:
    """ "response" or "progress" when `line` opens with such a label and a colon, or is one."""
    bare = re.sub(r"^\s*(?:[-*•+]\s+)?|\*\*|__", "", line).strip()
    for role in ("response", "progress"):
        m = label_pattern(role).match(bare)
        if m and (bare[m.end() :].lstrip().startswith((":", "–", "—")) or m.end() == len(bare)):
            return role
    return None


def column_role(header: str) -> str | None:
    """ "item" or "response" for a table header cell that names one, else None."""
    low = " ".join(re.sub(r"[^\w\s/]", " ", header.lower()).split())
    for role in ("item", "response"):
        if low in _table()["columns"][role]:
            return role
    return None
