"""The service: ingest files into the index, answer questions, and hold a chat turn.

The CLI and the UI call nothing else, so both behave alike: the same privacy check, the same
follow-up reading, the same answers. One Assistant serves every browser session of a Streamlit
process, so everything it caches is filled under a lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from rag.answer import gates, survey
from rag.answer.compose import Candidate, compose, scored_spans
from rag.answer.gates import Grounds
from rag.answer.sources import Sources
from rag.core.errors import IndexMissing, LLMUnavailable
from rag.core.models import Answer, Chunk, DocMeta, Document, Filters, Hit, Progress
from rag.core.settings import Settings
from rag.index.building import counting
from rag.index.inventory import CorpusInfo, describe, reviews_of
from rag.index.records import IngestReport, search_text
from rag.index.store import Encoder, Store
from rag.llm.claims import SentenceCheck
from rag.retrieve.base import Query, embed_query
from rag.retrieve.hybrid import Retriever
from rag.understand import privacy
from rag.understand.followup import Exchange, Resolved, resolve
from rag.understand.question import QueryInfo
from rag.understand.turn import Turn, check_question

if TYPE_CHECKING:
    from rag.index.embedder import Embedder
    from rag.llm.chat import ChatModel

# Reading files (pypdf, python-docx) and language models (LangChain) are imported where used:
# answering needs neither, and they took 0.7 s of every `rag ask`.
# What the service's callers (the CLI, the UI) use of the stages, re-exported here.
__all__ = ["Assistant", "CorpusInfo", "Exchange", "IngestReport", "Progress", "Resolved"]
__all__ += ["SentenceCheck", "Turn", "check_question"]

log = logging.getLogger(__name__)
R = TypeVar("R")


class Assistant:
    """Owns the model, the index and the caches for one process; build it once and share it."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        store: Store | None = None,
        chat_model: ChatModel | None = None,
    ):
        self.settings = settings
        self.store = store or Store(settings)
        self._lock = threading.RLock()
        # Loaded on first use: a command that only reads the index never pays for torch.
        self._embedder = embedder
        self._retriever: Retriever | None = None
        self._retriever_gen: int | None = None
        # Stored documents by generation, and sentence vectors embedded when not stored.
        self._sources = Sources(lambda t: self.embedder.embed(t), settings.sentence_cache_size)
        self._corpus: tuple[int, CorpusInfo] | None = None
        # Given, or built from settings.llm on first use; None keeps answers extractive.
        self._chat_model = chat_model

    @property
    def embedder(self) -> Embedder:
        """The packaged sentence model, loaded on first use."""
        with self._lock:
            if self._embedder is None:
                # Imported here: torch takes seconds to import.
                from rag.index.embedder import Embedder

                self._embedder = Embedder(self.settings)
            return self._embedder

    def ingest(
        self, paths: Iterable[Path] | None = None, progress: Progress | None = None
    ) -> IngestReport:
        """Bring the index in line with the files under `paths` (default: the corpus folder)."""
        from rag.ingest.reading import prepare

        paths = list(paths) if paths else [self.settings.corpus_dir]
        progress = progress or Progress()
        read = prepare(paths, self.settings, progress)
        loaded, prepared = read.loaded, read.documents
        totals = {doc.id: len(chunks) for doc, _, chunks in prepared}
        encoder = Encoder(self.embedder.embed, search_text, self._quotable)
        report = self.store.sync(
            prepared,
            counting(encoder, totals, progress.document),
            remove=loaded.removable,
            progress=progress.chunks,
            batch=self.settings.ingest_batch,
            # The new generation's retriever, saved before it answers: no process builds it.
            derive=lambda view: Retriever(view, self.settings, self._quotable),
        )
        for doc_id, total in totals.items():
            # Unchanged passages reuse their vectors: each file is complete once the sync is.
            progress.document(doc_id, "embedding", total, total)
        # Readers notice the new generation themselves (see `retriever`); nothing to reset.
        changed = {*report.added, *report.replaced}
        return IngestReport(
            sync=report,
            documents=len(loaded.documents) - len(report.duplicates),
            chunks=sum(len(c) for _, _, c in prepared),
            failures=loaded.failures + report.duplicates,
            catalog_problems=loaded.catalog_problems,
            inferred=tuple(d.meta for d in loaded.documents if d.id in changed and d.meta.inferred),
        )

    def _quotable(self, chunk: Chunk) -> list[tuple[int, int]]:
        # Exactly the sentences compose will score, so answering never has to embed them.
        return [(s.start, s.end) for s in scored_spans(chunk, self.settings)]

    # -- the index ---------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the model, and the retriever when there is an index, before the first question."""
        self.embedder.embed(["warm up"])
        if self.generation() is not None:
            _ = self.retriever

    def ready(self) -> None:
        """Raise IndexMissing, with what to do, when there is no index to answer from."""
        _ = self.retriever

    def generation(self) -> int | None:
        """The active index generation, or None before the first ingest."""
        return self.store.active_generation()

    @property
    def retriever(self) -> Retriever:
        """The retriever over the active index, loaded on first use and again after a change."""
        gen = self.store.active_generation()
        with self._lock:
            if self._retriever is None or gen != self._retriever_gen:
                if gen is None:
                    raise IndexMissing(
                        "there is no index yet. Build it with `rag ingest` (or `make index`), "
                        f"which reads the documents in {self.settings.corpus_dir}/"
                    )
                # Another process (an ingest, or cron) moved the index on: reload the retriever.
                # Pinned: a question in flight keeps reading the generation it started on.
                self._retriever = Retriever(self.store.pinned(gen), self.settings, self._quotable)
                self._retriever_gen = gen
            return self._retriever

    def corpus(self) -> CorpusInfo:
        """Every indexed document with its chunk count, read again only when the index changes."""
        gen = self.store.active_generation()
        retriever = self.retriever if gen is not None else None
        with self._lock:
            if self._corpus is None or self._corpus[0] != gen:
                # Chunks counted by the retriever's table when of this generation: no store read.
                counts = retriever.table.counts() if self._retriever_gen == gen else None
                self._corpus = (gen, describe(self.store, counts) if retriever else CorpusInfo(()))
            return self._corpus[1]

    def metas(self) -> dict[str, DocMeta]:
        """The metadata of every indexed document, by id."""
        return dict(self.retriever.metas)

    def _review_names(self, retriever: Retriever | None = None) -> frozenset[str]:
        """Every indexed review's name and aliases: published names, not personal details."""
        if retriever is None and self.generation() is None:
            return frozenset()
        metas = (retriever or self.retriever).metas.values()
        return frozenset(n for m in metas for n in (m.review, *m.aliases) if n)

    def document(self, doc_id: str) -> Document:
        """The stored document (text and page starts); an empty one if it is not indexed."""
        return self._sources.on(self.retriever.store).document(doc_id)

    def document_text(self, doc_id: str) -> str:
        """The stored text of a document, which every offset points into."""
        return self.document(doc_id).text

    def passages(self) -> list[Chunk]:
        """Every indexed passage, in document order (for the trainer tools)."""
        return sorted(self.store.chunks(), key=lambda c: (c.document, c.start))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of the texts, from the packaged model."""
        return self.embedder.embed(list(texts))

    def sentence_vectors(self, candidates: list[Candidate]) -> np.ndarray:
        """Vectors of candidate quote sentences: stored at ingest, embedded only when absent."""
        return self._sources.sentence_vectors(self.retriever.store, candidates)

    def _verify(self, quote) -> bool:
        return self._sources.verify(self.retriever.store, quote)

    # -- ask ---------------------------------------------------------------------------------

    def query(self, question: str, info: QueryInfo) -> Query:
        """The question as the searchers read it, with its three vectors."""
        return embed_query(self.embedder.embed, question, info)[0]

    def search(
        self, question: str, filters: Filters = Filters(), info: QueryInfo | None = None
    ) -> tuple[list[Hit], np.ndarray]:
        """Ranked candidate passages for a question, and the question's vector."""
        q = check_question(question, self.settings)
        retriever = self.retriever
        # `ask` has already read the question; reading it again would repeat the name matching.
        info = info or retriever.understand(q)
        query = self.query(info.text or q, info)
        return retriever.hits(query, filters), query.full

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
        from rag.llm.synthesis import synthesise

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
        from rag.llm.synthesis import Synthesis, stream_synthesis

        try:
            for event in self._synthesis(stream_synthesis, grounds):
                yield event.answer if isinstance(event, Synthesis) else event
        except LLMUnavailable as exc:
            # Sentences already streamed were drafts only; the extractive answer replaces them.
            yield self._unavailable(grounds.answer, exc)

    def _grounds(
        self, question: str, filters: Filters, k: int | None, answer_id: str | None
    ) -> Grounds:
        """The extractive answer or abstention, through the gates of rag.answer.gates in order."""
        checked = check_question(question, self.settings)
        retriever = self.retriever  # read once: each read of the index pointer is a round trip
        q = privacy.without_names(checked, self._review_names(retriever))
        settings = self.settings if k is None else self.settings.model_copy(update={"top_k": k})
        info = retriever.understand(q)
        if refused := gates.unknown_names(q, info, answer_id):
            return Grounds(refused)
        words, others = retriever.not_in_review(info)
        if refused := gates.outside_review(q, info, words, others, retriever.metas, answer_id):
            return Grounds(refused)
        # An answer across reviews judges support by the topic (`survey.by_topic`), embedded
        # now, and its wider pool is searched now, once for both (`Retriever.hits`).
        wanted = survey.wanted(info, settings)
        topics = [survey.topic(info.text or q)] if wanted else []
        query, topic_vectors = embed_query(self.embedder.embed, info.text or q, info, topics)
        pool = max(settings.survey_pool, settings.candidates)
        wide = retriever.wide(query, filters, pool) if wanted else None
        hits = retriever.hits(query, filters, wide=wide)
        if refused := gates.unaddressed(q, info, hits, answer_id):
            return Grounds(refused)
        # Every read of this answer from the retriever's generation, with no pointer read each.
        reads = self._sources.on(retriever.store)
        sources = (reads.documents, reads.sentence_vectors, reads.verify)
        # Sentences are chosen by the vector dense search ranks by: the question's topic, without
        # a named review's name or conversational frames, which every sentence of a passage of
        # that review shares as much as the one that answers.
        answer = compose(
            q,
            hits,
            query.vector,
            *sources,
            settings,
            answer_id,
            across=info.across_reviews,
            overview=info.asks_overview,
            states=gates.stating(info.facts, retriever.common_words, q),
        )
        if refused := gates.missing_fact(answer, info, retriever.common_words, settings):
            return Grounds(refused)
        if survey.applies(answer, info, settings):
            search = partial(retriever.hits, wide=wide, floor=settings.survey_threshold)
            embed = partial(survey.known_or, topic_vectors, self.embed)
            answer = survey.widen(answer, query, search, filters, embed, *sources, settings)
        llm = self.settings.llm or self._chat_model
        final = answer.abstained or bool(answer.groups) or not llm
        return Grounds(answer, final, q, hits, settings, k, info.across_reviews)

    def all_reviews(self, answer: Answer) -> Answer:
        """`answer` with the reviews it holds back quoted too, each quote verified (an answer
        across reviews quotes only those it shows; see `survey.widen`)."""
        if not any(g.held for g in answer.groups):
            return answer
        judge = self.embed([answer.judged_by or answer.question])[0]
        reads = self._sources.on(self.retriever.store)
        sources = (reads.documents, reads.sentence_vectors, reads.verify)
        return survey.expand(answer, judge, *sources, self.settings)

    # -- the chat turn -----------------------------------------------------------------------

    def prepare(
        self, question: str, history: Sequence[Exchange] = (), filters: Filters = Filters()
    ) -> Turn:
        """A chat turn ready to answer: personal details found and removed from what is asked,
        and a follow-up ("What about health visitors?") resolved against the earlier turns."""
        q = check_question(question, self.settings)
        findings = privacy.find_personal_details(q, self._review_names())
        # Identifiers never reach the search or a language model, even if the user goes on.
        asked = privacy.redact(q, findings)
        # From the retriever's saved metadata: the inventory reads every document's (seconds).
        reviews = reviews_of(self.metas().values()) if self.generation() is not None else ()
        rewriter = self._rewriter() if history else None
        resolved = resolve(asked, history, filters, reviews, rewriter, self.settings.followup_words)
        return Turn(q, resolved, findings)

    def respond(self, turn: Turn, answer_id: str | None = None) -> Answer:
        """The answer to a prepared turn."""
        return self.ask(turn.resolved.query, turn.resolved.filters, answer_id=answer_id)

    def stream_respond(
        self, turn: Turn, answer_id: str | None = None
    ) -> Iterator[SentenceCheck | Answer]:
        """As respond, streaming a language model's drafts (see stream_ask)."""
        return self.stream_ask(turn.resolved.query, turn.resolved.filters, answer_id=answer_id)

    def _rewriter(self) -> Callable[[Sequence[Exchange], str], str] | None:
        """The configured language model's follow-up rewriter, or None for the rules alone."""
        if not (self.settings.llm or self._chat_model):
            return None
        try:
            model = self.chat_model
        except LLMUnavailable as exc:
            log.warning("follow-up not rewritten: %s", exc)
            return None
        from rag.llm.rewrite import rewrite_followup

        return lambda history, question: rewrite_followup(history, question, model, self.settings)

    @property
    def chat_model(self) -> ChatModel | None:
        """The configured LangChain chat model, built on first use; None when RAG_LLM is unset."""
        with self._lock:
            if self.settings.llm and self._chat_model is None:
                from rag.llm.chat import build_chat_model

                self._chat_model = build_chat_model(self.settings)
            return self._chat_model

    def _synthesis(self, make: Callable[..., R], g: Grounds) -> R:
        # The extractive answer is the fallback: an unreachable model never fails the question.
        # The model is built here, inside the caller's try, so a missing one becomes a note.
        model, text = self.chat_model, self.document_text
        return make(
            g.question, g.hits, g.answer, model, text, self._verify, g.settings, g.k, g.across
        )

    @staticmethod
    def _unavailable(fallback: Answer, exc: LLMUnavailable) -> Answer:
        log.warning("language model unavailable: %s", exc)
        note = f"Language model unavailable ({exc}); showing the extractive answer."
        return replace(fallback, notes=(*fallback.notes, note))
