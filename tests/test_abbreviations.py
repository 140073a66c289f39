"""Abbreviations a corpus spells out are read from its own text and searched with the question.
Synthetic text written for this test; the retrieval test uses a real Chroma and the real model."""

from __future__ import annotations

from rag.understand.abbreviations import Reader, expand


def _table(*texts: str, common: frozenset[str] = frozenset()) -> dict[str, str]:
    reader = Reader()
    for t in texts:
        reader.add(t)
    return reader.table(common)


def test_a_definition_in_brackets_gives_the_long_form_in_any_case():
    table = _table(
        "Cases were heard at the joint exploitation screening (JES) meeting each week.",
        "The panel used key lines of enquiry (KLOEs) to organise the review.",
        "Children were discussed at the multi-agency risk review (MARR) within days.",
    )
    assert table["JES"] == "joint exploitation screening"
    # A function word may give its letter ("of": O), a hyphenated word one per part.
    assert table["KLOE"] == "key lines of enquiry"
    assert table["MARR"] == "multi-agency risk review"


def test_capitalised_words_spell_an_abbreviation_used_elsewhere_in_the_corpus():
    table = _table(
        "Lead agency: Thornbury Integrated Health Board. Due date: March.",
        "Updates are outstanding from education and the IHB.",
    )
    assert table == {"IHB": "Integrated Health Board"}


def test_chance_initials_ordinary_words_and_undefined_pairs_are_not_abbreviations():
    table = _table(
        # Two letters with no definition: "Death Overview" is not what "DO" means.
        "WHAT TO DO\n\nThe Death Overview panel met. The Annual Report was late.",
        "Staff said THE report AR was read by Annual Reviewers.",
        common=frozenset({"the", "what", "to"}),
    )
    assert "DO" not in table and "THE" not in table and "WHAT" not in table
    assert "AR" not in table


def test_a_definition_outweighs_more_frequent_chance_initials():
    table = _table(
        "The Social Care Practice forum met. The Social Care Practice forum met again.",
        "The Safeguarding Children Partnership (SCP) agreed the plan.",
        "The SCP chair signed it.",
    )
    assert table["SCP"] == "Safeguarding Children Partnership"


def test_a_question_keeps_its_abbreviation_and_gains_the_long_form():
    table = {"IHB": "Integrated Health Board", "NRM": "National Referral Mechanism"}
    assert (
        expand("What must the IHB do about NRMs?", table)
        == "What must the IHB (Integrated Health Board) do about NRMs (National Referral "
        "Mechanism)?"
    )
    # Written out already, or not in the table: as asked.
    asked = "Has the IHB, the Integrated Health Board, acted? What about the CCG?"
    assert expand(asked, table) == asked


# A fictional action plan written for this test: its recommendation names the board in full,
# and only a progress note uses the abbreviation a practitioner types.
PLAN = """# Thornbury Safeguarding Partnership: action plan for the Child Y review

## Recommendation 1

The Integrated Health Board should commission a specialist health visitor for babies living in
temporary accommodation, with a named contact in each housing office.

## Recommendation 2

Schools should share attendance concerns with the early help hub within five school days.

## Progress

Updates are outstanding from education and the IHB; the subgroup will chase them in March.

## Recommendation 3

The police should tell the school the next morning about any domestic abuse call-out where a
child of the school lives.
"""


def test_a_question_using_the_abbreviation_finds_the_passage_that_spells_it_out(tmp_path):
    from rag.assistant import Assistant
    from tests.conftest import make_settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "thornbury-child-y-action-plan.md").write_text(PLAN, encoding="utf-8")
    question = "What has the IHB been asked to do?"
    lexical = {}
    for on in (False, True):
        settings = make_settings(tmp_path / str(on), corpus_dir=corpus, corpus_abbreviations=on)
        pipe = Assistant(settings)
        pipe.ingest()
        assert pipe.retriever.abbreviations == ({"IHB": "Integrated Health Board"} if on else {})
        hits, _ = pipe.search(question)
        (rec,) = [h for h in hits if "commission a specialist" in h.chunk.text]
        lexical[on] = rec.lexical
    # The question shares no word with the recommendation until the long form is searched.
    assert lexical[False] is None and lexical[True] > 0
