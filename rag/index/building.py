"""Building a new generation of the index: writing records, embedding only what is new.

Helpers for Store.sync (rag/store.py, the only module that imports chromadb): they call methods
on the collection objects they are given.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.core.models import Chunk, DocMeta, Document
from rag.index.records import (
    Encoder,
    chunk_from_record,
    chunk_metadata,
    doc_metadata,
    reuse_key,
    sentence_id,
    sentence_key,
)

PAGE = 5000  # rows per Chroma read, so a large index never travels in one response


@dataclass(frozen=True)
class Reuse:
    """Stored vectors a sync may reuse instead of embedding again."""

    chunks: dict[tuple, list[float]]
    # Sentence vectors by record id (the same chunk, unchanged) and, failing that, by text.
    sentences: dict[str, list[float]]


def pages(collection, include: list[str], page: int = PAGE) -> Iterator[dict]:
    """A collection's records, one `get` of at most `page` rows at a time."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        if not got["ids"]:
            return
        yield got
        offset += len(got["ids"])


def doc_records(docs) -> dict[str, dict]:
    """Every document's metadata record in a generation's `docs` collection, by document id."""
    records: dict[str, dict] = {}
    for got in pages(docs, ["metadatas"]):
        records |= dict(zip(got["ids"], got["metadatas"]))
    return records


def add_batched(collection, ids, documents, metadatas, embeddings, batch: int = 1000) -> None:
    """Add records in slices below Chroma's per-call limit; documents and metadatas may be None."""
    for s in range(0, len(ids), batch):
        collection.add(
            ids=ids[s : s + batch],
            documents=None if documents is None else documents[s : s + batch],
            metadatas=None if metadatas is None else metadatas[s : s + batch],
            embeddings=np.asarray(embeddings[s : s + batch], dtype=np.float32),
        )


def _carry_documents(old, new, keep_out: set[str]) -> None:
    """Copy the document records not in `keep_out` from `old` to `new`."""
    for got in pages(old.docs, ["documents", "metadatas"], page=200):
        keep = [k for k, i in enumerate(got["ids"]) if i not in keep_out]
        if keep:
            new.docs.add(
                ids=[got["ids"][k] for k in keep],
                documents=[got["documents"][k] for k in keep],
                metadatas=[got["metadatas"][k] for k in keep],
                embeddings=[[0.0]] * len(keep),
            )


def _carry_sentences(old, new, staying: set[str], leaving: dict[str, Chunk], reuse: Reuse) -> None:
    """Copy the sentence vectors of `staying` chunks; offer those of `leaving` ones for reuse."""
    for got in pages(old.sentences, ["embeddings"]):
        keep = []
        for k, sid in enumerate(got["ids"]):
            chunk, start, end = sentence_key(sid)
            if chunk in staying:
                keep.append(k)
            elif (c := leaving.get(chunk)) is not None:
                text = c.text[start - c.start : end - c.start]
                reuse.sentences[sid] = got["embeddings"][k]
                reuse.sentences.setdefault(text, got["embeddings"][k])
        if keep:
            add_batched(
                new.sentences,
                [got["ids"][k] for k in keep],
                None,
                None,
                [got["embeddings"][k] for k in keep],
            )


def carry_over(old, new, keep_out: set[str], reuse_from: set[str]) -> tuple[Reuse, list[Chunk]]:
    """Copy untouched documents with their chunk and sentence vectors from `old` to `new`.

    Returns the vectors that replaced or removed documents may reuse (chunks of `reuse_from`
    documents by search key, sentences by text), and the carried chunks that still need
    sentence vectors because the old generation predates them.
    """
    _carry_documents(old, new, keep_out)
    reuse = Reuse({}, {})
    carried: list[Chunk] = []
    # Chunks that stay, whose sentences are carried over, and the chunks that leave, whose
    # sentences' vectors can be reused by text.
    staying: set[str] = set()
    leaving: dict[str, Chunk] = {}
    for got in pages(old.chunks, ["documents", "metadatas", "embeddings"]):
        keep = []
        rows = zip(got["ids"], got["documents"], got["metadatas"])
        for k, (cid, text, md) in enumerate(rows):
            if md["document"] not in keep_out:
                keep.append(k)
                staying.add(cid)
                if old.sentences is None:
                    carried.append(chunk_from_record(cid, text, md))
                continue
            leaving[cid] = chunk_from_record(cid, text, md)
            if md["document"] in reuse_from:
                reuse.chunks[(md["document"], md["section"], text)] = got["embeddings"][k]
        if keep:
            add_batched(
                new.chunks,
                [got["ids"][k] for k in keep],
                [got["documents"][k] for k in keep],
                [got["metadatas"][k] for k in keep],
                [got["embeddings"][k] for k in keep],
            )
    if old.sentences is None:
        return reuse, carried
    _carry_sentences(old, new, staying, leaving, reuse)
    return reuse, carried


