"""Abstaining when the corpus cannot answer: unknown names and years, topics a named review never
mentions, and missing timescales or amounts."""

from __future__ import annotations

import pytest

from rag.answer.gates import missing
from rag.understand.facts import fact_tests
from tests.conftest import answer_quoting


@pytest.mark.parametrize(
    ("quote", "for_time", "for_frequency"),
    [
        ("All babies will remain open for 3 months post-birth.", True, True),
        ("A strategy discussion is held within 24 hours.", True, True),
        ("Reviews take place within ten working days.", True, True),
        # How often is not how long or by when: it answers only "how often".
        ("Oversight of minutes takes place every 2 months.", False, True),
        ("The policy is audited annually.", False, True),
        ("Safe sleep was discussed in 93% of all postnatal discharges.", False, True),
        ("Practitioners should share information with the GP.", False, False),
        ("Parents under 18 years of age are children themselves.", True, True),
    ],
)
def test_duration_test_reads_times_and_frequencies(quote, for_time, for_frequency):
    assert fact_tests(["duration"], set())["duration"](quote) is for_time
    assert fact_tests(["duration", "frequency"], set())["duration"](quote) is for_frequency
    assert (missing(answer_quoting(quote), ["duration"]) is None) is for_time


@pytest.mark.parametrize(
    ("quote", "gives"),
    [
        ("Health visitors receive safeguarding training to Level 3.", True),
        ("Give 2.5 ml every four hours.", True),
        ("A minimum of quarterly safeguarding supervision.", True),
        ("Staff are seen twice before discharge.", True),
        ("The policy was agreed in 2021 and reviewed in 2022.", False),
        # "19" in a name is not a count ("how many missed appointments before escalating?").
        ("The policy was reviewed as part of the response to the COVID-19 pandemic.", False),
        ("Level 3 training is given across the 0-19 service.", True),
        ("Practitioners should consider the impact of medication before birth.", False),
    ],
)
def test_amount_test_reads_numbers_but_not_years(quote, gives):
    assert fact_tests(["amount"], set())["amount"](quote) is gives
    assert (missing(answer_quoting(quote), ["amount"]) is None) is gives


def test_missing_names_the_kind_of_fact_the_quotes_lack():
    vague = answer_quoting("Practitioners should consider the impact of medication.")
    assert "no dose, amount or number" in missing(vague, ["amount"])
    assert "no time, deadline or frequency" in missing(vague, ["duration"])
    assert missing(vague, []) is None
    assert missing(answer_quoting("Within 24 hours."), ["duration", "amount"]) is None


def test_names_and_years_the_corpus_never_uses_abstain_and_are_named(pipeline):
    answer = pipeline.ask("Who is eligible for adult social care under the Care Act?")
    assert answer.abstained and answer.citations == () and "“Care Act”" in answer.text
    answer = pipeline.ask("What is the timescale for a conference under Working Together 2023?")
    assert answer.abstained and "“2023”" in answer.text


@pytest.mark.parametrize(
    ("unanswered", "says", "answered", "gives"),
    [
        (
            "Within how many hours must a strategy discussion be held after a Section 47 "
            "referral in Hampshire?",
            "no time, deadline or frequency",
            "After Baby Sally, how long do children's services keep a case open?",
            "3 months",
        ),
        # Passages about medication around birth are close, but none gives a dose.
        (
            "What is the dose of paracetamol for a newborn?",
            "no dose, amount or number",
            "How much training do health visitors get on safeguarding?",
            "Level 3",
        ),
        # A count of things in the world needs a number; passages about fathers give none.
        (
            "How many fathers were interviewed for the thematic review?",
            "no dose, amount or number",
            "How many times a year do community midwives get safeguarding supervision?",
            "quarterly",
        ),
        # "How often" is answered by a rate as well as by a frequency.
        (
            "How often should health visitors visit a newborn after discharge?",
            "no time, deadline or frequency",
            "How often do ICON and safe sleep get discussed before families go home?",
            "93%",
        ),
    ],
)
def test_a_time_or_amount_question_abstains_when_no_quote_states_one(
    pipeline, unanswered, says, answered, gives
):
    answer = pipeline.ask(unanswered)
    assert answer.abstained and answer.citations == ()
    assert says in answer.text
    # The same kind of question is answered when a quote gives the fact.
    answer = pipeline.ask(answered)
    assert not answer.abstained
    assert any(gives in c.quote.text for c in answer.citations)


