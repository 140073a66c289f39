"""The assistant end to end: ingest files into the index, and answer questions from it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np
from langchain_core.language_models import BaseChatModel

from rag import answer as answering
from rag import facts, ingest, query
from rag.chunk import chunk_document
from rag.claims import SentenceCheck
from rag.embed import Embedder
from rag.errors import DocumentError, IndexMissing, InvalidQuestion, LLMUnavailable
from rag.followup import rewrite_followup
from rag.llm import build_chat_model
from rag.models import Answer, Chunk, DocMeta, Document, Filters, Hit
from rag.retrieve import Retriever, search_text
from rag.settings import Settings
from rag.store import Encoder, Store, SyncReport
from rag.synthesis import Synthesis, stream_synthesis, synthesise
from rag.verify import verify_quote

log = logging.getLogger(__name__)
R = TypeVar("R")


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ingest run."""

    sync: SyncReport
    documents: int
    chunks: int
    failures: tuple[DocumentError, ...] = field(default=())


@dataclass(frozen=True)
class _Grounds:
    """The extractive answer (or abstention) and, unless final, what synthesis is given."""

    answer: Answer
    final: bool = True
    question: str = ""
    hits: Sequence[Hit] = ()
    settings: Settings | None = None
    k: int | None = None
    across: bool = False


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
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        store: Store | None = None,
        chat_model: BaseChatModel | None = None,
    ):
        self.settings = settings
        self.embedder = embedder or Embedder(settings)
        self.store = store or Store(settings)
        self._retriever: Retriever | None = None
        self._retriever_gen: int | None = None
        self._docs: dict[str, Document] = {}
        self._sentence_vectors: dict[str, np.ndarray] = {}
        # Given, or built from settings.llm on first use; None keeps answers extractive.
        self._chat_model = chat_model

    # -- ingest ------------------------------------------------------------------------------

    def ingest(
        self, paths: Iterable[Path] | None = None, progress: ingest.Progress | None = None
    ) -> IngestReport:
        """Bring the index in line with the files under `paths` (default: the corpus folder)."""
        paths = list(paths) if paths else [self.settings.corpus_dir]
        progress = progress or ingest.Progress()
        loaded = ingest.load(paths, self.settings, progress.files)
        prepared = [
            (doc, ingest.content_hash(doc.text), chunk_document(doc, self.settings))
            for doc in loaded.documents
        ]
        report = self.store.sync(
            prepared,
            Encoder(self.embedder.embed, search_text, self._quotable),
            remove=loaded.removable,
            progress=progress.chunks,
            batch=self.settings.ingest_batch,
        )
        self._retriever = None
        self._docs.clear()
        return IngestReport(
            sync=report,
            documents=len(loaded.documents) - len(report.duplicates),
            chunks=sum(len(c) for _, _, c in prepared),
            failures=loaded.failures + report.duplicates,
        )

    @staticmethod
    def _quotable(chunk: Chunk) -> list[tuple[int, int]]:
        # Exactly the sentences compose will score, so answering never has to embed them.
        return [(s.start, s.end) for s in answering.scored_spans(chunk)]

    # -- ask ---------------------------------------------------------------------------------

    @property
    def retriever(self) -> Retriever:
        """The retriever over the active index, loaded on first use and again after a change."""
        gen = self.store.active_generation()
        if self._retriever is None or gen != self._retriever_gen:
            if gen is None:
                raise IndexMissing(
                    "there is no index yet. Build it with `rag ingest` (or `make index`), "
                    f"which reads the documents in {self.settings.corpus_dir}/"
                )
            # Another process (an ingest, or cron) moved the index on: reload what is cached.
            self._docs.clear()
            self._retriever = Retriever(self.store, self.settings)
            self._retriever_gen = gen
        return self._retriever

    def document(self, doc_id: str) -> Document:
        """The stored document (text and page starts); an empty one if it is not indexed."""
        if doc_id not in self._docs:
            doc = self.store.document(doc_id)
            self._docs[doc_id] = doc or Document(DocMeta(doc_id, doc_id), "")
        return self._docs[doc_id]

    def document_text(self, doc_id: str) -> str:
        """The stored text of a document, which every offset points into."""
        return self.document(doc_id).text

    def _embed_sentences(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._sentence_vectors]
        if missing:
            if len(self._sentence_vectors) > 50_000:
                self._sentence_vectors.clear()
            self._sentence_vectors.update(zip(missing, self.embedder.embed(missing)))
        return np.stack([self._sentence_vectors[t] for t in texts])

    def sentence_vectors(self, candidates: list[answering.Candidate]) -> np.ndarray:
        """Vectors of candidate quote sentences: stored at ingest, embedded only when absent."""
        keys = [(c.chunk, c.span.start, c.span.end) for c in candidates]
        stored = self.store.sentence_vectors(keys)
        # An index built before sentence vectors were stored (or a chunk whose spans changed
        # with the code) falls back to embedding them now.
        missing = [c.text for c, k in zip(candidates, keys) if k not in stored]
        fresh = iter(self._embed_sentences(missing) if missing else ())
        return np.stack([stored[k] if k in stored else next(fresh) for k in keys])

    def _verify(self, quote) -> bool:
        return verify_quote(quote, {quote.document: self.document_text(quote.document)})

    def search(
        self, question: str, filters: Filters = Filters(), info: query.QueryInfo | None = None
    ) -> tuple[list[Hit], np.ndarray]:
        """Ranked candidate passages for a question, and the question's vector."""
        q = check_question(question, self.settings)
        retriever = self.retriever
        # `ask` has already read the question; reading it again would repeat the name matching.
        info = info or retriever.understand(q)
        q = info.text or q
        vector, ranking, support = self.question_vectors(q, info)
        return retriever.search(q, ranking, filters, info, support), vector

    def question_vectors(
        self, question: str, info: query.QueryInfo
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The question's vector, the one dense search ranks by, and the one support is judged by.

        A question naming a review is searched within it, where the name is shared by every
        passage and only its topic tells them apart; conversational frames ("what did the
        review say about that?") are dropped for ranking too. Support is judged as calibrated:
        by the topic when a review is named, else by the question as asked.
        """
        topic = info.topic
        focus = query.focus(topic or question)
        texts = [
            question,
            *([topic] if topic else []),
            *([focus] if focus != (topic or question) else []),
        ]
        # One encode call for all of them.
        vectors = self.embedder.embed(texts)
        vector, support = vectors[0], (vectors[1] if topic else None)
        ranking = vectors[-1]
        if support is None and len(texts) > 1:
            support = vector
        return vector, ranking, support

    def ask(
        self,
        question: str,
        filters: Filters = Filters(),
        k: int | None = None,
        answer_id: str | None = None,
    ) -> Answer:
        """Answer with verified verbatim quotes and citations, or abstain."""
        grounds = self._grounds(question, filters, k, answer_id)
        if grounds.final:
            return grounds.answer
        try:
            return self._synthesis(synthesise, grounds).answer
        except LLMUnavailable as exc:
            return self._unavailable(grounds.answer, exc)

    def stream_ask(
        self,
        question: str,
        filters: Filters = Filters(),
        k: int | None = None,
        answer_id: str | None = None,
    ) -> Iterator[SentenceCheck | Answer]:
        """As ask, for a UI that streams: with a language model, each written sentence's first
        check as it completes (unverified until the end), then the Answer; else just the Answer.
        """
        grounds = self._grounds(question, filters, k, answer_id)
        if grounds.final:
            yield grounds.answer
            return
        try:
            for event in self._synthesis(stream_synthesis, grounds):
                yield event.answer if isinstance(event, Synthesis) else event
        except LLMUnavailable as exc:
            # Sentences already streamed were drafts only; the extractive answer replaces them.
            yield self._unavailable(grounds.answer, exc)

    def _grounds(
        self, question: str, filters: Filters, k: int | None, answer_id: str | None
    ) -> _Grounds:
        """The extractive answer or abstention, and what a language model would be given."""
        q = check_question(question, self.settings)
        settings = self.settings if k is None else self.settings.model_copy(update={"top_k": k})
        info = self.retriever.understand(q)
        if info.unknown_names:
            return _Grounds(answering.abstain(q, answer_id, unknown=info.unknown_names))
        words, others = self.retriever.not_in_review(info)
        if words:
            metas = self.retriever.metas
            text = answering.not_in_review_text(
                [metas[d] for d in info.documents], words, [metas[d] for d in others]
            )
            return _Grounds(answering.abstain(q, answer_id, text=text))
        hits, vector = self.search(q, filters, info)
        answer = answering.compose(
            q,
            hits,
            vector,
            self.document,
            self.sentence_vectors,
            self._verify,
            settings,
            answer_id,
            across=info.across_reviews,
            overview=info.asks_overview,
            states=facts.stating(info.facts, self.retriever.common_words, q),
        )
        missing = facts.missing(
            answer, info.facts, self.retriever.common_words, settings.fact_passages
        )
        if missing:
            return _Grounds(answering.abstain(q, answer_id, text=missing))
        final = answer.abstained or not (self.settings.llm or self._chat_model)
        return _Grounds(answer, final, q, hits, settings, k, info.across_reviews)

    @property
    def chat_model(self) -> BaseChatModel | None:
        """The configured LangChain chat model, built on first use; None when RAG_LLM is unset."""
        if self.settings.llm and self._chat_model is None:
            self._chat_model = build_chat_model(self.settings)
        return self._chat_model

    def standalone_question(self, history: Sequence, question: str) -> str:
        """The follow-up rewritten as a standalone question by the LLM; unchanged without one."""
        if not (self.settings.llm or self._chat_model):
            return question
        try:
            model = self.chat_model
        except LLMUnavailable as exc:
            log.warning("follow-up not rewritten: %s", exc)
            return question
        return rewrite_followup(history, question, model)

    def _synthesis(self, make: Callable[..., R], g: _Grounds) -> R:
        # The extractive answer is the fallback: an unreachable model never fails the question.
        # The model is built here, inside the caller's try, so a missing one becomes a note.
        return make(
            g.question,
            g.hits,
            g.answer,
            self.chat_model,
            self.document_text,
            self._verify,
            g.settings,
            g.k,
            g.across,
        )

    @staticmethod
    def _unavailable(fallback: Answer, exc: LLMUnavailable) -> Answer:
        log.warning("language model unavailable: %s", exc)
        note = f"Language model unavailable ({exc}); showing the extractive answer."
        return replace(fallback, notes=(*fallback.notes, note))
