"""Reading what a question names."""

from __future__ import annotations

import pytest

from rag.core.models import Chunk, DocMeta
from rag.retrieve.structural import SectionIndex, structural_ranking
from rag.understand.question import (
    focus,
    known_names,
    mentions_all,
    number,
    parse,
    section_ref,
    topic,
    vocabulary,
)

METAS = {
    "p": DocMeta("p", "Child P response", review="Child P", aliases=("Child P",)),
    "t": DocMeta("t", "Thematic", review="Thematic Review", aliases=("thematic review", "NAI")),
    "b": DocMeta(
        "b", "Briefing", review="Thematic Review", aliases=("thematic review", "6 step briefing")
    ),
}
VOCAB = vocabulary(["safe sleep", "Southampton Hampshire recommendation", "Child P"])


@pytest.mark.parametrize(
    ("question", "refs"),
    [
        ("What was Recommendation 7?", (("recommendation", 7),)),
        ("what was recommendation seven", (("recommendation", 7),)),
        ("Finding Two of Child Z", (("finding", 2),)),
        ("the third recommendation for GP services", (("recommendation", 3),)),
        ("What did rec. 3 ask?", (("recommendation", 3),)),
        ("recommendation number three of Child P", (("recommendation", 3),)),
        ("Findings 2 and 3", (("finding", 2),)),
        ("What about safe sleep?", ()),
    ],
)
def test_numbered_references(question, refs):
    assert parse(question, METAS, VOCAB).refs == refs


def test_section_ref_reads_the_last_numbered_part():
    assert section_ref("Recommendations for Health Visitors › Recommendation Two") == (
        "recommendation",
        2,
    )
    assert section_ref("Finding Five › a)") == ("finding", 5)
    assert section_ref("Key Themes") is None
    assert number("twelve") == 12 and number("x") is None


def test_named_review_prefers_the_most_specific_document():
    assert parse("What did Child P say?", METAS, VOCAB).documents == ("p",)
    assert parse("the thematic review 6 step briefing", METAS, VOCAB).documents == ("b",)
    assert parse("the thematic review", METAS, VOCAB).documents == ("b", "t")
    assert parse("What about safe sleep?", METAS, VOCAB).documents == ()


def test_unknown_names_are_flagged_but_sentence_starts_are_not():
    info = parse("What did the Leeds partnership say about safe sleep?", METAS, VOCAB)
    assert info.unknown_names == ("Leeds",)
    assert parse("Safe sleep in Southampton?", METAS, VOCAB).unknown_names == ()


def test_topic_drops_review_names():
    question = "What did the Child P review say about housing?"
    info = parse(question, METAS, VOCAB)
    assert info.topic == topic(question, info.documents, METAS)
    assert info.topic == "What did the review say about housing?"
    assert parse("What have reviews said about housing?", METAS, VOCAB).topic == ""


def test_structural_ranking_puts_the_named_group_and_first_piece_first():
    def chunk(i, section, start):
        return Chunk(i, "p", "x", start, start + 1, section, "recommendation")

    chunks = [
        chunk("gp3", "Recommendations for GP Services › Recommendation Three", 50),
        chunk("mw3", "Recommendations for Midwifery/Neonatal Services › Recommendation Three", 10),
        chunk("mw3b", "Recommendations for Midwifery/Neonatal Services › Recommendation Three", 20),
        chunk("mw2", "Recommendations for Midwifery/Neonatal Services › Recommendation Two", 5),
    ]
    q = "Child P midwifery Recommendation Three"
    ranking = structural_ranking(q, parse(q, METAS, VOCAB), SectionIndex(chunks))
    # Only the named group's Recommendation Three, and only its first piece.
    assert ranking == ["mw3"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Child P say about midwives?", ["mw1", "mw2"]),
        ("What did Child P recommend for doctors?", ["gp"]),
        ("What did Child P recommend for GPs?", ["gp"]),
        # Without a review named, a profession names no group.
        ("What have reviews said about midwives?", []),
        ("What did Child P say about housing?", []),
    ],
)
def test_a_profession_names_the_group_of_its_service(question, expected):
    group = "Recommendations for Midwifery/Neonatal Services"
    chunks = [
        Chunk(
            "gp", "p", "x", 50, 51, "Recommendations for GP Services › Recommendation One", "rec"
        ),
        Chunk("mw1", "p", "x", 10, 11, f"{group} › Recommendation One", "recommendation"),
        Chunk("mw2", "p", "x", 20, 21, f"{group} › Recommendation Two", "recommendation"),
    ]
    index = SectionIndex(chunks)
    assert structural_ranking(question, parse(question, METAS, VOCAB), index) == expected


