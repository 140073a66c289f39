"""PDF intake: real PDFs made with fpdf2 from corpus text, read back through rag.ingest.reading."""

from __future__ import annotations

import re

import pytest

from rag.ingest import pdf
from rag.ingest.catalog import load_catalog
from rag.ingest.chunking import chunk_document
from rag.ingest.pdf import Line
from rag.ingest.reading import read_document
from rag.ingest.tables import table_rows
from tests.conftest import CORPUS, make_settings
from tests.pdf_factory import HEADER, write_layout, write_lines, write_pages

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
    catalog = load_catalog(settings.corpus_dir, settings.catalog_file).entries
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
    from rag.assistant import Assistant

    _, _, _, pages = child_p
    folder = tmp_path / "pdfs"
    folder.mkdir()
    write_lines(CHILD_P.read_text(encoding="utf-8"), folder / f"{CHILD_P.stem}.pdf")
    pipe = Assistant(make_settings(tmp_path), embedder=embedder)
    report = pipe.ingest([folder])
    assert report.sync.added == (CHILD_P.stem,) and not report.failures
    section = "Recommendations for GP Services › Recommendation Three"
    answer = pipe.ask("What was the third recommendation for GP services in the Child P review?")
    assert not answer.abstained, answer.text
    cited = [c for c in answer.citations if c.hit.chunk.section == section]
    assert cited and cited[0].page == pages[section]
    doc = pipe.store.document(CHILD_P.stem)
    assert doc.page_starts and doc.page_at(cited[0].quote.start) == pages[section]


# Layout cues: synthetic pages written with fpdf2, read back through rag.ingest.reading.

PROSE = (
    "Practitioners described how the family moved between three addresses in the year before "
    "the incident, and how each move meant a new health visitor and a new school. "
)
TABLE = [
    ("No.", "Recommendation", "Lead agency"),
    (
        "1",
        "The partnership should ensure that fathers are seen at every health contact in the "
        "first year of a baby's life",
        "Health",
    ),
    ("2", "Schools should record each move between addresses", "Education"),
    ("3", "Housing officers should share concerns about temporary accommodation", "Housing"),
]


def _layout(tmp_path, blocks, **kw):
    out = tmp_path / "layout.pdf"
    write_layout(blocks, out, **kw)
    return read_document(out, {}, make_settings(tmp_path))


def _unmarked(text: str) -> str:
    """The text without heading marks, wrapping undone: the body words alone."""
    return _flat(re.sub(r"(?m)^#{1,6} ", "", text))


def test_larger_lines_are_headings_ranked_by_size(tmp_path):
    doc = _layout(
        tmp_path,
        [
            ("heading", "Learning from the review", 16),
            ("para", PROSE * 2),
            ("heading", "What happened to the family", 13),
            ("para", PROSE * 2),
        ],
    )
    paragraphs = doc.text.split("\n\n")
    assert paragraphs[0] == "# Learning from the review"
    assert paragraphs[2] == "## What happened to the family"
    # Only marks and breaks are added: the words are the page's words.
    assert _unmarked(doc.text) == _flat(
        f"Learning from the review {PROSE * 2} What happened to the family {PROSE * 2}"
    )


def test_a_wrapped_heading_is_one_heading(tmp_path):
    long = "Finding 2: the father was not seen by any of the services that visited the home"
    doc = _layout(tmp_path, [("heading", long, 16), ("para", PROSE * 2)])
    assert doc.text.split("\n\n")[0] == f"# {long}"


def test_a_bold_line_standing_alone_is_a_heading(tmp_path):
    doc = _layout(tmp_path, [("para", PROSE * 2), ("bold", "Information sharing"), ("para", PROSE)])
    assert "\n\n### Information sharing\n\n" in doc.text


def test_bold_text_that_reads_on_is_not_a_heading(tmp_path):
    doc = _layout(
        tmp_path,
        [
            ("para", PROSE * 2),
            ("bold", "The review found that the plan was agreed."),
            ("para", PROSE),
            ("bold", "Key messages for"),
            ("para", "practitioners follow in the briefing that accompanies this report."),
        ],
    )
    assert "#" not in doc.text


