"""PDF intake: real PDFs made with fpdf2 from corpus text, read back through rag.ingest."""

from __future__ import annotations

import re

import pytest

from rag import pdf
from rag.chunk import chunk_document
from rag.ingest import load_catalog, read_document
from rag.pdf import Line
from tests.conftest import CORPUS, make_settings
from tests.pdf_factory import HEADER, write_lines, write_pages

CHILD_P = CORPUS / "hampshire-child-p-response.md"


def _flat(text: str) -> str:
    """Text with wrapping undone: a hyphen at a line end joins; other whitespace is one space."""
    return re.sub(r"\s+", " ", re.sub(r"-[ \t]*\n\s*(?=[a-z])", "-", text)).strip()


@pytest.fixture(scope="module")
def child_p(tmp_path_factory):
    """The Child P review as .md and as a PDF with running headers, footers and page numbers."""
    tmp = tmp_path_factory.mktemp("childp")
    out = tmp / f"{CHILD_P.stem}.pdf"
    pages = write_lines(CHILD_P.read_text(encoding="utf-8"), out)
    settings = make_settings(tmp)
    catalog = load_catalog(settings.corpus_dir, settings.catalog_file)
    md = read_document(CHILD_P, catalog, settings)
    as_pdf = read_document(out, catalog, settings)
    return settings, md, as_pdf, pages


def test_pdf_chunks_match_the_markdown_chunks(child_p):
    settings, md, as_pdf, _ = child_p
    from_md, from_pdf = chunk_document(md, settings), chunk_document(as_pdf, settings)
    assert len(from_pdf) == len(from_md) >= 15
    for a, b in zip(from_md, from_pdf, strict=True):
        assert (b.section, b.kind) == (a.section, a.kind)
        assert _flat(b.text) == _flat(a.text)
        assert _flat(b.rec_text) == _flat(a.rec_text)


def test_pdf_text_is_paragraphs_not_wrapped_lines(child_p):
    _, md, as_pdf, _ = child_p
    assert _flat(as_pdf.text) == _flat(md.text)
    # Wrapped lines are rejoined: the first paragraph is one line in the PDF text.
    first = "This case was considered by the Hampshire Safeguarding Children Partnership"
    para = as_pdf.text[as_pdf.text.index(first) :].split("\n")[0]
    assert para.endswith("(the statutory guidance at the time).")
    # A word hyphenated at a line break keeps its hyphen when it is a compound.
    assert "This includes a decision-making flowchart" in as_pdf.text


def test_running_headers_footers_and_page_numbers_are_removed(child_p):
    _, _, as_pdf, _ = child_p
    assert len(as_pdf.page_starts) >= 3
    assert HEADER not in as_pdf.text
    assert not re.search(r"Page \d+ of \d+", as_pdf.text)


def test_page_numbers_of_known_recommendations(child_p):
    settings, _, as_pdf, pages = child_p
    assert len(set(pages.values())) >= 3, pages
    chunks = {c.section: c for c in chunk_document(as_pdf, settings)}
    for section, page in pages.items():
        assert chunks[section].page == page, section
        # The page starts are right too: the heading's own offset is on that page.
        rec = as_pdf.text.index(section.split(" › ")[-1], chunks[section].start)
        assert as_pdf.page_at(rec) == page


def test_page_starts_point_at_each_pages_first_line(tmp_path):
    out = tmp_path / "three.pdf"
    write_pages(
        [
            ["First page opening line.", "", "A paragraph that runs on to the"],
            ["second page without a break, and ends here.", "", "Second page own paragraph."],
            ["Third page line."],
        ],
        out,
    )
    doc = read_document(out, {}, make_settings(tmp_path))
    assert doc.text == (
        "First page opening line.\n\nA paragraph that runs on to the second page without a "
        "break, and ends here.\n\nSecond page own paragraph.\n\nThird page line."
    )
    for n, first in enumerate(["First page", "second page without", "Third page"], start=1):
        assert doc.page_at(doc.text.index(first)) == n
        assert doc.page_starts[n - 1] == doc.text.index(first)


def test_hyphenated_words_across_lines(tmp_path):
    out = tmp_path / "hyphen.pdf"
    wide = "x" * 70  # keeps each broken line at full width, so it reads as wrapped
    write_pages(
        [
            [
                f"The plan for {wide} safe-",
                "guarding was agreed at the meeting with the family and the school.",
                "",
                f"Agencies will co-ordinate multi-agency {wide} multi-",
                "agency work and decision making in the decision-",
                "making flowchart, as the safeguarding partners agreed in the review.",
            ]
        ],
        out,
    )
    text = read_document(out, {}, make_settings(tmp_path)).text
    assert "plan for " + wide + " safeguarding was agreed" in text
    assert wide + " multi-agency work" in text
    assert "in the decision-making flowchart" in text


def test_lines_at_page_edges_that_repeat_are_dropped():
    words = ["agency", "school", "health", "visitor", "midwife", "police", "housing", "GP"]
    bodies = [
        [
            Line(f"Recommendation {n + 1}: the {words[n]} service should act."),
            *(Line(f"The {words[n]} response, line {i}, reads as prose.") for i in range(2)),
        ]
        for n in range(5)
    ]
    # Odd and even pages with different running heads, as in printed reports.
    pages = [
        [
            Line("Hampshire SCP" if n % 2 else "Child P response"),
            Line("Child P SCR – published March 2022"),
            Line(f"{n + 1}"),
            *body,
            Line(f"- {n + 1} -"),
        ]
        for n, body in enumerate(bodies)
    ]
    assert pdf.strip_running(pages) == bodies


def test_a_single_page_keeps_its_first_and_last_lines():
    lines = [Line("Title of the report"), Line("Body of the report."), Line("Signed, the chair")]
    assert pdf.strip_running([lines]) == [lines]


def test_paragraph_gaps_and_short_lines():
    lines = [
        Line("Recommendation One:", 800),
        Line("A first wrapped line of the recommendation that is as wide as it can", 788),
        Line("go on the page, and its end.", 776),
        Line("A response paragraph after a wider gap, wide enough to fill its line", 750),
        Line("and its end.", 738),
    ]
    text, starts = pdf.clean_pages([lines])
    assert text == (
        "Recommendation One:\nA first wrapped line of the recommendation that is as wide as it "
        "can go on the page, and its end.\n\nA response paragraph after a wider gap, wide "
        "enough to fill its line and its end."
    )
    assert starts == (0,)


def test_pdf_citation_gives_the_page(tmp_path, embedder, child_p):
    """Asked about a recommendation, the answer from a PDF-only index cites its page."""
    from rag.pipeline import Pipeline

    _, _, _, pages = child_p
    folder = tmp_path / "pdfs"
    folder.mkdir()
    write_lines(CHILD_P.read_text(encoding="utf-8"), folder / f"{CHILD_P.stem}.pdf")
    pipe = Pipeline(make_settings(tmp_path), embedder=embedder)
    report = pipe.ingest([folder])
    assert report.sync.added == (CHILD_P.stem,) and not report.failures
    section = "Recommendations for GP Services › Recommendation Three"
    answer = pipe.ask("What was the third recommendation for GP services in the Child P review?")
    assert not answer.abstained, answer.text
    cited = [c for c in answer.citations if c.hit.chunk.section == section]
    assert cited and cited[0].page == pages[section]
    doc = pipe.store.document(CHILD_P.stem)
    assert doc.page_starts and doc.page_at(cited[0].quote.start) == pages[section]
