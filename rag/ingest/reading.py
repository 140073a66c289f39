"""Read review files (.md, .txt, .pdf, .docx) into Documents, with metadata and clear errors."""

from __future__ import annotations

import hashlib
import re
import tomllib
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from rag.core import errors, word
from rag.core.models import DocMeta, Document
from rag.core.settings import Settings
from rag.ingest import pdf

SUPPORTED = (".md", ".txt", ".pdf", ".docx")
_HEADING = re.compile(r"^[#\s]*(.+?)[*_\s:]*$")


@dataclass(frozen=True)
class Loaded:
    """Documents read from disk, and the files that could not be read, with why."""

    documents: tuple[Document, ...]
    failures: tuple[errors.DocumentError, ...] = field(default=())
    # Folders that were scanned whole: indexed documents from there that are gone get removed.
    scanned_dirs: tuple[str, ...] = field(default=())

    def removable(self, doc_id: str, path: str) -> bool:
        """Whether an indexed document is gone: its file left a folder that was scanned whole.

        A file still there but unreadable this time (say, half-copied) keeps its indexed version.
        """
        if not path or Path(path).exists():
            return False
        resolved = str(Path(path).resolve())
        return any(resolved.startswith(d.rstrip("/") + "/") for d in self.scanned_dirs)


@dataclass(frozen=True)
class Progress:
    """Callbacks that follow a long ingest as (done, total): files read, then chunks embedded."""

    files: Callable[[int, int], None] = lambda done, total: None
    chunks: Callable[[int, int], None] = lambda done, total: None


def load_catalog(corpus_dir: Path, name: str) -> dict[str, DocMeta]:
    """Catalog entries by document id; a missing catalog is an empty one."""
    path = corpus_dir / name
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return {
        doc_id: DocMeta(id=doc_id, **(fields | {"aliases": tuple(fields.get("aliases", ()))}))
        for doc_id, fields in raw.items()
    }


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Every candidate file under `paths`, in a stable order; folders are walked recursively."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not f.name.startswith(".") and f.suffix != ".toml":
                    yield f
        else:
            yield p


def content_hash(text: str) -> str:
    """A stable hash of a document's stored text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _title_from_text(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.strip():
            m = _HEADING.match(line.replace("**", ""))
            return m.group(1).strip() if m else line.strip()
    return fallback


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
        pages = [pdf.page_lines(page) for page in reader.pages]
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


def read_document(path: Path, catalog: dict[str, DocMeta], settings: Settings) -> Document:
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
    meta = catalog.get(path.stem) or DocMeta(id=path.stem, title=_title_from_text(text, path.stem))
    # Absolute, so a later run from another folder still knows whether the file is gone.
    return Document(meta=meta, text=text, path=str(path.resolve()), page_starts=page_starts)


def load(
    paths: Iterable[Path],
    settings: Settings,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Loaded:
    """Read every file under `paths`; one bad file never stops the others."""
    paths = list(paths)
    catalog = load_catalog(settings.corpus_dir, settings.catalog_file)
    docs: list[Document] = []
    failures: list[errors.DocumentError] = []
    seen: dict[str, str] = {}
    ids: dict[str, str] = {}
    files = list(discover(paths))
    for n, path in enumerate(files, start=1):
        progress(n - 1, len(files))
        try:
            doc = read_document(path, catalog, settings)
        except errors.DocumentError as exc:
            failures.append(exc)
            continue
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
    return Loaded(tuple(docs), tuple(failures), dirs)
