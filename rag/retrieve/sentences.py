"""Candidate passages scored by their best sentence, from the sentence vectors stored at
ingest: for the support gate (`sentence_support`) and, when weighted, as a ranking.

A passage's own vector reads only its first 256 word pieces, and a long narrative spreads it
over everything the passage says, so one fact late in it ("the referral was sent on day 9")
barely moves it. The candidate quote sentences of every passage are embedded at ingest (for
quote choice); scoring a passage by the closest of them finds that fact. Only the vectors of
the passages the other searchers already found are read, never the whole collection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from rag.core.models import Chunk
from rag.retrieve.base import Query, Ranking

# (chunk id, start, end) of a sentence, as the store keys its vectors.
SentenceKey = tuple[str, int, int]
# The document offsets of a chunk's candidate quote sentences (rag.answer.compose).
Quotable = Callable[[Chunk], Sequence[tuple[int, int]]]
# The stored vectors of the sentences asked for, where present (Store.sentence_vectors).
Reader = Callable[[Sequence[SentenceKey]], Mapping[SentenceKey, np.ndarray]]


class PoolSentences:
    """The stored sentence vectors of a pool of passages, read once, scored against any vector.

    A passage's best part is the closest of its own vector and its sentences'. A passage with
    no stored sentence (a short recommendation is quoted whole, so none of its sentences is a
    candidate) keeps its own cosine instead of falling to the end.
    """

    def __init__(
        self, pool: Mapping[str, tuple[Chunk, np.ndarray]], quotable: Quotable, read: Reader
    ):
        self.pool = pool
        keys = [(cid, a, b) for cid, (c, _) in pool.items() for a, b in quotable(c)]
        stored = read(keys) if keys else {}
        found = [k for k in keys if k in stored]
        self._owners = [cid for cid, _, _ in found]
        self._matrix = np.stack([stored[k] for k in found]) if found else None

    def best(self, vector: np.ndarray) -> dict[str, float]:
        """Each passage's best part: its highest cosine to `vector`, sentence or whole."""
        score = {cid: float(v @ vector) for cid, (_, v) in self.pool.items()}
        if self._matrix is not None:
            for cid, sim in zip(self._owners, (self._matrix @ vector).tolist()):
                score[cid] = max(sim, score[cid])
        return score


class SentenceSearcher:
    """Ranks a fixed pool of passages (those the other searchers found) by their best part's
    cosine to the query's ranking vector."""

    def __init__(self, sentences: PoolSentences):
        self.sentences = sentences

    def search(self, query: Query, k: int, allowed: frozenset[str] | None = None) -> Ranking:
        """The best `k` passages of the pool by their best part, among the allowed documents."""
        pool = self.sentences.pool
        score = self.sentences.best(query.vector)
        ranked = [
            kv for kv in score.items() if allowed is None or pool[kv[0]][0].document in allowed
        ]
        return sorted(ranked, key=lambda kv: (-kv[1], kv[0]))[:k]
