"""Tests for rag.ingest.chunking: sections, rec/response separation, splitting, invariants."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from rag.core.models import Chunk, DocMeta, Document
from rag.core.settings import Settings
from rag.ingest.chunking import SEP, chunk_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
STEMS = [
    "hampshire-child-p-response",
    "hampshire-baby-sally-response",
    "hampshire-child-z-response",
    "southampton-nai-thematic-briefing",
    "southampton-nai-thematic-response",
]
KINDS = {
    "recommendation",
    "finding",
    "introduction",
    "background",
    "key_themes",
    "key_learning",
    "good_practice",
    "response",
    "other",
}
WORDS = ["One", "Two", "Three", "Four", "Five", "Six", "Seven"]
HEADING = re.compile(
    r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?"
    r"(?P<label>(?:Recommendation|Finding)[ \t]+\w+)(?:\*\*)?:?[ \t]*$",
    re.M,
)
GROUP_LINE = re.compile(r"(?:#+\s*)?(?:\*\*)?(?:The\s+)?Recommendations(?:\s+for\s.+?)?(?:\*\*)?")


def load(stem: str) -> Document:
    path = CORPUS / f"{stem}.md"
    return Document(
        meta=DocMeta(id=stem, title=stem), text=path.read_text(encoding="utf-8"), path=str(path)
    )


def plain(text: str, doc_id: str = "synthetic") -> Document:
    return Document(meta=DocMeta(id=doc_id, title=doc_id), text=text)


@cache
def chunks_of(stem: str) -> tuple[Chunk, ...]:
    return tuple(chunk_document(load(stem), Settings()))


def by_section(stem: str) -> dict[str, list[Chunk]]:
    out: dict[str, list[Chunk]] = {}
    for c in chunks_of(stem):
        out.setdefault(c.section, []).append(c)
    return out


def rec_text(stem: str, section: str) -> str:
    """The recommendation text of a section, joined over its pieces."""
    return " ".join(c.rec_text for c in by_section(stem)[section] if c.rec_text)


def section_text(stem: str, section: str) -> str:
    return " ".join(c.text for c in by_section(stem)[section])


def base(section: str) -> str:
    """The section path without a trailing sub-item label such as ' › a)'."""
    return re.sub(rf"{re.escape(SEP)}\(?[a-z0-9]+\)$", "", section)


# --- Child P ---------------------------------------------------------------------------------

CHILD_P = "hampshire-child-p-response"
CHILD_P_GROUPS = {
    "Midwifery/Neonatal Services": 6,
    "Health Visitors": 3,
    "GP Services": 3,
    "Housing": 1,
    "Hampshire Safeguarding Children Partnership (HSCP)": 6,
}


def test_child_p_groups_and_recommendations():
    sections = [c.section for c in chunks_of(CHILD_P) if c.kind == "recommendation"]
    expected = [
        f"Recommendations for {group}{SEP}Recommendation {word}"
        for group, n in CHILD_P_GROUPS.items()
        for word in WORDS[:n]
    ]
    assert sections == expected
    assert sections.count(f"Recommendations for GP Services{SEP}Recommendation One") == 1


def test_child_p_gp_rec_one_separates_recommendation_from_response():
    (chunk,) = by_section(CHILD_P)[f"Recommendations for GP Services{SEP}Recommendation One"]
    assert chunk.text.startswith("Recommendation One:")
    assert chunk.rec_text.startswith("Training on the LSCP Unborn Baby Safeguarding Protocol")
    assert chunk.rec_text.endswith("as a situation evolves.")
    assert "The Clinical Commissioning Group (CCG)" not in chunk.rec_text
    assert "The Clinical Commissioning Group (CCG)" in chunk.text
    assert "Recommendation Two" not in chunk.text


def test_child_p_hard_wrapped_and_oddly_spaced_headings():
    sec = by_section(CHILD_P)
    mid = "Recommendations for Midwifery/Neonatal Services" + SEP
    # The first paragraph spans several hard-wrapped lines.
    one = sec[mid + "Recommendation One"][0].rec_text
    assert one.count("\n") == 2 and one.endswith("reviewed to compliment the protocol.")
    # "Recommendation Three:" is followed by several blank lines.
    three = sec[mid + "Recommendation Three"][0]
    assert three.rec_text.startswith("The Safeguarding Supervision Policy in the UHS Trust")
    assert "At UHS, a model" not in three.rec_text and "At UHS, a model" in three.text
    # " Recommendation Four:" has a leading space and no blank line before it.
    hscp = "Recommendations for Hampshire Safeguarding Children Partnership (HSCP)" + SEP
    four = sec[hscp + "Recommendation Four"][0]
    assert four.text.startswith("Recommendation Four:")
    assert "Recommendation Four" not in sec[hscp + "Recommendation Three"][0].text
    assert four.rec_text.startswith("Hampshire Safeguarding Children Partnership promote")
    assert not four.rec_text.endswith("HSCP raised this")


def test_child_p_introduction():
    intro = by_section(CHILD_P)["Introduction"]
    assert [c.kind for c in intro] == ["introduction"]
    assert intro[0].text.startswith("Hampshire Safeguarding Children Partnership")
    assert intro[0].text.endswith("(as outlined below).")
    assert intro[0].rec_text == ""


# --- Baby Sally ------------------------------------------------------------------------------

SALLY = "hampshire-baby-sally-response"


def test_baby_sally_recommendations_without_group_in_path():
    sections = [c.section for c in chunks_of(SALLY)]
    assert sections == ["Introduction"] + [f"Recommendation {w}" for w in WORDS]


def test_baby_sally_rec_and_response_are_separated():
    two = by_section(SALLY)["Recommendation Two"][0]
    assert two.rec_text.startswith("That all professionals (including foster carers)")
    assert "safe sleep protocols" in two.rec_text
    assert "Every Sleep Counts" not in two.rec_text
    assert "Every Sleep Counts" in two.text
    three = by_section(SALLY)["Recommendation Three"][0]
    assert "Children's Services have recently reviewed" not in three.rec_text
    assert "Alongside the work completed" in three.text
    seven = by_section(SALLY)["Recommendation Seven"][0]
    assert seven.text.endswith("'BadgerNet'.")


# --- Child Z ---------------------------------------------------------------------------------

CHILD_Z = "hampshire-child-z-response"


def test_child_z_findings_in_order():
    findings = [base(c.section) for c in chunks_of(CHILD_Z) if c.kind == "finding"]
    assert list(dict.fromkeys(findings)) == [f"Finding {w}" for w in WORDS]
    assert not any("Recommendations" in c.section for c in chunks_of(CHILD_Z))
    assert not any("to consider" in c.section for c in chunks_of(CHILD_Z))


def test_child_z_finding_five_sub_items_are_covered():
    doc = load(CHILD_Z)
    five = [c for c in chunks_of(CHILD_Z) if base(c.section) == "Finding Five"]
    start = doc.text.index("### **Finding Five**")
    end = doc.text.index("# Finding Six")
    items = [m.start() for m in re.finditer(r"^(?:- )?[a-g]\) ", doc.text[start:end], re.M)]
    assert len(items) == 8
    for at in items:
        assert any(c.start <= start + at < c.end for c in five)
    labels = [c.section.split(SEP)[-1] for c in five]
    assert labels[:7] == ["a)", "b)", "c)", "d)", "e)", "f)", "g)"]
    first = five[0]
    assert first.text.startswith("### **Finding Five**")
    assert "There is insufficient professional understanding" in first.rec_text
    assert "NHS England to assure themselves that:" in first.text
    assert "a) The MBU (in this case)" in first.text
    # The lead-in "SSCB to consider:" travels with the item it introduces.
    assert five[-1].text.startswith("SSCB to consider:")
    assert "How to facilitate those making referrals" in five[-1].rec_text


def test_child_z_findings_have_no_response_so_rec_is_whole_body():
    (three,) = by_section(CHILD_Z)["Finding Three"]
    assert three.rec_text.startswith("When a pregnant woman")
    assert "HSCB and SSCB to consider:" in three.rec_text
    assert three.rec_text.endswith("over or mis-using health services.")
    (seven,) = by_section(CHILD_Z)["Finding Seven"]
    assert seven.rec_text.endswith("careful and delicate probing.")


def test_child_z_partner_statements_are_responses():
    responses = [c for c in chunks_of(CHILD_Z) if c.kind == "response"]
    assert [c.section.split(" (")[0] for c in responses] == [
        "Hampshire Safeguarding Children Partnership",
        "NHS England",
        "Southern Health Foundation Trust",
        "Surrey Safeguarding Children Partnership",
    ]
    for c in responses:
        assert "#" not in c.section and "*" not in c.section and not c.section.endswith(":")
        assert c.rec_text == ""
    assert "Fabricated and Induced Illness" in responses[0].text
    assert "Family Safeguarding Model" in responses[3].text
    assert "Since the review was initiated" not in responses[2].text


# --- Thematic response -----------------------------------------------------------------------

THEMATIC = "southampton-nai-thematic-response"


def test_thematic_response_has_each_recommendation_exactly_once():
    recs = [c for c in chunks_of(THEMATIC) if c.kind == "recommendation"]
    assert {c.section for c in recs} == {f"Recommendation {i}" for i in range(1, 11)}
    assert [c.section for c in recs if c.rec_text] == [f"Recommendation {i}" for i in range(1, 11)]
    assert {c.section for c in chunks_of(THEMATIC)} - {c.section for c in recs} == {"Introduction"}


def test_thematic_response_bold_recommendation_text():
    three = rec_text(THEMATIC, "Recommendation 3")
    assert three.startswith("Police Officers attending incidents of domestic abuse")
    assert "Hampshire Constabulary has developed" not in three
    assert "Hampshire Constabulary has developed" in section_text(THEMATIC, "Recommendation 3")
    ten = rec_text(THEMATIC, "Recommendation 10")
    assert ten.startswith("The Safeguarding Partnership to ensure")
    assert "even if the criteria for a Section 47 referral" in ten
    assert "Solent NHS Trust" not in ten
    five = rec_text(THEMATIC, "Recommendation 5")
    assert "(c) When undertaking any assessment" in five
    assert "This recommendation has ensured" not in five
    one = rec_text(THEMATIC, "Recommendation 1")
    assert one.startswith("(a) All agencies") and "Agency training programs" not in one
    four = rec_text(THEMATIC, "Recommendation 4")
    assert "Integrated Commissioning Unit" not in four
    for c in chunks_of(THEMATIC):
        assert not c.rec_text.startswith(("**", "-")) and not c.rec_text.endswith("**")


# --- Briefing --------------------------------------------------------------------------------

BRIEFING = "southampton-nai-thematic-briefing"


def test_briefing_parts_and_kinds():
    kinds = {c.section: c.kind for c in chunks_of(BRIEFING)}
    assert kinds["Introduction"] == "introduction"
    assert kinds["The Background"] == "background"
    assert kinds["The Review"] == "background"
    assert kinds["Key Themes"] == "key_themes"
    assert kinds["Key Learning Points"] == "key_learning"
    assert kinds["Good Practice"] == "good_practice"
    assert kinds["Further reading and resources"] == "other"
    for i in range(1, 11):
        assert kinds[f"Recommendation {i}"] == "recommendation"
    assert not any("continued" in s or "The Recommendations" in s for s in kinds)
    assert "6 Step Briefing" in by_section(BRIEFING)["Introduction"][0].text


def test_briefing_key_learning_continued_shares_the_path():
    learning = section_text(BRIEFING, "Key Learning Points")
    assert "The need for professionals to recognise adolescent parents" in learning
    assert "should not be allocated to student social workers" in learning
    assert "Such changes in practice are to be commended" in learning
    assert all(len(c.text) > 200 for c in by_section(BRIEFING)["Key Learning Points"])


def test_briefing_recommendations_have_whole_body_as_rec():
    five = rec_text(BRIEFING, "Recommendation 5")
    assert five.startswith("Assurance needs to be provided")
    assert five.endswith("cannabis/substance use by a parent is taken into account.")
    two = rec_text(BRIEFING, "Recommendation 2")
    assert two.startswith("(a) Whilst dependent") and "(c) Police to continue" in two
    assert "Further reading" not in section_text(BRIEFING, "Recommendation 10")


# --- Invariants on every document ------------------------------------------------------------


@pytest.mark.parametrize("settings", [Settings(), Settings(chunk_size=400, chunk_overlap=50)])
@pytest.mark.parametrize("stem", STEMS)
def test_invariants(stem: str, settings: Settings):
    doc = load(stem)
    chunks = chunk_document(doc, settings)
    assert chunks
    for c in chunks:
        assert c.document == stem and c.kind in KINDS
        assert c.text == doc.text[c.start : c.end] and c.text == c.text.strip() and c.text
        assert len(c.text) <= settings.chunk_size + 10
        assert c.page is None
        assert re.fullmatch(r"[0-9a-f]{32}", c.id)
        if c.rec_start is not None:
            assert c.start <= c.rec_start < c.rec_end <= c.end
            assert c.rec_text == doc.text[c.rec_start : c.rec_end] == c.rec_text.strip()
            assert not HEADING.match(c.rec_text.split("\n")[0])
        assert c.section and "#" not in c.section and "**" not in c.section
    assert len({c.id for c in chunks}) == len(chunks)
    assert [c.id for c in chunk_document(doc, settings)] == [c.id for c in chunks]
    # Chunks come in document order and overlap only by the splitter's overlap, within a section.
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.start < b.start
        if b.start < a.end:
            assert a.section == b.section and a.end - b.start <= settings.chunk_overlap
    # Every recommendation or finding heading opens a chunk with that label in its path.
    for m in HEADING.finditer(doc.text):
        label = m["label"]
        at = m.start("label")
        assert any(c.start <= at < c.end and label in c.section for c in chunks), label
    # Nothing is lost except bare group headings such as "Recommendations for Housing".
    covered = bytearray(len(doc.text))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    lost = "".join(ch if not covered[i] else "\n" for i, ch in enumerate(doc.text))
    for line in filter(None, (x.strip() for x in lost.splitlines())):
        assert GROUP_LINE.fullmatch(line), line


def test_small_chunk_size_keeps_recommendation_in_first_piece():
    chunks = chunk_document(load(SALLY), Settings(chunk_size=400, chunk_overlap=50))
    two = [c for c in chunks if c.section == "Recommendation Two"]
    assert len(two) > 1
    assert two[0].text.startswith("Recommendation Two:")
    assert "safe sleep protocols" in two[0].rec_text
    assert all("Every Sleep Counts" not in c.rec_text for c in two)


def test_ids_are_content_hashes():
    doc = load(SALLY)
    before = chunk_document(doc, Settings())
    edited = doc.text.replace("'BadgerNet'", "'BadgerNot'")
    after = chunk_document(plain(edited, doc.id), Settings())
    assert [c.id for c in before[:-1]] == [c.id for c in after[:-1]]
    assert before[-1].id != after[-1].id
    other = chunk_document(plain(doc.text, "another-id"), Settings())
    assert not {c.id for c in before} & {c.id for c in other}


def test_page_numbers_come_from_the_document():
    doc = load(SALLY)
    second = doc.text.index("Recommendation Four:")
    paged = Document(meta=doc.meta, text=doc.text, page_starts=(0, second))
    pages = {c.section: c.page for c in chunk_document(paged, Settings())}
    assert pages["Recommendation Three"] == 1 and pages["Recommendation Four"] == 2


# --- Other shapes ----------------------------------------------------------------------------


def test_plain_text_without_headings_is_still_chunked():
    text = " ".join(f"Sentence number {i} says something about practice." for i in range(200))
    chunks = chunk_document(plain(text), Settings())
    assert len(chunks) > 1
    assert {(c.section, c.kind) for c in chunks} == {("Text", "other")}
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for c in chunks:
        assert c.text == text[c.start : c.end] and len(c.text) <= Settings().chunk_size


@pytest.mark.parametrize("text", ["", "  \n\n \t\n"])
def test_empty_text_gives_no_chunks(text: str):
    assert chunk_document(plain(text), Settings()) == []


def test_heading_shapes():
    text = "\n\n".join(
        [
            "Some Review Title",
            "This document is the partnership's response to the review.",
            "### Recommendation 1",
            "Agencies should do one thing.",
            "The board accepted the\nrecommendations for the\nservice and agreed.",
            "## **Recommendation 2**",
            "**Agencies should do a second thing.**",
            "The police have done it.",
            "Recommendation Three:\n\n\n",
            "Agencies should do a third thing.",
            "Recommendations for Police Services",
            " Recommendation Four:\nOfficers should be curious.",
            "Training has been delivered.",
            "Recommendation 5: Agencies should share information about fathers.",
            "The CCG agrees.",
            "# Finding Two",
            "There is a finding.",
            "#### **Finding Three**",
            "Another finding.",
            "Good Practice",
            "- Someone did well.",
        ]
    )
    chunks = chunk_document(plain(text), Settings())
    got = [(c.section, c.kind, c.rec_text) for c in chunks]
    assert "recommendations for the" in chunks[1].text
    assert got == [
        ("Introduction", "introduction", ""),
        ("Recommendation 1", "recommendation", "Agencies should do one thing."),
        ("Recommendation 2", "recommendation", "Agencies should do a second thing."),
        ("Recommendation Three", "recommendation", "Agencies should do a third thing."),
        (
            f"Recommendations for Police Services{SEP}Recommendation Four",
            "recommendation",
            "Officers should be curious.",
        ),
        (
            f"Recommendations for Police Services{SEP}Recommendation 5",
            "recommendation",
            "Agencies should share information about fathers.",
        ),
        ("Finding Two", "finding", "There is a finding."),
        ("Finding Three", "finding", "Another finding."),
        ("Good Practice", "good_practice", ""),
    ]


def test_long_finding_splits_at_sub_items():
    items = "\n".join(f"- {x}) " + f"Item {x} asks agencies to act. " * 12 for x in "abcde")
    text = f"# Finding One\n\nThe lead text of the finding.\n\nSSCB to consider:\n\n{items}\n"
    chunks = chunk_document(plain(text), Settings(chunk_size=800, chunk_overlap=50))
    assert [c.section for c in chunks] == [f"Finding One{SEP}{x})" for x in "abcde"]
    assert chunks[0].text.startswith("# Finding One") and "The lead text" in chunks[0].rec_text
    assert "SSCB to consider:" in chunks[0].text and "Item a asks" in chunks[0].text
    assert all(c.rec_text for c in chunks)
