"""The library service: add, check, correct, replace and remove review documents.

The Library page calls only this and the assistant. Every change is a normal ingest, so it goes
through the index's generation switch: chat sessions keep answering from the old generation
until the new one is complete, then answer from it with no restart.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.assistant import Assistant, IngestReport, Progress
from rag.core.errors import DocumentError, RagError
from rag.core.models import DocMeta
from rag.ingest.catalog import load_catalog, remove_entry, save_entry
from rag.ingest.uploads import save_upload

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
class Added:
    """What an upload did: the ingest report, and the files that could not be used, with why."""

    report: IngestReport | None
    failures: tuple[DocumentError, ...] = field(default=())


class Library:
    """Library operations over one assistant; writes need the password when one is set."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.settings = assistant.settings

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
        """The document's parts in order, one row per section (its chunks' roles merged)."""
        rows: dict[str, OutlineRow] = {}
        chunks = sorted(
            (c for c in self.assistant.passages() if c.document == doc_id), key=lambda c: c.start
        )
        for c in chunks:
            roles = tuple(dict.fromkeys(r for _, _, r in c.roles)) or (c.kind,)
            if c.section in rows:
                old = rows[c.section]
                roles = tuple(dict.fromkeys(old.roles + roles))
                rows[c.section] = OutlineRow(c.section, old.kind, roles, old.page)
            else:
                rows[c.section] = OutlineRow(c.section, c.kind, roles, c.page)
        return list(rows.values())

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

    def add(
        self,
        files: Sequence[tuple[str, bytes]],
        password: str | None = None,
        progress: Progress | None = None,
    ) -> Added:
        """Save uploaded files in the corpus and index them; a file that cannot be used is
        reported (and not kept) while the others go in."""
        self._check(password)
        saved, failures = [], []
        for name, data in files:
            try:
                saved.append(save_upload(self.settings.corpus_dir, name, data))
            except DocumentError as exc:
                failures.append(exc)
        if not saved:
            return Added(None, tuple(failures))
        report = self.assistant.ingest(saved, progress)
        for failure in report.failures:
            # A file that did not go in would fail again on every ingest: it is not kept.
            Path(failure.path).unlink(missing_ok=True)
        return Added(report, tuple(failures) + report.failures)

    def replace(
        self, doc_id: str, name: str, data: bytes, password: str | None = None
    ) -> IngestReport:
        """Put a new version of a document in place of the old one, under the same id."""
        self._check(password)
        target = save_upload(self.settings.corpus_dir, name, data, replace=self._file(doc_id))
        return self.assistant.ingest([target])

    def correct(
        self, doc_id: str, fields: Mapping[str, object], password: str | None = None
    ) -> IngestReport:
        """Save corrected metadata as the document's catalog entry and re-index it."""
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
        return self.assistant.ingest([self._file(doc_id)])

    def remove(self, doc_id: str, password: str | None = None) -> IngestReport:
        """Delete a document's file and catalog entry, and drop it from the index."""
        self._check(password)
        self._file(doc_id).unlink(missing_ok=True)
        remove_entry(self.settings.corpus_dir, self.settings.catalog_file, doc_id)
        # Scanning the whole folder is what tells the index that a file has gone.
        return self.assistant.ingest([self.settings.corpus_dir])

    def _file(self, doc_id: str) -> Path:
        doc = self.assistant.document(doc_id)
        if not doc.path:
            raise RagError(f"the document '{doc_id}' is not in the library")
        return self.settings.corpus_dir / doc.path  # an absolute path stays as it is
