"""The word tables metadata reading uses (rag/data/metadata.toml), and phrase look-ups in them."""

from __future__ import annotations

import re
from functools import cache

from rag.core.resources import read_toml


@cache
def data() -> dict:
    """The word tables of rag/data/metadata.toml."""
    return read_toml("metadata.toml")


@cache
def words(name: str) -> frozenset[str]:
    """One space-separated word list of the tables, as a set."""
    return frozenset(data()["words"][name].split())


@cache
def _phrase_table(table: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for phrase, value in data()[table].items():
        body = r"[\s\-–—]+".join(map(re.escape, phrase.split()))
        # Abbreviations match only in capitals: "scr" inside a word or a sentence is not one.
        flags = 0 if phrase.isupper() else re.I
        out.append((re.compile(rf"(?<![\w-]){body}s?(?![\w])", flags), value))
    return tuple(out)


def spans(text: str, table: str) -> list[tuple[int, int, str]]:
    """Where each phrase of a table occurs in `text`, with the value it stands for."""
    return [(m.start(), m.end(), v) for p, v in _phrase_table(table) for m in p.finditer(text)]


def first(text: str, table: str) -> str | None:
    """The value of the earliest (then longest) phrase of a table found in `text`."""
    if table == "review_types":
        for phrase in data()["ignore"]["phrases"]:
            text = re.sub(re.escape(phrase), lambda m: " " * len(m.group()), text, flags=re.I)
    hits = sorted((a, a - b, v) for a, b, v in spans(text, table))
    return hits[0][2] if hits else None


def canonical_type(name: str) -> str | None:
    """The review type a phrase names ("Thematic SCR" -> "Thematic review"), or None."""
    values = {v.casefold(): v for v in data()["review_types"].values()}
    return values.get(name.casefold()) or first(name, "review_types")
