"""Chroma storage: chunks, document texts, sentence vectors; the only module importing chromadb.

Crash safety: every change is built into a new *generation* of collections (chunks, documents,
and the vectors of the sentences answers may quote); only when it is complete does one atomic
upsert move the `active` pointer to it. A run killed part-way leaves the previous generation
answering; the next run drops the half-built one. The generation before the active one is kept
until the next change, so a query reading it while the pointer moved finishes.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from rag.core.errors import IndexMissing
from rag.core.models import Chunk, DocMeta, Document
from rag.core.settings import Settings
from rag.index import derived, vectors
from rag.index.building import Reuse, add_documents, carry_over, doc_records, embed_all, pages
from rag.index.records import (
    Encoder,
    SyncReport,
    chunk_from_record,
    meta_from_record,
    plan_sync,
    reuse_key,
    sentence_id,
)

__all__ = ["Encoder", "Store", "SyncReport", "connect"]

_POINTER_ID = "active"
# Sentence vectors are read by id and never searched, so their graph can be sparse: writing
# them costs about a third of what the default HNSW settings cost.
_SENTENCE_HNSW = {"space": "cosine", "ef_construction": 16, "max_neighbors": 4}


def connect(settings: Settings) -> chromadb.ClientAPI:
    """A Chroma client with telemetry off: embedded by default, HTTP when RAG_CHROMA_URL is set."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.vectorstore_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.vectorstore_dir), settings=chroma_settings)


@dataclass(frozen=True)
class _Generation:
    """The collections of one generation."""

    chunks: Any
    docs: Any
    # None for an index built before sentence vectors were stored.
    sentences: Any | None