def test_a_section_is_named_by_its_own_words_not_by_the_review():
    chunks = [
        Chunk("rev", "t", "x", 0, 1, "The Review", "section"),
        Chunk("bg", "t", "x", 2, 3, "The Background", "section"),
        Chunk("kt", "t", "x", 4, 5, "Key Themes", "section"),
    ]
    index = SectionIndex(chunks)

    def named(q):
        return structural_ranking(q, parse(q, METAS, VOCAB), index)

    # Every "what did the review say" would otherwise name (and rank first) "The Review".
    assert named("What did the review ask of the police?") == []
    assert named("What's the background to the thematic review?") == ["bg"]
    assert named("What were the key themes?") == ["kt"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # A heading's paragraph number is not part of its name; one word names it in its review.
        ("What methodology did the Child P review use?", ["meth"]),
        ("What methodology do reviews usually use?", []),
        # A heading worded as a question's opening names its part only with its review named.
        ("How do referrers hear what happened to their referral?", []),
        ("What happened in the Child P case?", ["wh"]),
        # A numbered item named inside a titled part is that item, not the whole part.
        ("What is Recommendation 3 in the Child P action plan?", ["r3"]),
        ("What is the key to the Child P action plan?", ["plan"]),
        # A year opening a heading is part of its name, not a paragraph number.
        ("What did the Child P 2019 audit find?", ["audit"]),
    ],
)
def test_section_titles_are_named_without_their_numbers(question, expected):
    chunks = [
        Chunk("meth", "p", "x", 0, 1, "2.1 Methodology", "other"),
        Chunk("wh", "p", "x", 2, 3, "What Happened", "other"),
        Chunk("plan", "p", "x", 4, 5, "5. Action Plan", "other"),
        Chunk("r3", "p", "x", 6, 7, "5. Action Plan › Recommendation 3", "recommendation"),
        Chunk("audit", "p", "x", 8, 9, "2019 Audit", "other"),
        Chunk("audit20", "p", "x", 10, 11, "2020 Audit", "other"),
    ]
    index = SectionIndex(chunks)
    assert structural_ranking(question, parse(question, METAS, VOCAB), index) == expected


def test_runs_of_capitals_the_corpus_never_uses_together_are_unknown():
    vocab = known_names(
        ["The Children Act and adult care", "Child Z SCR review about", "Working Together 2018 for"]
    )
    assert parse("Who is eligible under the Care Act?", METAS, vocab).unknown_names == ("Care Act",)
    # A known pair inside the run ("Child Z") makes the whole run a known name plus more.
    assert parse("What did the Child Z Review find?", METAS, vocab).unknown_names == ()
    assert parse("What did Working Together 2023 change?", METAS, vocab).unknown_names == ("2023",)
    assert parse("What did Working Together 2018 change?", METAS, vocab).unknown_names == ()
    # Title Case questions capitalise every word; that is not a name.
    assert parse("What About Adult Care For Children?", METAS, vocab).unknown_names == ()


@pytest.mark.parametrize(
    ("question", "kind", "asks"),
    [
        ("How long is a case kept open?", "asks_duration", True),
        ("Within how many hours must a strategy discussion happen?", "asks_duration", True),
        ("What is the timescale for an ICPC?", "asks_duration", True),
        ("How often are audits done?", "asks_duration", True),
        ("How many recommendations did Child P make?", "asks_duration", False),
        ("What about safe sleep?", "asks_duration", False),
        ("How did Surrey respond to the Child Z review?", "asks_response", True),
        ("What's the response on FNP record keeping?", "asks_response", True),
        ("What progress has there been on safe sleep?", "asks_response", True),
        ("What has been done about missed appointments?", "asks_response", True),
        ("Who is responsible for chairing discharge meetings?", "asks_response", False),
        ("What has the council put in place for young carers?", "asks_response", True),
        ("What changed since the Ridgeway review for school nurses?", "asks_response", True),
        ("What has the trust changed in its discharge letters?", "asks_response", True),
        ("What did the ambulance service change about handovers?", "asks_response", True),
        ("What did the review want ambulance crews to change?", "asks_response", False),
        ("What has changed for families in temporary housing?", "asks_response", False),
        ("What did the review recommend for GPs?", "asks_response", False),
        ("What was NHS England asked to do?", "asks_recommendation", True),
        ("What were social workers expected to do?", "asks_recommendation", True),
        ("What did the review recommend for GPs?", "asks_recommendation", True),
        ("How did Surrey respond to the Child Z review?", "asks_recommendation", False),
        ("What's the right paracetamol dose for a baby?", "asks_amount", True),
        ("What dosage of methadone is safe in pregnancy?", "asks_amount", True),
        ("How much training do health visitors get?", "asks_amount", True),
        ("What amount of alcohol is safe?", "asks_amount", True),
        ("What would amount to neglect?", "asks_amount", False),
        ("How many recommendations did Child P make?", "asks_amount", False),
        ("How many babies died in 2021?", "asks_amount", True),
        ("What's the average caseload for a social worker?", "asks_amount", True),
        ("What % of GP practices are using the Arden template?", "asks_amount", True),
        ("What per cent of discharges included safe sleep advice?", "asks_amount", True),
        ("How much do professionals know about the protocol?", "asks_amount", False),
        ("Did anyone check how much staff understand it?", "asks_amount", False),
        ("How often is safe sleep discussed?", "asks_frequency", True),
        ("How long is a case kept open?", "asks_frequency", False),
        ("What have the reviews said about safe sleep?", "across_reviews", True),
        ("What is the learning across reviews on supervision?", "across_reviews", True),
        ("What did the Child P review say about safe sleep?", "across_reviews", False),
        ("What about safe sleep?", "across_reviews", False),
    ],
)
def test_questions_that_ask_for_a_time_an_amount_or_a_response(question, kind, asks):
    info = parse(question, METAS, VOCAB)
    if kind.startswith("asks_") and kind not in ("asks_response", "asks_recommendation"):
        assert (kind.removeprefix("asks_") in info.facts) is asks
    else:
        assert getattr(info, kind) is asks


