"""Follow-up questions: resolved from the chat history alone, then answered by the real pipeline."""

from __future__ import annotations

import pytest

from rag.core.models import Filters
from rag.understand.followup import (
    Exchange,
    Resolved,
    Subject,
    find_reference,
    find_reviews,
    is_followup,
    resolve,
)

NAI = "Thematic Review – Non-Accidental Injury"
REVIEWS = ("Baby Sally", "Child P", "Child Z", NAI)


def chat(*questions: str, filters: Filters = Filters()) -> list[Resolved]:
    """Resolve questions in turn, as the app does, without answers."""
    history: list[Exchange] = []
    for q in questions:
        history.append(Exchange(resolve(q, history, filters, REVIEWS)))
    return [e.resolved for e in history]


# -- pure resolution -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What did the Child P review recommend?", ["Child P"]),
        ("child p and CHILD Z", ["Child P", "Child Z"]),
        ("the thematic review on non-accidental injury", [NAI]),
        ("the NAI review", [NAI]),
        ("Non Accidental Injury", [NAI]),
        ("Baby Sally's discharge", ["Baby Sally"]),
        ("children in general", []),
        ("Child Pa", []),
    ],
)
def test_reviews_are_recognised_by_name_part_or_initials(text, expected):
    assert find_reviews(text, REVIEWS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What is Recommendation 3?", "Recommendation 3"),
        ("recommendation three of Child P", "Recommendation Three"),
        ("rec 4", "Recommendation 4"),
        ("Finding Two in Child Z", "Finding Two"),
        ("recommendation no. 12", "Recommendation 12"),
        ("recommendations in general", None),
    ],
)
def test_recommendation_references_are_recognised(text, expected):
    assert find_reference(text) == expected


def test_what_about_carries_the_review_and_restricts_to_it():
    first, follow = chat(
        "What did the Child P review recommend for GPs?", "What about health visitors?"
    )
    assert not first.followup and first.filters == Filters()
    assert first.subject == Subject("Child P")
    assert follow.followup
    assert follow.query == "health visitors, in the Child P review"
    assert follow.filters.reviews == ("Child P",)
    assert follow.question == "What about health visitors?"


def test_and_the_carries_recommendation_and_review():
    _, follow = chat(
        "What is Recommendation 3 of the thematic review on non-accidental injury?",
        "and the police response?",
    )
    assert follow.followup
    assert follow.subject == Subject(NAI, "Recommendation 3")
    assert follow.query == f"police response, in Recommendation 3 of {NAI}"
    assert follow.filters.reviews == (NAI,)


def test_naming_only_a_new_review_reasks_the_previous_question_about_it():
    _, follow = chat("What did the Child P review recommend for GPs?", "What about Child Z?")
    assert follow.query == "What did the Child Z review recommend for GPs?"
    assert follow.filters.reviews == ("Child Z",)


def test_naming_only_a_new_recommendation_swaps_it_in():
    _, follow = chat("What is recommendation three in the NAI review?", "And recommendation 4?")
    assert follow.query == "What is Recommendation 4 in the NAI review?"
    assert follow.subject == Subject(NAI, "Recommendation 4")


def test_follow_ups_chain_through_several_turns():
    turns = chat(
        "What did the Child P review recommend for GPs?",
        "What about health visitors?",
        "And midwives?",
        "Health visitors?",
    )
    assert [t.followup for t in turns] == [False, True, True, True]
    assert all(t.filters.reviews == ("Child P",) for t in turns[1:])
    assert turns[2].query == "midwives, in the Child P review"


def test_anaphora_refers_back():
    _, follow = chat(
        "What did the Baby Sally review recommend?", "What did that review say on sleep?"
    )
    assert follow.followup and follow.filters.reviews == ("Baby Sally",)
    assert "sleep" in follow.query and "Baby Sally" in follow.query


@pytest.mark.parametrize(
    "second",
    [
        "What did the Baby Sally review recommend about safe sleeping?",  # names its own review
        "What is neglect?",  # short, but a question of its own
        "How should practitioners respond to parental mental health episodes?",
    ],
)
def test_standalone_questions_are_not_follow_ups(second):
    _, resolved = chat("What did the Child P review recommend for GPs?", second)
    assert not resolved.followup
    assert resolved.query == second
    assert resolved.filters == Filters()


def test_without_history_nothing_is_carried():
    (only,) = chat("What about health visitors?")
    assert not only.followup and only.query == "What about health visitors?"
    assert not is_followup("What about health visitors?", Subject(), has_previous=False)


def test_sidebar_filters_apply_and_previous_filters_carry():
    sidebar = Filters(kinds=("Partnership response",))
    first, follow = chat(
        "What did the Child P review recommend for GPs?", "And midwives?", filters=sidebar
    )
    assert first.filters == sidebar
    assert follow.filters == Filters(kinds=("Partnership response",), reviews=("Child P",))


def test_a_sidebar_review_filter_is_not_overridden_by_the_carried_review():
    history = [Exchange(resolve("What did the Child P review recommend?", [], Filters(), REVIEWS))]
    follow = resolve("What about GPs?", history, Filters(reviews=("Child Z",)), REVIEWS)
    assert follow.filters.reviews == ("Child Z",)


