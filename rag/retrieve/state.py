"""What the retriever builds from every chunk of a generation, saved with it and loaded back.

Building reads every chunk from Chroma (38 s at 100k chunks); loading the saved folder takes a
fraction of a second, its BM25 score arrays memory-mapped. Ingest saves it for a new generation
before readers are pointed at it (`rag.assistant`), and the store drops it with its generation.
A folder written by other code (`fingerprint`), missing, or damaged is built again and saved.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import logging
import sys
from dataclasses import asdict, dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from rag.core.models import ChunkRef, DocMeta
from rag.core.settings import Settings
from rag.index.records import search_text
from rag.index.store import Store
from rag.retrieve.base import ChunkTable
from rag.retrieve.lexical import ENGINE, LexicalIndex, tokenize
from rag.retrieve.structural import SectionIndex
from rag.understand import abbreviations
from rag.understand.question import known_names, vocabulary

log = logging.getLogger(__name__)

FORMAT = 1
# The code and data that decide what is built: a change to any of them builds it again.
_SOURCES = ("core", "understand", "retrieve", "index/records.py", "data/words.toml")


@dataclass(frozen=True)
class Parts:
    """The retriever's indexes over one generation."""

    metas: dict[str, DocMeta]
    table: ChunkTable
    lexical: LexicalIndex
    sections: SectionIndex
    # Every chunk's place (id, document, section, start), by position in `table`.
    refs: list[ChunkRef]
    # Names and words the corpus uses, for reading questions (rag.understand.question).
    vocabulary: set[str]
    catalog_words: set[str]
    common_words: set[str]
    # Abbreviations the corpus spells out, with their long forms (rag.understand.abbreviations).
    abbreviations: dict[str, str]


def fingerprint(settings: Settings) -> str:
    """A digest of the code, data and settings that decide what `build` builds."""
    digest = hashlib.sha256(
        f"{FORMAT} {ENGINE} {settings.opening_chunks} {settings.bm25_k1} {settings.bm25_b}".encode()
    )
    stack = [files("rag").joinpath(*name.split("/")) for name in _SOURCES]
    while stack:
        item = stack.pop()
        if item.is_dir():
            stack += sorted(item.iterdir(), key=lambda t: t.name, reverse=True)
        elif item.name.endswith((".py", ".toml")):
            digest.update(item.name.encode() + b"\0" + item.read_bytes())
    return digest.hexdigest()


def _names_text(m: DocMeta) -> str:
    """Every name of a document in one text, for the vocabulary of known names."""
    names = (m.id.replace("-", " "), m.title, m.review, m.partnership, m.source, *m.aliases)
    return " ".join(filter(None, names))


def build(store: Store, settings: Settings) -> Parts:
    """The indexes built from one pass over every chunk of the store's generation."""
    metas = {doc_id: meta for doc_id, (meta, _) in store.documents().items()}
    ids: list[str] = []
    documents: list[str] = []
    refs: list[ChunkRef] = []
    tokens: list[list[str]] = []
    known = known_names(_names_text(m) for m in metas.values())
    # Every passage of a review carries its review's and partnership's names.
    catalog_words = vocabulary(_names_text(m) for m in metas.values())
    # Words the corpus writes in lower case, and the catalog's names: not a person's name.
    common_words = set(catalog_words)
    spelled = abbreviations.Reader()
    # A page of chunks at a time: the texts feed BM25 and the vocabulary, and are dropped;
    # a hit's text is read back from the store (at 100k chunks the texts held ~800 MiB).
    for page in store.chunk_pages():
        for c in page:
            doc = sys.intern(c.document)
            ids.append(c.id)
            documents.append(doc)
            refs.append(ChunkRef(c.id, doc, sys.intern(c.section), c.start))
        tokens += tokenize([search_text(c, metas[c.document]) for c in page])
        known |= known_names((c.text for c in page), common_words)
        for c in page:
            spelled.add(c.text)
    table = ChunkTable(ids, documents, metas)
    lexical = LexicalIndex(table, tokens, k1=settings.bm25_k1, b=settings.bm25_b)
    sections = SectionIndex(refs, settings.opening_chunks)
    # Not an ordinary word, nor a review's or partnership's own abbreviation: that names it,
    # and scopes a question as written.
    spelled_out = spelled.table(common_words)
    return Parts(
        metas, table, lexical, sections, refs, known, catalog_words, common_words, spelled_out
    )


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def save(parts: Parts, folder: Path, settings: Settings) -> None:
    """Write the parts into `folder`: numpy arrays, JSON, and bm25s's own files."""
    table = parts.table
    parts.lexical.save(folder / "bm25")
    np.save(folder / "documents.npy", table.doc_of)
    names = list(dict.fromkeys(r.section for r in parts.refs))
    number = {name: k for k, name in enumerate(names)}
    np.save(folder / "sections.npy", np.array([number[r.section] for r in parts.refs], np.int32))
    np.save(folder / "starts.npy", np.array([r.start for r in parts.refs], np.int64))
    position = {cid: k for k, cid in enumerate(table.ids)}
    _write_json(folder / "chunks.json", {"ids": table.ids, "sections": names})
    _write_json(folder / "metas.json", [asdict(parts.metas[d]) for d in table.doc_ids])
    _write_json(folder / "index.json", parts.sections.positions(position))
    words = {
        "vocabulary": list(parts.vocabulary),
        "catalog": list(parts.catalog_words),
        "common": list(parts.common_words),
        "abbreviations": parts.abbreviations,
    }
    _write_json(folder / "words.json", words)
    # Last: a folder without it is never read.
    _write_json(folder / "state.json", {"fingerprint": fingerprint(settings), "chunks": len(table)})


