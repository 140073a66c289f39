"""The word lists of rag/data/words.toml, each for one job; the one place they are read."""

from __future__ import annotations

from functools import cache

from rag.core.resources import read_toml


@cache
def words(name: str) -> frozenset[str]:
    """The lower-case words of one list in rag/data/words.toml (KeyError for an unknown list)."""
    return frozenset(read_toml("words.toml")[name].split())


@cache
def word_table(name: str) -> dict[str, str]:
    """One word-to-word table of rag/data/words.toml (KeyError for an unknown table)."""
    return dict(read_toml("words.toml")[name])


def stopwords() -> frozenset[str]:
    """Function words that carry no content."""
    return words("stopwords")


def frame_words() -> frozenset[str]:
    """Words that frame a question about a review rather than say what it is about."""
    return words("frame")


def common_caps() -> frozenset[str]:
    """Capitalised words of a question that name nothing."""
    return words("common_caps")
