"""Dense search: the question's vector against the chunk vectors stored in Chroma."""

from __future__ import annotations

from rag.core.settings import Settings
from rag.index.store import Store
from rag.retrieve.base import ChunkTable, Query, Ranking


class DenseSearcher:
    """Nearest chunks by cosine; exact over stored vectors when the filters allow few chunks."""

    def __init__(self, store: Store, table: ChunkTable, settings: Settings):
        self.store = store
        self.table = table
        self.settings = settings

    def search(self, query: Query, k: int, allowed: frozenset[str] | None = None) -> Ranking:
        """The `k` chunks nearest the query's ranking vector among the allowed documents."""
        within = None
        if allowed is not None:
            positions = self.table.positions(allowed)
            # Chroma's filtered graph search visits most of a large index to find a few
            # allowed chunks (about 130 ms at 100k chunks, against 1 ms for the exact search).
            if len(positions) <= self.settings.exact_search_limit:
                within = [self.table.ids[i] for i in positions]
        return self.store.search(query.vector, k, allowed, within)