class Stale(Exception):
    """A saved folder written by other code or for other settings."""


def load(folder: Path, settings: Settings) -> Parts:
    """The parts `save` wrote into `folder`; Stale if other code wrote them."""
    state = _read_json(folder / "state.json")
    if state.get("fingerprint") != fingerprint(settings):
        raise Stale(f"{folder} was saved by other code or settings")
    chunks = _read_json(folder / "chunks.json")
    ids, names = chunks["ids"], chunks["sections"]
    metas = {}
    for m in _read_json(folder / "metas.json"):
        metas[m["id"]] = DocMeta(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in m.items()}
        )
    doc_of = np.load(folder / "documents.npy")
    sections, starts = np.load(folder / "sections.npy"), np.load(folder / "starts.npy")
    if not len(ids) == len(doc_of) == len(sections) == len(starts) == state["chunks"]:
        raise ValueError(f"{folder}: its files disagree on the number of chunks")
    table = ChunkTable(ids, doc_of, metas)
    doc_ids = [sys.intern(d) for d in table.doc_ids]
    names = [sys.intern(n) for n in names]
    refs = [
        ChunkRef(cid, doc_ids[d], names[s], start)
        for cid, d, s, start in zip(ids, doc_of.tolist(), sections.tolist(), starts.tolist())
    ]
    words = _read_json(folder / "words.json")
    return Parts(
        metas,
        table,
        LexicalIndex.load(table, folder / "bm25"),
        SectionIndex.from_positions(_read_json(folder / "index.json"), refs),
        refs,
        set(words["vocabulary"]),
        set(words["catalog"]),
        set(words["common"]),
        dict(words["abbreviations"]),
    )


def _release_freed_heap() -> None:
    """Give the heap that building the indexes used and freed back to the system."""
    # glibc keeps freed heap for the life of the process: at 100k chunks the token lists and
    # page reads of the build left about 240 MiB of it in every app process. A no-op where the
    # C library has no malloc_trim.
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


def obtain(store: Store, settings: Settings) -> tuple[Parts, bool]:
    """The parts saved with the store's generation, else built now and saved; and whether built."""
    gen = store.reads()
    folder = store.saved(gen) if gen is not None else None
    if folder is not None:
        try:
            return load(folder, settings), False
        except Stale as exc:
            log.info("rebuilding the retriever: %s", exc)
        except Exception as exc:  # noqa: BLE001 - whatever a damaged folder raises, build anew
            log.warning("saved retriever of generation %s unreadable (%r); rebuilding", gen, exc)
    parts = build(store, settings)
    log.info("built the retriever of generation %s from %d chunks", gen, len(parts.table))
    if gen is not None:
        try:
            store.save(gen, lambda path: save(parts, path, settings))
        except OSError as exc:
            # Answering does not need it saved: the next process builds it again.
            log.warning("could not save the retriever of generation %s: %s", gen, exc)
    _release_freed_heap()
    return parts, True
