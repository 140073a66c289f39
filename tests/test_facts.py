"""The kinds of fact a question asks for beyond a topic: a person, a rating, a court outcome."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer.gates import missing, stating
from rag.understand.facts import asked, names_person
from rag.understand.question import known_names
from tests.conftest import answer_quoting


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("Who was the lead reviewer on the Child Z serious case review?", ("person",)),
        ("Who wrote the Baby Sally review?", ("person",)),
        ("What was the independent reviewer's name?", ("person",)),
        ("What was the name of the Mother and Baby Unit she stayed in?", ("name",)),
        ("What's the name of the hospital where the baby was born?", ("name",)),
        # A programme's name may be an acronym; that is left to the topic.
        ("What is the name of the crying baby programme?", ()),
        # A role is an answer the reviews give: not a question for a name.
        ("Who should chair the discharge planning meeting?", ()),
        ("Who is responsible for the child protection plan?", ()),
        ("What Ofsted rating did Southampton's children's services get?", ("rating",)),
        ("How was the council judged at its last inspection?", ("rating",)),
        ("What did Child Z say about Ofsted?", ()),
        ("What did the Ofsted inspection say about professional judgement?", ()),
        # Any UK inspectorate's grade, its name read from rag/data/words.toml.
        ("How was the hospital trust rated by the CQC?", ("rating",)),
        ("What grade did Estyn give the school?", ("rating",)),
        ("How were the council's services graded when HMICFRS inspected them?", ("rating",)),
        ("What did Estyn say about attendance?", ()),
        ("What sentence did the parent receive?", ("verdict",)),
        ("Were any of the parents convicted?", ("verdict",)),
        ("Sum up the Child P review in one sentence.", ()),
        ("What sentence in the review mentions fathers?", ()),
        ("How long is a case kept open?", ("duration",)),
        ("Should the case stay open, and for how long?", ("duration",)),
        # Whether a plan should say how long is answered by a passage calling for timescales.
        ("Mum has support. Shouldn't they be telling us how long change would take?", ()),
        # A number inside what someone is obliged to report, wherever the obligation sits.
        ("Must the plan say how long it will last?", ()),
        ("Are health visitors expected to record how often they visit?", ()),
        ("How often should practitioners record the child's views?", ("duration", "frequency")),
        ("Could you tell me how long a case stays open?", ("duration",)),
        # "How much" of knowing asks how well; of a thing, how much of it.
        ("How much do parents realise about the risks?", ()),
        ("Did anyone check how much the school knew?", ()),
        ("How much care do families get after discharge?", ("amount",)),
        ("How often is safe sleep discussed?", ("duration", "frequency")),
        ("What does each letter of ICON stand for?", ("expansion",)),
        ("What is LIG short for?", ("expansion",)),
        ("What are the four ICON messages for parents?", ("parts",)),
        ("What are the stages of the HIPS escalation policy?", ("parts",)),
        # Parts of nothing named: the topic decides.
        ("What are the steps a GP should take?", ()),
        ("What were the main messages of the Child P review?", ()),
    ],
)
def test_asked_reads_the_kind_of_fact_a_question_wants(question, kinds):
    assert asked(question) == kinds


COMMON = {"safeguarding", "children", "board", "partnership", "the", "in", "southampton"}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Edi Carmi, an independent safeguarding specialist, was commissioned.", True),
        ("An independent reviewer (Alex Walters) was identified to lead the review.", True),
        ("In March 2018 the Southampton Safeguarding Children Board commissioned it.", False),
        ("The review was published on Monday.", False),
        ("The Child Z review was led by an independent reviewer.", False),
    ],
)
def test_names_person_tells_a_name_from_bodies_and_dates(text, names):
    assert names_person(text, COMMON) is names


def test_a_name_answers_only_when_it_is_of_what_the_question_described():
    from rag.understand.facts import fact_tests

    question = "What was the name of the 15-year-old girl who was groomed, in the Delta review?"
    test = fact_tests(["name"], COMMON, question)["name"]
    # The reviewers named at the front of a report are not the girl asked about ...
    assert not test("Lead reviewers: Mira Castell and Tomas Perrin (independent reviewers).")
    # ... a sentence naming someone it says was groomed, or a girl, would be.
    assert test("Kayla Brent was groomed by an older man she met online.")
    assert test("The girl, called Kayla Brent here, was fifteen.")
    # A sentence about the girl that names no one still does not answer.
    assert not test("The girl was groomed over many months.")


def test_missing_asks_a_person_rating_or_verdict_of_the_quotes():
    body = answer_quoting("The Southampton Safeguarding Children Board commissioned a review.")
    assert "name no one" in missing(body, ["person"], COMMON)
    assert "no inspection rating" in missing(body, ["rating"], COMMON)
    assert "convictions or sentences" in missing(body, ["verdict"], COMMON)
    named = answer_quoting("Edi Carmi was commissioned as the lead reviewer.")
    assert missing(named, ["person"], COMMON) is None
    # A capitalised pair that is not the review's author does not answer who wrote it.
    bodies = answer_quoting("The review considers the involvement of police and Criminal Justice.")
    assert "name no one" in missing(bodies, ["person"], COMMON)
    assert missing(answer_quoting("Services were rated Good in 2019."), ["rating"]) is None
    assert missing(answer_quoting("The father was convicted of assault."), ["verdict"]) is None


def test_an_abbreviation_is_answered_only_where_a_passage_spells_it_out():
    kinds = asked("What does each letter of ICON stand for?")
    used = answer_quoting("Safe sleep and ICON were discussed in 93% of postnatal discharges.")
    used = replace(used, question="What does each letter of ICON stand for?")
    assert "never spell it out" in missing(used, kinds, COMMON)
    q = "What does LIG stand for?"
    for text in (
        "The Learning and Inquiry (LIG) subgroup met.",
        "The Learning and Inquiry Group met in June.",
    ):
        assert missing(replace(answer_quoting(text), question=q), asked(q), COMMON) is None
    assert stating(asked(q), COMMON, q)("The Learning and Inquiry (LIG) subgroup met.")


def test_the_parts_of_a_named_thing_need_a_quote_that_speaks_of_them():
    q = "What are the four ICON messages we give parents about a crying baby?"
    named = replace(
        answer_quoting("The ICON programme is embedded in maternity services."), question=q
    )
    assert "never set out the parts" in missing(named, asked(q), COMMON)
    parts = replace(
        answer_quoting("Each parent is given the ICON messages on discharge."), question=q
    )
    assert missing(parts, asked(q), COMMON) is None


def test_a_question_for_the_parts_of_a_thing_only_named_abstains(pipeline):
    # Child P names the ICON programme and says it is embedded; it never lists its messages.
    answer = pipeline.ask("What are the four ICON messages we're supposed to give parents?")
    assert answer.abstained and answer.citations == ()
    assert "never set out the parts" in answer.text


def test_missing_wants_the_fact_from_the_first_passages_quoted():
    later = answer_quoting(
        "The Unborn Baby Safeguarding Protocol was updated.",
        "The protocol is embedded in safeguarding training.",
        "All babies will remain open for 3 months post-birth.",
    )
    assert "no time" in missing(later, ["duration"], COMMON)
    assert missing(later, ["duration"], COMMON, passages=3) is None


def test_stating_prefers_names_but_leaves_times_and_amounts_to_similarity():
    prefers = stating(["person"], COMMON)
    assert prefers("Edi Carmi was the lead reviewer.")
    assert not prefers("The review used a systems methodology.")
    # Any number would pass an amount's test: preferring numbers would quote one for anything.
    assert stating(["amount", "duration"], COMMON) is None


@pytest.mark.parametrize(
    ("question", "gives"),
    [
        # The passage's most similar sentence is not the one naming the reviewer.
        ("Who was the lead reviewer on the Child Z serious case review?", "Edi Carmi"),
        ("Who was the independent reviewer for Child P?", "Alex Walters"),
    ],
)
def test_a_question_for_the_reviewer_quotes_the_sentence_naming_them(pipeline, question, gives):
    answer = pipeline.ask(question)
    assert not answer.abstained
    assert gives in answer.citations[0].quote.text


@pytest.mark.parametrize(
    ("question", "says"),
    [
        # The briefing speaks of "the reviewer" but never names them.
        (
            "Who was the independent reviewer who wrote the Southampton thematic serious case "
            "review into non-accidental injury?",
            "name no one",
        ),
        (
            "What Ofsted rating did Southampton City Council's children's services get?",
            "no inspection rating",
        ),
        # "the Mother and Baby Unit (MBU)" is what the reviews call it: a generic name.
        (
            "What was the name of the Mother and Baby Unit that Baby Z and her mother stayed in?",
            "give no name",
        ),
        (
            "Were any of the parents in the Southampton NAI thematic cases convicted, and what "
            "sentences were handed down?",
            "convictions or sentences",
        ),
    ],
)
def test_a_fact_the_reviews_do_not_state_abstains_and_says_what_is_missing(
    pipeline, question, says
):
    answer = pipeline.ask(question)
    assert answer.abstained and answer.citations == ()
    assert says in answer.text


def test_the_words_a_corpus_writes_in_lower_case_are_gathered_with_its_names():
    lower: set[str] = set()
    known = known_names(["Edi Carmi was commissioned as the lead reviewer, with the board."], lower)
    assert {"edi", "carmi", "reviewer"} <= known
    assert "reviewer" in lower and "board" in lower
    assert not {"edi", "carmi", "Edi", "Carmi"} & lower
    assert names_person("Edi Carmi led it.", lower) and not names_person("The Board met.", lower)


# Each kind of fact on synthetic text: the question asks it, a quote stating it answers, and a
# quote on the same topic without it does not.
@pytest.mark.parametrize(
    ("question", "kind", "states", "lacks"),
    [
        (
            "How long should a case stay open after the birth?",
            "duration",
            "Cases stay open for 12 weeks after the birth.",
            "Cases stay open after the birth while support continues.",
        ),
        (
            "How often are home visits made?",
            "frequency",
            "Home visits were made in 80% of weeks.",
            "Home visits were made by the family support worker.",
        ),
        (
            "What dose of iron do the clinic's mothers take?",
            "amount",
            "Mothers take 200 mg of iron at the clinic.",
            "Mothers take iron at the clinic.",
        ),
        (
            "Who wrote the Northtown review?",
            "person",
            "The lead reviewer was Ruth Hale, an independent social worker.",
            "The lead reviewer was an independent social worker.",
        ),
        (
            "What was the name of the hostel the family lived in?",
            "name",
            "The family lived at Marlow Lodge, a hostel.",
            "The family lived in a hostel.",
        ),
        (
            "How was the trust rated by the CQC?",
            "rating",
            "The trust was rated requires improvement by the CQC.",
            "The trust was inspected by the CQC.",
        ),
        (
            "Was the stepfather convicted?",
            "verdict",
            "The stepfather was convicted of assault.",
            "The stepfather was interviewed by the police.",
        ),
        (
            "What does QRG stand for?",
            "expansion",
            "The Quality Review Group met monthly.",
            "The QRG met monthly.",
        ),
        (
            "What are the four STAR messages for carers?",
            "parts",
            "Each carer is given the STAR messages before discharge.",
            "The STAR programme runs in every ward.",
        ),
    ],
)
def test_each_kind_of_fact_needs_a_quote_stating_it(question, kind, states, lacks):
    kinds = asked(question)
    assert kind in kinds
    lower = {"the", "lead", "reviewer", "was", "an", "family", "lived", "at", "a", "hostel"}
    assert missing(replace(answer_quoting(states), question=question), kinds, lower) is None
    assert missing(replace(answer_quoting(lacks), question=question), kinds, lower) is not None


@pytest.mark.parametrize("span", ["2021/22", "2019-20", "2023–24"])
def test_the_end_of_a_year_span_is_not_an_amount(span):
    question = "How many carers have been trained so far?"
    kinds = asked(question)
    assert "amount" in kinds
    lacks = f"Carers are trained through a rolling programme of dates in {span}."
    states = f"In {span}, 40 carers were trained through a rolling programme."
    assert missing(replace(answer_quoting(lacks), question=question), kinds) is not None
    assert missing(replace(answer_quoting(states), question=question), kinds) is None


def test_a_numbered_paragraphs_own_number_is_not_an_amount():
    from rag.understand.facts import fact_tests

    test = fact_tests(["amount"], COMMON, "How much alcohol did the father drink?")["amount"]
    assert not test("4.2.2 The emergency department did not ask about his drinking.")
    assert not test("3. The health visitor did not ask about alcohol.")
    # A number in the sentence, or a dose that opens it, still is one.
    assert test("4.2.3 He said he drank 12 cans a day.")
    assert test("2.5 ml of the medicine was given.")


def test_a_count_in_words_from_two_up_is_an_amount_and_one_is_not():
    from rag.understand.facts import fact_tests

    test = fact_tests(["amount"], COMMON, "How many home visits were made?")["amount"]
    assert test("Fourteen home visits were made in the year.")
    assert test("Home visits were made twice.")
    assert not test("One of the home visits was made by a student.")
