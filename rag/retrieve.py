"""Hybrid retrieval: dense search in Chroma plus BM25 (bm25s), fused by rank."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import re
import sys
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

from rag import facts, query, sections
from rag.fusion import convex, prefer, rrf
from rag.models import Chunk, ChunkRef, DocMeta, Filters, Hit
from rag.settings import Settings
from rag.store import Store

_STEMMER = Stemmer.Stemmer("english")


def search_text(chunk: Chunk, meta: DocMeta) -> str:
    """What is embedded and indexed for a chunk: its review and section name, then its text."""
    name = meta.review or meta.title
    return f"{name}. {chunk.section}.\n{chunk.text}"


def _tokenize(texts: Sequence[str]) -> list[list[str]]:
    # One-character tokens matter here: "Child P", "Child Z", "Recommendation 7".
    return bm25s.tokenize(
        list(texts),
        stopwords="en",
        stemmer=_STEMMER,
        token_pattern=r"(?u)\b\w+\b",
        return_ids=False,
        show_progress=False,
    )


_ABBREVIATION_PLURAL = re.compile(r"\b([A-Z]{2,})s\b")


class LexicalIndex:
    """An in-memory BM25 index over chunk search texts; it keeps chunk ids, not texts."""

    def __init__(
        self,
        ids: Sequence[str],
        documents: Sequence[str],
        tokens: list[list[str]],
        metas: dict[str, DocMeta],
    ):
        self.ids = list(ids)
        # Filters are per document: decide them per document, then spread to chunks by index.
        self.doc_ids = list(metas)
        position = {d: i for i, d in enumerate(self.doc_ids)}
        doc_of = np.array([position[d] for d in documents], dtype=np.int64)
        # The chunk positions of document k are order[bounds[k]:bounds[k + 1]].
        self._doc_of = doc_of
        self._order = np.argsort(doc_of, kind="stable")
        self._bounds = np.searchsorted(doc_of[self._order], np.arange(len(self.doc_ids) + 1))
        self.bm25 = bm25s.BM25()
        if self.ids:
            self.bm25.index(tokens, show_progress=False)

    def positions(self, documents: Sequence[str]) -> np.ndarray:
        """Positions (in `ids`) of the chunks of these documents, ascending."""
        index = {d: k for k, d in enumerate(self.doc_ids)}
        parts = [
            self._order[self._bounds[k] : self._bounds[k + 1]]
            for k in sorted(index[d] for d in documents if d in index)
        ]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _scores(self, text: str) -> np.ndarray | None:
        tokens = [t for t in _tokenize([text])[0] if t in self.bm25.vocab_dict]
        return self.bm25.get_scores(tokens) if tokens and self.ids else None

    def chunks_using(self, word: str) -> int:
        """How many chunks use the word (stemmed, as BM25 reads it)."""
        scores = self._scores(word)
        return 0 if scores is None else int((scores > 0).sum())

    def documents_using(self, text: str) -> set[str]:
        """The documents with a chunk that uses any word of the text (stemmed, as BM25 reads it)."""
        # The stemmer leaves an abbreviation's plural alone: "GPs" is read as "GP" too.
        scores = self._scores(_ABBREVIATION_PLURAL.sub(r"\g<0> \1", text))
        if scores is None:
            return set()
        return {self.doc_ids[k] for k in np.unique(self._doc_of[scores > 0])}

    def search(
        self, question: str, n: int, allowed: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """Ids of the best-scoring chunks for the question's words, among `allowed` positions."""
        scores = self._scores(question)
        if scores is None:
            return []
        if allowed is None:
            # bm25s's own selection, so tied scores keep the order they always had.
            top, at = bm25s.selection.topk(scores, k=min(n, len(self.ids)), backend="numpy")
            return [(self.ids[int(i)], float(s)) for i, s in zip(at, top) if s > 0]
        # Selecting among the allowed chunks only: a top-k over every chunk with the others
        # masked to zero is slow (18 ms against 1 ms at 100k chunks). Ties go by position.
        pool = allowed[scores[allowed] > 0]
        if len(pool) > n:
            # Everything scoring at least the n-th best, ties included, then the best n.
            kth = np.partition(scores[pool], len(pool) - n)[len(pool) - n]
            pool = pool[scores[pool] >= kth]
        best = pool[np.lexsort((pool, -scores[pool]))][:n]
        return [(self.ids[i], float(scores[i])) for i in best]