def test_a_short_question_about_a_review_is_supported_by_a_finding_using_its_words(pipeline):
    # "GPs" alone is too short a topic for its cosine to clear the threshold (0.34).
    answer = pipeline.ask("What did Child Z say about GPs?")
    assert not answer.abstained
    assert answer.citations[0].hit.chunk.section == "Finding Two › c)"
    assert "General Practitioners (GPs)" in answer.citations[0].quote.text
    # Baby Sally mentions the police only in a response (a task group's members): no support.
    assert pipeline.ask("What did the Baby Sally review ask the police to do?").abstained


def test_a_distinctive_name_supports_the_passages_that_use_it(pipeline):
    # "BadgerNet" is in three passages' responses; the question's cosine with them is under 0.32.
    answer = pipeline.ask("Which reviews mention BadgerNet and what is it being used for?")
    assert not answer.abstained
    assert {c.quote.document for c in answer.citations} >= {"hampshire-child-p-response"}
    assert any("BadgerNet" in c.hit.chunk.text for c in answer.citations)
    # A name many passages use says nothing about which passage answers.
    names = pipeline.retriever.distinctive_names("Do Health Visitors in Hampshire use BadgerNet?")
    assert names == ["BadgerNet"]


@pytest.mark.parametrize(
    ("question", "named"),
    [
        # Passages on teenage relationships and violence are close (cosine 0.49), yet none is
        # about exploitation.
        ("What did the reviews recommend about county lines and exploitation?", "county lines"),
        ("Is there a protocol for bruising found on a non-mobile baby?", "bruising"),
    ],
)
def test_a_safeguarding_issue_the_corpus_never_names_abstains(pipeline, question, named):
    answer = pipeline.ask(question)
    assert answer.abstained and answer.citations == ()
    assert f"“{named}”" in answer.text


def test_a_case_described_with_names_is_answered_not_abstained_on(pipeline):
    # "Leo" and "Kai" are the practitioner's case, not what the question asks about.
    answer = pipeline.ask(
        "Young mum Chantelle is 18 and baby Kai is 8 weeks. They've been in a staffed hostel "
        "but housing want to move them to an independent living flat with no staff on site. "
        "Did the Southampton review say anything about moves like this?"
    )
    assert not answer.abstained
    assert "southampton" in answer.citations[0].quote.document


def test_practitioner_abbreviations_are_read_not_abstained_on(pipeline):
    # "CP" and "PC" are nowhere in the corpus; read as names, both questions abstained.
    answer = pipeline.ask(
        "If a child comes off their CP plan once the court makes a care order, are they safer?"
    )
    assert not answer.abstained
    assert any("reduction in risk" in c.quote.text for c in answer.citations)
    answer = pipeline.ask("As a PC going to a domestic with kids in the house, what should I do?")
    assert not answer.abstained
    # An abbreviation of something the reviews never name stays a name they never use.
    answer = pipeline.ask("Did any of the reviews look at FGM risk for a baby girl?")
    assert answer.abstained and "“FGM”" in answer.text


def test_a_short_question_is_supported_by_the_reviews_own_key_themes(pipeline):
    # "ethnicity" is only in the briefing's Key Themes (no recommendation text), and the topic
    # kept "Southampton", which the theme does not use: the question abstained.
    answer = pipeline.ask("Southampton NAI review: ethnicity?")
    assert not answer.abstained
    assert "White British ethnicity" in answer.citations[0].quote.text


