"""Chroma storage for chunks and document texts; the only module that imports chromadb.

Crash safety: every change is built into a new *generation* of collections, and only when it
is complete does one atomic upsert move the `active` pointer to it. A run killed part-way leaves
the previous generation untouched and still answering; the next run drops the half-built one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from rag.errors import IndexMissing
from rag.models import Chunk, DocMeta, Document, Filters
from rag.settings import Settings

_POINTER_ID = "active"
_DOC_FIELDS = ("title", "partnership", "review", "review_type", "kind", "year", "source")


@dataclass(frozen=True)
class SyncReport:
    """What one sync changed, by document id."""

    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    chunks_embedded: int = 0
    chunks_total: int = 0

    @property
    def wrote(self) -> bool:
        """True when the sync produced a new generation."""
        return bool(self.added or self.replaced or self.removed)


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


def _chunk_metadata(chunk: Chunk, meta: DocMeta) -> dict:
    md = {
        "document": chunk.document,
        "section": chunk.section,
        "kind": chunk.kind,
        "start": chunk.start,
        "end": chunk.end,
        "page": chunk.page,
        "rec_start": chunk.rec_start,
        "rec_end": chunk.rec_end,
        "partnership": meta.partnership,
        "review": meta.review,
        "doc_kind": meta.kind,
    }
    # Chroma metadata cannot hold None; a missing key reads back as None.
    return {k: v for k, v in md.items() if v is not None}


def _chunk_from_record(cid: str, text: str, md: dict) -> Chunk:
    return Chunk(
        id=cid,
        document=md["document"],
        text=text,
        start=md["start"],
        end=md["end"],
        section=md["section"],
        kind=md["kind"],
        page=md.get("page"),
        rec_start=md.get("rec_start"),
        rec_end=md.get("rec_end"),
    )


def _doc_metadata(doc: Document, digest: str) -> dict:
    md = {k: v for k, v in asdict(doc.meta).items() if k in _DOC_FIELDS and v is not None}
    return md | {"path": doc.path, "page_starts": json.dumps(doc.page_starts), "hash": digest}


def _meta_from_record(doc_id: str, md: dict) -> DocMeta:
    return DocMeta(id=doc_id, **{k: md.get(k) for k in _DOC_FIELDS})


def where_clause(filters: Filters) -> dict | None:
    """Chroma `where` for the filters, or None when there are none."""
    parts = []
    for key, values in (
        ("document", filters.documents),
        ("partnership", filters.partnerships),
        ("review", filters.reviews),
        ("doc_kind", filters.kinds),
    ):
        if values:
            parts.append({key: {"$in": list(values)}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


class Store:
    """The index: one generation of chunk and document collections, behind an atomic pointer."""

    def __init__(self, settings: Settings, client: chromadb.ClientAPI | None = None):
        self.settings = settings
        self.client = client or connect(settings)
        self.base = settings.collection
        self._pointer = self.client.get_or_create_collection(
            f"{self.base}__pointer", embedding_function=None
        )

    # -- generations -------------------------------------------------------------------------

    def active_generation(self) -> int | None:
        """Number of the generation that answers questions, or None before the first ingest."""
        got = self._pointer.get(ids=[_POINTER_ID])
        return got["metadatas"][0]["generation"] if got["ids"] else None

    def _names(self, gen: int) -> tuple[str, str]:
        return f"{self.base}__chunks__g{gen}", f"{self.base}__docs__g{gen}"

    def _collections(self, gen: int, create: bool = False):
        chunks_name, docs_name = self._names(gen)
        if create:
            return (
                self.client.create_collection(
                    chunks_name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                ),
                self.client.create_collection(docs_name, embedding_function=None),
            )
        return (
            self.client.get_collection(chunks_name, embedding_function=None),
            self.client.get_collection(docs_name, embedding_function=None),
        )

    def _drop_stale(self, keep: int | None) -> None:
        prefix = f"{self.base}__"
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith(prefix) and "__g" in name and not name.endswith(f"__g{keep}"):
                self.client.delete_collection(name)

    def _active(self):
        gen = self.active_generation()
        if gen is None:
            raise IndexMissing("no index yet: run `rag ingest` (or `make index`) to build it")
        return self._collections(gen)

    # -- reading -----------------------------------------------------------------------------

    def documents(self) -> dict[str, tuple[DocMeta, str]]:
        """Metadata and content hash of every indexed document, by id."""
        _, docs = self._active()
        got = docs.get(include=["metadatas"])
        return {
            i: (_meta_from_record(i, m), m["hash"]) for i, m in zip(got["ids"], got["metadatas"])
        }

    def document(self, doc_id: str) -> Document | None:
        """The stored text and metadata of one document, or None if it is not indexed."""
        _, docs = self._active()
        got = docs.get(ids=[doc_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        md = got["metadatas"][0]
        return Document(
            meta=_meta_from_record(doc_id, md),
            text=got["documents"][0],
            path=md.get("path", ""),
            page_starts=tuple(json.loads(md.get("page_starts", "[]"))),
        )

    def chunks(self) -> list[Chunk]:
        """Every indexed chunk (for the lexical index and for evaluation)."""
        chunks, _ = self._active()
        got = chunks.get(include=["documents", "metadatas"])
        return [
            _chunk_from_record(i, t, m)
            for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])
        ]

    def count(self) -> int:
        """Number of chunks in the active generation (0 before the first ingest)."""
        gen = self.active_generation()
        return 0 if gen is None else self._collections(gen)[0].count()

    def search(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[Chunk, float]]:
        """Nearest chunks to `vector` with their cosine similarity, best first."""
        chunks, _ = self._active()
        n = min(n, chunks.count())
        if n == 0:
            return []
        got = chunks.query(
            query_embeddings=[vector.tolist()],
            n_results=n,
            where=where_clause(filters),
            include=["documents", "metadatas", "distances"],
        )
        return [
            (_chunk_from_record(i, t, m), 1.0 - d)
            for i, t, m, d in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0]
            )
        ]

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of `vector` to the stored embeddings of the given chunks."""
        chunks, _ = self._active()
        got = chunks.get(ids=list(ids), include=["embeddings"])
        if not got["ids"]:
            return {}
        sims = np.asarray(got["embeddings"], dtype=np.float32) @ vector
        return dict(zip(got["ids"], map(float, sims)))

    # -- writing -----------------------------------------------------------------------------

    def sync(
        self,
        docs: Sequence[tuple[Document, str, list[Chunk]]],
        embed: Callable[[list[Chunk], DocMeta], np.ndarray],
        remove: Callable[[str, str], bool] = lambda doc_id, path: False,
        progress: Callable[[int], None] = lambda n: None,
    ) -> SyncReport:
        """Make the index hold `docs` (document, content hash, chunks) and drop what `remove` says.

        Unchanged chunks keep their stored embeddings; only new chunks are embedded.
        """
        gen = self.active_generation()
        old_docs: dict[str, tuple[DocMeta, str]] = {}
        old_paths: dict[str, str] = {}
        if gen is not None:
            _, old_doc_col = self._collections(gen)
            got = old_doc_col.get(include=["metadatas"])
            for i, m in zip(got["ids"], got["metadatas"]):
                old_docs[i] = (_meta_from_record(i, m), m["hash"])
                old_paths[i] = m.get("path", "")
        self._drop_stale(keep=gen)

        incoming = {d.id: (d, h, c) for d, h, c in docs}
        removed = tuple(
            i for i in old_docs if i not in incoming and remove(i, old_paths.get(i, ""))
        )
        added = tuple(i for i in incoming if i not in old_docs)
        replaced = tuple(
            i
            for i in incoming
            if i in old_docs
            and (old_docs[i][1] != incoming[i][1] or old_docs[i][0] != incoming[i][0].meta)
        )
        unchanged = tuple(i for i in incoming if i not in added and i not in replaced)
        if not (added or replaced or removed):
            return SyncReport(unchanged=unchanged, chunks_total=self.count())

        new_gen = 0 if gen is None else gen + 1
        new_chunks, new_docs = self._collections(new_gen, create=True)
        embedded = 0
        if gen is not None:
            self._carry_over(gen, new_chunks, new_docs, keep_out=set(removed) | set(replaced))
        for doc_id in (*added, *replaced):
            doc, digest, chunks = incoming[doc_id]
            if chunks:
                vectors = embed(chunks, doc.meta)
                _add_batched(
                    new_chunks,
                    [c.id for c in chunks],
                    [c.text for c in chunks],
                    [_chunk_metadata(c, doc.meta) for c in chunks],
                    vectors.tolist(),
                )
                embedded += len(chunks)
                progress(len(chunks))
            new_docs.add(
                ids=[doc.id],
                documents=[doc.text],
                metadatas=[_doc_metadata(doc, digest)],
                embeddings=[[0.0]],
            )
        # The single atomic switch: until this upsert, readers see the old generation.
        self._pointer.upsert(
            ids=[_POINTER_ID], metadatas=[{"generation": new_gen}], embeddings=[[0.0]]
        )
        self._drop_stale(keep=new_gen)
        return SyncReport(added, replaced, unchanged, removed, embedded, new_chunks.count())

    def _carry_over(self, gen: int, new_chunks, new_docs, keep_out: set[str]) -> None:
        """Copy the untouched documents and their chunk embeddings into the new generation."""
        old_chunks, old_docs = self._collections(gen)
        got = old_docs.get(include=["documents", "metadatas"])
        keep = [i for i in got["ids"] if i not in keep_out]
        for i, text, md in zip(got["ids"], got["documents"], got["metadatas"]):
            if i in keep:
                new_docs.add(ids=[i], documents=[text], metadatas=[md], embeddings=[[0.0]])
        if not keep:
            return
        rows = old_chunks.get(
            where={"document": {"$in": keep}}, include=["documents", "metadatas", "embeddings"]
        )
        _add_batched(
            new_chunks, rows["ids"], rows["documents"], rows["metadatas"], list(rows["embeddings"])
        )


def _add_batched(collection, ids, documents, metadatas, embeddings, batch: int = 1000) -> None:
    """Add records in slices below Chroma's per-call limit."""
    for s in range(0, len(ids), batch):
        collection.add(
            ids=ids[s : s + batch],
            documents=documents[s : s + batch],
            metadatas=metadatas[s : s + batch],
            embeddings=np.asarray(embeddings[s : s + batch], dtype=np.float32),
        )
