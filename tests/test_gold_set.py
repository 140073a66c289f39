"""Checks on the gold evaluation set in evals/questions.jsonl.

Every gold phrase must be a verbatim span of its cited document under the same normalisation
the answer verifier uses (`rag.answer.verify.contains`), so the gold set can never reward a
quote the verifier would reject.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from rag.answer.verify import contains, normalise

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "evals" / "questions.jsonl"
CORPUS = ROOT / "corpus"

SPLITS = {"dev", "test"}
TYPES = {"lookup", "paraphrase", "agency", "response", "cross_review", "unanswerable"}
KEYS = {"id", "split", "question", "gold", "answerable", "type"}
DOC_SUFFIXES = (".md", ".txt", ".pdf")
MIN_QUESTIONS = 80
MIN_UNANSWERABLE = 12
MIN_WORDS, MAX_WORDS = 4, 15


@cache
def load_questions() -> tuple[dict, ...]:
    rows = []
    for n, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"line {n}: invalid JSON: {exc}") from exc
        if not isinstance(row, dict):
            raise AssertionError(f"line {n}: expected a JSON object, got {type(row).__name__}")
        rows.append(row)
    return tuple(rows)


@cache
def document_path(doc_id: str) -> Path | None:
    for suffix in DOC_SUFFIXES:
        path = CORPUS / f"{doc_id}{suffix}"
        if path.is_file():
            return path
    return None


@cache
def document_text(doc_id: str) -> str:
    path = document_path(doc_id)
    assert path is not None, doc_id
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return path.read_text(encoding="utf-8")


def gold_items() -> list[tuple[str, dict]]:
    return [(q["id"], item) for q in load_questions() for item in q["gold"]]


def test_file_parses_with_expected_fields():
    questions = load_questions()
    problems = []
    for q in questions:
        qid = q.get("id", "<no id>")
        if set(q) != KEYS:
            problems.append(f"{qid}: keys {sorted(q)} != {sorted(KEYS)}")
            continue
        if not isinstance(q["id"], str) or not q["id"]:
            problems.append(f"{qid}: id must be a non-empty string")
        if q["split"] not in SPLITS:
            problems.append(f"{qid}: split {q['split']!r} not in {sorted(SPLITS)}")
        if q["type"] not in TYPES:
            problems.append(f"{qid}: type {q['type']!r} not in {sorted(TYPES)}")
        if not isinstance(q["question"], str) or not q["question"].strip():
            problems.append(f"{qid}: question must be a non-empty string")
        if not isinstance(q["answerable"], bool):
            problems.append(f"{qid}: answerable must be true or false")
        if not isinstance(q["gold"], list):
            problems.append(f"{qid}: gold must be a list")
            continue
        for item in q["gold"]:
            if (
                not isinstance(item, dict)
                or set(item) != {"document", "phrase"}
                or not all(isinstance(v, str) for v in item.values())
            ):
                problems.append(f"{qid}: gold item {item!r} must be {{document, phrase}} strings")
    assert not problems, "\n".join(problems)


def test_ids_unique():
    counts = Counter(q["id"] for q in load_questions())
    duplicates = sorted(qid for qid, n in counts.items() if n > 1)
    assert not duplicates, f"duplicate ids: {duplicates}"


def test_questions_unique():
    counts = Counter(" ".join(q["question"].lower().split()) for q in load_questions())
    duplicates = sorted(text for text, n in counts.items() if n > 1)
    assert not duplicates, f"duplicate questions: {duplicates}"


def test_enough_questions():
    questions = load_questions()
    unanswerable = [q for q in questions if not q["answerable"]]
    assert len(questions) >= MIN_QUESTIONS, f"only {len(questions)} questions"
    assert len(unanswerable) >= MIN_UNANSWERABLE, f"only {len(unanswerable)} unanswerable"


@pytest.mark.parametrize("split", sorted(SPLITS))
def test_split_has_answerable_and_unanswerable(split):
    in_split = [q for q in load_questions() if q["split"] == split]
    assert in_split, f"no questions in split {split!r}"
    assert any(q["answerable"] for q in in_split), f"{split}: no answerable questions"
    assert any(not q["answerable"] for q in in_split), f"{split}: no unanswerable questions"


def test_gold_presence_matches_answerability():
    problems = []
    for q in load_questions():
        if q["answerable"] and not q["gold"]:
            problems.append(f"{q['id']}: answerable but has no gold items")
        if not q["answerable"] and q["gold"]:
            problems.append(f"{q['id']}: unanswerable but has {len(q['gold'])} gold items")
        if (q["type"] == "unanswerable") == q["answerable"]:
            problems.append(f"{q['id']}: type {q['type']!r} vs answerable={q['answerable']}")
    assert not problems, "\n".join(problems)


def test_gold_documents_exist():
    missing = [
        f"{qid}: no corpus/{item['document']}{{{','.join(DOC_SUFFIXES)}}}"
        for qid, item in gold_items()
        if document_path(item["document"]) is None
    ]
    assert not missing, "\n".join(missing)


def test_gold_phrases_verbatim():
    failures = [
        f"{qid}: not verbatim in {item['document']}: {item['phrase']!r}"
        for qid, item in gold_items()
        if document_path(item["document"]) is not None
        and not contains(document_text(item["document"]), item["phrase"])
    ]
    assert not failures, f"{len(failures)} gold phrase(s) not found:\n" + "\n".join(failures)


def test_gold_phrase_length():
    failures = []
    for qid, item in gold_items():
        words = len(normalise(item["phrase"]).split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            failures.append(
                f"{qid}: {words} words (want {MIN_WORDS}-{MAX_WORDS}): {item['phrase']!r}"
            )
    assert not failures, "\n".join(failures)


def test_no_duplicate_gold_items_within_question():
    failures = []
    for q in load_questions():
        counts = Counter((item["document"], normalise(item["phrase"])) for item in q["gold"])
        failures += [f"{q['id']}: repeated gold {key!r}" for key, n in counts.items() if n > 1]
    assert not failures, "\n".join(failures)


def test_every_corpus_document_is_covered():
    documents = {p.stem for p in CORPUS.iterdir() if p.suffix in DOC_SUFFIXES}
    cited = {item["document"] for _, item in gold_items()}
    uncovered = sorted(documents - cited)
    assert not uncovered, f"corpus documents with no gold question: {uncovered}"
