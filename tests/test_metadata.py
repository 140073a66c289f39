"""Metadata read from a review's own text (rag.ingest.metadata), on synthetic text only."""

from __future__ import annotations

import pytest

from rag.ingest.metadata import Inferred, canonical_type, infer_metadata

COVER = """### Document repository – cover sheet

Title: Serious Case Review – Child QX: Overview Report

LSCB: Amberford Local Safeguarding Children Board

Author: Pat Quill, Independent Reviewer

Date of publication: 3 May 2016

OFFICIAL – FOR PUBLICATION Page 2 of 9

1.1 This overview report was prepared for the Board after Child QX was injured in March 2014,
and it sets out what the agencies knew and what they did about it at the time.
"""


def test_cover_sheet_fields_are_read():
    m = infer_metadata(COVER, "amberford-qx")
    assert m.title == "Serious Case Review – Child QX: Overview Report"
    assert (m.partnership, m.partnership_full) == (
        "Amberford",
        "Amberford Local Safeguarding Children Board",
    )
    assert (m.review, m.review_type, m.kind) == ("Child QX", "SCR", "Overview report")
    assert (m.year, m.author) == (2016, "Pat Quill")


@pytest.mark.parametrize(
    "form", ["**{label}:** {value}", "| {label} | {value} |", "{label} | {value}"]
)
def test_cover_labels_in_markdown_and_table_forms(form):
    rows = [("Title", "Learning Review of Baby Lark"), ("Author", "Kim Orr"), ("Published", "2019")]
    text = "\n".join(form.format(label=k, value=v) for k, v in rows) + "\n\nSome text follows.\n"
    m = infer_metadata(text, "x")
    assert (m.title, m.author, m.year, m.review) == (
        "Learning Review of Baby Lark",
        "Kim Orr",
        2019,
        "Baby Lark",
    )


def test_disclaimer_and_protective_marking_are_not_the_title():
    text = (
        "OFFICIAL-SENSITIVE\n\nThis is a fictional document; all names are invented.\n\n"
        "IN STRICT CONFIDENCE\n\n# Learning from the Review of Baby T\n\nBaby T was born early.\n"
    )
    assert infer_metadata(text, "x").title == "Learning from the Review of Baby T"


def test_contents_page_is_skipped():
    text = (
        "# Contents\n\nIntroduction ........................ 3\nFindings ............ 5\n\n12\n\n"
        "# Executive Summary: Child M\n\nChild M lived with an aunt.\n"
    )
    m = infer_metadata(text, "x")
    assert (m.title, m.kind, m.review) == (
        "Executive Summary: Child M",
        "Executive summary",
        "Child M",
    )


def test_partnership_short_and_full_name_and_letterhead_skipped():
    text = (
        "# Ravensholme Safeguarding Children Partnership\n\n"
        "## Partnership Response to the Serious Case Review of Child J2\n\nText.\n"
    )
    m = infer_metadata(text, "x")
    assert m.title == "Partnership Response to the Serious Case Review of Child J2"
    assert (m.partnership, m.partnership_full) == (
        "Ravensholme",
        "Ravensholme Safeguarding Children Partnership",
    )
    body = "Learning note\n\nThe Upper Dene and Marsh Safeguarding Children Board (UDMSCB) met.\n"
    assert infer_metadata(body, "x").partnership == "Upper Dene and Marsh"


@pytest.mark.parametrize(
    ("title", "review"),
    [
        ("Serious Case Review: Child LW", "Child LW"),
        ("Rapid Review – Baby Rowan", "Baby Rowan"),
        ("Action Plan for Family T7", "Family T7"),
        ("Overview Report concerning Children C and D", "Children C and D"),
        ("Thematic Review – Neglect of Adolescents", "Thematic Review – Neglect of Adolescents"),
    ],
)
def test_review_name_codes(title, review):
    assert infer_metadata(f"# {title}\n\nText.\n", "x").review == review


def test_child_protection_and_family_court_are_not_review_names():
    text = (
        "# Child Protection Conference Guidance\n\nThe Child Practice Review Panel and the "
        "Family Court heard about Child Safeguarding and Child Sexual Exploitation.\n"
    )
    assert infer_metadata(text, "x").review is None


def test_review_name_from_a_given_name_that_recurs():
    text = (
        "# Learning Briefing\n\nThis briefing summarises the review about Ollie. Ollie was "
        "fifteen when he was seriously harmed and had been missing from home many times.\n"
    )
    assert infer_metadata(text, "x").review == "Ollie"


