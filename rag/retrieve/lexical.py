"""BM25 over chunk search texts (bm25s, stemmed by rag.core.stemming); the one bm25s importer.

The index keeps chunk ids, not texts: a hit's text is read back from the store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from rag.core.stemming import STEMMER
from rag.retrieve.base import ChunkTable, Query, Ranking

_STEMMER = STEMMER
# What builds and reads the saved score arrays: another version builds them again.
ENGINE = f"bm25s {bm25s.__version__}"
_ABBREVIATION_PLURAL = re.compile(r"\b([A-Z]{2,})s\b")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Stemmed word tokens of each text, stopwords left out, as BM25 indexes them."""
    # One-character tokens matter here: "Child W", "Recommendation 7".
    return bm25s.tokenize(
        list(texts),
        stopwords="en",
        stemmer=_STEMMER,
        token_pattern=r"(?u)\b\w+\b",
        return_ids=False,
        show_progress=False,
    )


class LexicalIndex:
    """A BM25 index over chunk search texts, built from their tokens or loaded from a folder."""

    def __init__(
        self,
        table: ChunkTable,
        tokens: Sequence[list[str]] = (),
        saved: Path | None = None,
        k1: float = 1.5,
        b: float = 0.75,
    ):
        self.table = table
        if saved is not None:
            # Memory-mapped: the score arrays are read from the page cache as queries touch them.
            self.bm25 = bm25s.BM25.load(saved, mmap=True, show_progress=False)
        else:
            self.bm25 = bm25s.BM25(k1=k1, b=b)
            if len(table):
                self.bm25.index(tokens, show_progress=False)

    @classmethod
    def load(cls, table: ChunkTable, folder: Path) -> LexicalIndex:
        """The index `save` wrote into `folder`, over the same chunks (`table`)."""
        return cls(table, saved=folder) if len(table) else cls(table, [])

    def save(self, folder: Path) -> None:
        """Write the score arrays and vocabulary into `folder` (nothing for an empty index)."""
        if len(self.table):
            self.bm25.save(folder, show_progress=False)

    def _scores(self, text: str) -> np.ndarray | None:
        tokens = [t for t in tokenize([text])[0] if t in self.bm25.vocab_dict]
        return self.bm25.get_scores(tokens) if tokens and len(self.table) else None

    def knows(self, text: str) -> bool:
        """Whether any word of the text (stemmed) is in the index's vocabulary."""
        return any(t in self.bm25.vocab_dict for t in tokenize([text])[0])

    def uses_all(self, text: str) -> bool:
        """Whether one chunk uses every word of the text in some form (stemmed)."""
        tokens = tokenize([text])[0]
        if not tokens or not len(self.table) or any(t not in self.bm25.vocab_dict for t in tokens):
            return False
        together = np.ones(len(self.table), dtype=bool)
        for t in dict.fromkeys(tokens):
            together &= self.bm25.get_scores([t]) > 0
        return bool(together.any())

    def chunks_using(self, word: str) -> int:
        """How many chunks use the word (stemmed, as BM25 reads it)."""
        scores = self._scores(word)
        return 0 if scores is None else int((scores > 0).sum())

    def documents_using(self, text: str) -> set[str]:
        """The documents with a chunk that uses any word of the text (stemmed, as BM25 reads it)."""
        # The stemmer leaves an abbreviation's plural alone: "GPs" is read as "GP" too.
        scores = self._scores(_ABBREVIATION_PLURAL.sub(r"\g<0> \1", text))
        if scores is None:
            return set()
        return self.table.documents_at(np.flatnonzero(scores > 0))

    def search(self, query: Query, k: int, allowed: frozenset[str] | None = None) -> Ranking:
        """The best-scoring chunks for the query's words, among the allowed documents."""
        scores = self._scores(query.text)
        if scores is None:
            return []
        ids = self.table.ids
        if allowed is None:
            # bm25s's own selection, so tied scores keep the order they always had.
            top, at = bm25s.selection.topk(scores, k=min(k, len(ids)), backend="numpy")
            return [(ids[int(i)], float(s)) for i, s in zip(at, top) if s > 0]
        # Selecting among the allowed chunks only: a top-k over every chunk with the others
        # masked to zero is slow (18 ms against 1 ms at 100k chunks). Ties go by position.
        pool = self.table.positions(allowed)
        pool = pool[scores[pool] > 0]
        if len(pool) > k:
            # Everything scoring at least the k-th best, ties included, then the best k.
            kth = np.partition(scores[pool], len(pool) - k)[len(pool) - k]
            pool = pool[scores[pool] >= kth]
        best = pool[np.lexsort((pool, -scores[pool]))][:k]
        return [(ids[i], float(scores[i])) for i in best]
