"""What each span of a chunk is: the item's own words, a response, progress, background,
learning, good practice or a reflective question, read from general cues (rag/data/layout.toml).

Roles are per span, not per document: one chunk of an action plan holds the recommendation, the
agency's response and its progress rating, and each is cited and used for what it is.
"""

from __future__ import annotations

import re
from functools import cache

from rag.core import items
from rag.core.resources import read_toml

Role = tuple[int, int, str]


@cache
def _table() -> dict:
    return read_toml("layout.toml")["roles"]


@cache
def _section_words() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (role, re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")", re.I))
        for role, words in _table()["sections"].items()
    ]


def own_roles() -> frozenset[str]:
    """The roles that are the review's own words, as against what an agency says it did."""
    return frozenset(_table()["own"])


def default_role(kind: str, section: str) -> str:
    """The role of a chunk's text outside any item span or label: from its section's heading
    words when they name one, else from its kind."""
    last = section.rsplit(" › ", 1)[-1] if section else ""
    # An item's heading is its own title ("Recommendation 3: building on strengths"), not a
    # part's name, so only other sections are named by their heading words.
    if kind not in _table()["item"]:
        for role, rx in _section_words():
            if rx.search(last):
                return role
    return _table()["rest"].get(kind, "other")


def span_roles(
    text: str, start: int, end: int, kind: str, section: str, rec: tuple[int, int] | None
) -> tuple[Role, ...]:
    """Spans of text[start:end] in order, each with its role; together they cover the chunk."""
    base = default_role(kind, section)
    marks: list[tuple[int, str]] = [(start, base)]
    pos = start
    for line in text[start:end].splitlines(keepends=True):
        if (role := items.label_role(line)) is not None:
            marks.append((pos, role))
        pos += len(line)
    spans = [
        (at, marks[i + 1][0] if i + 1 < len(marks) else end, role)
        for i, (at, role) in enumerate(marks)
    ]
    if rec is not None and start <= rec[0] < rec[1] <= end:
        # The item's label ("R2:", its heading) belongs to the item's own words.
        head = start if all(at >= rec[0] for at, _ in marks[1:]) else rec[0]
        spans = _overlay(spans, (head, rec[1], _table()["item"].get(kind, "recommendation")))
    return tuple(_merged(s for s in spans if s[0] < s[1]))


def _overlay(spans: list[Role], top: Role) -> list[Role]:
    """`spans` with `top` laid over them: the item's own words keep their role whatever label
    line falls inside them."""
    out: list[Role] = []
    for a, b, role in spans:
        if a < top[0]:
            out.append((a, min(b, top[0]), role))
        if b > top[1]:
            out.append((max(a, top[1]), b, role))
    return sorted([*out, top])


def _merged(spans) -> list[Role]:
    out: list[Role] = []
    for a, b, role in spans:
        if out and out[-1][2] == role and out[-1][1] == a:
            out[-1] = (out[-1][0], b, role)
        else:
            out.append((a, b, role))
    return out