@pytest.mark.parametrize(
    ("question", "focused"),
    [
        (
            "The family keeps moving between areas - what did the review say about that?",
            "The family keeps moving between areas",
        ),
        ("Is there anything about discharge meetings?", "discharge meetings?"),
        ("What did the review say about that?", "What did the review say about that?"),
        ("What did the review say about safe sleep?", "What did the review say about safe sleep?"),
    ],
)
def test_focus_drops_frames_that_carry_no_topic(question, focused):
    assert focus(question) == focused


def test_mentions_all_needs_every_word_or_its_singular_at_a_word_start():
    text = "That General Practitioners (GPs) inform health visitors of new births."
    assert mentions_all(["GPs"], text)
    assert mentions_all(["health", "visitors"], text)
    assert mentions_all(["visitor"], text)
    assert not mentions_all(["health", "police"], text)
    assert not mentions_all(["ractitioners"], text)
    assert not mentions_all([], text)


# The corpus's words for the tests below: it says "child protection plans", "health visitors",
# "police officers" and "HSCP", and never "FGM" or anything like it.
ABBREVIATED = known_names(
    [
        "child protection plans",
        "health visitors",
        "police officers",
        "HSCP",
        "Child P",
        "mental health practitioners",
        "quality assurance of minutes",
    ]
)


@pytest.mark.parametrize(
    ("question", "searched"),
    [
        ("Does coming off a CP plan mean less risk?", "Does coming off a child protection plan"),
        ("What should HVs do?", "What should health visitors do?"),
        # The first wording the corpus uses: it says "police officer", never "police constable".
        ("As a PC, what should I do?", "As a police officer, what should I do?"),
        ("As a PCSO, what should I do?", "As a police officer, what should I do?"),
        ("What should MH practitioners do?", "What should mental health practitioners do?"),
        ("Who does the QA of conference minutes?", "Who does the quality assurance of"),
        # Not an abbreviation: lower case, or inside a word, or one the corpus uses itself.
        ("Is the cp plan right?", ""),
        ("What did HSCP do?", ""),
        ("What is a Safe Sleep CPD session?", ""),
    ],
)
def test_abbreviations_are_spelled_out_in_the_corpus_words(question, searched):
    info = parse(question, METAS, ABBREVIATED)
    assert info.text.startswith(searched) if searched else info.text == ""
    assert info.unknown_names == () or searched == ""


def test_abbreviations_of_things_the_corpus_never_names_stay_unknown_names():
    # Spelled out, "FGM" would be everyday words no check looks at; as written it is a name the
    # corpus never uses, and the question abstains.
    info = parse("Did any review look at FGM risk?", METAS, ABBREVIATED)
    assert info.text == "" and info.unknown_names == ("FGM",)


def test_abbreviations_the_corpus_uses_are_left_as_written():
    from rag.understand.glossary import spell_out

    vocab = known_names(["the multi-agency safeguarding hub"])
    assert spell_out("What about the MASH?", vocab | {"mash"}) == "What about the MASH?"
    assert (
        spell_out("What about the MASH?", vocab) == "What about the multi-agency safeguarding hub?"
    )


