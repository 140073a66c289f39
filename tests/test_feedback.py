"""Feedback: saved to SQLite with the answer's citations, never with personal details, and
exported as CSV with every quote re-verified against the index."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime

import pytest
from click.testing import CliRunner

from rag.answer.verify import display
from rag.cli import cli
from rag.core.errors import FeedbackError
from rag.ui.feedback import REASONS, UNVERIFIED, WITHHELD, FeedbackStore
from tests.conftest import make_settings

QUESTION = "What did the Child P review recommend for health visitors?"
NHS = "943 476 5919"


@pytest.fixture(scope="module")
def answer(pipeline):
    got = pipeline.ask(QUESTION)
    assert not got.abstained and len(got.citations) >= 2
    return got


@pytest.fixture
def store(tmp_path):
    return FeedbackStore(tmp_path / "var" / "feedback.sqlite3")


def test_rating_is_saved_with_question_answer_citations_and_timestamp(store, answer):
    saved = store.record(answer, "up", question=QUESTION)
    assert saved.id == 1 and not saved.question_withheld
    (row,) = store.rows()
    assert row["rating"] == "up"
    assert row["question"] == QUESTION and row["asked_as"] == answer.question
    assert row["answer"] == answer.text and row["abstained"] == 0
    assert [c["document"] for c in row["citations"]] == [c.quote.document for c in answer.citations]
    assert [c["section"] for c in row["citations"]] == [
        c.hit.chunk.section for c in answer.citations
    ]
    assert [c["quote"] for c in row["citations"]] == [c.quote.text for c in answer.citations]
    assert datetime.fromisoformat(row["created_at"]).tzinfo is not None
    assert row["reason"] is None


def test_reason_and_comment_are_added_to_the_saved_row(store, answer):
    saved = store.record(answer, "down", question=QUESTION)
    store.update(saved.id, reason="wrong citation", comment="Quote 2 is about midwives")
    (row,) = store.rows()
    assert (row["rating"], row["reason"], row["comment"]) == (
        "down",
        "wrong citation",
        "Quote 2 is about midwives",
    )
    assert row["updated_at"] >= row["created_at"]


def test_rating_can_be_changed_without_losing_the_reason(store, answer):
    saved = store.record(answer, "down")
    store.update(saved.id, reason="missing information", comment="nothing on fathers")
    store.update(saved.id, rating="up")
    (row,) = store.rows()
    assert (row["rating"], row["reason"], row["comment"]) == (
        "up",
        "missing information",
        "nothing on fathers",
    )


def test_updating_a_missing_row_is_a_domain_error(store, answer):
    store.record(answer, "up")
    with pytest.raises(FeedbackError, match="no feedback row"):
        store.update(99, rating="down")


@pytest.mark.parametrize(
    ("rating", "reason"), [("sideways", None), ("up", "it was fine"), ("down", "")]
)
def test_unknown_ratings_and_reasons_are_refused(store, answer, rating, reason):
    with pytest.raises(FeedbackError):
        store.record(answer, rating, reason=reason)


def test_every_documented_reason_is_accepted(store, answer):
    for reason in REASONS:
        store.record(answer, "down", reason=reason)
    assert [r["reason"] for r in store.rows()] == list(REASONS)


def test_question_with_personal_details_is_never_written(store, answer):
    private = f"Baby with NHS number {NHS}: {QUESTION}"
    saved = store.record(answer, "down", question=private, comment="wrong")
    assert saved.question_withheld
    (row,) = store.rows()
    assert row["question"] is None and row["asked_as"] is None and row["question_withheld"] == 1
    assert row["answer"] == answer.text and row["citations"]
    # Not anywhere in the file, not even in free pages or the journal.
    raw = store.path.read_bytes()
    assert NHS.encode() not in raw and b"NHS number" not in raw


def test_comment_with_personal_details_is_withheld(store, answer):
    saved = store.record(answer, "down", question=QUESTION)
    updated = store.update(saved.id, reason="other", comment="mum is on 07700 900123")
    assert updated.comment_withheld
    (row,) = store.rows()
    assert row["comment"] is None and row["comment_withheld"] == 1 and row["reason"] == "other"
    assert b"07700 900123" not in store.path.read_bytes()


def test_abstentions_can_be_rated(store, pipeline):
    abstained = pipeline.ask("What is the capital of France?")
    assert abstained.abstained
    store.record(abstained, "down", reason="missing information")
    (row,) = store.rows()
    assert row["abstained"] == 1 and row["citations"] == []


def test_feedback_file_inside_the_vector_store_is_refused(tmp_path):
    settings = make_settings(tmp_path, feedback_db=tmp_path / "vectorstore" / "fb.sqlite3")
    with pytest.raises(FeedbackError, match="inside the vector store"):
        FeedbackStore.from_settings(settings)
    ok = make_settings(tmp_path)
    assert FeedbackStore.from_settings(ok).path == tmp_path / "feedback.sqlite3"


def test_unwritable_path_is_a_domain_error(tmp_path, answer):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(FeedbackError):
        FeedbackStore(blocker / "feedback.sqlite3").record(answer, "up")


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_has_verified_quotes_and_every_field(store, answer, pipeline):
    store.record(answer, "down", question=QUESTION, reason="wrong citation", comment="check [2]")
    store.record(answer, "up", question=f"{QUESTION} DOB 01/02/2019")
    out = io.StringIO()
    assert store.export_csv(out, pipeline.document_text) == 2
    first, second = read_csv(out.getvalue())
    assert first["rating"] == "down" and first["reason"] == "wrong citation"
    assert first["question"] == QUESTION and first["comment"] == "check [2]"
    assert first["answer"] == answer.text.split("\n\n")[0]
    for c in answer.citations:
        assert f"[{c.n}] {c.quote.document}" in first["cited_documents"].splitlines()
        assert f"[{c.n}] {c.hit.chunk.section}" in first["cited_sections"]
        assert f'[{c.n}] "{display(c.quote.text)}"' in first["cited_quotes"].splitlines()
    assert second["question"] == WITHHELD and second["question_withheld"] == "yes"
    assert "01/02/2019" not in out.getvalue()


def test_csv_export_withholds_quotes_that_no_longer_verify(store, answer, pipeline):
    store.record(answer, "up", question=QUESTION)
    changed = answer.citations[0].quote.document

    def documents(doc_id):
        text = pipeline.document_text(doc_id)
        return text.replace("a", "e") if doc_id == changed else text

    out = io.StringIO()
    store.export_csv(out, documents)
    (row,) = read_csv(out.getvalue())
    quotes = row["cited_quotes"].splitlines()
    for c, line in zip(answer.citations, quotes, strict=True):
        if c.quote.document == changed:
            assert line == f"[{c.n}] {UNVERIFIED}"
            assert display(c.quote.text) not in out.getvalue()
        else:
            assert display(c.quote.text) in line


def test_cli_exports_csv_to_a_file_and_to_stdout(tmp_path, settings, answer, monkeypatch):
    db = tmp_path / "fb.sqlite3"
    FeedbackStore(db).record(answer, "down", question=QUESTION, reason="missing information")
    monkeypatch.setenv("RAG_FEEDBACK_DB", str(db))
    monkeypatch.setenv("RAG_VECTORSTORE_DIR", str(settings.vectorstore_dir))
    monkeypatch.delenv("RAG_CHROMA_URL", raising=False)
    runner = CliRunner()
    out_file = tmp_path / "out" / "feedback.csv"
    result = runner.invoke(cli, ["feedback", "export", "--csv", "-o", str(out_file)])
    assert result.exit_code == 0, result.output
    (row,) = read_csv(out_file.read_text(encoding="utf-8"))
    assert row["question"] == QUESTION and row["reason"] == "missing information"
    assert display(answer.citations[0].quote.text) in row["cited_quotes"]

    result = runner.invoke(cli, ["feedback", "export", "--csv"])
    assert result.exit_code == 0
    assert read_csv(result.stdout)[0]["question"] == QUESTION


def test_cli_export_of_an_empty_store_writes_only_the_header(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("RAG_FEEDBACK_DB", str(tmp_path / "none.sqlite3"))
    monkeypatch.setenv("RAG_VECTORSTORE_DIR", str(settings.vectorstore_dir))
    result = CliRunner().invoke(cli, ["feedback", "export", "--csv"])
    assert result.exit_code == 0
    assert result.stdout.startswith("id,created_at,") and len(result.stdout.splitlines()) == 1
    assert not (tmp_path / "none.sqlite3").exists()


def test_sqlite_schema_holds_what_governance_needs(store, answer):
    store.record(answer, "up")
    with sqlite3.connect(store.path) as conn:
        cols = {r[1] for r in conn.execute("PRAGMA table_info(feedback)")}
    assert {"question", "answer", "citations", "reason", "created_at", "rating"} <= cols