def _release_freed_heap() -> None:
    """Give the heap that building the indexes used and freed back to the system."""
    # glibc keeps freed heap for the life of the process: at 100k chunks the token lists and
    # page reads of the build left about 240 MiB of it in every app process. A no-op where the
    # C library has no malloc_trim.
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


# Kinds of passage whose whole text is the review's own learning, not an agency's response.
_OWN_WORDS = {"key_themes", "key_learning", "good_practice", "background"}


def _own_text(c: Chunk) -> str:
    """The review's own words in a passage: its recommendation or finding, or a whole passage
    of key themes, learning points, good practice or background; nothing of a response."""
    return c.rec_text or (c.text if c.kind in _OWN_WORDS else "")


def _names_text(m: DocMeta) -> str:
    """Every name of a document in one text, for the vocabulary of known names."""
    names = (m.id.replace("-", " "), m.title, m.review, m.partnership, m.source, *m.aliases)
    return " ".join(filter(None, names))


class Retriever:
    """Finds the passages most likely to answer a question."""

    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings
        self.metas = {doc_id: meta for doc_id, (meta, _) in store.documents().items()}
        ids: list[str] = []
        documents: list[str] = []
        refs: list[ChunkRef] = []
        tokens: list[list[str]] = []
        self.vocabulary = query.known_names(_names_text(m) for m in self.metas.values())
        # Every passage of a review carries its review's and partnership's names.
        self._catalog_words = query.vocabulary(_names_text(m) for m in self.metas.values())
        # Words the corpus writes in lower case, and the catalog's names: not a person's name.
        self.common_words = set(self._catalog_words)
        # A page of chunks at a time: the texts feed BM25 and the vocabulary, and are dropped;
        # a hit's text is read back from the store (at 100k chunks the texts held ~800 MiB).
        for page in store.chunk_pages():
            for c in page:
                doc = sys.intern(c.document)
                ids.append(c.id)
                documents.append(doc)
                refs.append(ChunkRef(c.id, doc, sys.intern(c.section), c.start))
            tokens += _tokenize([search_text(c, self.metas[c.document]) for c in page])
            self.vocabulary |= query.known_names((c.text for c in page), self.common_words)
        self.lexical = LexicalIndex(ids, documents, tokens, self.metas)
        self.sections = sections.SectionIndex(refs)
        self.size = len(ids)
        del tokens
        _release_freed_heap()

    def _fuses_ranks(self) -> bool:
        return self.settings.retrieval == "hybrid" and self.settings.fusion == "rrf"

    def _is_response(self, cid: str, chunks: dict[str, Chunk]) -> bool:
        kind = self.metas[chunks[cid].document].kind or ""
        return "response" in kind.lower()

    def _preferred(
        self, info: query.QueryInfo, fused: list[tuple[str, float]], chunks: dict[str, Chunk]
    ) -> list[str]:
        """The candidates of the kind the question asks for, in fused order; [] for any kind.

        "How did X respond?" is best answered by the response, not by a briefing that repeats
        the same recommendation without it; "What was NHS England asked to do?" by the
        recommendation made to it, not by its own account of what it has done since.
        """
        if info.asks_response:
            return [cid for cid, _ in fused if cid in chunks and self._is_response(cid, chunks)]
        if info.asks_recommendation:
            kinds = ("recommendation", "finding")
            return [cid for cid, _ in fused if cid in chunks and chunks[cid].kind in kinds]
        return []

    def understand(self, question: str) -> query.QueryInfo:
        """What the question names: numbered sections, reviews, names the corpus never uses."""
        return query.parse(question, self.metas, self.vocabulary)

    def distinctive_names(self, question: str) -> list[str]:
        """Names in the question that few passages use ("BadgerNet"): where they are is news.

        A name many passages use ("GP", "Hampshire") says little about which passage answers;
        review and partnership names are left out.
        """
        names = query.names_used(question, self.vocabulary, self._catalog_words)
        most = max(1, int(self.size * self.settings.distinctive_share))
        return [w for w in names if 0 < self.lexical.chunks_using(w) <= most]

    def not_in_review(self, info: query.QueryInfo) -> tuple[list[str], list[str]]:
        """Topic words the named review never uses though other documents do, and those documents.

        "What did Child P recommend about fathers?" is not answered by Child P's passages on
        something else, however similar their wording: Child P never says "father", the
        thematic review does. Empty when the review uses any topic word, when no other document
        does either (a paraphrase in everyday words is left to the dense search), or when a
        section is named by number. A distinctive name decides alone: "What did Baby Sally say
        about ICON and crying babies?" shares "babies" with Baby Sally, but only Child P says
        "ICON".
        """
        if not info.documents or info.refs:
            return [], []
        names = self.distinctive_names(info.topic)
        if names:
            using = self.lexical.documents_using(" ".join(names))
            if using and not using & set(info.documents):
                return names, sorted(using)
        words = [w for w in query.topic_words(info.topic) if _tokenize([w])[0]]
        if not words:
            return [], []
        using = self.lexical.documents_using(" ".join(words))
        if using & set(info.documents) or not using:
            return [], []
        return words, sorted(using)

    def search(
        self,
        question: str,
        vector: np.ndarray,
        filters: Filters,
        info: query.QueryInfo | None = None,
        support: np.ndarray | None = None,
    ) -> list[Hit]:
        """Candidates fused from dense, lexical and structural rankings, best first."""
        n, mode = self.settings.candidates, self.settings.retrieval
        info = info or self.understand(question)
        if not filters and info.documents:
            # A question that names a review is answered from that review.
            filters = Filters(documents=info.documents)
        docs = {d for d, m in self.metas.items() if filters.allows(m)} if filters else None
        allowed = None if docs is None else self.lexical.positions(list(docs))
        dense: list[tuple[Chunk, float]] = []
        if mode != "bm25":
            within = None
            if allowed is not None and len(allowed) <= self.settings.exact_search_limit:
                within = [self.lexical.ids[i] for i in allowed]
            dense = self.store.search(vector, n, filters, within)
        lexical = self.lexical.search(question, n, allowed) if mode != "dense" else []
        structural = []
        if mode == "hybrid":
            structural = sections.structural_ranking(
                question,
                info,
                self.sections,
                (lambda c: True) if docs is None else (lambda c: c.document in docs),
            )
        chunks = {c.id: c for c, _ in dense}
        dense_scores = {c.id: s for c, s in dense}
        lex_scores = dict(lexical)
        if mode == "dense":
            fused = sorted(dense_scores.items(), key=lambda kv: -kv[1])
        elif mode == "bm25":
            fused = sorted(lex_scores.items(), key=lambda kv: -kv[1])
        elif self.settings.fusion == "convex":
            fused = convex(dense_scores, lex_scores, self.settings.convex_alpha)
        else:
            fused = rrf(
                [list(dense_scores), list(lex_scores), structural],
                k=self.settings.rrf_k,
                weights=[1.0, 1.0, self.settings.structural_weight],
            )
        # One read for the texts and vectors the rankings did not bring: lexical and structural
        # candidates (their cosine decides abstention and the passage margin), and with a topic
        # every candidate, as similarity to the topic alone decides support (see query.topic).
        wanted = [cid for cid, _ in fused if support is not None or cid not in chunks]
        fetched = self.store.fetch(wanted)
        chunks |= {cid: chunk for cid, (chunk, _) in fetched.items() if cid not in chunks}
        if support is not None:
            dense_scores = {cid: float(v @ support) for cid, (_, v) in fetched.items()}
        else:
            dense_scores |= {cid: float(v @ vector) for cid, (_, v) in fetched.items()}
        preferred = self._preferred(info, fused, chunks)
        if preferred and self._fuses_ranks() and self.settings.response_weight:
            fused = prefer(fused, preferred, self.settings.rrf_k, self.settings.response_weight)
        named = set(structural)
        words = query.topic_words(info.topic) if info.documents and not info.refs else []
        names = self.distinctive_names(question) if mode == "hybrid" else []
        # "Who was the lead reviewer?": a passage naming a person beside the word "reviewer"
        # may say, however little else of the question it shares.
        author = "person" in info.facts and mode == "hybrid"
        return [
            Hit(
                chunk=chunks[cid],
                meta=self.metas[chunks[cid].document],
                score=score,
                dense=dense_scores.get(cid),
                lexical=lex_scores.get(cid),
                named=cid in named,
                mentions=(bool(words) and query.mentions_all(words, _own_text(chunks[cid])))
                or (bool(names) and query.mentions_all(names, chunks[cid].text))
                or (author and facts.names_author(chunks[cid].text, self.common_words)),
            )
            for cid, score in fused
            # A chunk gone from the store since the rankings were made (an ingest switched
            # generations meanwhile) is left out.
            if cid in chunks
        ]
