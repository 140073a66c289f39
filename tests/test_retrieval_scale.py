"""Retrieval that scales: exact search over few allowed chunks, BM25 selection, no texts held."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.assistant import Assistant
from rag.core.models import Chunk, ChunkRef, Filters
from rag.retrieve.lexical import tokenize as _tokenize
from tests.conftest import ROOT

QUESTIONS = [
    json.loads(line)["question"]
    for line in (ROOT / "evals" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    if line
]
FILTERS = [
    Filters(documents=("hampshire-child-p-response",)),
    Filters(partnerships=("Southampton",)),
    Filters(reviews=("Child Z", "Baby Sally")),
]


def _bm25s_ranking(lexical, question: str, mask: np.ndarray | None) -> list[tuple[str, float]]:
    """What bm25s itself returns, the way the retriever used to ask it."""
    tokens = [t for t in _tokenize([question])[0] if t in lexical.bm25.vocab_dict]
    if not tokens:
        return []
    docs, scores = lexical.bm25.retrieve(
        [tokens], k=30, show_progress=False, weight_mask=mask, n_threads=1
    )
    ids = lexical.table.ids
    return [(ids[int(i)], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]


def _mask(pipeline, filters: Filters) -> tuple[frozenset[str], np.ndarray, np.ndarray]:
    """The documents the filters allow, their chunk positions, and the bm25s mask of them."""
    r = pipeline.retriever
    documents = frozenset(d for d, m in r.metas.items() if filters.allows(m))
    allowed = r.table.positions(documents)
    mask = np.zeros(len(r.table), dtype=np.float32)
    mask[allowed] = 1.0
    return documents, allowed, mask


def _query(pipeline, question: str):
    info = pipeline.retriever.understand(question)
    return pipeline.query(question, info)


def test_bm25_unfiltered_ranking_is_bm25s_own(pipeline):
    lexical = pipeline.retriever.lexical
    for q in QUESTIONS:
        assert lexical.search(_query(pipeline, q), 30) == _bm25s_ranking(lexical, q, None), q


@pytest.mark.parametrize("filters", FILTERS)
def test_bm25_filtered_ranking_matches_bm25s_with_a_mask(pipeline, filters):
    lexical = pipeline.retriever.lexical
    documents, allowed, mask = _mask(pipeline, filters)
    ids = lexical.table.ids
    assert 0 < len(allowed) < len(ids)
    for q in QUESTIONS:
        mine = lexical.search(_query(pipeline, q), 30, documents)
        theirs = _bm25s_ranking(lexical, q, mask)
        # The same scores in the same order; chunks with equal scores may swap places.
        assert [s for _, s in mine] == pytest.approx([s for _, s in theirs], abs=1e-6), q
        scores = [s for _, s in theirs]
        # Tied scores, and the last one (its tie may be the 31st chunk, not listed).
        ties = {s for s in scores if scores.count(s) > 1} | set(scores[29:])
        assert [i for i, s in mine if s not in ties] == [i for i, s in theirs if s not in ties]
        assert all(int(np.flatnonzero(np.array(ids) == i)[0]) in allowed for i, _ in mine)


def test_exact_search_over_allowed_chunks_equals_chroma_graph_search(pipeline):
    r = pipeline.retriever
    for filters in FILTERS:
        documents, allowed, _ = _mask(pipeline, filters)
        within = [r.table.ids[i] for i in allowed]
        for q in QUESTIONS[:40]:
            vector = pipeline.embedder.embed([q])[0]
            exact = pipeline.store.search(vector, 30, documents, within)
            graph = pipeline.store.search(vector, 30, documents)
            assert [c for c, _ in exact] == [c for c, _ in graph], q
            assert [s for _, s in exact] == pytest.approx([s for _, s in graph], abs=1e-5)


def test_filtered_retrieval_is_the_same_with_and_without_exact_search(pipeline):
    graph = Assistant(
        pipeline.settings.model_copy(update={"exact_search_limit": 0}),
        embedder=pipeline.embedder,
    )
    for q in QUESTIONS:
        for filters in (Filters(), *FILTERS):
            want, _ = graph.search(q, filters)
            got, _ = pipeline.search(q, filters)
            assert [(h.chunk, h.score, h.named) for h in got] == [
                (h.chunk, h.score, h.named) for h in want
            ], q
            assert [h.dense for h in got] == pytest.approx([h.dense for h in want], abs=1e-5)


def test_hits_carry_the_stored_chunk_and_its_cosine(pipeline):
    stored = {c.id: c for c in pipeline.store.chunks()}
    for q in QUESTIONS[:30]:
        hits, vector = pipeline.search(q)
        assert hits
        vectors = {i: v for i, (_, v) in pipeline.store.fetch([h.chunk.id for h in hits]).items()}
        for h in hits:
            assert h.chunk == stored[h.chunk.id]
            if not pipeline.retriever.understand(q).documents:
                assert h.dense == pytest.approx(float(vectors[h.chunk.id] @ vector), abs=1e-5)


def test_the_retriever_keeps_where_chunks_are_not_their_texts(pipeline):
    r = pipeline.retriever
    held = [
        c
        for index in (
            r.structural.index.by_ref,
            r.structural.index.by_label,
            r.structural.index.by_group,
        )
        for chunks in index.values()
        for c in chunks
    ]
    assert held and all(isinstance(c, ChunkRef) for c in held)
    assert all(isinstance(i, str) for i in r.table.ids)
    assert not any(isinstance(v, Chunk) for v in vars(r).values())
    assert r.size == pipeline.store.count() == len(r.table)


def test_filters_that_allow_nothing_find_nothing(pipeline):
    hits, _ = pipeline.search("What about safe sleep?", Filters(partnerships=("Nowhere",)))
    assert hits == []
    answer = pipeline.ask("What about safe sleep?", Filters(partnerships=("Nowhere",)))
    assert answer.abstained and not answer.citations