class Store:
    """The index: one generation of collections, behind an atomic pointer."""

    def __init__(self, settings: Settings, client: chromadb.ClientAPI | None = None):
        self.settings = settings
        self.client = client or connect(settings)
        self.base = settings.collection
        self._pointer = self.client.get_or_create_collection(
            f"{self.base}__pointer", embedding_function=None
        )
        # Collection handles of the generations read, by (generation, build): a build is
        # never rebuilt under the same id, so a handle stays valid while its build is active.
        self._handles: dict[tuple[int, str | None], _Generation] = {}
        # Set on a pinned view (see `pinned`): every read goes to that generation.
        self._pin: int | None = None
        self._pinned: _Generation | None = None  # its collections, looked up once
        # Mapped sentence vectors by generation (shared with pinned views).
        self._vectors: dict[tuple[int, str], vectors.SentenceVectors | None] = {}
        self._derived_root = derived.root(
            settings.state_dir, settings.vectorstore_dir, settings.chroma_url
        )
        if settings.chroma_url and settings.state_dir is None:
            derived.tend_servers(self._derived_root, settings.state_keep_days)

    # -- generations -------------------------------------------------------------------------

    def active_generation(self) -> int | None:
        """Number of the generation that answers questions, or None before the first ingest."""
        got = self._pointer.get(ids=[_POINTER_ID])
        return got["metadatas"][0]["generation"] if got["ids"] else None

    def generations(self) -> list[int]:
        """Every generation with collections in the database, active or not."""
        pattern = re.compile(rf"{re.escape(self.base)}__(?:chunks|docs|sentences)__g(\d+)")
        names = (c if isinstance(c, str) else c.name for c in self.client.list_collections())
        return sorted({int(m[1]) for name in names if (m := pattern.fullmatch(name))})

    def _names(self, gen: int) -> tuple[str, str, str]:
        return (
            f"{self.base}__chunks__g{gen}",
            f"{self.base}__docs__g{gen}",
            f"{self.base}__sentences__g{gen}",
        )

    def _collections(self, gen: int, create: bool = False) -> _Generation:
        chunks_name, docs_name, sentences_name = self._names(gen)
        if create:
            make = partial(self.client.create_collection, embedding_function=None)
            return _Generation(
                make(chunks_name, configuration={"hnsw": {"space": "cosine"}}),
                make(docs_name),
                make(sentences_name, configuration={"hnsw": _SENTENCE_HNSW}),
            )
        get = partial(self.client.get_collection, embedding_function=None)
        try:
            sentences = get(sentences_name)
        except NotFoundError:
            sentences = None
        return _Generation(get(chunks_name), get(docs_name), sentences)

    def _drop_stale(self, keep: set[int]) -> None:
        for gen in self.generations():
            if gen not in keep:
                for name in self._names(gen):
                    # A half-built generation may lack some of its collections.
                    with contextlib.suppress(Exception):
                        self.client.delete_collection(name)
        for base in (self.base, f"{self.base}.sentences"):
            derived.drop(self._derived_root, base, keep)

    def pinned(self, generation: int) -> Store:
        """A view of this store that reads `generation` even after the pointer moves on."""
        view = copy.copy(self)
        view._pin, view._pinned = generation, None
        return view

    def reads(self) -> int | None:
        """The generation this store reads: its pin, else the active one."""
        return self._pin if self._pin is not None else self.active_generation()

    # -- what is derived from a generation, saved beside it (see rag.index.derived) ---------

    def saved(self, generation: int) -> Path | None:
        """The folder saved with `generation` (see `save`), or None when there is none whole."""
        key = self._collections(generation).chunks.id
        return derived.read(self._derived_root, self.base, generation, str(key))

    def save(self, generation: int, fill: Callable[[Path], None]) -> None:
        """Keep what `fill` writes into a folder with `generation`, until it is dropped."""
        key = self._collections(generation).chunks.id
        derived.write(self._derived_root, self.base, generation, str(key), fill)

    def _current(self, generation: int | None = None) -> _Generation:
        generation = self._pin if generation is None else generation
        if generation is not None and generation != self._pin:
            return self._collections(generation)
        if generation is not None:
            # A pinned generation is never dropped while it is read: one look-up serves every
            # read (each is a round trip to a server, three per read before).
            self._pinned = self._pinned or self._collections(generation)
            return self._pinned
        got = self._pointer.get(ids=[_POINTER_ID])
        if not got["ids"]:
            raise IndexMissing("no index yet: run `rag ingest` (or `make index`) to build it")
        md = got["metadatas"][0]
        key = (md["generation"], md.get("build"))
        if key not in self._handles:
            # Only the active build's handles are worth keeping.
            self._handles = {key: self._collections(md["generation"])}
        return self._handles[key]

    def _active(self) -> tuple[Any, Any]:
        """The active generation's chunk and document collections."""
        current = self._current()
        return current.chunks, current.docs

    # -- reading -----------------------------------------------------------------------------

    def documents(self) -> dict[str, tuple[DocMeta, str]]:
        """Metadata and content hash of every indexed document, by id."""
        got = self._current().docs.get(include=["metadatas"])
        return {
            i: (meta_from_record(i, m), m["hash"]) for i, m in zip(got["ids"], got["metadatas"])
        }

    def added_dates(self) -> dict[str, str]:
        """The date (ISO) each indexed document was first added, where the index recorded it."""
        got = self._current().docs.get(include=["metadatas"])
        return {i: m["added"] for i, m in zip(got["ids"], got["metadatas"]) if "added" in m}

    def document(self, doc_id: str) -> Document | None:
        """The stored text and metadata of one document, or None if it is not indexed."""
        return self.documents_by_id([doc_id]).get(doc_id)

    def documents_by_id(self, ids: Sequence[str]) -> dict[str, Document]:
        """The stored documents with these ids (those indexed), in one read."""
        got = self._current().docs.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            i: Document(
                meta=meta_from_record(i, md),
                text=text,
                path=md.get("path", ""),
                page_starts=tuple(json.loads(md.get("page_starts", "[]"))),
            )
            for i, text, md in zip(got["ids"], got["documents"], got["metadatas"])
        }

    def chunks(self, generation: int | None = None) -> list[Chunk]:
        """Every indexed chunk (for evaluation and the trainer pages)."""
        return [c for page in self.chunk_pages(generation) for c in page]

    def chunk_counts(self) -> dict[str, int]:
        """How many chunks each indexed document has, read from metadata alone."""
        counts: dict[str, int] = {}
        for got in pages(self._current().chunks, ["metadatas"]):
            for md in got["metadatas"]:
                counts[md["document"]] = counts.get(md["document"], 0) + 1
        return counts

    def count(self) -> int:
        """Number of chunks in the active generation (0 before the first ingest)."""
        gen = self.reads()
        return 0 if gen is None else self._collections(gen).chunks.count()

    def search(
        self,
        vector: np.ndarray,
        n: int,
        documents: frozenset[str] | None = None,
        within: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Ids of the chunks nearest to `vector` with their cosine similarity, best first.

        `documents` limits the search to those documents' chunks; with `within` (the ids of
        those chunks, when they are few) the search is exact over their stored vectors.
        """
        # Both paths score with the same float32 product and break ties by id: the same text
        # in a briefing and a response ties to 1e-7, and the graph's own distances would order
        # such a pair differently from the exact search.
        if within is not None:
            sims = self.similarities(vector, within)
            return [(i, sims[i]) for i in sorted(sims, key=lambda i: (-sims[i], i))[:n]]
        where = None if documents is None else {"document": {"$in": sorted(documents)}}
        got = self._current().chunks.query(
            query_embeddings=[vector.tolist()], n_results=n, where=where, include=["embeddings"]
        )
        if not got["ids"][0]:
            return []
        sims = np.asarray(got["embeddings"][0], dtype=np.float32) @ vector
        return sorted(zip(got["ids"][0], map(float, sims)), key=lambda h: (-h[1], h[0]))

    def fetch(self, ids: Sequence[str]) -> dict[str, tuple[Chunk, np.ndarray]]:
        """The stored chunks with these ids and their vectors (those still indexed), by id."""
        if not ids:
            return {}
        got = self._current().chunks.get(
            ids=list(ids), include=["documents", "metadatas", "embeddings"]
        )
        vecs = np.asarray(got["embeddings"], dtype=np.float32)
        return {
            i: (chunk_from_record(i, t, m), v)
            for i, t, m, v in zip(got["ids"], got["documents"], got["metadatas"], vecs)
        }

    def chunk_pages(self, generation: int | None = None) -> Iterator[list[Chunk]]:
        """Every indexed chunk, a page at a time, so a large index is never held whole."""
        for got in pages(self._current(generation).chunks, ["documents", "metadatas"]):
            yield [
                chunk_from_record(i, t, m)
                for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])
            ]

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of `vector` to the stored embeddings of the given chunks."""
        if not ids:
            return {}
        got = self._current().chunks.get(ids=list(ids), include=["embeddings"])
        if not got["ids"]:
            return {}
        sims = np.asarray(got["embeddings"], dtype=np.float32) @ vector
        return dict(zip(got["ids"], map(float, sims)))

    def sentence_vectors(
        self, keys: Sequence[tuple[str, int, int]]
    ) -> dict[tuple[str, int, int], np.ndarray]:
        """Stored vectors of candidate quote sentences by (chunk id, start, end), where present."""
        sentences = self._current().sentences
        if sentences is None or not keys:
            return {}
        ids = [sentence_id(*k) for k in keys]
        saved = self._saved_sentences(self.reads())
        if saved is not None:
            by_id = saved.get(ids)
        else:
            got = sentences.get(ids=list(dict.fromkeys(ids)), include=["embeddings"])
            by_id = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
        return {k: by_id[i] for k, i in zip(keys, ids) if i in by_id}

    def _saved_sentences(self, generation: int | None) -> vectors.SentenceVectors | None:
        """The sentence vectors saved with `generation` (rag.index.vectors), saved when missing."""
        sentences = None if generation is None else self._current(generation).sentences
        if sentences is None:
            return None
        key = (generation, str(sentences.id))
        if key not in self._vectors:
            root, base = self._derived_root, f"{self.base}.sentences"
            reader = partial(pages, sentences, ["embeddings"])
            got = vectors.obtain(root, base, generation, key[1], reader, sentences.count)
            self._vectors[key] = got
        return self._vectors[key]

    # -- writing -----------------------------------------------------------------------------

    def _switch(self, gen: int) -> None:
        """Point readers at generation `gen`."""
        # The single atomic switch: until this upsert, readers see the old generation.
        self._pointer.upsert(
            ids=[_POINTER_ID],
            metadatas=[{"generation": gen, "build": uuid.uuid4().hex}],
            embeddings=[[0.0]],
        )

    def sync(
        self,
        docs: Sequence[tuple[Document, str, list[Chunk]]],
        encoder: Encoder,
        remove: Callable[[str, str], bool] = lambda doc_id, path: False,
        progress: Callable[[int, int], None] = lambda done, total: None,
        batch: int = 256,
        derive: Callable[[Store], None] = lambda view: None,
    ) -> SyncReport:
        """Make the index hold `docs` (document, content hash, chunks) and drop what `remove` says.

        Unchanged documents keep their stored vectors, and so do the unchanged chunks and
        sentences of a replaced document; only new text is embedded, `batch` chunks (with their
        sentences) at a time across documents. `progress(done, total)` follows the chunks;
        `derive` gets a view of a new generation before it is made active (see `save`)."""
        gen = self.active_generation()
        old = {} if gen is None else doc_records(self._collections(gen).docs)
        # Half-built generations of killed runs go; the active one and the one before it stay.
        self._drop_stale(set() if gen is None else {gen, gen - 1})

        incoming = {d.id: (d, h, c) for d, h, c in docs}
        plan = plan_sync(old, incoming, remove)
        # An index built before sentence vectors were stored gains them on its next sync.
        upgrade = gen is not None and self._collections(gen).sentences is None
        if not (plan.added or plan.replaced or plan.removed or upgrade):
            return SyncReport((), (), plan.unchanged, (), 0, self.count(), plan.duplicates)

        new_gen = 0 if gen is None else gen + 1
        new = self._collections(new_gen, create=True)
        changed = (*plan.added, *plan.replaced)
        reuse, carried = Reuse({}, {}), []
        if gen is not None:
            same_meta = {
                i for i in plan.replaced if meta_from_record(i, old[i]) == incoming[i][0].meta
            }
            reuse, carried = carry_over(
                self._collections(gen), new, set(plan.removed) | set(plan.replaced), same_meta
            )
        # (chunk, its document's metadata or None when only its sentences are missing)
        items = [(c, incoming[i][0].meta) for i in changed for c in incoming[i][2]]
        items += [(c, None) for c in carried]
        fresh = sum(m is not None and reuse_key(c) not in reuse.chunks for c, m in items)
        sentences = embed_all(new, items, encoder, reuse, fresh, progress, batch)
        add_documents(new, [incoming[i] for i in changed], old)
        self._saved_sentences(new_gen)  # before the switch: no reader of it builds them
        derive(self.pinned(new_gen))
        self._switch(new_gen)
        self._drop_stale({new_gen} if gen is None else {new_gen, gen})
        return SyncReport(
            plan.added,
            plan.replaced,
            plan.unchanged,
            plan.removed,
            fresh,
            new.chunks.count(),
            plan.duplicates,
            sum(m is not None for _, m in items) - fresh,
            sentences,
            upgrade,
        )
