"""The assistant end to end: ingest files into the index, and answer questions from it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import answer as answering
from rag import ingest
from rag.chunk import chunk_document
from rag.embed import Embedder
from rag.errors import DocumentError, IndexMissing, InvalidQuestion
from rag.models import Answer, Chunk, DocMeta, Filters, Hit
from rag.retrieve import Retriever, search_text
from rag.settings import Settings
from rag.store import Store, SyncReport
from rag.verify import verify_quote


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ingest run."""

    sync: SyncReport
    documents: int
    chunks: int
    failures: tuple[DocumentError, ...] = field(default=())


def check_question(question: str, settings: Settings) -> str:
    """The question stripped, or InvalidQuestion when it is empty or too long."""
    q = (question or "").strip()
    if not q:
        raise InvalidQuestion("the question is empty: type a question about the reviews")
    if len(q) > settings.max_question_chars:
        raise InvalidQuestion(
            f"the question is {len(q):,} characters; the limit is "
            f"{settings.max_question_chars:,}. Shorten it to the point you want answered."
        )
    return q


class Pipeline:
    """Owns the model, the index and the caches for one process; build it once and reuse it."""

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, store: Store | None = None
    ):
        self.settings = settings
        self.embedder = embedder or Embedder(settings)
        self.store = store or Store(settings)
        self._retriever: Retriever | None = None
        self._texts: dict[str, str] = {}
        self._sentence_vectors: dict[str, np.ndarray] = {}

    # -- ingest ------------------------------------------------------------------------------

    def ingest(
        self, paths: Iterable[Path] | None = None, progress: Callable[[int], None] | None = None
    ) -> IngestReport:
        """Bring the index in line with the files under `paths` (default: the corpus folder)."""
        paths = list(paths) if paths else [self.settings.corpus_dir]
        loaded = ingest.load(paths, self.settings)
        prepared = [
            (doc, ingest.content_hash(doc.text), chunk_document(doc, self.settings))
            for doc in loaded.documents
        ]

        def removable(doc_id: str, path: str) -> bool:
            # Only documents that lived in a folder scanned whole, and are gone from it, go.
            resolved = str(Path(path).resolve()) if path else ""
            return any(resolved.startswith(d.rstrip("/") + "/") for d in loaded.scanned_dirs)

        report = self.store.sync(
            prepared, self._embed_chunks, remove=removable, progress=progress or (lambda n: None)
        )
        self._retriever = None
        self._texts.clear()
        return IngestReport(
            sync=report,
            documents=len(loaded.documents),
            chunks=sum(len(c) for _, _, c in prepared),
            failures=loaded.failures,
        )

    def _embed_chunks(self, chunks: list[Chunk], meta: DocMeta) -> np.ndarray:
        return self.embedder.embed([search_text(c, meta) for c in chunks])

    # -- ask ---------------------------------------------------------------------------------

    @property
    def retriever(self) -> Retriever:
        """The retriever over the active index, loaded on first use."""
        if self._retriever is None:
            if self.store.active_generation() is None:
                raise IndexMissing(
                    "there is no index yet. Build it with `rag ingest` (or `make index`), "
                    f"which reads the documents in {self.settings.corpus_dir}/"
                )
            self._retriever = Retriever(self.store, self.settings)
        return self._retriever

    def document_text(self, doc_id: str) -> str:
        """The stored text of a document, which every offset points into."""
        if doc_id not in self._texts:
            doc = self.store.document(doc_id)
            self._texts[doc_id] = doc.text if doc else ""
        return self._texts[doc_id]

    def _embed_sentences(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._sentence_vectors]
        if missing:
            if len(self._sentence_vectors) > 50_000:
                self._sentence_vectors.clear()
            self._sentence_vectors.update(zip(missing, self.embedder.embed(missing)))
        return np.stack([self._sentence_vectors[t] for t in texts])

    def _verify(self, quote) -> bool:
        return verify_quote(quote, {quote.document: self.document_text(quote.document)})

    def search(self, question: str, filters: Filters = Filters()) -> tuple[list[Hit], np.ndarray]:
        """Ranked candidate passages for a question, and the question's vector."""
        q = check_question(question, self.settings)
        vector = self.embedder.embed_one(q)
        return self.retriever.search(q, vector, filters), vector

    def ask(
        self,
        question: str,
        filters: Filters = Filters(),
        k: int | None = None,
        answer_id: str | None = None,
    ) -> Answer:
        """Answer with verified verbatim quotes and citations, or abstain."""
        q = check_question(question, self.settings)
        settings = self.settings if k is None else self.settings.model_copy(update={"top_k": k})
        hits, vector = self.search(q, filters)
        return answering.compose(
            q,
            hits,
            vector,
            self.document_text,
            self._embed_sentences,
            self._verify,
            settings,
            answer_id,
        )
