"""Layout reading from general cues, on synthetic review text written for these tests.

Item labels in their common forms, response and progress labels, underlined headings, nested
items and table rows must each come out as the sections a reader would see.
"""

from __future__ import annotations

import pytest

from rag.core import items
from rag.core.models import DocMeta, Document
from rag.core.settings import Settings
from rag.ingest.chunking import chunk_document
from rag.understand.question import section_ref


def _chunks(text: str):
    doc = Document(DocMeta("synthetic", "Synthetic review"), text)
    return chunk_document(doc, Settings(chunk_size=1200))


def _sections(text: str) -> list[tuple[str, str, str]]:
    return [(c.section, c.kind, c.rec_text) for c in _chunks(text)]


@pytest.mark.parametrize(
    "label, ref",
    [
        ("Recommendation 4", ("recommendation", 4)),
        ("Rec 4", ("recommendation", 4)),
        ("Rec. 4", ("recommendation", 4)),
        ("R4", ("recommendation", 4)),
        ("Recommendation iv", ("recommendation", 4)),
        ("Recommendation four", ("recommendation", 4)),
        ("Finding Two", ("finding", 2)),
        ("Learning Point 3", ("learning", 3)),
        ("LP3", ("learning", 3)),
        ("Lesson 5", ("learning", 5)),
        ("Action 6", ("action", 6)),
        ("Key Line of Enquiry 2", ("kloe", 2)),
        ("KLOE 2", ("kloe", 2)),
    ],
)
def test_one_grammar_reads_every_common_item_label(label, ref):
    assert items.references(label) == [ref]
    assert section_ref(f"Some part › {label}") == ref


def test_a_lone_capital_i_in_a_question_is_not_item_one():
    assert section_ref("which recommendations I should read") is None


@pytest.mark.parametrize(
    "line, role",
    [
        ("Response (Constabulary): We have changed the form.", "response"),
        ("Response: accepted in full.", "response"),
        ("Health visiting response:", "response"),
        ("Progress rating: Amber", "progress"),
        ("RAG status: Green", "progress"),
        ("Progress: complete", "progress"),
        ("The response to the first call was slow.", None),
        ("Progress was slow for most of the year.", None),
    ],
)
def test_response_and_progress_labels(line, role):
    assert items.label_role(line) == role


LEARNING_POINTS = """Pinecrest Safeguarding Partnership

This fictional response was written for a test.

1. Learning points

Learning Point 1 – Hearing the child

1.1 The child told two teachers she was frightened of going home, and neither wrote it down.

R1. The Partnership should ask every school to record what a child says in the child's words.

Response (Education): A recording template was issued to all schools in the spring term.

Progress rating: Green

Learning Point 2 – Escalation

2.1 A health visitor disagreed with a decision to close the case but did not escalate it.

R2: Agencies should remind staff how to use the escalation policy when they disagree.

Response (Health): Briefings on escalation were held for every health visiting team.

Progress rating: Amber
"""


def test_learning_points_hold_their_recommendations_and_responses():
    got = _sections(LEARNING_POINTS)
    sections = [s for s, _, _ in got]
    assert "Learning point 1: Hearing the child" in sections
    assert "Learning point 1: Hearing the child › R1" in sections
    assert "Learning point 2: Escalation › R2" in sections
    # A progress line is part of the item above, never the title of the next one.
    assert not any("Progress rating" in s for s in sections)
    recs = {s: r for s, k, r in got if k == "recommendation"}
    assert recs["Learning point 1: Hearing the child › R1"] == (
        "The Partnership should ask every school to record what a child says in the child's words."
    )
    r2 = [c for c in _chunks(LEARNING_POINTS) if c.section.endswith("R2")][0]
    assert "Briefings on escalation" in r2.text and "Progress rating: Amber" in r2.text
    assert "Briefings on escalation" not in r2.rec_text


UNDERLINED = """ELMSTEAD CHILD PRACTICE REVIEW

This fictional review was written for a test.

4. What we learned about working with families
-----------------------------------------------

Learning 1: Fathers were not seen. No agency asked who else lived in the home or met the father.

5. Actions for the Board and its members
========================================

Action 1: The Board should publish guidance on including fathers in every assessment.

Action 2 (Learning 1): Health visitors should ask at every contact who else cares for the baby.
"""


def test_underlined_headings_end_the_item_above_them():
    got = _sections(UNDERLINED)
    sections = [s for s, _, _ in got]
    assert "5. Actions for the Board and its members" in sections
    # The actions follow a heading of their own, so they do not nest under the learning.
    assert "Action 1" in sections and "Action 2" in sections
    kinds = {s: k for s, k, _ in got}
    assert kinds["Learning 1"] == "finding" and kinds["Action 1"] == "recommendation"
    recs = {s: r for s, _, r in got}
    assert recs["Action 2"].startswith("Health visitors should ask")


TABLE = """# Action plan

This fictional action plan was written for a test.

| No. | Recommendation | Lead agency | Progress |
|---|---|---|---|
| 1 | The Partnership should audit the use of chronologies. | Children's Services | Amber |
| 1 | (continued) | Health | Green – done |
| 2 | Schools should record every request to home educate. | Education | Green – complete |

## Sign-off

Agreed by the partnership executive.
"""


def test_a_table_row_is_one_item_with_its_column_names():
    chunks = [c for c in _chunks(TABLE) if c.kind == "recommendation"]
    assert [c.section for c in chunks] == ["Recommendation 1", "Recommendation 2"]
    first, second = chunks
    assert first.rec_text == "The Partnership should audit the use of chronologies."
    # The continuation row stays with its row; the header names travel as searchable context.
    assert "Green – done" in first.text
    assert "Lead agency: Children's Services" in first.context
    assert "Progress: Green – complete" in second.context
    assert second.rec_text == "Schools should record every request to home educate."