def test_names_used_are_capitalised_corpus_words_except_excluded_ones():
    from rag.understand.question import names_used

    vocab = {"badgernet", "icon", "hampshire", "safe", "sleep"}
    question = "Does Hampshire use BadgerNet or ICON to advise parents on Safe sleep?"
    assert names_used(question, vocab, exclude={"hampshire"}) == ("BadgerNet", "ICON", "Safe")
    # A Title Case question capitalises every word: only "BadgerNet" and "ICON" read as names.
    assert names_used("What Is BadgerNet And ICON Used For", vocab, set()) == ("BadgerNet", "ICON")


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("What do the reviews say about county lines?", ("county lines",)),
        (
            "Any learning on child sexual exploitation of teenage girls?",
            ("child sexual exploitation",),
        ),
        ("Is this private fostering?", ("private fostering",)),
        ("A young carer is falling behind at school", ("young carer",)),
        ("What about bruises on a baby?", ("bruise",)),
        ("How do you assess risk when a parent has a learning disability?", ("disability",)),
        ("Any learning on parents with learning difficulties?", ("learning difficulties",)),
        # Issues the corpus does name, in its own wording or by its abbreviation.
        ("What has been done about fabricated or induced illness?", ()),
        # Words typed in capitals are not names.
        ("Is that OK if mum is home?", ()),
    ],
)
def test_safeguarding_issues_the_corpus_never_names_are_unknown(question, unknown):
    vocab = known_names(["Fabricated and Induced Illness (FII)", "mum is home"])
    assert parse(question, METAS, vocab | VOCAB).unknown_names == unknown


def test_a_corpus_naming_an_issue_by_its_abbreviation_names_it():
    question = "Any learning on child sexual exploitation?"
    assert parse(question, METAS, VOCAB | {"cse"}).unknown_names == ()


@pytest.mark.parametrize(
    ("question", "overview"),
    [
        ("Tell me about the Child P review", True),
        ("Summarise Child P", True),
        ("What did Child P say about midwives?", False),
        ("What was Recommendation 2 of Child P?", False),
        ("Tell me about safe sleep", False),
    ],
)
def test_a_question_naming_only_a_review_asks_for_an_overview(question, overview):
    assert parse(question, METAS, VOCAB).asks_overview is overview


def test_an_owner_named_is_the_name_the_corpus_uses():
    # "Solent's" is Solent's: it was read as a name the corpus never uses.
    vocab = known_names(["Solent NHS Trust, FNP and BadgerNet"])
    assert parse("What is Solent's FNP doing?", METAS, vocab).unknown_names == ()
    assert parse("What is Leeds's FNP doing?", METAS, vocab).unknown_names == ("Leeds's",)
    from rag.understand.question import names_used

    assert names_used("Is BadgerNet's record shared?", vocab, set()) == ("BadgerNet",)


def test_the_topic_drops_the_named_reviews_partnership():
    metas = {"t": DocMeta("t", "T", partnership="Southampton", review="NAI", aliases=("NAI",))}
    assert topic("Southampton NAI review: ethnicity?", ["t"], metas) == "review: ethnicity?"


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        # Names in the sentences that describe a case are not what the question asks about.
        ("Baby Leo is 4 months. Mum is leaving the unit. Who should chair the meeting?", ()),
        ("Mum is leaving the unit with Leo. Did the Leeds review say who chairs it?", ("Leeds",)),
        # A last sentence asks even without a question mark.
        ("Any review on safe sleep?? wondering if Leeds has guidance", ("Leeds",)),
        # A sentence's first word, and a review name inside a run, are not unknown names.
        ("Mum is 16. They've asked about safe sleep?", ()),
        ("Child P GP recs - was the GP-to-midwifery form ever developed?", ()),
        ("What did Labinjo-Hughes find?", ("Labinjo-Hughes",)),
    ],
)
def test_unknown_names_are_read_in_the_sentences_that_ask(question, unknown):
    vocab = known_names(["Child P GP to midwifery form", "safe sleep chair"]) | VOCAB
    assert parse(question, METAS, vocab).unknown_names == unknown


@pytest.mark.parametrize(
    "question, spelled",
    [
        ("Were CAWNs used?", "Were child abduction warning notices used?"),
        ("What did the ICB agree?", "What did the integrated care board agree?"),
        ("Who saw the EHE children?", "Who saw the elective home education children?"),
    ],
)
def test_the_glossary_spells_out_common_practitioner_abbreviations(question, spelled):
    from rag.understand.glossary import spell_out

    # Synthetic corpus words that spell the long forms and never use the abbreviations.
    text = (
        "Child abduction warning notices were served. The integrated care board met. "
        "Elective home education rose."
    )
    assert spell_out(question, known_names([text])) == spelled