def test_a_heading_at_the_top_of_a_page_starts_that_page(tmp_path):
    doc = _layout(
        tmp_path,
        [("para", PROSE * 2), ("page",), ("heading", "Recommendations", 15), ("para", PROSE)],
    )
    assert doc.page_starts[1] == doc.text.index("# Recommendations")


def test_a_table_is_one_line_per_row_with_wrapped_cells_joined(tmp_path):
    doc = _layout(tmp_path, [("para", PROSE * 2), ("table", TABLE, (15, 60, 25)), ("para", PROSE)])
    rows = [" | ".join(row) for row in TABLE]
    # pypdf renders a justified cell's wider word spaces as two spaces.
    assert "\n\n" + "\n".join(rows) + "\n\n" in re.sub(r"(?<=\S)  (?=\S)", " ", doc.text)
    # The row is a unit downstream: a recommendation with its lead agency as context.
    found = table_rows(doc.text, _line_spans(doc.text))
    assert [r.label for r in found] == ["Recommendation 1", "Recommendation 2", "Recommendation 3"]
    assert "Lead agency: Health" in found[0].context


def test_a_table_continued_under_its_repeated_header_keeps_its_last_row(tmp_path):
    last = ("4", "Health visitors should ask who else lives in the home at each visit", "Health")
    doc = _layout(
        tmp_path,
        [
            ("para", PROSE),
            ("table", TABLE, (15, 60, 25)),
            ("page",),
            ("table", [TABLE[0], last], (15, 60, 25)),
            ("para", "The panel met again in the spring to agree the action plan."),
        ],
    )
    found = table_rows(doc.text, _line_spans(doc.text))
    assert [r.label for r in found] == [f"Recommendation {n}" for n in range(1, 5)]
    assert "Lead agency: Health" in found[-1].context
    # A header and one row never seen before is not a table: it is as likely a form or a
    # signature block.
    alone = _layout(tmp_path, [("para", PROSE), ("table", [TABLE[0], last], (15, 60, 25))])
    assert " | " not in alone.text


@pytest.mark.parametrize("interleave", [False, True], ids=["column-by-column", "line-by-line"])
def test_a_two_column_page_reads_the_left_column_then_the_right(tmp_path, interleave):
    sentences = [f"Sentence {i} of the briefing is written in columns here." for i in range(60)]
    doc = _layout(
        tmp_path,
        [("heading", "Learning briefing", 16), ("columns", " ".join(sentences), 100)],
        interleave=interleave,
    )
    assert doc.text.startswith("# Learning briefing\n\n")
    at = [doc.text.index(s) for s in sentences]
    assert at == sorted(at)
    assert _unmarked(doc.text) == _flat(" ".join(["Learning briefing", *sentences]))


def test_plain_prose_is_neither_a_table_nor_headings(tmp_path):
    pairs = [("Author:", "Independent reviewer"), ("Published:", "March 2020"), ("Type:", "LCSPR")]
    items = ["the chronology", "the learning event", "the family's views", "the panel's view"]
    emphasis = "The panel **agreed the findings** in full, and the board **accepted them** too. "
    doc = _layout(
        tmp_path,
        [
            ("pairs", pairs),
            ("para", PROSE * 2),
            ("bullets", items),
            ("para", emphasis * 4),
            ("bold", "The plan was agreed with the family."),
            ("para", PROSE),
        ],
    )
    assert "|" not in doc.text and "#" not in doc.text
    words = [*(f"{a} {b}" for a, b in pairs), PROSE * 2, *(f"• {i}" for i in items)]
    words += [emphasis.replace("**", "") * 4, "The plan was agreed with the family.", PROSE]
    assert _flat(doc.text) == _flat(" ".join(words))


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def test_a_footer_drawn_at_the_top_of_a_page_is_still_dropped():
    # Synthetic: page 2's content stream draws its footer before the body.
    topics = ["school", "health", "police", "housing"]
    bodies = [[Line(f"The {t} part, line {i}, reads as prose.") for i in range(3)] for t in topics]
    footer = [Line(f"PROTECT – page {n + 1} of 4") for n in range(4)]
    pages = [[Line("Overview report"), *bodies[n], footer[n]] for n in range(4)]
    pages[1] = [Line("Overview report"), footer[1], *bodies[1]]
    assert pdf.strip_running(pages) == bodies
