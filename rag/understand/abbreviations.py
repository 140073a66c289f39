"""Abbreviations a corpus spells out, read from its own text: a question's "ICB" is also
searched as the "Integrated Care Board" the reviews write, whatever the reviews.

Two general cues, the ones readers use: a definition in brackets ("key lines of enquiry
(KLOEs)"), and a run of capitalised words whose initials spell a capitalised abbreviation the
corpus also uses ("Integrated Care Board" beside "the ICB"). The fixed practitioners' list is
rag/data/glossary.toml; this one is the corpus's own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import product

from rag.core.words import stopwords

# Capitals as a word of their own, maybe plural: "ICB", "KLOEs", "CAWNs".
_ABBREVIATION = re.compile(r"(?<![\w&'’-])([A-Z][A-Z]{1,7})(s?)(?![\w&'’-])")
# A long form defined just before an abbreviation in brackets: "... (NRM)".
_DEFINED = re.compile(r"((?:[\w'’-]+\s+){1,10})\(([A-Z][A-Z]{1,7})s?\)")
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
# The longest long form read, in words.
_SPAN = 10
# An abbreviation spelled by capitalised words alone needs three letters: two-letter
# initials ("Death Overview" for "DO") are mostly chance.
_MIN_UNDEFINED = 3


def _variants(words: Sequence[str], stop: frozenset[str]) -> set[str]:
    """The initials the words can spell: every content word gives its first letter; a function
    word ("of" in "key lines of enquiry", KLOE) may or may not."""
    choices = [("", w[0].upper()) if w.lower() in stop else _initials(w) for w in words]
    if sum(len(c) > 1 for c in choices) > 4:
        return set()
    return {"".join(p) for p in product(*choices)}


def _initials(word: str) -> tuple[str, ...]:
    """A content word's first letter, or one letter per part of a hyphenated word ("multi-agency"
    gives M or MA)."""
    parts = [p for p in re.split(r"[-‐–]", word) if p]
    whole = "".join(p[0] for p in parts).upper()
    return (word[0].upper(),) if len(parts) < 2 else (word[0].upper(), whole)


def _spans(words: Sequence[str], stop: frozenset[str]) -> Iterable[tuple[str, ...]]:
    """Every span of the words that begins and ends with a content word."""
    for i, first in enumerate(words):
        if first.lower() in stop:
            continue
        for j in range(i + 2, min(len(words), i + _SPAN) + 1):
            if words[j - 1].lower() not in stop:
                yield tuple(words[i:j])


class Reader:
    """Reads texts one at a time, then gives the abbreviations they spell out."""

    def __init__(self):
        self.stop = stopwords()
        self.used: Counter[str] = Counter()
        self.defined: Counter[tuple[str, str]] = Counter()
        self.runs: Counter[tuple[str, ...]] = Counter()

    def add(self, text: str) -> None:
        """Reads one text: the abbreviations it uses, its definitions and capitalised runs."""
        self.used.update(m.group(1) for m in _ABBREVIATION.finditer(text))
        for m in _DEFINED.finditer(text):
            words = _WORD.findall(m.group(1))
            for k in range(len(words) - 1):
                if (
                    m.group(2) in _variants(words[k:], self.stop)
                    and words[k].lower() not in self.stop
                ):
                    self.defined[(m.group(2), " ".join(words[k:]))] += 1
                    break
        run: list[str] = []
        for w in [*_WORD.findall(text), ""]:
            if w[:1].isupper() and not w.isupper() or (run and w.lower() in self.stop):
                run.append(w)
                continue
            if sum(x.lower() not in self.stop for x in run) >= 2:
                self.runs[tuple(run)] += 1
            run = []

    def table(self, common: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
        """Each abbreviation the texts use (not an ordinary word of `common`) and its long form."""
        wanted = {a for a in self.used if a.lower() not in common}
        found: dict[str, Counter[str]] = {}
        for (abbreviation, form), n in self.defined.items():
            if abbreviation in wanted:
                # A definition outweighs any number of chance initials.
                found.setdefault(abbreviation, Counter())[form] += 1000 * n
        for run, n in self.runs.items():
            for span in _spans(run, self.stop):
                for initials in _variants(span, self.stop) & wanted:
                    if len(initials) >= _MIN_UNDEFINED or initials in found:
                        found.setdefault(initials, Counter())[" ".join(span)] += n
        return {a: forms.most_common(1)[0][0] for a, forms in sorted(found.items())}


def expand(question: str, table: Mapping[str, str], keep: Iterable[str] = ()) -> str:
    """The question with each abbreviation of the table followed by its long form in brackets.

    The abbreviation stays, for passages that use it; `keep` are ones left alone (a review's
    own name, which scopes the question as written).
    """
    kept = {k.lower() for k in keep}

    def spelled(m: re.Match) -> str:
        form = table.get(m.group(1))
        if form is None or m.group(1).lower() in kept or form.lower() in question.lower():
            return m.group(0)
        return f"{m.group(0)} ({form})"

    return _ABBREVIATION.sub(spelled, question)