def test_a_distinctive_name_the_named_review_never_uses_abstains_and_says_who_does(pipeline):
    # Baby Sally shares "parents" and "baby" with the question; only Child P says "ICON".
    answer = pipeline.ask("What did the Baby Sally review say about ICON and crying babies?")
    assert answer.abstained and answer.citations == ()
    assert "never uses “ICON”" in answer.text and "Child P" in answer.text


def test_a_topic_the_named_review_never_mentions_abstains_and_says_who_does(pipeline):
    answer = pipeline.ask("What did the Child P review recommend about fathers and male carers?")
    assert answer.abstained and answer.citations == ()
    assert "The Child P review (Hampshire) never uses “fathers”, “male” or “carers”" in answer.text
    assert "Thematic Review – Non-Accidental Injury" in answer.text
    # Asked without naming a review, the reviews that do discuss fathers answer it.
    unnamed = pipeline.ask("What did the reviews recommend about fathers and male carers?")
    assert not unnamed.abstained
    assert "southampton-nai-thematic-response" in {c.quote.document for c in unnamed.citations}


def test_an_agency_the_named_review_never_mentions_abstains(pipeline):
    # Only the Southampton response mentions the constabulary; "make" is not a topic word.
    q = "What recommendations did the Child P review make for Hampshire Constabulary?"
    answer = pipeline.ask(q)
    assert answer.abstained and answer.citations == ()
    assert "never uses “Constabulary”" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        # The review uses one of the topic's words.
        "What did the Child P review say about midwives?",
        # Everyday words no document uses are left to the similarity threshold.
        "What did Child P say about mums who miss antenatal appointments?",
        # A numbered section is named: the words around it are not a topic.
        "What was Recommendation Two of the Child P review?",
        # What an agency was asked to do, in words its recommendations do not use ("midwives"
        # under "Midwifery", "HSCP" spelled out, "social workers" only in the response).
        "What were midwives asked to do after Child P?",
        "What were social workers asked to do in the Baby Sally review?",
        "What was the HSCP asked to do in Child P?",
        # The stemmer keeps "GPs" apart from "GP", which is all the NAI documents write.
        "What did the NAI review say about GPs?",
    ],
)
def test_the_review_topic_check_leaves_covered_and_everyday_questions_alone(pipeline, question):
    info = pipeline.retriever.understand(question)
    assert pipeline.retriever.not_in_review(info) == ([], [])
    assert not pipeline.ask(question).abstained


def test_topic_words_drop_the_words_that_frame_a_question():
    from rag.understand.question import topic_words

    words = topic_words("What did the review recommend about fathers and male carers?")
    assert words == ["fathers", "male", "carers"]
    assert topic_words("What was Recommendation 7 of the review?") == []
    # "make" frames "what recommendations did the review make for …": every review uses it.
    assert topic_words("What recommendations did the review make for Constabulary?") == [
        "Constabulary"
    ]


def test_a_partnership_the_corpus_never_names_abstains_though_its_place_is_mentioned(pipeline):
    # Portsmouth is in the corpus only in the list of HIPS areas.
    assert "portsmouth" in pipeline.retriever.vocabulary
    answer = pipeline.ask(
        "What did the Portsmouth Safeguarding Children Partnership recommend after its own "
        "review of a baby who died while co-sleeping?"
    )
    assert answer.abstained and answer.citations == ()
    assert "“Portsmouth Safeguarding Children Partnership”" in answer.text
    # A partnership the corpus names is answered.
    assert not pipeline.ask("How did Surrey Safeguarding Children Partnership respond?").abstained


def test_topic_words_leave_out_function_words_and_contractions():
    from rag.understand.question import topic_words

    assert topic_words("What's expected of housing staff after the review?") == [
        "expected",
        "housing",
        "staff",
    ]
    assert topic_words("Why was the report published so long after the death?") == [
        "report",
        "published",
        "long",
        "death",
    ]


def _answer_with_role(text: str, role: str):
    from dataclasses import replace

    answer = answer_quoting(text)
    c = answer.citations[0]
    chunk = replace(c.hit.chunk, roles=((0, len(text), role),))
    return replace(answer, citations=(replace(c, hit=replace(c.hit, chunk=chunk)),))


