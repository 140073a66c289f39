"""How the question is read for ranking, on the real index: topic, frames, and the preference
for a response or for a recommendation."""

from __future__ import annotations

import numpy as np
import pytest

from rag.core.models import Chunk, Filters
from rag.retrieve.hybrid import Retriever, response_grade

FNP = "What's the response on FNP record keeping?"


def test_a_question_about_a_response_is_answered_from_the_response(pipeline):
    hits, _ = pipeline.search(FNP)
    assert hits[0].chunk.document == "southampton-nai-thematic-response"
    # The briefing repeats the recommendation without the response; without the preference
    # it ranks first, which is what the preference is for.
    off = Retriever(pipeline.store, pipeline.settings.model_copy(update={"response_weight": 0}))
    plain = off.hits(pipeline.query(FNP, off.understand(FNP)), Filters())
    assert plain[0].chunk.document == "southampton-nai-thematic-briefing"
    assert {h.chunk.id for h in plain} == {h.chunk.id for h in hits}


NHSE = "What was NHS England asked to do in the Child Z review?"


def test_a_question_about_what_an_agency_was_asked_is_answered_by_the_recommendation(pipeline):
    hits, _ = pipeline.search(NHSE)
    assert hits[0].chunk.kind == "finding"
    assert "NHS England to consider" in hits[0].chunk.text
    # Without the preference, NHS England's own account of its response ranks first.
    off = Retriever(pipeline.store, pipeline.settings.model_copy(update={"response_weight": 0}))
    plain = off.hits(pipeline.query(NHSE, off.understand(NHSE)), Filters())
    assert plain[0].chunk.kind == "response"


def test_a_named_review_is_searched_by_its_topic(pipeline):
    question = "How did Surrey respond to the Child Z review?"
    info = pipeline.retriever.understand(question)
    query = pipeline.query(question, info)
    vector, ranking, support = query.full, query.vector, query.support
    topic = pipeline.embedder.embed(["How did Surrey respond to the review?"])[0]
    assert np.allclose(ranking, topic, atol=1e-5) and np.allclose(support, topic, atol=1e-5)
    assert not np.allclose(vector, topic, atol=1e-3)
    hits, _ = pipeline.search(question)
    assert hits[0].chunk.section.startswith("Surrey Safeguarding Children Partnership")


def test_a_conversational_frame_is_left_out_of_ranking_but_not_of_support(pipeline):
    question = (
        "The family keeps moving between areas and nobody has the full history - "
        "what did the review say about that?"
    )
    info = pipeline.retriever.understand(question)
    query = pipeline.query(question, info)
    vector, ranking, support = query.full, query.vector, query.support
    focused = "The family keeps moving between areas and nobody has the full history"
    assert np.allclose(ranking, pipeline.embedder.embed([focused])[0], atol=1e-5)
    # Abstention was calibrated on the question as asked, so support is judged by it.
    assert support is not None and np.allclose(support, vector)
    hits, _ = pipeline.search(question)
    assert "full access to historical and current information" in hits[0].chunk.text


@pytest.mark.parametrize(
    "question",
    [
        "What are the key messages of the 6 step briefing?",
        "What are the main messages of the NAI thematic review?",
        "What are the key messages from the reviews?",
    ],
)
def test_key_messages_are_the_reviews_learning_sections(pipeline, question):
    # Abstained before: "key messages" is in no heading ("Key Learning Points", "Key Themes"),
    # and the topic's words alone were too far from them.
    answer = pipeline.ask(question)
    assert not answer.abstained
    assert {c.hit.chunk.section for c in answer.citations} <= {"Key Learning Points", "Key Themes"}


def test_key_points_for_someone_are_theirs_not_the_learning_sections(pipeline):
    answer = pipeline.ask("What are the key points for health visitors in the NAI review?")
    assert not answer.abstained
    assert answer.citations[0].hit.chunk.section.startswith("Recommendation")


def test_the_parts_of_a_named_review_are_not_asked_as_a_fact(pipeline):
    # "The messages of the NAI review" are its learning, not a list the passages must name.
    info = pipeline.retriever.understand("What were the messages of the NAI review for HVs?")
    assert info.facts == ()
    assert pipeline.retriever.understand("What are the four ICON messages?").facts == ("parts",)


def _passage(text: str, roles: tuple[tuple[int, int, str], ...]) -> Chunk:
    return Chunk("c", "d", text, 0, len(text), "Learning point 2", "finding", roles=roles)


def test_a_response_documents_passages_are_graded_by_whether_they_hold_the_response():
    # Synthetic: a partnership response where only some passages carry an agency's reply.
    finding = "Practitioners did not share the referral with the school nurse. "
    reply = "Response (Health): a shared referral log is now in use."
    both = _passage(
        finding + reply,
        ((0, len(finding), "finding"), (len(finding), len(finding + reply), "response")),
    )
    alone = _passage(finding, ((0, len(finding), "finding"),))
    assert response_grade(both, "Partnership response") == 2
    assert response_grade(alone, "Partnership response") == 1
    # Outside a response document a passage needs to be mostly response to count.
    assert response_grade(both, "Overview report") == 0
    mostly = _passage(reply, ((0, len(reply), "response"),))
    assert response_grade(mostly, None) == 2
    assert response_grade(alone, None) == 0
