"""One Assistant shared by many browser sessions: concurrent questions during a re-index.

Every answer given while another thread re-indexes must be exactly what a single thread gets
from the index before or after the change: the locks keep the retriever, document and sentence
caches whole while they are rebuilt.
"""

from __future__ import annotations

import threading

import pytest

from rag.assistant import Assistant
from tests.conftest import make_settings

REVIEW_A = """# Practice review: Child Q

## Recommendations

Recommendation 1: The partnership should ensure that school nurses record every missed
health appointment and share the pattern with the allocated social worker within a week.

Recommendation 2: Housing officers should be trained to recognise signs of neglect when they
visit family homes and to make a referral to children's social care the same day.
"""

REVIEW_B = """# Practice review: Baby T

## Findings

Finding 1: Midwives did not ask about the father's history of violence at the booking
appointment, so the risk to the unborn baby was never assessed.

Finding 2: Health visitors carried high caseloads and could not complete the planned
antenatal contact, which meant the family's isolation went unnoticed.
"""

LATER = """# Practice review: Child V

## Learning

Learning point 1: Dentists should follow up children who miss repeated treatment
appointments, because dental neglect can signal wider neglect.
"""

QUESTIONS = [
    "What should school nurses do about missed health appointments?",
    "What did the review find about midwives at booking?",
    "What training should housing officers have?",
    "Why did the antenatal contact not happen?",
]


def _key(answer):
    return answer.text, tuple(
        (c.quote.document, c.quote.start, c.quote.end) for c in answer.citations
    )


@pytest.mark.slow
def test_answers_during_a_reindex_match_a_single_thread(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "child-q.md").write_text(REVIEW_A)
    (corpus / "baby-t.md").write_text(REVIEW_B)
    assistant = Assistant(make_settings(tmp_path, corpus_dir=corpus), embedder=embedder)
    assistant.ingest()
    before = {q: _key(assistant.ask(q)) for q in QUESTIONS}

    got: list[tuple[str, tuple]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(9)

    def ask_all():
        start.wait()
        try:
            for _ in range(3):
                for q in QUESTIONS:
                    got.append((q, _key(assistant.ask(q))))
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=ask_all) for _ in range(8)]
    for t in threads:
        t.start()
    (corpus / "child-v.md").write_text(LATER)
    start.wait()
    assistant.ingest()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(got) == 8 * 3 * len(QUESTIONS)

    fresh = Assistant(make_settings(tmp_path, corpus_dir=corpus), embedder=embedder)
    after = {q: _key(fresh.ask(q)) for q in QUESTIONS}
    assert assistant.generation() == fresh.generation() == 1
    for q, key in got:
        assert key in (before[q], after[q]), q
    # The shared assistant ends on the new index, exactly as a fresh one reads it.
    assert {q: _key(assistant.ask(q)) for q in QUESTIONS} == after
