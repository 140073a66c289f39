"""The whole pipeline against the real model and a real Chroma: cited answers or abstention."""

from __future__ import annotations

import pytest

from rag.answer.verify import contains
from rag.core.errors import IndexMissing, InvalidQuestion
from rag.core.models import Filters
from tests.conftest import CORPUS, make_settings

DOCS = {p.stem: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.md")}


def assert_verified(answer):
    for c in answer.citations:
        text = DOCS[c.quote.document]
        assert text[c.quote.start : c.quote.end] == c.quote.text
        assert c.quote.text in c.hit.chunk.text


def test_gp_question_quotes_child_p_gp_recommendations(pipeline):
    answer = pipeline.ask("What did the Child P review recommend for GPs?")
    assert not answer.abstained
    assert_verified(answer)
    assert {c.quote.document for c in answer.citations} == {"hampshire-child-p-response"}
    first = answer.citations[0]
    assert first.hit.chunk.section == "Recommendations for GP Services › Recommendation One"
    assert first.quote.text.startswith("Training on the LSCP Unborn Baby Safeguarding Protocol")
    assert f"[{first.n}]" in answer.text


def test_recommendation_and_response_are_separate_short_quotes(pipeline):
    answer = pipeline.ask("What has been done about the Baby Sally safe sleep recommendation?")
    assert not answer.abstained
    assert_verified(answer)
    assert all(len(c.quote.text) < 800 for c in answer.citations)
    recs = [c for c in answer.citations if c.hit.chunk.rec_text]
    assert any(c.quote.text == c.hit.chunk.rec_text.strip() for c in recs) or any(
        c.quote.start >= c.hit.chunk.rec_start for c in recs
    )


def test_numbered_lookup_finds_the_recommendation(pipeline):
    answer = pipeline.ask("What was Recommendation 7 of the Southampton thematic review?")
    assert not answer.abstained
    assert contains(answer.citations[0].quote.text, "where a baby is not registered with a GP")


def test_a_numbered_finding_asked_about_in_part_ranks_that_part_first(pipeline):
    hits, _ = pipeline.search(
        "Child Z finding 1 - the bit about transferring the case to another LA"
    )
    assert hits[0].chunk.section == "Finding One › e)"
    # Asked about whole, the finding's first piece (its statement) still comes first.
    hits, _ = pipeline.search("What was Finding One of the Child Z review?")
    assert hits[0].chunk.section == "Finding One › a)"


def test_a_question_naming_only_a_review_quotes_its_opening(pipeline):
    # "Tell me about …" has no topic: it abstained (cosine 0.13) or quoted the title line.
    answer = pipeline.ask("Tell me about the Child Z review")
    assert not answer.abstained
    assert_verified(answer)
    quotes = [c.quote.text for c in answer.citations]
    assert any(q.startswith("The case was considered by the Hampshire") for q in quotes)
    # The briefing's title page ("Thematic Serious Case Review") is not quoted as an answer.
    answer = pipeline.ask("Tell me about the Southampton thematic review")
    assert all(len(c.quote.text.split()) >= 8 for c in answer.citations)
    assert any("In March 2018" in c.quote.text for c in answer.citations)


def test_a_question_across_reviews_quotes_more_than_one_review(pipeline):
    answer = pipeline.ask("What have the reviews said about safe sleep?")
    reviews = {c.hit.meta.review for c in answer.citations}
    # Baby Sally's two safe sleep recommendations are closest; Child P's midwifery response
    # on safe sleep advice is further from the question but still supports it.
    assert {"Baby Sally", "Child P"} <= reviews


@pytest.mark.parametrize(
    "question",
    [
        "Who won the football league last season?",
        "How do I renew my firearms licence?",
        "What dose of paracetamol can I give a 3 month old baby?",
        "What did the Leeds Safeguarding Children Partnership say about safe sleep?",
    ],
)
def test_questions_outside_the_corpus_abstain_with_no_citations(pipeline, question):
    answer = pipeline.ask(question)
    assert answer.abstained and answer.citations == ()
    # Whichever gate abstains, the text says that nothing is quoted and why.
    text = answer.text.lower()
    assert "nothing to quote" in text or "nothing is quoted" in text
    assert any(w in text for w in ("no supporting passage", "never mention", "give no"))


def test_filters_restrict_citations(pipeline):
    answer = pipeline.ask(
        "What have the reviews said about safe sleep?", Filters(partnerships=("Southampton",))
    )
    assert all(c.hit.meta.partnership == "Southampton" for c in answer.citations)
    answer = pipeline.ask(
        "What have the reviews said about safe sleep?",
        Filters(documents=("hampshire-baby-sally-response",)),
    )
    assert answer.citations
    assert {c.quote.document for c in answer.citations} == {"hampshire-baby-sally-response"}


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_invalid_questions_raise_a_clear_error(pipeline, question):
    with pytest.raises(InvalidQuestion):
        pipeline.ask(question)


def test_missing_index_says_how_to_build_it(tmp_path, embedder):
    from rag.assistant import Assistant

    pipe = Assistant(make_settings(tmp_path), embedder=embedder)
    with pytest.raises(IndexMissing, match="rag ingest"):
        pipe.ask("What about safe sleep?")


def test_reingesting_an_unchanged_corpus_writes_nothing(pipeline):
    before = pipeline.store.active_generation()
    report = pipeline.ingest()
    assert not report.sync.wrote and report.sync.chunks_embedded == 0
    assert pipeline.store.active_generation() == before


def test_review_filter_restricts_citations(pipeline):
    answer = pipeline.ask(
        "What about parents who are high users of health services?", Filters(reviews=("Child Z",))
    )
    assert answer.citations
    assert {c.hit.meta.review for c in answer.citations} == {"Child Z"}
