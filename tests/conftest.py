"""Shared fixtures: the real packaged model and a real Chroma in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.models import Answer, Chunk, Citation, DocMeta, Hit, Quote
from rag.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def make_settings(tmp: Path, **overrides) -> Settings:
    """Settings pointing every writable path into `tmp`."""
    base = dict(
        corpus_dir=CORPUS,
        vectorstore_dir=tmp / "vectorstore",
        feedback_db=tmp / "feedback.sqlite3",
        chroma_url=None,
        llm=None,
    )
    return Settings(**(base | overrides))


def answer_quoting(*texts: str) -> Answer:
    """An answer quoting each text from a passage of its own, in order, for checks that read
    only the quotes."""
    citations = []
    for n, text in enumerate(texts, 1):
        chunk = Chunk(f"c{n}", "d", text, 0, len(text), f"Recommendation {n}", "recommendation")
        hit = Hit(chunk, DocMeta("d", "D"), 1.0)
        citations.append(Citation(n, Quote("d", text, 0, len(text)), hit))
    return Answer("q", " ".join(texts), False, tuple(citations))


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def embedder(settings):
    from rag.index.embedder import Embedder

    return Embedder(settings)


@pytest.fixture(scope="session")
def pipeline(settings, embedder):
    """A pipeline over the whole corpus, ingested once per test session."""
    from rag.assistant import Assistant

    pipe = Assistant(settings, embedder=embedder)
    report = pipe.ingest()
    assert not report.failures, report.failures
    return pipe


@pytest.fixture(scope="session")
def topic_search(pipeline):
    """Topic search over the session index; the trainer-tool tests share its sentence vectors."""
    from rag.trainer.themes import TopicSearch

    return TopicSearch(pipeline)
