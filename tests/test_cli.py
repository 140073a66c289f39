"""The CLI contract that evaluation scripts rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, ROOT

DOCS = {p.stem: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.md")}
FIELDS = {"n", "document", "title", "section", "page", "quote", "passage", "start", "end", "score"}


def rag(settings, *args, stdin=None):
    env = os.environ | {
        "RAG_VECTORSTORE_DIR": str(settings.vectorstore_dir),
        "RAG_CORPUS_DIR": str(CORPUS),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("RAG_LLM", None)
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        input=stdin,
        timeout=300,
    )


@pytest.fixture(scope="module")
def index(pipeline, settings):
    return settings


def test_ask_json_has_exactly_the_contract_fields(index):
    out = rag(index, "ask", "What did the Child P review recommend for GPs?", "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert set(obj) == {"question", "answer", "abstained", "citations"}
    assert obj["abstained"] is False and obj["citations"]
    for c in obj["citations"]:
        assert set(c) == FIELDS
        assert DOCS[c["document"]][c["start"] : c["end"]] == c["quote"]
        assert c["quote"] in c["passage"]
        assert c["page"] is None or isinstance(c["page"], int)


def test_batch_reads_plain_lines_and_jsonl_and_keeps_ids(index, tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        '{"id": "a1", "question": "What was Finding Two of the Child Z review?", "x": 1}\n'
        "How do I renew my firearms licence?\n",
        encoding="utf-8",
    )
    out = rag(index, "ask", "--json", "--batch", str(batch))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r.get("id") for r in rows] == ["a1", None]
    assert rows[0]["abstained"] is False and rows[1]["abstained"] is True
    assert rows[1]["citations"] == []


def test_document_filter(index):
    out = rag(index, "ask", "safe sleep", "--json", "--document", "hampshire-child-p-response")
    obj = json.loads(out.stdout)
    assert {c["document"] for c in obj["citations"]} <= {"hampshire-child-p-response"}


@pytest.mark.parametrize(
    ("args", "message"),
    [(("ask", ""), "empty"), (("ask", "x" * 2001), "2,000")],
)
def test_invalid_questions_exit_non_zero_with_a_message(index, args, message):
    out = rag(index, *args)
    assert out.returncode != 0 and message in out.stderr


def test_missing_index_exits_non_zero_and_says_how_to_build(tmp_path):
    from tests.conftest import make_settings

    out = rag(make_settings(tmp_path), "ask", "safe sleep")
    assert out.returncode != 0 and "rag ingest" in out.stderr
