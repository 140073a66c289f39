"""The library service: add, check, correct, replace and remove review documents.

The Library page calls only this and the assistant. Every change is a normal ingest, so it goes
through the index's generation switch: chat sessions keep answering from the old generation
until the new one is complete, then answer from it with no restart.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.assistant import Assistant, IngestReport, Progress
from rag.core.errors import DocumentError, RagError
from rag.core.models import Chunk, DocMeta
from rag.ingest.catalog import load_catalog, remove_entry, save_entry
from rag.ingest.reading import Prepared, prepare
from rag.ingest.uploads import admit, save_upload, staged_files

# The metadata a person may correct, in the order a form shows them.
EDITABLE = ("title", "partnership", "review", "review_type", "kind", "year", "aliases")


class NotAllowed(RagError):
    """A change to the library without the administrator password it needs."""


@dataclass(frozen=True)
class Entry:
    """One indexed document as the library lists it."""

    meta: DocMeta
    chunks: int
    pages: int | None
    path: str
    added: str | None = None  # ISO date first added


@dataclass(frozen=True)
class OutlineRow:
    """One part of a document's structure: its section, kind, the roles of its spans, page."""

    section: str
    kind: str
    roles: tuple[str, ...]
    page: int | None


@dataclass(frozen=True)
class Pending:
    """An upload read and chunked but not yet in the index, waiting to be checked."""

    meta: DocMeta
    chunks: int
    pages: int | None
    name: str  # its file name, which it keeps in the corpus folder
    outline: tuple[OutlineRow, ...]


PendingRead = tuple[list[Pending], tuple[DocumentError, ...]]


@dataclass(frozen=True)
class Staged:
    """What reading new uploads did: the ids now waiting to be checked, and the files that
    could not be used, with why."""

    ids: tuple[str, ...]
    failures: tuple[DocumentError, ...] = field(default=())


def outline_rows(chunks: Iterable[Chunk]) -> list[OutlineRow]:
    """A document's parts in order, one row per section (its chunks' roles merged)."""
    rows: dict[str, OutlineRow] = {}
    for c in sorted(chunks, key=lambda c: c.start):
        roles = tuple(dict.fromkeys(r for _, _, r in c.roles)) or (c.kind,)
        if c.section in rows:
            old = rows[c.section]
            roles = tuple(dict.fromkeys(old.roles + roles))
            rows[c.section] = OutlineRow(c.section, old.kind, roles, old.page)
        else:
            rows[c.section] = OutlineRow(c.section, c.kind, roles, c.page)
    return list(rows.values())


@dataclass(frozen=True)
class Added:
    """What an upload did: the ingest report, and the files that could not be used, with why."""

    report: IngestReport | None
    failures: tuple[DocumentError, ...] = field(default=())


