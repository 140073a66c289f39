"""Hybrid retrieval: dense search in Chroma plus BM25 (bm25s), fused by rank."""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

from rag import query
from rag.fusion import convex, rrf
from rag.models import Chunk, DocMeta, Filters, Hit
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


class LexicalIndex:
    """An in-memory BM25 index over chunk search texts."""

    def __init__(self, chunks: Sequence[Chunk], metas: dict[str, DocMeta]):
        self.chunks = list(chunks)
        self.metas = metas
        # Filters are per document: decide them per document, then spread to chunks by index.
        self.doc_ids = list(metas)
        position = {d: i for i, d in enumerate(self.doc_ids)}
        self.doc_of = np.array([position[c.document] for c in self.chunks], dtype=np.int64)
        self.bm25 = bm25s.BM25()
        if self.chunks:
            self.bm25.index(
                _tokenize([search_text(c, metas[c.document]) for c in self.chunks]),
                show_progress=False,
            )

    def search(self, question: str, n: int, filters: Filters) -> list[tuple[Chunk, float]]:
        """Best-scoring chunks for the question's words, restricted by the filters."""
        if not self.chunks:
            return []
        tokens = [t for t in _tokenize([question])[0] if t in self.bm25.vocab_dict]
        if not tokens:
            return []
        mask = None
        if filters:
            allowed = np.array([filters.allows(self.metas[d]) for d in self.doc_ids], dtype=bool)
            mask = allowed[self.doc_of].astype(np.float32)
        n = min(n, len(self.chunks))
        docs, scores = self.bm25.retrieve(
            [tokens], k=n, show_progress=False, weight_mask=mask, n_threads=1
        )
        return [(self.chunks[int(i)], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]


class Retriever:
    """Finds the passages most likely to answer a question."""

    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings
        self.metas = {doc_id: meta for doc_id, (meta, _) in store.documents().items()}
        chunks = store.chunks()
        self.lexical = LexicalIndex(chunks, self.metas)
        self.by_id = {c.id: c for c in chunks}
        self.sections = query.SectionIndex(chunks)
        self.vocabulary = query.known_names(
            [c.text for c in chunks]
            + [
                " ".join(
                    filter(
                        None,
                        (
                            m.id.replace("-", " "),
                            m.title,
                            m.review,
                            m.partnership,
                            m.source,
                            *m.aliases,
                        ),
                    )
                )
                for m in self.metas.values()
            ]
        )

    def understand(self, question: str) -> query.QueryInfo:
        """What the question names: numbered sections, reviews, names the corpus never uses."""
        return query.parse(question, self.metas, self.vocabulary)

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
        dense = self.store.search(vector, n, filters) if mode != "bm25" else []
        lexical = self.lexical.search(question, n, filters) if mode != "dense" else []
        structural = []
        if mode == "hybrid":
            structural = query.structural_ranking(
                question, info, self.sections, lambda c: filters.allows(self.metas[c.document])
            )
        by_id = {c.id: c for c, _ in (*dense, *lexical)} | {i: self.by_id[i] for i in structural}
        dense_scores = {c.id: s for c, s in dense}
        lex_scores = {c.id: s for c, s in lexical}
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
        if support is not None:
            # Similarity to the topic alone (see query.topic) decides support and margins.
            dense_scores = self.store.similarities(support, [cid for cid, _ in fused])
        missing = [cid for cid, _ in fused if cid not in dense_scores]
        if missing:
            # Lexical-only candidates still need a cosine, for abstention and the passage margin.
            dense_scores |= self.store.similarities(vector, missing)
        named = set(structural)
        return [
            Hit(
                chunk=by_id[cid],
                meta=self.metas[by_id[cid].document],
                score=score,
                dense=dense_scores.get(cid),
                lexical=lex_scores.get(cid),
                named=cid in named,
            )
            for cid, score in fused
        ]