def write_batch(
    new,
    part: list[tuple[Chunk, DocMeta | None]],
    encoder: Encoder,
    reuse: Reuse,
) -> tuple[int, int]:
    """Embed and write one batch of chunks and their sentences; returns how many of each.

    `new` is the generation being built (its `chunks` and `sentences` collections); a chunk
    given with no metadata is already written and only needs its sentences.
    """
    texts: list[str] = []
    chunk_rows: list[tuple[Chunk, DocMeta, Any]] = []
    sentence_rows: list[tuple[Chunk, int, int, Any]] = []
    # A row's vector is either reused (a list) or the index of its text in this one encode call.
    for c, meta in part:
        if meta is not None:
            key = reuse_key(c)
            if key in reuse.chunks:
                chunk_rows.append((c, meta, reuse.chunks[key]))
            else:
                chunk_rows.append((c, meta, len(texts)))
                texts.append(encoder.search_text(c, meta))
        for a, b in encoder.sentences(c):
            text = c.text[a - c.start : b - c.start]
            known = reuse.sentences.get(sentence_id(c.id, a, b), reuse.sentences.get(text))
            if known is not None:
                sentence_rows.append((c, a, b, known))
            else:
                sentence_rows.append((c, a, b, len(texts)))
                texts.append(text)
    chunk_count = sum(isinstance(v, int) for *_, v in chunk_rows)
    vectors = encoder.embed(texts) if texts else np.zeros((0, 0), dtype=np.float32)

    def vec(v):
        return vectors[v] if isinstance(v, int) else v

    if chunk_rows:
        add_batched(
            new.chunks,
            [c.id for c, _, _ in chunk_rows],
            [c.text for c, _, _ in chunk_rows],
            [chunk_metadata(c, m) for c, m, _ in chunk_rows],
            [vec(v) for *_, v in chunk_rows],
        )
    if sentence_rows:
        add_batched(
            new.sentences,
            [sentence_id(c.id, a, b) for c, a, b, _ in sentence_rows],
            None,
            # No metadata: the id says which chunk and where, and rows are only read by id.
            None,
            [vec(v) for *_, v in sentence_rows],
        )
    return chunk_count, len(texts) - chunk_count


def add_documents(
    new: Any, docs: Sequence[tuple[Document, str, list[Chunk]]], old: dict[str, dict]
) -> None:
    """Store each (document, content hash, chunks)'s text and metadata in `new`, 100 at a time,
    with the date it was first added: today, or for a new version the date in its `old` record."""
    today = datetime.date.today().isoformat()
    added = {i: md["added"] for i, md in old.items() if "added" in md}
    for s in range(0, len(docs), 100):
        part = docs[s : s + 100]
        new.docs.add(
            ids=[d.id for d, _, _ in part],
            documents=[d.text for d, _, _ in part],
            metadatas=[
                doc_metadata(d, h, c) | {"added": added.get(d.id, today)} for d, h, c in part
            ],
            embeddings=[[0.0]] * len(part),
        )


def embed_all(new, items, encoder, reuse, fresh: int, progress, batch: int) -> int:
    """Write `items` to `new`, `batch` chunks at a time; returns the sentences embedded."""
    done = sentences = 0
    progress(0, fresh)
    for s in range(0, len(items), batch):
        embedded, sent = write_batch(new, items[s : s + batch], encoder, reuse)
        done += embedded
        sentences += sent
        progress(done, fresh)
    return sentences


def counting(
    encoder: Encoder, totals: Mapping[str, int], report: Callable[[str, str, int, int], None]
) -> Encoder:
    """`encoder`, also reporting after each embedding call how many of each document's passages
    are embedded, as (document id, "embedding", done, its total)."""
    # write_batch asks for the search text of every chunk it embeds before the one encode call.
    pending: Counter[str] = Counter()
    done: Counter[str] = Counter()
    for doc_id, total in totals.items():
        report(doc_id, "embedding", 0, total)

    def search_text(chunk: Chunk, meta: DocMeta) -> str:
        pending[chunk.document] += 1
        return encoder.search_text(chunk, meta)

    def embed(texts: list[str]) -> np.ndarray:
        vectors = encoder.embed(texts)
        for doc_id, n in pending.items():
            done[doc_id] += n
            report(doc_id, "embedding", done[doc_id], max(totals.get(doc_id, 0), done[doc_id]))
        pending.clear()
        return vectors

    return Encoder(embed, search_text, encoder.sentences)