@pytest.mark.parametrize(
    ("text", "review_type", "kind"),
    [
        ("7 MINUTE BRIEFING\n\nRAPID REVIEW: BABY Q\n\nText.", "Rapid review", "Briefing"),
        ("# Concise Child Practice Review\n\nRe: ARSB 1/2020 (Baby V)\n", "CPR", "Overview report"),
        (
            "# Local Child Safeguarding Practice Review: Action Plan\n\nText.",
            "LCSPR",
            "Action plan",
        ),
        ("# Response to the Recommendations\n\nThe serious case review found.", "SCR", None),
    ],
)
def test_review_type_and_kind(text, review_type, kind):
    m = infer_metadata(text, "x")
    assert m.review_type == review_type
    assert m.kind == (kind or "Partnership response")


def test_title_match_wins_over_later_mentions_and_stem_is_a_fallback():
    text = "# Executive Summary of the Serious Case Review\n\nA rapid review was held first.\n"
    assert infer_metadata(text, "x-lcspr").review_type == "SCR"
    nothing = infer_metadata("# Notes\n\nSome notes.\n", "greyford-lcspr-learning-summary")
    assert (nothing.review_type, nothing.kind) == ("LCSPR", "Learning summary")
    assert canonical_type("Child Practice Review") == "CPR"


def test_publication_year_beats_narrative_years():
    text = (
        "# Review of Child K9\n\nPublished: June 2021\n\nIn March 2017 Child K9 moved to a new "
        "school, and in 2018 the family moved house twice before the incident in 2019.\n"
    )
    assert infer_metadata(text, "x").year == 2021
    block = (
        "# Review of Child K9\n\n**Final report – October 2020**\n\nIn March 2017 Child K9 "
        "moved to a new school and the Children Act 1989 applied throughout the period.\n"
    )
    assert infer_metadata(block, "x").year == 2020


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("Lead reviewer: Dr Jo Marsh (independent)", "Dr Jo Marsh"),
        ("Written by Sam Tull and Kit Ray", "Sam Tull and Kit Ray"),
        (
            "Independent reviewers: Ann Lo, consultant, and Detective Inspector Bo Vey",
            "Ann Lo and Bo Vey",
        ),
    ],
)
def test_author(line, author):
    assert infer_metadata(f"# Review of Child R\n\n{line}\n\nText.\n", "x").author == author


def test_aliases_include_the_review_name():
    m = infer_metadata("# Serious Case Review: Baby Poppy\n\nText.\n", "x")
    assert m.review == "Baby Poppy"
    assert {"Baby Poppy", "Baby Poppy review", "Poppy"} <= set(m.aliases)


def test_all_caps_title_is_readable():
    text = "LOCAL CHILD SAFEGUARDING PRACTICE REVIEW: CHILD LW (AGED 4)\n\nThe LCSPR found much.\n"
    m = infer_metadata(text, "x")
    assert m.title == "Local Child Safeguarding Practice Review: Child LW (aged 4)"
    assert m.review == "Child LW"


def test_title_falls_back_to_the_stem():
    m = infer_metadata("\n\n12\n\nPage 1 of 3\n\nCONFIDENTIAL\n", "greyford-scp-child-x")
    assert m.title == "Greyford SCP Child X"


@pytest.mark.parametrize("text", ["", "   \n\n", "#", "|||\n---", "Title:", "**"])
def test_empty_ish_input_does_not_crash(text):
    m = infer_metadata(text, "some_file")
    assert isinstance(m, Inferred) and m.title == "Some File"
    assert m.review is None and m.aliases == ()


def test_a_review_is_also_named_by_its_partnership_and_a_theme_by_its_head_noun():
    # Synthetic: "the Ormsby review" and "the neglect review" are how practitioners refer to them.
    text = (
        "# Thematic Review of Adolescent Neglect\n\n"
        "Published by Ormsby Safeguarding Children Partnership, 2025.\n\nText.\n"
    )
    m = infer_metadata(text, "x")
    assert m.partnership == "Ormsby"
    assert {"Ormsby review", "Neglect review", "Adolescent Neglect"} <= set(m.aliases)
    case = infer_metadata(
        "# Serious Case Review: Child Q\n\nOrmsby Safeguarding Children Partnership\n", "x"
    )
    assert "Ormsby review" in case.aliases and "Child Q review" in case.aliases


def test_a_numbered_line_is_not_a_title_but_a_line_opening_with_a_number_is():
    from rag.ingest.metadata import _NUMBERED

    for numbered in ("2. Background", "2.3 The family", "4.2.1. Health", "iv. Summary"):
        assert _NUMBERED.match(numbered), numbered
    for title in ("7 minute briefing", "2019 thematic review", "Child W"):
        assert not _NUMBERED.match(title), title
