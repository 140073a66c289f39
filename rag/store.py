"""Chroma storage for chunks and document texts; the only module that imports chromadb.

Crash safety: every change is built into a new *generation* of collections, and only when it
is complete does one atomic upsert move the `active` pointer to it. A run killed part-way leaves
the previous generation untouched and still answering; the next run drops the half-built one.
The generation before the active one is kept until the next change, so a process that was
reading it while the pointer moved finishes its query.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from rag.errors import DuplicateDocument, IndexMissing
from rag.models import Chunk, DocMeta, Document, Filters
from rag.settings import Settings

_POINTER_ID = "active"
_PAGE = 5000  # rows per Chroma read, so a large index never travels in one response
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
    # Incoming documents left out because the index already holds the same text under another id.
    duplicates: tuple[DuplicateDocument, ...] = ()
    # Chunks of replaced documents whose stored embedding was reused, as their text was unchanged.
    chunks_reused: int = 0

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
    # Chroma metadata holds scalars only, so the alias list travels as JSON.
    md["aliases"] = json.dumps(list(doc.meta.aliases))
    return md | {"path": doc.path, "page_starts": json.dumps(doc.page_starts), "hash": digest}


def _meta_from_record(doc_id: str, md: dict) -> DocMeta:
    aliases = tuple(json.loads(md.get("aliases", "[]")))
    return DocMeta(id=doc_id, aliases=aliases, **{k: md.get(k) for k in _DOC_FIELDS})


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

    def active_build(self) -> str | None:
        """A unique id of the active generation's build, for caches derived from it."""
        got = self._pointer.get(ids=[_POINTER_ID])
        if not got["ids"]:
            return None
        md = got["metadatas"][0]
        return md.get("build") or f"{self.base}-g{md['generation']}"

    def generations(self) -> list[int]:
        """Every generation with collections in the database, active or not."""
        pattern = re.compile(rf"{re.escape(self.base)}__(?:chunks|docs)__g(\d+)")
        found = set()
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            if m := pattern.fullmatch(name):
                found.add(int(m[1]))
        return sorted(found)

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

    def _drop_stale(self, keep: set[int]) -> None:
        for gen in self.generations():
            if gen not in keep:
                for name in self._names(gen):
                    # A half-built generation may lack one of its pair.
                    with contextlib.suppress(Exception):
                        self.client.delete_collection(name)

    def _active(self, generation: int | None = None):
        gen = self.active_generation() if generation is None else generation
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

    def chunks(self, generation: int | None = None) -> list[Chunk]:
        """Every indexed chunk (for the lexical index and for evaluation)."""
        chunks, _ = self._active(generation)
        out: list[Chunk] = []
        for got in _pages(chunks, ["documents", "metadatas"]):
            out += [
                _chunk_from_record(i, t, m)
                for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])
            ]
        return out

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
        embed: Callable[[list[tuple[Chunk, DocMeta]]], np.ndarray],
        remove: Callable[[str, str], bool] = lambda doc_id, path: False,
        progress: Callable[[int, int], None] = lambda done, total: None,
        batch: int = 256,
    ) -> SyncReport:
        """Make the index hold `docs` (document, content hash, chunks) and drop what `remove` says.

        Unchanged documents keep their stored embeddings, and so do the unchanged chunks of a
        replaced document; only new text is embedded, `batch` chunks at a time across documents.
        `progress(done, total)` follows the chunks embedded.
        """
        gen = self.active_generation()
        old: dict[str, dict] = {}
        if gen is not None:
            for got in _pages(self._collections(gen)[1], ["metadatas"]):
                old |= dict(zip(got["ids"], got["metadatas"]))
        # Half-built generations of killed runs go; the active one and the one before it stay.
        self._drop_stale(set() if gen is None else {gen, gen - 1})

        incoming = {d.id: (d, h, c) for d, h, c in docs}
        removed = tuple(i for i in old if i not in incoming and remove(i, old[i].get("path", "")))
        indexed = {m["hash"]: i for i, m in old.items() if i not in removed}
        duplicates = []
        for doc_id, (doc, digest, _) in list(incoming.items()):
            other = indexed.get(digest)
            if other is not None and other != doc_id and other not in incoming:
                duplicates.append(DuplicateDocument(doc.path, f"same text as {other}, indexed"))
                del incoming[doc_id]
        added = tuple(i for i in incoming if i not in old)
        replaced = tuple(
            i for i in incoming if i in old and _record_changed(old[i], *incoming[i][:2])
        )
        unchanged = tuple(i for i in incoming if i not in added and i not in replaced)
        if not (added or replaced or removed):
            return SyncReport(
                unchanged=unchanged, chunks_total=self.count(), duplicates=tuple(duplicates)
            )

        new_gen = 0 if gen is None else gen + 1
        new_chunks, new_docs = self._collections(new_gen, create=True)
        reusable: dict[tuple, list[float]] = {}
        if gen is not None:
            same_meta = {i for i in replaced if _meta_from_record(i, old[i]) == incoming[i][0].meta}
            reusable = self._carry_over(
                gen, new_chunks, new_docs, set(removed) | set(replaced), same_meta
            )
        items = [(c, incoming[i][0].meta) for i in (*added, *replaced) for c in incoming[i][2]]
        fresh = [(c, m) for c, m in items if _reuse_key(c) not in reusable]
        done = 0
        progress(0, len(fresh))
        for s in range(0, len(items), batch):
            part = items[s : s + batch]
            todo = [(c, m) for c, m in part if _reuse_key(c) not in reusable]
            vectors = iter(embed(todo).tolist() if todo else [])
            rows = [
                (c, m, reusable[_reuse_key(c)] if _reuse_key(c) in reusable else next(vectors))
                for c, m in part
            ]
            _add_batched(
                new_chunks,
                [c.id for c, _, _ in rows],
                [c.text for c, _, _ in rows],
                [_chunk_metadata(c, m) for c, m, _ in rows],
                [v for _, _, v in rows],
            )
            done += len(todo)
            progress(done, len(fresh))
        for s in range(0, len(added) + len(replaced), 100):
            part = [incoming[i] for i in (*added, *replaced)[s : s + 100]]
            new_docs.add(
                ids=[d.id for d, _, _ in part],
                documents=[d.text for d, _, _ in part],
                metadatas=[_doc_metadata(d, h) for d, h, _ in part],
                embeddings=[[0.0]] * len(part),
            )
        # The single atomic switch: until this upsert, readers see the old generation.
        self._pointer.upsert(
            ids=[_POINTER_ID],
            metadatas=[{"generation": new_gen, "build": uuid.uuid4().hex}],
            embeddings=[[0.0]],
        )
        self._drop_stale({new_gen} if gen is None else {new_gen, gen})
        return SyncReport(
            added,
            replaced,
            unchanged,
            removed,
            len(fresh),
            new_chunks.count(),
            tuple(duplicates),
            len(items) - len(fresh),
        )

    def _carry_over(
        self, gen: int, new_chunks, new_docs, keep_out: set[str], reuse_from: set[str]
    ) -> dict[tuple, list[float]]:
        """Copy untouched documents and their chunk embeddings into the new generation.

        Returns the embeddings of the chunks of `reuse_from` documents, by text, for reuse.
        """
        old_chunks, old_docs = self._collections(gen)
        for got in _pages(old_docs, ["documents", "metadatas"], page=200):
            keep = [k for k, i in enumerate(got["ids"]) if i not in keep_out]
            if keep:
                new_docs.add(
                    ids=[got["ids"][k] for k in keep],
                    documents=[got["documents"][k] for k in keep],
                    metadatas=[got["metadatas"][k] for k in keep],
                    embeddings=[[0.0]] * len(keep),
                )
        reusable: dict[tuple, list[float]] = {}
        for got in _pages(old_chunks, ["documents", "metadatas", "embeddings"]):
            keep = []
            for k, (text, md) in enumerate(zip(got["documents"], got["metadatas"])):
                if md["document"] not in keep_out:
                    keep.append(k)
                elif md["document"] in reuse_from:
                    reusable[(md["document"], md["section"], text)] = got["embeddings"][k]
            if keep:
                _add_batched(
                    new_chunks,
                    [got["ids"][k] for k in keep],
                    [got["documents"][k] for k in keep],
                    [got["metadatas"][k] for k in keep],
                    [got["embeddings"][k] for k in keep],
                )
        return reusable


def _reuse_key(chunk: Chunk) -> tuple:
    # Same document metadata, section and text means the same search text, so the same vector.
    return (chunk.document, chunk.section, chunk.text)


def _record_changed(old: dict, doc: Document, digest: str) -> bool:
    """Whether an indexed document differs from the incoming one in text, metadata or place."""
    return (
        old["hash"] != digest
        or _meta_from_record(doc.id, old) != doc.meta
        or old.get("path", "") != doc.path
        or json.loads(old.get("page_starts", "[]")) != list(doc.page_starts)
    )


def _pages(collection, include: list[str], page: int = _PAGE):
    """A collection's records, one `get` of at most `page` rows at a time."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        if not got["ids"]:
            return
        yield got
        offset += len(got["ids"])


def _add_batched(collection, ids, documents, metadatas, embeddings, batch: int = 1000) -> None:
    """Add records in slices below Chroma's per-call limit."""
    for s in range(0, len(ids), batch):
        collection.add(
            ids=ids[s : s + batch],
            documents=documents[s : s + batch],
            metadatas=metadatas[s : s + batch],
            embeddings=np.asarray(embeddings[s : s + batch], dtype=np.float32),
        )
