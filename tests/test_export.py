"""Briefing exports: every quote verbatim in its source, real Word headings, two printed pages."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tomllib
from dataclasses import replace
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document

from rag.answer.verify import contains
from rag.trainer.briefing import NOTICE, POINTS, build
from rag.trainer.export import md_escape, render, role_label, to_docx, to_html, to_markdown

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
ARTIFACTS = ROOT / "tests" / "artifacts"
TOPICS = ["safe sleep", "information sharing", "young parents", "cybersecurity of school networks"]
# CommonMark: a backslash before ASCII punctuation stands for the character itself.
_MD_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# A quote, after the role of its span when the point's title does not already say it.
_QUOTE = re.compile(
    r"^(?:(?P<label>[A-Z][a-z ]+): )?\u201c(?P<text>.*)\u201d\s*\[(?P<n>\d+)\]$", re.S
)
_MD_LABEL = re.compile(r"^> \*\*([A-Z][a-z ]+):\*\* (?=\u201c)")
SEVEN = [f"{n}. {title}" for n, title in enumerate(POINTS, 1)]


@cache
def corpus_text(doc_id: str) -> str:
    name = f"{doc_id}.toml" if doc_id == "catalog" else f"{doc_id}.md"
    return (CORPUS / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def briefings(topic_search):
    return {t: build(topic_search, t) for t in TOPICS}


def assert_verbatim(b, found: list[tuple[str, int, str]]) -> None:
    """Each (quote, endnote number, label) is verbatim in the document its endnote cites, and
    labelled with its span's role unless its point's title says it."""
    assert len(found) == len(b.items)
    for text, n, _ in found:
        source = b.sources[n - 1]
        assert contains(corpus_text(source.document), text), (source.document, text)
    assert [t for t, _, _ in found] == [i.text for i in b.items]
    labels = [role_label(p, i) for p in b.points for i in p.items]
    assert [label for _, _, label in found] == labels


def markdown_quotes(md: str) -> list[tuple[str, int, str]]:
    out = []
    for line in md.splitlines():
        labelled = _MD_LABEL.match(line)
        if line.startswith("> \u201c") or labelled:
            body = f"{labelled[1]}: {line[labelled.end() :]}" if labelled else line[2:]
            m = _QUOTE.match(_MD_UNESCAPE.sub(r"\1", body))
            assert m, line
            out.append((m["text"], int(m["n"]), m["label"] or ""))
    return out


def docx_quotes(doc) -> list[tuple[str, int, str]]:
    out = []
    for p in doc.paragraphs:
        if p.style.name == "Quote":
            m = _QUOTE.match(p.text)
            assert m, p.text
            out.append((m["text"], int(m["n"]), m["label"] or ""))
    return out


class _Blockquotes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth = 0
        self.quotes: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "blockquote":
            self.depth += 1
            self.quotes.append("")
        if tag in ("script", "style") and self.depth:
            raise AssertionError("markup inside a quote")

    def handle_endtag(self, tag):
        if tag == "blockquote":
            self.depth -= 1

    def handle_data(self, data):
        self.text.append(data)
        if self.depth:
            self.quotes[-1] += data


def html_quotes(page: str) -> list[tuple[str, int, str]]:
    parser = _Blockquotes()
    parser.feed(page)
    out = []
    for q in parser.quotes:
        m = _QUOTE.match(q.strip())
        assert m, q
        out.append((m["text"], int(m["n"]), m["label"] or ""))
    return out


@pytest.mark.parametrize("topic", TOPICS)
def test_every_quote_in_every_export_is_verbatim(briefings, topic):
    b = briefings[topic]
    assert_verbatim(b, markdown_quotes(to_markdown(b)))
    assert_verbatim(b, docx_quotes(Document(io.BytesIO(to_docx(b)))))
    assert_verbatim(b, html_quotes(to_html(b)))


def test_docx_opens_with_real_headings_quotes_and_endnotes(briefings):
    b = briefings["safe sleep"]
    doc = Document(io.BytesIO(render(b, "docx")))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for stem in SEVEN:
        assert sum(h.startswith(stem) for h in headings) == 1, stem
    assert headings.index(next(h for h in headings if h.startswith(SEVEN[0]))) == 0
    assert "Questions for reflection" in headings and headings[-1] == "Sources"
    assert [p.style.name for p in doc.paragraphs][0] == "Title"
    assert len(docx_quotes(doc)) == len(b.items)
    endnotes = [p.text for p in doc.paragraphs if re.match(r"\[\d+\] ", p.text)]
    assert endnotes == [f"[{n}] {s.cite()}" for n, s in enumerate(b.sources, 1)]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "not quotes from the reviews" in text
    assert all(q in text for q in b.questions)


def test_markdown_has_the_seven_headings_and_sources(briefings):
    b = briefings["safe sleep"]
    md = to_markdown(b)
    heads = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    for stem in SEVEN:
        assert any(_MD_UNESCAPE.sub(r"\1", h).startswith(stem) for h in heads), stem
    assert heads[-2:] == ["Questions for reflection", "Sources"]
    for n, s in enumerate(b.sources, 1):
        assert f"{n}. {md_escape(s.cite())}" in md


@pytest.mark.parametrize("fmt", ["md", "docx", "html"])
def test_too_little_material_notice_in_every_format(briefings, fmt):
    b = briefings["cybersecurity of school networks"]
    data = render(b, fmt)
    if fmt == "docx":
        text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    else:
        text = data.decode("utf-8")
    assert NOTICE in text
    assert "Sources" not in text


def test_document_text_is_escaped(briefings):
    b = briefings["safe sleep"]
    evil = replace(b, topic="<script>alert(1)</script> [x](javascript:y) *z*", agency="<b>A</b>")
    page = to_html(evil)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>A</b>" not in page
    md = to_markdown(evil)
    assert "\\<script\\>" in md and "\\[x\\]" in md and "\\*z\\*" in md


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("chromium is not installed; `make test` installs it (apt-get install chromium)")
    return path


def _run_chromium(tmp: Path, *args: str) -> None:
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("topic", ["safe sleep", "information sharing"])
def test_html_renders_in_headless_chromium_on_two_a4_sides(briefings, topic, tmp_path):
    from pypdf import PdfReader

    b = briefings[topic]
    page = tmp_path / "briefing.html"
    page.write_text(to_html(b), encoding="utf-8")
    pdf = tmp_path / "briefing.pdf"
    _run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    reader = PdfReader(pdf)
    assert 1 <= len(reader.pages) <= 2, f"{len(reader.pages)} pages"
    width, height = (float(x) for x in reader.pages[0].mediabox[2:])
    assert abs(width - 595) < 3 and abs(height - 842) < 3, "not A4"
    printed = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for stem in (*SEVEN, "Sources"):
        assert stem in printed, stem

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"briefing-{topic.replace(' ', '-')}.png"
    shot.unlink(missing_ok=True)
    size = "--window-size=794,1123"  # one A4 side at 96 dpi
    _run_chromium(tmp_path, "--hide-scrollbars", size, f"--screenshot={shot}", page.as_uri())
    assert shot.stat().st_size > 20_000


@pytest.fixture()
def cli_pipeline(monkeypatch, pipeline):
    """The `rag` command run against the session index (its own seam for building a pipeline)."""
    import rag.cli

    monkeypatch.setattr(rag.cli, "_assistant", lambda settings: pipeline)
    return rag.cli.cli


def test_cli_writes_a_cited_word_briefing(cli_pipeline, tmp_path):
    from click.testing import CliRunner

    out = tmp_path / "safe-sleep.docx"
    result = CliRunner().invoke(cli_pipeline, ["briefing", "safe sleep", "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = Document(str(out))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert all(any(h.startswith(stem) for h in headings) for stem in SEVEN)
    endnotes = [p.text for p in doc.paragraphs if re.match(r"\[\d+\] ", p.text)]
    titles = {v["title"]: k for k, v in tomllib.loads(corpus_text("catalog")).items()}
    quotes = docx_quotes(doc)
    assert quotes
    for text, n, _ in quotes:
        doc_id = next(d for t, d in titles.items() if endnotes[n - 1].startswith(f"[{n}] {t}"))
        assert contains(corpus_text(doc_id), text), (doc_id, text)
    assert any("Baby Sally" in e for e in endnotes) and any("Child P" in e for e in endnotes)


def test_cli_markdown_to_stdout_with_a_review_filter(cli_pipeline):
    from click.testing import CliRunner

    args = ["briefing", "information sharing", "--review", "Child P", "--format", "md"]
    result = CliRunner().invoke(cli_pipeline, args)
    assert result.exit_code == 0, result.output
    assert "# 7-minute briefing: information sharing" in result.stdout
    sources = result.stdout.split("## Sources")[1].strip().splitlines()
    assert sources and all("Child P" in line for line in sources)
    for text, _, _ in markdown_quotes(result.stdout):
        assert contains(corpus_text("hampshire-child-p-response"), text)


@pytest.mark.parametrize(
    "args, message",
    [
        (["briefing", "safe sleep", "--format", "docx"], "needs a file"),
        (["briefing", "safe sleep", "-o", "x.pdf"], "cannot tell the format"),
        (["briefing", "safe sleep", "--review", "Child Q", "-o", "x.md"], "no such review"),
        (["briefing", "   ", "-o", "x.md"], "topic is empty"),
    ],
)
def test_cli_refuses_bad_requests_with_a_message(cli_pipeline, tmp_path, args, message):
    from click.testing import CliRunner

    args = [a if a not in ("x.pdf", "x.md") else str(tmp_path / a) for a in args]
    result = CliRunner().invoke(cli_pipeline, args)
    assert result.exit_code == 2
    assert message in result.output
