"""The one number grammar: how reviews and questions write the number of an item or a count.

Digits ("7", "3a" with a suffix letter), English words ("seven", "seventh") and roman numerals
("vii", "VII"). Headings, section references in questions, follow-ups and fact checks all read
numbers through this module, so "Recommendation iv" in a document and "recommendation 4" in a
question name the same item.
"""

from __future__ import annotations

import re

CARDINALS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
ORDINALS = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
]
_WORDS = {w: i for i, w in enumerate(CARDINALS)} | {w: i for i, w in enumerate(ORDINALS)}
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
# Roman numerals up to 89, well formed ("iv", "xii", not "civil" or "iiii").
ROMAN = r"(?:l?x{0,3}|xl)(?:ix|iv|v?i{0,3})"
WORDS = "|".join(sorted(_WORDS, key=len, reverse=True))
# A count written in words ("two", "fourteen"), longest first. Use with re.IGNORECASE.
CARDINAL = "|".join(sorted(CARDINALS, key=len, reverse=True))
# A count of two or more written in words: "one" is as often "one of the" as a count.
SEVERAL = "|".join(sorted(CARDINALS[2:], key=len, reverse=True))
# A section or paragraph number as a report writes it: "2", "2.3", "2.3.1.", "4.2.2".
SECTION = r"\d{1,2}(?:\.\d{1,2}){0,3}\.?"
# A line's own paragraph or list number, written with a dot: "2.", "2.3", "2.3.1.", "iv.".
NUMBERED = rf"(?:(?=\d{{1,2}}\.){SECTION}|(?=[ivxlc]){ROMAN}\.)"
# An item number as a heading or a question writes it: digits with an optional suffix letter,
# a number word, or a roman numeral. Use with re.IGNORECASE.
ITEM = rf"(?:\d{{1,3}}[a-z]?|{WORDS}|(?=[ivxlc]){ROMAN}(?![a-z]))"
_ROMAN_FULL = re.compile(ROMAN, re.IGNORECASE)
_DIGITS = re.compile(r"(\d{1,3})([a-z]?)", re.IGNORECASE)


def roman(token: str) -> int | None:
    """The value of a well-formed roman numeral (up to 89), else None."""
    low = token.lower()
    if not low or not _ROMAN_FULL.fullmatch(low):
        return None
    total = 0
    for a, b in zip(low, low[1:] + " "):
        value = _ROMAN_VALUES[a]
        total += -value if _ROMAN_VALUES.get(b, 0) > value else value
    return total


def number(token: str, romans: bool = True) -> int | None:
    """An integer from digits, an English number word or ordinal, or (with `romans`) a roman
    numeral; None for anything else. A suffix letter ("3a") is not a number: see `item`."""
    low = token.lower()
    if low.isdigit():
        return int(low)
    if low in _WORDS:
        return _WORDS[low]
    return roman(low) if romans else None


def item(token: str) -> tuple[int, str] | None:
    """An item number and its suffix letter: "3a" -> (3, "a"), "iv" -> (4, ""), else None."""
    if m := _DIGITS.fullmatch(token):
        return int(m[1]), m[2].lower()
    n = number(token)
    return None if n is None else (n, "")
