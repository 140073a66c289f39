"""Read review files (.md, .txt, .pdf, .docx) into Documents, with metadata and clear errors."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from rag.core import errors, word
from rag.core.models import Chunk, Document
from rag.core.models import Progress as Progress  # re-exported: callers import it from here
from rag.core.settings import Settings
from rag.ingest import pdf
from rag.ingest.catalog import document_meta, load_catalog
from rag.ingest.chunking import chunk_document

SUPPORTED = (".md", ".txt", ".pdf", ".docx")


@dataclass(frozen=True)
class Loaded:
    """Documents read from disk, and the files that could not be read, with why."""

    documents: tuple[Document, ...]
    failures: tuple[errors.DocumentError, ...] = field(default=())
    # Folders that were scanned whole: indexed documents from there that are gone get removed.
    scanned_dirs: tuple[str, ...] = field(default=())
    catalog_problems: tuple[errors.CatalogError, ...] = field(default=())
    # The corpus folder that stored paths are relative to.
    corpus_dir: str = "."

    def removable(self, doc_id: str, path: str) -> bool:
        """Whether an indexed document is gone: its file left a folder that was scanned whole.

        A file still there but unreadable this time (say, half-copied) keeps its indexed version.
        """
        if not path:
            return False
        where = Path(self.corpus_dir) / path  # an absolute `path` stays as it is
        if where.exists():
            return False
        resolved = str(where.resolve())
        return any(resolved.startswith(d.rstrip("/") + "/") for d in self.scanned_dirs)


@dataclass(frozen=True)
class Prepared:
    """Files read and chunked, nothing embedded: each (document, content hash, chunks)."""

    loaded: Loaded
    documents: tuple[tuple[Document, str, list[Chunk]], ...]


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Every candidate file under `paths`, in a stable order; folders are walked recursively,
    leaving out hidden files and folders (uploads waiting to be checked live in one)."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                hidden = any(part.startswith(".") for part in f.relative_to(p).parts)
                if f.is_file() and not hidden and f.suffix != ".toml":
                    yield f
        else:
            yield p


def content_hash(text: str) -> str:
    """A stable hash of a document's stored text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_text(path: Path) -> tuple[str, tuple[int, ...]]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.NotUtf8(str(path), f"byte {exc.start}") from exc
    return text.removeprefix("\ufeff"), ()


def _read_pdf(path: Path) -> tuple[str, tuple[int, ...]]:
    if not _has_eof_marker(path):
        # pypdf would quietly rebuild a truncated file from what is left, losing pages unnoticed.
        raise errors.CorruptDocument(str(path), "truncated: no %%EOF marker")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise errors.EncryptedDocument(str(path), "needs a password")
        pages = pdf.document_lines(reader.pages)
    except errors.DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise errors.EncryptedDocument(str(path), "needs a password") from exc
    except DependencyError as exc:
        raise errors.EncryptedDocument(str(path), str(exc)) from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError,
            IndexError, RecursionError, OSError, zlib.error) as exc:  # fmt: skip
        raise errors.CorruptDocument(str(path), f"{type(exc).__name__}: {exc}"[:200]) from exc
    if not pages:
        raise errors.EmptyDocument(str(path), "zero pages")
    if not any(pages):
        raise errors.NeedsOCR(str(path), f"{len(pages)} page(s) without text")
    return pdf.clean_pages(pages)


def _read_docx(path: Path) -> tuple[str, tuple[int, ...]]:
    try:
        text, _title = word.read_docx(path)
    except (ValueError, OSError) as exc:
        raise errors.CorruptDocument(str(path), f"{type(exc).__name__}: {exc}"[:200]) from exc
    return text, ()


def _has_eof_marker(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 2048))
        return b"%%EOF" in fh.read()


def read_document(
    path: Path, catalog: Mapping[str, Mapping[str, object]], settings: Settings
) -> Document:
    """Read one file into a Document, or raise a DocumentError saying why not."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise errors.UnsupportedFormat(str(path), suffix or "no extension")
    size = path.stat().st_size
    if size > settings.max_file_mb * 1024 * 1024:
        raise errors.TooLarge(str(path), f"{size / 1024 / 1024:.1f} MiB")
    if size == 0:
        raise errors.EmptyDocument(str(path), "0 bytes")
    readers = {".pdf": _read_pdf, ".docx": _read_docx}
    text, page_starts = readers.get(suffix, _read_text)(path)
    if not text.strip():
        raise errors.EmptyDocument(str(path))
    meta = document_meta(path.stem, text, catalog.get(path.stem))
    where = stored_path(path, settings.corpus_dir)
    return Document(meta=meta, text=text, path=where, page_starts=page_starts)


def stored_path(path: Path, corpus_dir: Path) -> str:
    """Where the index records a file: relative to the corpus folder when it is inside it, so a
    copied or moved project still knows its documents; otherwise absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(corpus_dir.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def load(
    paths: Iterable[Path],
    settings: Settings,
    progress: Callable[[int, int], None] = lambda done, total: None,
    each: Callable[[str, str, int, int], None] = lambda doc_id, stage, done, total: None,
) -> Loaded:
    """Read every file under `paths`; one bad file never stops the others. `each` follows
    every file on its own (see Progress.document)."""
    paths = list(paths)
    catalog = load_catalog(settings.corpus_dir, settings.catalog_file)
    docs: list[Document] = []
    failures: list[errors.DocumentError] = []
    seen: dict[str, str] = {}
    ids: dict[str, str] = {}
    files = list(discover(paths))
    for n, path in enumerate(files, start=1):
        progress(n - 1, len(files))
        each(path.stem, "reading", 0, 1)
        try:
            doc = read_document(path, catalog.entries, settings)
        except errors.DocumentError as exc:
            failures.append(exc)
            continue
        finally:
            each(path.stem, "reading", 1, 1)
        digest = content_hash(doc.text)
        if digest in seen:
            failures.append(errors.DuplicateDocument(str(path), f"same text as {seen[digest]}"))
            continue
        if doc.id in ids:
            # Ids are file stems: "a.md" and "a.pdf" would overwrite each other in the index.
            failures.append(
                errors.DuplicateDocument(str(path), f"same id '{doc.id}' as {ids[doc.id]}")
            )
            continue
        seen[digest], ids[doc.id] = doc.id, str(path)
        docs.append(doc)
    progress(len(files), len(files))
    dirs = tuple(str(p.resolve()) for p in paths if p.is_dir())
    corpus = str(settings.corpus_dir.resolve())
    return Loaded(tuple(docs), tuple(failures), dirs, catalog.problems, corpus)


def prepare(
    paths: Iterable[Path], settings: Settings, progress: Progress | None = None
) -> Prepared:
    """Read and chunk every file under `paths`, embedding nothing: what an ingest would add."""
    progress = progress or Progress()
    loaded = load(paths, settings, progress.files, progress.document)
    documents = []
    for doc in loaded.documents:
        progress.document(doc.id, "chunking", 0, 1)
        documents.append((doc, content_hash(doc.text), chunk_document(doc, settings)))
        progress.document(doc.id, "chunking", 1, 1)
    return Prepared(loaded, tuple(documents))
