"""Candidate quote sentences are embedded at ingest and read back: answers stay the same."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from rag.answer.compose import compose, scored_spans
from rag.assistant import Assistant
from rag.core.models import Hit
from rag.index.records import sentence_key
from tests.conftest import CORPUS, ROOT, make_settings

QUESTIONS = [
    json.loads(line)["question"]
    for line in (ROOT / "evals" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    if line
]
SALLY = "hampshire-baby-sally-response"
CHILD_P = "hampshire-child-p-response"
ASK = [
    "What did the Child P review recommend for GPs?",
    "What has been done about the Baby Sally safe sleep recommendation?",
    "What did the Baby Sally review recommend about fathers?",
]


def _sentence_rows(pipe: Assistant) -> dict[str, dict]:
    """The active generation's sentence records: id -> where the sentence is, and its vector."""
    got = pipe.store._current().sentences.get(include=["embeddings"])
    # Every row belongs to a chunk of the same generation (a KeyError here is an orphan row).
    documents = {c.id: c.document for c in pipe.store.chunks()}
    rows = {}
    for i, vector in zip(got["ids"], got["embeddings"]):
        chunk, start, end = sentence_key(i)
        rows[i] = {"document": documents[chunk], "chunk": chunk, "start": start, "end": end}
        rows[i]["vector"] = np.asarray(vector)
    return rows


def _on_the_fly(pipe: Assistant) -> Assistant:
    """A pipeline over the same index that embeds every candidate sentence it quotes from.

    Retrieval still reads the stored vectors (`sentence_support` judges passages by them, and
    an index without them by whole passages only).
    """
    other = Assistant(pipe.settings, embedder=pipe.embedder)
    other.sentence_vectors = lambda cands: other._embed_sentences([c.text for c in cands])
    return other


