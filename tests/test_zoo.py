"""The layout zoo is sound as an evaluation set, and its gate can fail."""

from __future__ import annotations

import pytest

from evals.metrics import contains
from evals.run import load_questions
from evals.zoo_run import GATE, QUESTIONS, SPLITS, ZOO, gate_failures
from rag.core.settings import Settings
from rag.ingest.reading import read_document

QUESTION_ROWS = load_questions(QUESTIONS)


@pytest.fixture(scope="module")
def stored_texts():
    """Each zoo document's text as the index stores it (PDF and Word included)."""
    return {p.stem: read_document(p, {}, Settings()).text for p in sorted((ZOO / "docs").iterdir())}


def test_every_gold_phrase_is_in_its_document_as_the_index_reads_it(stored_texts):
    missing = [
        (q["id"], g["phrase"])
        for q in QUESTION_ROWS
        for g in q["gold"]
        if not contains(stored_texts[g["document"]], g["phrase"])
    ]
    assert missing == []


def test_splits_are_by_document_and_both_have_unanswerable_questions():
    docs_of = {s: set() for s in SPLITS}
    for q in QUESTION_ROWS:
        docs_of[q["split"]] |= {g["document"] for g in q["gold"]}
        assert q["answerable"] == bool(q["gold"])
    assert not docs_of["zoo-dev"] & docs_of["zoo-test"]
    for split in SPLITS:
        assert any(not q["answerable"] for q in QUESTION_ROWS if q["split"] == split)


def test_every_document_says_it_is_fictional(stored_texts):
    assert all("fictional" in text.lower() for text in stored_texts.values())
    assert len(stored_texts) >= 10


def _columns(**test):
    ok = {"quote_fidelity": 1.0, "offset_validity": 1.0, "hit@3": 0.9, "abstain_unanswerable": 0.9}
    return {"pipeline zoo-dev": dict(ok), "pipeline zoo-test": ok | test}


def test_the_zoo_gate_passes_above_its_floors_and_names_each_breach():
    assert gate_failures(_columns()) == []
    low = _columns(**{"hit@3": GATE["zoo-test_hit@3"] - 0.01, "quote_fidelity": 0.99})
    failures = gate_failures(low)
    assert any("hit@3" in f for f in failures)
    assert any("quote_fidelity" in f for f in failures)
