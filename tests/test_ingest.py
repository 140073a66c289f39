"""Incremental ingest: unchanged writes nothing, changed is replaced, removed is deleted."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rag import cli
from rag.assistant import Assistant
from rag.ingest.reading import Progress
from tests.conftest import CORPUS, make_settings

SALLY = "hampshire-baby-sally-response"
CHILD_P = "hampshire-child-p-response"


def _tree_digest(folder: Path) -> dict[str, str]:
    """Content hash of every file under `folder`."""
    return {
        str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


def _vectors(pipe: Assistant, doc_id: str) -> dict[tuple[str, str], np.ndarray]:
    """Stored vectors of a document's chunks, by section and text (ids move with offsets)."""
    chunks, _ = pipe.store._active()
    got = chunks.get(where={"document": doc_id}, include=["documents", "metadatas", "embeddings"])
    return {
        (m["section"], t): np.asarray(e)
        for t, m, e in zip(got["documents"], got["metadatas"], got["embeddings"])
    }


@pytest.fixture
def docs(tmp_path) -> Path:
    """A folder with two corpus documents, ready to change."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in (SALLY, CHILD_P):
        shutil.copy(CORPUS / f"{name}.md", folder)
    return folder


@pytest.fixture
def pipe(tmp_path, embedder) -> Assistant:
    return Assistant(make_settings(tmp_path), embedder=embedder)


def test_unchanged_corpus_writes_nothing(pipe, docs, tmp_path):
    files, chunks = [], []
    progress = Progress(files=lambda *a: files.append(a), chunks=lambda *a: chunks.append(a))
    first = pipe.ingest([docs], progress=progress)
    assert set(first.sync.added) == {SALLY, CHILD_P} and first.sync.chunks_embedded > 20
    # Progress is reported for files, then chunks, ending at the totals.
    assert files[0] == (0, 2) and files[-1] == (2, 2)
    n = first.sync.chunks_embedded
    assert chunks[0] == (0, n) and chunks[-1] == (n, n) and len(chunks) >= 2
    gen = pipe.store.active_generation()
    before = _tree_digest(tmp_path / "vectorstore")
    again = pipe.ingest([docs])
    assert again.sync.unchanged == first.sync.added
    assert not again.sync.wrote and again.sync.chunks_embedded == 0
    assert pipe.store.active_generation() == gen
    assert _tree_digest(tmp_path / "vectorstore") == before


def test_changed_document_chunks_are_replaced(pipe, docs, monkeypatch):
    pipe.ingest([docs])
    old_p = _vectors(pipe, CHILD_P)
    sally_before = _vectors(pipe, SALLY)
    path = docs / f"{CHILD_P}.md"
    text = path.read_text(encoding="utf-8")
    old_sentence = (
        "The LSCP Unborn Baby Safeguarding Protocol was reviewed and updated in March 2021."
    )
    new_sentence = "The LSCP Unborn Baby Safeguarding Protocol was rewritten in full in June 2023."
    assert old_sentence in text
    path.write_text(text.replace(old_sentence, new_sentence), encoding="utf-8")

    embedded: list[str] = []
    real_embed = pipe.embedder.embed

    def counting_embed(texts, *args, **kwargs):
        embedded.extend(texts)
        return real_embed(texts, *args, **kwargs)

    monkeypatch.setattr(pipe.embedder, "embed", counting_embed)
    report = pipe.ingest([docs])
    assert report.sync.replaced == (CHILD_P,) and report.sync.unchanged == (SALLY,)
    # The edited chunk, and of its quotable sentences only the edited one (the rest are reused).
    assert len(embedded) == report.sync.chunks_embedded + report.sync.sentences_embedded
    assert report.sync.sentences_embedded == 1
    assert all(new_sentence in t for t in embedded)
    stored = pipe.store.document(CHILD_P).text
    assert new_sentence in stored and old_sentence not in stored
    p_chunks = [c for c in pipe.store.chunks() if c.document == CHILD_P]
    assert any(new_sentence in c.text for c in p_chunks)
    assert not any(old_sentence in c.text for c in p_chunks)
    # Only the edited chunk was embedded; the rest of the document kept its vectors.
    assert report.sync.chunks_embedded >= 1
    assert report.sync.chunks_reused == len(p_chunks) - report.sync.chunks_embedded > 10
    new_p = _vectors(pipe, CHILD_P)
    kept = set(old_p) & set(new_p)
    assert len(kept) == report.sync.chunks_reused
    assert all(np.allclose(old_p[i], new_p[i], atol=1e-6) for i in kept)
    # The untouched document is carried over as it was.
    after = _vectors(pipe, SALLY)
    assert after.keys() == sally_before.keys()
    assert all(np.allclose(after[i], sally_before[i], atol=1e-6) for i in after)


def test_removed_document_chunks_are_deleted(pipe, docs):
    pipe.ingest([docs])
    (docs / f"{SALLY}.md").unlink()
    report = pipe.ingest([docs])
    assert report.sync.removed == (SALLY,) and report.sync.unchanged == (CHILD_P,)
    assert pipe.store.document(SALLY) is None
    assert {c.document for c in pipe.store.chunks()} == {CHILD_P}
    answer = pipe.ask(
        "What was the first recommendation for Midwifery/Neonatal Services in Child P?"
    )
    assert all(c.quote.document == CHILD_P for c in answer.citations)


def test_single_file_ingest_removes_nothing(pipe, docs):
    pipe.ingest([docs])
    report = pipe.ingest([docs / f"{SALLY}.md"])
    assert report.sync.unchanged == (SALLY,) and not report.sync.removed
    assert set(pipe.store.documents()) == {SALLY, CHILD_P}


def test_unreadable_file_keeps_its_indexed_version(pipe, docs):
    pipe.ingest([docs])
    gen = pipe.store.active_generation()
    (docs / f"{SALLY}.md").write_bytes(b"Caf\xe9 half-saved in Latin-1")
    report = pipe.ingest([docs])
    assert [type(f).__name__ for f in report.failures] == ["NotUtf8"]
    assert not report.sync.removed and pipe.store.active_generation() == gen
    assert SALLY in pipe.store.documents()


def test_same_text_as_an_indexed_document_is_reported(pipe, docs, tmp_path):
    pipe.ingest([docs])
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(docs / f"{SALLY}.md", other / "baby-sally-copy.md")
    report = pipe.ingest([other])
    assert [type(f).__name__ for f in report.failures] == ["DuplicateDocument"]
    assert SALLY in str(report.failures[0]) and not report.sync.wrote
    assert set(pipe.store.documents()) == {SALLY, CHILD_P}


def test_old_generations_are_dropped_but_the_previous_one_is_kept(pipe, docs):
    pipe.ingest([docs])
    path = docs / f"{SALLY}.md"
    for n in range(3):
        path.write_text(path.read_text(encoding="utf-8") + f"\n\nAddendum {n}.\n", "utf-8")
        pipe.ingest([docs])
    gen = pipe.store.active_generation()
    assert gen == 3 and pipe.store.generations() == [2, 3]


def test_cli_summary_table_and_exit_codes(tmp_path, embedder, docs, monkeypatch):
    settings = make_settings(tmp_path)
    monkeypatch.setattr(cli, "_assistant", lambda s: Assistant(settings, embedder=embedder))
    (docs / "notes.odt").write_bytes(b"PK\x03\x04 not a review")
    runner = CliRunner()
    failed = runner.invoke(cli.cli, ["ingest", str(docs)])
    assert failed.exit_code == 1, failed.output
    lines = failed.output.splitlines()
    assert lines[0].split() == ["outcome", "docs", "documents"]
    assert f"ingested       2  {SALLY}, {CHILD_P}" in lines
    for label in ("unchanged", "replaced", "removed"):
        assert f"{label:<10}     0" in lines
    assert "skipped        1" in lines
    assert any("notes.odt: unsupported file type" in line for line in lines)

    kept = runner.invoke(cli.cli, ["ingest", "--keep-going", str(docs)])
    assert kept.exit_code == 0, kept.output
    assert f"unchanged      2  {SALLY}, {CHILD_P}" in kept.output.splitlines()
    assert "nothing written" in kept.output

    (docs / "notes.odt").unlink()
    clean = runner.invoke(cli.cli, ["ingest", str(docs)])
    assert clean.exit_code == 0 and "skipped        0" in clean.output.splitlines()


def test_a_reader_follows_an_ingest_made_elsewhere(tmp_path, embedder, docs):
    """An app process sees another process's ingest on its next question, without restarting."""
    settings = make_settings(tmp_path)
    writer = Assistant(settings, embedder=embedder)
    writer.ingest([docs / f"{SALLY}.md"])
    reader = Assistant(settings, embedder=embedder)
    question = "What was the first recommendation for Midwifery/Neonatal Services in Child P?"
    assert all(c.quote.document == SALLY for c in reader.ask(question).citations)
    writer.ingest([docs])
    cited = {c.quote.document for c in reader.ask(question).citations}
    assert CHILD_P in cited