def _counting(monkeypatch, embedder) -> list[list[str]]:
    calls: list[list[str]] = []
    real = embedder.embed

    def embed(texts, *args, **kwargs):
        calls.append(list(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(embedder, "embed", embed)
    return calls


def test_ingest_stores_exactly_the_sentences_compose_scores(pipeline):
    asked = []

    def vectors(candidates):
        asked.extend(candidates)
        return np.zeros((len(candidates), 3), dtype=np.float32)

    rows = _sentence_rows(pipeline)
    settings = pipeline.settings.model_copy(update={"abstain_threshold": 0.0})
    total = 0
    for chunk in pipeline.store.chunks():
        doc = pipeline.document(chunk.document)
        asked.clear()
        hit = Hit(chunk, doc.meta, score=1.0, dense=1.0)
        documents = lambda ids: {i: pipeline.document(i) for i in ids}  # noqa: E731
        compose("q", [hit], np.ones(3), documents, vectors, lambda q: True, settings)
        # What compose scores, from the whole document, is what ingest derived from the chunk.
        assert [(c.span.start, c.span.end) for c in asked] == [
            (s.start, s.end) for s in scored_spans(chunk, pipeline.settings)
        ]
        assert all(c.text == doc.text[c.span.start : c.span.end] for c in asked)
        assert {f"{chunk.id}:{c.span.start}:{c.span.end}" for c in asked} <= rows.keys()
        total += len(asked)
    assert total == len(rows) > 200


def test_stored_sentence_vectors_are_the_embeddings_of_their_text(pipeline):
    rows = _sentence_rows(pipeline)
    chunks = {c.id: c for c in pipeline.store.chunks()}
    texts, stored = [], []
    for md in rows.values():
        c = chunks[md["chunk"]]
        assert md["document"] == c.document
        texts.append(c.text[md["start"] - c.start : md["end"] - c.start])
        stored.append(md["vector"])
    fresh = pipeline.embedder.embed(texts)
    assert np.abs(np.asarray(stored) - fresh).max() < 1e-5


def test_answers_from_stored_vectors_equal_answers_embedded_while_answering(pipeline, monkeypatch):
    on_the_fly = _on_the_fly(pipeline)
    expected = [on_the_fly.ask(q).to_json() for q in QUESTIONS]
    calls = _counting(monkeypatch, pipeline.embedder)
    for q, want in zip(QUESTIONS, expected):
        calls.clear()
        assert pipeline.ask(q).to_json() == want, q
        # Only the question is embedded (with its topic, when it names a review, or the topic
        # alone once more for an answer across reviews): never a sentence of a passage.
        searched = pipeline.retriever.understand(q).text or q
        assert len(calls) <= 2 and all(len(texts) <= 2 for texts in calls), q
        assert all(t in searched for texts in calls[1:] for t in texts), q
    assert sum(not a["abstained"] for a in expected) > 80


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in (SALLY, CHILD_P):
        shutil.copy(CORPUS / f"{name}.md", folder)
    return folder


def test_an_index_from_before_sentence_vectors_answers_then_gains_them(
    tmp_path, embedder, docs, monkeypatch
):
    pipe = Assistant(make_settings(tmp_path), embedder=embedder)
    pipe.ingest([docs])
    expected = [pipe.ask(q).to_json() for q in ASK]
    sentences = len(_sentence_rows(pipe))
    # What an index built by the earlier code looks like: chunks and documents only.
    gen = pipe.store.active_generation()
    pipe.store.client.delete_collection(f"{pipe.settings.collection}__sentences__g{gen}")
    old = Assistant(pipe.settings, embedder=embedder)
    assert old.store._current().sentences is None
    calls = _counting(monkeypatch, embedder)
    assert [old.ask(q).to_json() for q in ASK] == expected
    assert any(len(texts) > 2 for texts in calls)  # the fallback embedded candidate sentences

    calls.clear()
    report = old.ingest([docs])
    assert report.sync.upgraded and report.sync.wrote
    assert set(report.sync.unchanged) == {SALLY, CHILD_P}
    assert report.sync.chunks_embedded == 0 and report.sync.sentences_embedded == sentences
    assert old.store.active_generation() == gen + 1
    assert len(_sentence_rows(old)) == sentences
    calls.clear()
    assert [old.ask(q).to_json() for q in ASK] == expected
    assert all(len(texts) <= 2 for texts in calls)
    # Once upgraded, an unchanged corpus writes nothing again.
    assert not old.ingest([docs]).sync.wrote


def test_sentence_vectors_follow_their_documents(tmp_path, embedder, docs):
    pipe = Assistant(make_settings(tmp_path), embedder=embedder)
    pipe.ingest([docs])
    before = _sentence_rows(pipe)
    path = docs / f"{CHILD_P}.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA closing note was added.\n")
    (docs / f"{SALLY}.md").unlink()
    report = pipe.ingest([docs])
    assert report.sync.replaced == (CHILD_P,) and report.sync.removed == (SALLY,)
    after = _sentence_rows(pipe)
    assert {m["document"] for m in after.values()} == {CHILD_P}
    # The unchanged chunks of the edited document kept their sentence rows and vectors.
    kept = [i for i, m in before.items() if m["document"] == CHILD_P and i in after]
    assert len(kept) > 20
    # (Chroma hands vectors back with float32 rounding, hence the tolerance.)
    assert all(np.allclose(before[i]["vector"], after[i]["vector"], atol=1e-6) for i in kept)
    assert report.sync.sentences_embedded == 1
    chunks = pipe.store.chunks()
    assert len(after) == sum(len(scored_spans(c, pipe.settings)) for c in chunks)


class _Failing(Exception):
    pass


def test_a_failed_ingest_leaves_the_sentences_of_the_active_generation(
    tmp_path, embedder, docs, monkeypatch
):
    settings = make_settings(tmp_path, ingest_batch=4)
    pipe = Assistant(settings, embedder=embedder)
    pipe.ingest([docs / f"{SALLY}.md"])
    expected = [pipe.ask(q).to_json() for q in ASK]
    rows = _sentence_rows(pipe)
    real = embedder.embed
    calls = []

    def failing(texts, *args, **kwargs):
        calls.append(texts)
        if len(calls) == 3:
            raise _Failing("killed mid-ingest")
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(embedder, "embed", failing)
    with pytest.raises(_Failing):
        pipe.ingest([docs])
    monkeypatch.setattr(embedder, "embed", real)
    # The half-built generation exists, sentences and all, but nobody reads it.
    names = {c.name for c in pipe.store.client.list_collections()}
    assert f"{settings.collection}__sentences__g1" in names
    assert pipe.store.active_generation() == 0
    reader = Assistant(settings, embedder=embedder)
    assert [reader.ask(q).to_json() for q in ASK] == expected
    still = _sentence_rows(reader)
    assert still.keys() == rows.keys()
    assert all(np.array_equal(still[i]["vector"], rows[i]["vector"]) for i in rows)

    report = pipe.ingest([docs])
    assert report.sync.added == (CHILD_P,) and pipe.store.active_generation() == 1
    after = _sentence_rows(pipe)
    assert len(after) == sum(len(scored_spans(c, pipe.settings)) for c in pipe.store.chunks())
    assert rows.keys() <= after.keys()