def test_review_is_taken_from_the_answer_when_the_question_named_none(pipeline):
    question = "What did the Child P review recommend for health visitors?"
    answer = pipeline.ask(question, Filters(reviews=("Child P",)))
    assert not answer.abstained
    # The user asked about recommendation 2 without naming a review; every quote was Child P.
    asked = resolve("What was recommendation two?", [], Filters(), REVIEWS)
    assert asked.subject == Subject(None, "Recommendation Two")
    follow = resolve("and the GP response?", [Exchange(asked, answer)], Filters(), REVIEWS)
    assert follow.subject == Subject("Child P", "Recommendation Two")
    assert follow.filters.reviews == ("Child P",)


# -- a language model's rewrite, at the `rewrite` seam ------------------------------------------


def test_model_rewrite_replaces_the_query_and_keeps_the_carried_filters():
    seen = []

    def rewrite(history, question):
        seen.append(([e.resolved.query for e in history], question))
        return "What did the Child P review recommend for health visitors?"

    history = [
        Exchange(resolve("What did the Child P review recommend for GPs?", [], Filters(), REVIEWS))
    ]
    follow = resolve("What about health visitors?", history, Filters(), REVIEWS, rewrite)
    assert seen == [
        (["What did the Child P review recommend for GPs?"], "What about health visitors?")
    ]
    assert follow.query == "What did the Child P review recommend for health visitors?"
    assert follow.followup and follow.filters.reviews == ("Child P",)
    assert follow.subject == Subject("Child P")


def test_model_rewrite_that_changes_nothing_leaves_the_rules_answer():
    history = [
        Exchange(resolve("What did the Child P review recommend for GPs?", [], Filters(), REVIEWS))
    ]
    by_rules = resolve("And midwives?", history, Filters(), REVIEWS)
    unchanged = resolve("And midwives?", history, Filters(), REVIEWS, lambda h, q: q)
    assert unchanged == by_rules


def test_model_rewrite_is_not_asked_without_history():
    def rewrite(history, question):
        raise AssertionError("no history: nothing to rewrite")

    assert resolve("What is neglect?", [], Filters(), REVIEWS, rewrite).query == "What is neglect?"


def test_the_llm_followup_rewriter_fits_the_seam():
    from rag.core.settings import Settings
    from rag.llm.rewrite import rewrite_followup

    history = [
        Exchange(resolve("What did the Child P review recommend for GPs?", [], Filters(), REVIEWS))
    ]
    # Without a model it hands the question back, so the rules' resolution stands.
    follow = resolve(
        "And midwives?",
        history,
        Filters(),
        REVIEWS,
        lambda h, q: rewrite_followup(h, q, None, Settings()),
    )
    assert follow.query == "midwives, in the Child P review"


# -- answered by the real pipeline -----------------------------------------------------------


def ask_chat(pipeline, *questions: str):
    history: list[Exchange] = []
    reviews = sorted({m.review for m in pipeline.retriever.metas.values() if m.review})
    for q in questions:
        resolved = resolve(q, history, Filters(), reviews)
        history.append(Exchange(resolved, pipeline.ask(resolved.query, resolved.filters)))
    return history[-1].answer


def test_followup_health_visitors_after_child_p_is_answered_from_child_p(pipeline):
    answer = ask_chat(
        pipeline, "What did the Child P review recommend for GPs?", "What about health visitors?"
    )
    assert not answer.abstained
    assert {c.hit.meta.review for c in answer.citations} == {"Child P"}
    assert any("Health Visitors" in c.hit.chunk.section for c in answer.citations)


def test_followup_police_response_after_recommendation_3(pipeline):
    answer = ask_chat(
        pipeline,
        "What is Recommendation 3 of the thematic review on non-accidental injury?",
        "and the police response?",
    )
    assert not answer.abstained
    assert {c.hit.meta.review for c in answer.citations} == {NAI}
    assert any(c.hit.chunk.section.startswith("Recommendation 3") for c in answer.citations)
    assert any("Police" in c.quote.text for c in answer.citations)


def test_followup_switching_review_keeps_the_topic(pipeline):
    first = "What did the Child P review recommend about adult mental health services?"
    answer = ask_chat(pipeline, first, "What about Child Z?")
    assert not answer.abstained
    assert {c.hit.meta.review for c in answer.citations} == {"Child Z"}
    assert any("mental health" in c.quote.text.lower() for c in answer.citations)
    # Child Z never mentions midwives: the same follow-up about them says so, quoting nothing.
    answer = ask_chat(
        pipeline, "What did the Child P review recommend for midwives?", "What about Child Z?"
    )
    assert answer.abstained and "never uses" in answer.text


def test_chained_followup_midwives_stays_on_child_p(pipeline):
    answer = ask_chat(
        pipeline,
        "What did the Child P review recommend for GPs?",
        "What about health visitors?",
        "And midwives?",
    )
    assert not answer.abstained
    assert {c.hit.meta.review for c in answer.citations} == {"Child P"}
    assert any("Midwifery" in c.hit.chunk.section for c in answer.citations)