class Library:
    """Library operations over one assistant; writes need the password when one is set."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.settings = assistant.settings
        self._lock = threading.Lock()
        # The last reading of each waiting upload, by file name, with what it was read from.
        self._read: dict[str, tuple[tuple | None, Pending | DocumentError]] = {}

    # -- reading -----------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every indexed document, by title."""
        if self.assistant.generation() is None:
            return []
        out = []
        for d in self.assistant.corpus().documents:
            doc = self.assistant.document(d.meta.id)
            pages = len(doc.page_starts) or None
            out.append(Entry(d.meta, d.chunks, pages, doc.path, d.added))
        return sorted(out, key=lambda e: e.meta.title.lower())

    def outline(self, doc_id: str) -> list[OutlineRow]:
        """An indexed document's parts in order, one row per section."""
        return outline_rows(c for c in self.assistant.passages() if c.document == doc_id)

    def pending(self) -> PendingRead:
        """The uploads waiting to be checked, as an ingest would read them with the catalog as
        it is now; and any that can no longer be read."""
        files = staged_files(self.settings.corpus_dir)
        keys = self._keys(files)
        with self._lock:
            # Every rerun of the page asks: a file is read again only when it or its entry changed.
            stale = [f for f in files if self._read.get(f.name, (None,))[0] != keys[f.name]]
            if stale:
                self._remember(prepare(stale, self.settings), keys)
            self._read = {n: v for n, v in self._read.items() if n in keys}
            got = [self._read[f.name][1] for f in files if f.name in self._read]
        shown = [g for g in got if isinstance(g, Pending)]
        return shown, tuple(g for g in got if isinstance(g, DocumentError))

    def _keys(self, files: Sequence[Path]) -> dict[str, tuple]:
        """What each waiting file was read from: its version and its catalog entry."""
        catalog = load_catalog(self.settings.corpus_dir, self.settings.catalog_file).entries
        return {f.name: (f.stat().st_mtime_ns, repr(catalog.get(f.stem))) for f in files}

    def _remember(self, read: Prepared, keys: Mapping[str, tuple]) -> None:
        for doc, _, chunks in read.documents:
            name = Path(doc.path).name
            pages = len(doc.page_starts) or None
            rows = tuple(outline_rows(chunks))
            self._read[name] = (keys.get(name), Pending(doc.meta, len(chunks), pages, name, rows))
        for failure in read.loaded.failures:
            name = Path(failure.path).name
            self._read[name] = (keys.get(name), failure)

    # -- who may write -----------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        """Whether changes need the administrator password (RAG_ADMIN_PASSWORD is set)."""
        return self.settings.admin_password is not None

    def allows(self, password: str | None) -> bool:
        """Whether `password` opens the library for changes; compared in constant time."""
        if self.settings.admin_password is None:
            return True
        want = self.settings.admin_password.get_secret_value().encode("utf-8")
        return hmac.compare_digest(want, (password or "").encode("utf-8"))

    def _check(self, password: str | None) -> None:
        if not self.allows(password):
            raise NotAllowed("the administrator password is needed to change the library")

    # -- writing -----------------------------------------------------------------------------

    def stage(
        self,
        files: Sequence[tuple[str, bytes]],
        password: str | None = None,
        progress: Progress | None = None,
    ) -> Staged:
        """Save uploaded files to wait for checking, read and chunk them (nothing embedded,
        nothing live); a file that cannot be used is reported and not kept."""
        self._check(password)
        saved, failures = [], []
        for name, data in files:
            try:
                saved.append(save_upload(self.settings.corpus_dir, name, data, staged=True))
            except DocumentError as exc:
                failures.append(exc)
        if not saved:
            return Staged((), tuple(failures))
        read = prepare(saved, self.settings, progress)
        with self._lock:
            self._remember(read, self._keys(saved))  # the preview needs no second reading
        for failure in read.loaded.failures:
            Path(failure.path).unlink(missing_ok=True)
            failures.append(failure)
        return Staged(tuple(doc.id for doc, _, _ in read.documents), tuple(failures))

    def add_pending(
        self,
        doc_ids: Sequence[str],
        password: str | None = None,
        progress: Progress | None = None,
    ) -> Added:
        """Move checked uploads into the corpus and index them, their catalog entries applied;
        one that does not go in is reported and not kept."""
        self._check(password)
        waiting = {f.stem: f for f in staged_files(self.settings.corpus_dir)}
        moved, failures = [], []
        for doc_id in doc_ids:
            if doc_id not in waiting:
                raise RagError(f"'{doc_id}' is not waiting to be added")
            try:
                moved.append(admit(waiting[doc_id], self.settings.corpus_dir))
            except DocumentError as exc:
                failures.append(exc)
        if not moved:
            return Added(None, tuple(failures))
        report = self.assistant.ingest(moved, progress)
        for failure in report.failures:
            # A file that did not go in would fail again on every ingest: it is not kept.
            gone = self.settings.corpus_dir / failure.path  # an absolute path stays as it is
            gone.unlink(missing_ok=True)
            self._forget(gone.stem)
        return Added(report, tuple(failures) + report.failures)

    def add(
        self,
        files: Sequence[tuple[str, bytes]],
        password: str | None = None,
        progress: Progress | None = None,
    ) -> Added:
        """Stage uploaded files and add them at once, unchecked (as `rag ingest` would)."""
        staged = self.stage(files, password, progress)
        added = self.add_pending(staged.ids, password, progress) if staged.ids else Added(None)
        return Added(added.report, staged.failures + added.failures)

    def discard(self, doc_id: str, password: str | None = None) -> None:
        """Delete an upload waiting to be checked, with any corrections made to it."""
        self._check(password)
        for f in staged_files(self.settings.corpus_dir):
            if f.stem == doc_id:
                f.unlink(missing_ok=True)
                self._forget(doc_id)

    def replace(
        self,
        doc_id: str,
        name: str,
        data: bytes,
        password: str | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Put a new version of a document in place of the old one, under the same id."""
        self._check(password)
        target = save_upload(self.settings.corpus_dir, name, data, replace=self._file(doc_id))
        return self.assistant.ingest([target], progress)

    def correct(
        self, doc_id: str, fields: Mapping[str, object], password: str | None = None
    ) -> IngestReport | None:
        """Save corrected metadata as the document's catalog entry; an indexed document is
        re-indexed with it, an upload waiting to be checked just shows it."""
        self._check(password)
        catalog = load_catalog(self.settings.corpus_dir, self.settings.catalog_file)
        given = dict(catalog.entries.get(doc_id, {}))
        for key, value in fields.items():
            if key not in EDITABLE:
                continue
            if value in (None, "", (), []):
                given.pop(key, None)  # cleared: read from the text again
            else:
                given[key] = tuple(value) if key == "aliases" else value
        save_entry(self.settings.corpus_dir, self.settings.catalog_file, doc_id, given)
        if any(f.stem == doc_id for f in staged_files(self.settings.corpus_dir)):
            return None
        return self.assistant.ingest([self._file(doc_id)])

    def remove(self, doc_id: str, password: str | None = None) -> IngestReport:
        """Delete a document's file and catalog entry, and drop it from the index."""
        self._check(password)
        self._file(doc_id).unlink(missing_ok=True)
        self._forget(doc_id)
        # Scanning the whole folder is what tells the index that a file has gone.
        return self.assistant.ingest([self.settings.corpus_dir])

    def _forget(self, doc_id: str) -> None:
        remove_entry(self.settings.corpus_dir, self.settings.catalog_file, doc_id)

    def _file(self, doc_id: str) -> Path:
        doc = self.assistant.document(doc_id)
        if not doc.path:
            raise RagError(f"the document '{doc_id}' is not in the library")
        return self.settings.corpus_dir / doc.path  # an absolute path stays as it is
