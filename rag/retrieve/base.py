"""What every searcher shares: the query it is given, the chunk table, and one `search` shape.

Every searcher (lexical, dense, structural, and the hybrid that fuses them) answers
`search(query, k, allowed) -> list[(chunk_id, score)]`, best first, where `allowed` is the set
of document ids the filters let through (None: every document).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.understand.question import QueryInfo, focus

Ranking = list[tuple[str, float]]
# Rankings of every chunk a question names, whatever the number of candidates asked for.
_WHOLE = ("structural",)


def first(rankings: dict[str, Ranking], n: int) -> dict[str, Ranking]:
    """Each ranking's first `n`: what each searcher gives when asked for `n` (a named section's
    ranking is never cut)."""
    return {name: r if name in _WHOLE else r[:n] for name, r in rankings.items()}


@dataclass(frozen=True)
class Query:
    """A question as the searchers read it."""

    # The question as searched (abbreviations the corpus never uses spelled out).
    text: str
    info: QueryInfo
    # The vector dense search ranks by: the topic without conversational frames.
    vector: np.ndarray
    # The question's vector as asked, and the one support is judged by (None: as asked).
    full: np.ndarray
    support: np.ndarray | None = None


def embed_query(
    embed: Callable[[list[str]], np.ndarray],
    question: str,
    info: QueryInfo,
    also: Sequence[str] = (),
) -> tuple[Query, dict[str, np.ndarray]]:
    """The question as the searchers read it, with its three vectors, and the vectors of the
    texts `also`, embedded in the same call.

    A question naming a review is searched within it, where the name is shared by every
    passage and only its topic tells them apart; conversational frames ("what did the
    review say about that?") are dropped for ranking too. Support is judged as calibrated:
    by the topic when a review is named, else by the question as asked.
    """
    topic = info.topic
    focused = focus(topic or question)
    texts = [
        question,
        *([topic] if topic else []),
        *([focused] if focused != (topic or question) else []),
    ]
    # One encode call for all of them: each call costs more than its texts (10-20 ms).
    everything = embed([*texts, *also])
    vectors, extra = everything[: len(texts)], dict(zip(also, everything[len(texts) :]))
    vector, support = vectors[0], (vectors[1] if topic else None)
    if support is None and len(texts) > 1:
        support = vector
    return Query(question, info, vectors[-1], vector, support), extra


class Searcher(Protocol):
    """Anything that ranks chunks for a query."""

    def search(self, query: Query, k: int, allowed: frozenset[str] | None) -> Ranking:
        """The best `k` chunk ids for the query among the allowed documents, with scores."""
        ...


class ChunkTable:
    """Every indexed chunk's id and document, by position; built once per index generation."""

    def __init__(
        self, ids: Sequence[str], documents: Sequence[str] | np.ndarray, doc_ids: Iterable[str]
    ):
        """`documents`: each chunk's document id, or (an array) its position in `doc_ids`."""
        self.ids = list(ids)
        self.doc_ids = list(doc_ids)
        self._position = {d: k for k, d in enumerate(self.doc_ids)}
        if isinstance(documents, np.ndarray):
            self.doc_of = documents.astype(np.int64, copy=False)
        else:
            self.doc_of = np.array([self._position[d] for d in documents], dtype=np.int64)
        # The chunk positions of document k are order[bounds[k]:bounds[k + 1]].
        self._order = np.argsort(self.doc_of, kind="stable")
        self._bounds = np.searchsorted(self.doc_of[self._order], np.arange(len(self.doc_ids) + 1))

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, documents: Iterable[str]) -> np.ndarray:
        """Positions (in `ids`) of the chunks of these documents, ascending."""
        parts = [
            self._order[self._bounds[k] : self._bounds[k + 1]]
            for k in sorted(self._position[d] for d in documents if d in self._position)
        ]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def counts(self) -> dict[str, int]:
        """How many chunks each document has, from the table alone (no read of the store)."""
        return {d: int(self._bounds[k + 1] - self._bounds[k]) for k, d in enumerate(self.doc_ids)}

    def documents_at(self, positions: np.ndarray) -> set[str]:
        """The documents the chunks at these positions belong to."""
        return {self.doc_ids[k] for k in np.unique(self.doc_of[positions])}
