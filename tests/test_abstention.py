"""Abstaining when the corpus cannot answer: unknown names and years, and missing timescales."""

from __future__ import annotations

import pytest

from rag.answer import gives_duration
from rag.models import Answer, Chunk, Citation, DocMeta, Hit, Quote


def _answer_quoting(text: str) -> Answer:
    chunk = Chunk("c", "d", text, 0, len(text), "Recommendation 1", "recommendation")
    hit = Hit(chunk, DocMeta("d", "D"), 1.0)
    return Answer("q", text, False, (Citation(1, Quote("d", text, 0, len(text)), hit),))


@pytest.mark.parametrize(
    ("quote", "gives"),
    [
        ("All babies will remain open for 3 months post-birth.", True),
        ("A strategy discussion is held within 24 hours.", True),
        ("Reviews take place within ten working days.", True),
        ("Oversight of minutes takes place every 2 months.", True),
        ("The policy is audited annually.", True),
        ("Practitioners should share information with the GP.", False),
        ("Parents under 18 years of age are children themselves.", True),
    ],
)
def test_gives_duration_reads_times_and_frequencies(quote, gives):
    assert gives_duration(_answer_quoting(quote)) is gives


def test_names_and_years_the_corpus_never_uses_abstain_and_are_named(pipeline):
    answer = pipeline.ask("Who is eligible for adult social care under the Care Act?")
    assert answer.abstained and answer.citations == () and "“Care Act”" in answer.text
    answer = pipeline.ask("What is the timescale for a conference under Working Together 2023?")
    assert answer.abstained and "“2023”" in answer.text


def test_a_time_question_abstains_when_no_quote_states_a_time(pipeline):
    answer = pipeline.ask(
        "Within how many hours must a strategy discussion be held after a Section 47 referral in "
        "Hampshire?"
    )
    assert answer.abstained and answer.citations == ()
    assert "no time, deadline or frequency" in answer.text
    # The same kind of question is answered when a quote gives the time ("3 months").
    answer = pipeline.ask("After Baby Sally, how long do children's services keep a case open?")
    assert not answer.abstained
    assert any("3 months" in c.quote.text for c in answer.citations)
