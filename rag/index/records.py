"""How chunks, documents and sentence vectors become Chroma records, and what a sync changes.

Pure helpers for rag/store.py (the only module that imports chromadb).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from rag.core.errors import CatalogError, DocumentError, DuplicateDocument
from rag.core.models import Chunk, DocMeta, Document

_DOC_FIELDS = ("title", "partnership", "review", "review_type", "kind", "year", "source", "author")


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
    # Candidate quote sentences embedded by this sync (see rag.answer.compose.scored_spans).
    sentences_embedded: int = 0
    # True when the active index predated stored sentence vectors and this sync added them.
    upgraded: bool = False

    @property
    def wrote(self) -> bool:
        """True when the sync produced a new generation."""
        return bool(self.added or self.replaced or self.removed or self.upgraded)


@dataclass(frozen=True)
class Encoder:
    """What ingest embeds for a chunk: its search text, and the sentences answers may quote."""

    embed: Callable[[list[str]], np.ndarray]
    search_text: Callable[[Chunk, DocMeta], str]
    # (start, end) document offsets of the chunk's candidate quote sentences.
    sentences: Callable[[Chunk], Sequence[tuple[int, int]]] = field(default=lambda chunk: ())


@dataclass(frozen=True)
class SyncPlan:
    """Which incoming documents are new, changed or unchanged, and which indexed ones go."""

    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    duplicates: tuple[DuplicateDocument, ...]


def plan_sync(
    old: Mapping[str, dict],
    incoming: dict[str, tuple[Document, str, list[Chunk]]],
    remove: Callable[[str, str], bool],
) -> SyncPlan:
    """Compare the indexed documents (`old`: id -> stored metadata) with the incoming ones.

    Incoming documents whose text is already indexed under another id are dropped from
    `incoming` and reported as duplicates.
    """
    removed = tuple(i for i in old if i not in incoming and remove(i, old[i].get("path", "")))
    indexed = {m["hash"]: i for i, m in old.items() if i not in removed}
    duplicates = []
    for doc_id, (doc, digest, _) in list(incoming.items()):
        other = indexed.get(digest)
        if other is not None and other != doc_id and other not in incoming:
            duplicates.append(DuplicateDocument(doc.path, f"same text as {other}, indexed"))
            del incoming[doc_id]
    added = tuple(i for i in incoming if i not in old)
    replaced = tuple(i for i in incoming if i in old and record_changed(old[i], *incoming[i]))
    unchanged = tuple(i for i in incoming if i not in added and i not in replaced)
    return SyncPlan(added, replaced, unchanged, removed, tuple(duplicates))


def search_text(chunk: Chunk, meta: DocMeta) -> str:
    """What is embedded and indexed for a chunk: its review and section name, then its text."""
    name = meta.review or meta.title
    context = f"\n{chunk.context}" if chunk.context else ""
    return f"{name}. {chunk.section}.\n{chunk.text}{context}"


def chunk_metadata(chunk: Chunk, meta: DocMeta) -> dict:
    """The Chroma metadata of a chunk record."""
    md = {
        "document": chunk.document,
        "section": chunk.section,
        "kind": chunk.kind,
        "start": chunk.start,
        "end": chunk.end,
        "page": chunk.page,
        "rec_start": chunk.rec_start,
        "rec_end": chunk.rec_end,
        "context": chunk.context or None,
        # Chroma metadata holds scalars only, so the spans travel as JSON.
        "roles": json.dumps(chunk.roles) if chunk.roles else None,
        "partnership": meta.partnership,
        "review": meta.review,
        "doc_kind": meta.kind,
    }
    # Chroma metadata cannot hold None; a missing key reads back as None.
    return {k: v for k, v in md.items() if v is not None}


def chunk_from_record(cid: str, text: str, md: dict) -> Chunk:
    """A chunk from its Chroma record."""
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
        context=md.get("context", ""),
        roles=tuple((a, b, r) for a, b, r in json.loads(md.get("roles", "[]"))),
    )


def chunking_digest(chunks: Sequence[Chunk]) -> str:
    """A hash of how a document was chunked: a change in the chunker re-indexes it."""
    key = "\x1e".join(
        f"{c.id}\x1f{c.kind}\x1f{c.rec_start}\x1f{c.rec_end}\x1f{c.context}\x1f{c.roles}"
        for c in chunks
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def doc_metadata(doc: Document, digest: str, chunks: Sequence[Chunk] = ()) -> dict:
    """The Chroma metadata of a document record."""
    md = {k: v for k, v in asdict(doc.meta).items() if k in _DOC_FIELDS and v is not None}
    # Chroma metadata holds scalars only, so the alias list travels as JSON.
    md["aliases"] = json.dumps(list(doc.meta.aliases))
    md["inferred"] = json.dumps(list(doc.meta.inferred))
    return md | {
        "path": doc.path,
        "page_starts": json.dumps(doc.page_starts),
        "hash": digest,
        "chunking": chunking_digest(chunks),
    }


def meta_from_record(doc_id: str, md: dict) -> DocMeta:
    """A document's catalog metadata from its Chroma record."""
    aliases = tuple(json.loads(md.get("aliases", "[]")))
    inferred = tuple(json.loads(md.get("inferred", "[]")))
    fields = {k: md.get(k) for k in _DOC_FIELDS}
    return DocMeta(id=doc_id, aliases=aliases, inferred=inferred, **fields)


def sentence_id(chunk_id: str, start: int, end: int) -> str:
    """The record id of a chunk's sentence: content-addressed, as the chunk id hashes its text."""
    return f"{chunk_id}:{start}:{end}"


def sentence_key(record_id: str) -> tuple[str, int, int]:
    """The (chunk id, start, end) a sentence record id names; the inverse of sentence_id."""
    chunk_id, start, end = record_id.rsplit(":", 2)
    return chunk_id, int(start), int(end)


def reuse_key(chunk: Chunk) -> tuple:
    """Chunks with equal keys have the same search text, so the same vector."""
    # Same document metadata, section and text means the same search text.
    return (chunk.document, chunk.section, chunk.text)


def record_changed(old: dict, doc: Document, digest: str, chunks: Sequence[Chunk] = ()) -> bool:
    """Whether an indexed document differs from the incoming one in text, metadata, place or
    the way it is chunked (a new version of the chunker re-reads unchanged files)."""
    return (
        old["hash"] != digest
        or old.get("chunking") != chunking_digest(chunks)
        or meta_from_record(doc.id, old) != doc.meta
        or old.get("path", "") != doc.path
        or json.loads(old.get("page_starts", "[]")) != list(doc.page_starts)
    )


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ingest run."""

    sync: SyncReport
    documents: int
    chunks: int
    failures: tuple[DocumentError, ...] = field(default=())
    catalog_problems: tuple[CatalogError, ...] = field(default=())
    # Documents added or replaced this run with some metadata read from their own text.
    inferred: tuple[DocMeta, ...] = field(default=())
