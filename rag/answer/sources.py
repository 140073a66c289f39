"""What answers read from the index: documents and candidate quote sentences' vectors, cached.

One Assistant serves every session of a process, so the caches here are shared and filled
under a lock. An answer reads one generation throughout (the retriever's pinned store, see
`Sources.on`), with no read of the index pointer per document: an answer across reviews reads
dozens of documents, and each read of the pointer is a round trip (to a server, over HTTP).
Documents are cached by generation, so a question still in flight on the generation an ingest
replaced never reads the new one's documents, nor leaves its own in the new one's cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.compose import Candidate
from rag.answer.verify import verify_quote
from rag.core.models import DocMeta, Document, Quote
from rag.index.store import Store

# Generations whose documents stay cached: the active one and one a question may still read.
_GENERATIONS = 2


@dataclass(frozen=True)
class Reads:
    """The readers one answer is given, all of one generation."""

    documents: Callable[[Sequence[str]], Mapping[str, Document]]
    sentence_vectors: Callable[[list[Candidate]], np.ndarray]
    verify: Callable[[Quote], bool]

    def document(self, doc_id: str) -> Document:
        """One stored document (an empty one if it is not indexed)."""
        return self.documents([doc_id])[doc_id]


class Sources:
    """The process's caches of stored documents and of sentence vectors embedded on demand."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], cache_size: int):
        self._embed = embed
        self._cache_size = cache_size
        self._lock = threading.RLock()
        self._docs: dict[int | None, dict[str, Document]] = {}
        self._sentences: dict[str, np.ndarray] = {}

    def on(self, store: Store) -> Reads:
        """The readers of `store`'s generation (a pinned store: one generation throughout)."""
        return Reads(
            lambda ids: self.documents(store, ids),
            lambda candidates: self.sentence_vectors(store, candidates),
            lambda quote: self.verify(store, quote),
        )

    def documents(self, store: Store, ids: Sequence[str]) -> dict[str, Document]:
        """The stored documents with these ids, those not cached read in one request; a
        document that is not indexed is an empty one (no quote of it ever verifies)."""
        gen = store.reads()
        with self._lock:
            cached = self._docs.setdefault(gen, {})
            for old in sorted(self._docs, key=lambda g: -1 if g is None else g)[:-_GENERATIONS]:
                del self._docs[old]
            missing = [i for i in dict.fromkeys(ids) if i not in cached]
        got = store.documents_by_id(missing) if missing else {}
        with self._lock:
            for i in missing:
                cached[i] = got.get(i) or Document(DocMeta(i, i), "")
            return {i: cached[i] for i in ids}

    def verify(self, store: Store, quote: Quote) -> bool:
        """Whether `quote` is a verbatim span of its document as `store` holds it."""
        text = self.documents(store, [quote.document])[quote.document].text
        return verify_quote(quote, {quote.document: text})

    def _embedded(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._sentences]
        fresh = dict(zip(missing, self._embed(missing))) if missing else {}
        with self._lock:
            if len(self._sentences) > self._cache_size:
                self._sentences = {}
            self._sentences.update(fresh)
            return np.stack([fresh.get(t, self._sentences.get(t)) for t in texts])

    def sentence_vectors(self, store: Store, candidates: list[Candidate]) -> np.ndarray:
        """Vectors of candidate quote sentences: stored at ingest, embedded only when absent."""
        keys = [(c.chunk, c.span.start, c.span.end) for c in candidates]
        stored = store.sentence_vectors(keys)
        # An index built before sentence vectors were stored (or a chunk whose spans changed
        # with the code) falls back to embedding them now.
        missing = [c.text for c, k in zip(candidates, keys) if k not in stored]
        fresh = iter(self._embedded(missing) if missing else ())
        return np.stack([stored[k] if k in stored else next(fresh) for k in keys])