def test_a_wrapped_prose_line_is_not_an_item():
    text = (
        "The panel met in March.\nIt agreed that the board would review\n"
        "Recommendation 3. The board agreed to do so within a year, and reported back.\n"
    )
    assert all(k != "recommendation" for _, k, _ in _sections(text))


def test_a_word_document_keeps_its_headings_and_table_rows(tmp_path):
    from docx import Document as WordDocument

    from rag.ingest.reading import read_document

    doc = WordDocument()
    doc.add_paragraph("This fictional review was written for a test.")
    doc.add_heading("Practice review: Child Y", level=0)
    doc.add_heading("3. Findings", level=1)
    doc.add_heading("3.1 Finding 1: Nobody asked about the lodger", level=2)
    doc.add_paragraph("The family's lodger was never named in any assessment of the home.")
    doc.add_heading("4. Recommendations", level=1)
    table = doc.add_table(rows=2, cols=3)
    for cell, value in zip(table.rows[0].cells, ["Recommendation", "Lead agency", "Response"]):
        cell.text = value
    row = ["Recommendation 1: Assessments should name every adult in the home.", "Police", "Done"]
    for cell, value in zip(table.rows[1].cells, row):
        cell.text = value
    path = tmp_path / "child-y.docx"
    doc.save(path)

    got = read_document(path, {}, Settings())
    chunks = chunk_document(got, Settings())
    by_section = {c.section: c for c in chunks}
    assert by_section["Finding 1: Nobody asked about the lodger"].kind == "finding"
    rec = by_section["Recommendation 1"]
    assert rec.rec_text == "Assessments should name every adult in the home."
    assert "Lead agency: Police" in rec.context
    assert got.text[rec.rec_start : rec.rec_end] == rec.rec_text


def test_a_file_that_is_not_a_word_document_is_a_clear_error(tmp_path):
    from rag.core.errors import CorruptDocument
    from rag.ingest.reading import read_document

    path = tmp_path / "broken.docx"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(CorruptDocument, match="broken.docx"):
        read_document(path, {}, Settings())


def _role_texts(chunk) -> list[tuple[str, str]]:
    return [(r, chunk.text[a - chunk.start : b - chunk.start].strip()) for a, b, r in chunk.roles]


def test_each_span_of_an_item_has_its_role():
    r2 = [c for c in _chunks(LEARNING_POINTS) if c.section.endswith("R2")][0]
    roles = _role_texts(r2)
    assert [r for r, _ in roles] == ["recommendation", "response", "progress"]
    # The spans cover the chunk: every offset has a role.
    assert all(r2.role_at(o) != "other" for o in range(r2.start, r2.end))
    assert roles[0][1] == "R2: " + r2.rec_text  # the label is part of the item
    assert roles[1][1].startswith("Response") and "Briefings on escalation" in roles[1][1]
    assert roles[2][1].startswith("Progress rating: Amber")


SECTION_ROLES = """# Review of Child T

## Background

T lived with her mother and two brothers.

## What went well

The school nurse saw T every week and wrote down what T said.

## Reflective questions

How do you record what a child tells you in their own words?
"""


def test_a_part_named_by_its_heading_gives_its_text_that_role():
    by_section = {c.section: {r for _, _, r in c.roles} for c in _chunks(SECTION_ROLES)}
    assert by_section["Background"] == {"background"}
    assert by_section["What went well"] == {"good_practice"}
    assert by_section["Reflective questions"] == {"reflective_question"}


def test_roles_survive_the_index(tmp_path):
    from rag.index.records import chunk_from_record, chunk_metadata

    r2 = [c for c in _chunks(LEARNING_POINTS) if c.section.endswith("R2")][0]
    md = chunk_metadata(r2, DocMeta("synthetic", "Synthetic review"))
    assert chunk_from_record(r2.id, r2.text, md).roles == r2.roles


RESPONSE_PART = """# Review of Child M

## Findings

Finding 1: The school did not share its worries about M's attendance.

The health trust provided the following response:

All school nurses now attend the monthly attendance meeting and record what they share.
"""


def test_a_response_part_outside_any_item_is_a_response():
    chunk = next(c for c in _chunks(RESPONSE_PART) if c.kind == "response")
    assert {r for _, _, r in chunk.roles} == {"response"}
    assert "monthly attendance meeting" in chunk.text


CONTENTS = """# Overview report: Child Q

## Contents

1. Introduction .................................... 2
2. The review process ..................... 3
3. What happened . . . . . . . . . . . . . . 4
4. Findings …………………………… 6
5. Recommendations ........................... 9

## 1. Introduction

1.1 The review looked at how agencies worked with Child Q and her grandmother.

## 5. Recommendations

Recommendation 1: The partnership should audit how kinship carers are assessed.
"""


def test_a_contents_page_is_not_a_passage_but_its_sections_are():
    chunks = _chunks(CONTENTS)
    assert not [c for c in chunks if "...." in c.text or "…" in c.text or ". . ." in c.text]
    sections = [c.section for c in chunks]
    assert "1. Introduction" in sections and sections[-1] == "Recommendation 1"
    assert "kinship carers" in chunks[-1].text


def test_prose_with_an_ellipsis_or_a_page_reference_is_kept():
    text = (
        '## Background\n\nThe mother said she was "fine... just tired" and the visit ended. '
        'The chronology (see page 4) shows three visits. Staff wrote "not brought...." twice.\n'
    )
    assert any("just tired" in c.text for c in _chunks(text))