@pytest.mark.parametrize(
    "question",
    [
        "What progress rating has the partnership given Recommendation 2?",
        "Has the Board rated Action 6 as complete?",
        "Has recommendation 4 been completed?",
        "What is the status of the recommendation on training?",
    ],
)
def test_a_progress_question_is_answered_only_by_a_response_or_progress_passage(question):
    from rag.understand.facts import asked

    kinds = asked(question)
    assert "progress" in kinds
    rec = "The partnership should review its training on neglect by March."
    assert missing(_answer_with_role(rec, "recommendation"), kinds) is not None
    done = "Complete: the training was reviewed and relaunched in April."
    assert missing(_answer_with_role(done, "progress"), kinds) is None
    assert missing(_answer_with_role(done, "response"), kinds) is None


def test_a_question_about_what_was_recommended_is_not_a_progress_question():
    from rag.understand.facts import asked

    assert "progress" not in asked("What did the review recommend about neglect training?")
    assert "progress" not in asked("How did the police respond to recommendation 3?")


@pytest.mark.parametrize(
    ("quote", "answers"),
    [
        ("The father was later convicted of causing grievous bodily harm.", False),
        ("He was sentenced to nine years' imprisonment.", True),
        ("She received a suspended sentence and a community order.", True),
    ],
)
def test_a_sentence_question_needs_the_sentence_not_only_the_conviction(quote, answers):
    question = "What prison sentence did the father receive?"
    assert fact_tests(["verdict"], set(), question)["verdict"](quote) is answers
    if "convicted" in quote:
        # Whether anyone was convicted is answered by the conviction.
        assert fact_tests(["verdict"], set(), "Was the father convicted?")["verdict"](quote)


@pytest.mark.parametrize(
    ("question", "who"),
    [
        ("What did the review recommend for the police?", ("police",)),
        ("What did the review recommend to GP practices about routine enquiry?", ("GP",)),
        ("What recommendations did the review make for health visitors?", ("health", "visitors")),
        ("What did the review recommend about safe sleep?", ()),
    ],
)
def test_whom_a_recommendation_is_asked_to_be_for(question, who):
    from rag.understand.question import recipient

    assert recipient(question) == who


def test_a_recommendation_for_someone_the_named_reviews_recommendations_never_address():
    from dataclasses import replace

    from rag.answer.gates import unaddressed
    from rag.understand.question import QueryInfo

    text = "Recommendation 1: Housing providers should share concerns about a thin baby."
    answer = answer_quoting(text)
    hit = answer.citations[0].hit
    hit = replace(hit, chunk=replace(hit.chunk, roles=((0, len(text), "recommendation"),)))
    info = QueryInfo(documents=("d",), recipient=("police",))
    refused = unaddressed("q", info, [hit])
    assert refused is not None and refused.abstained and not refused.citations
    assert unaddressed("q", replace(info, recipient=("housing",)), [hit]) is None
    # With no recommendation among the passages, the gate cannot tell and passes.
    background = replace(hit, chunk=replace(hit.chunk, roles=((0, len(text), "background"),)))
    assert unaddressed("q", info, [background]) is None


def test_an_anonymising_code_in_a_review_name_is_an_alias():
    from rag.ingest.metadata import _aliases

    assert "T7" in _aliases("Family T7", None, None)
    assert "W" not in _aliases("Child W", None, None)


@pytest.mark.parametrize(
    ("quote", "often"),
    [
        ("Warning notices were served in only two of the seven cases.", True),
        ("A home visit happened in 4 out of 10 contacts.", True),
        ("Fifteen minutes later the nurse rang back.", True),
        ("One of the nurses rang back.", False),
    ],
)
def test_how_often_is_answered_by_a_count_of_occasions(quote, often):
    # Synthetic quotes: a share of cases says how often, as a percentage does.
    assert fact_tests(["duration", "frequency"], set())["duration"](quote) is often
