"""The one stemmer (PyStemmer's English Snowball), for BM25 and for matching a question's words.

"home educated" and "home education" share stems, so a question is never told that the
reviews do not mention what they mention in another form of the word.
"""

from __future__ import annotations

from collections.abc import Iterable

import Stemmer

STEMMER = Stemmer.Stemmer("english")


def stem_phrase(phrase: str) -> str:
    """The lower-cased words of `phrase`, each stemmed, joined by single spaces."""
    return " ".join(STEMMER.stemWords(phrase.lower().split()))


def stemmed(vocabulary: Iterable[str]) -> frozenset[str]:
    """Every entry of a vocabulary of words and word pairs, stemmed."""
    return frozenset(stem_phrase(v) for v in vocabulary)
