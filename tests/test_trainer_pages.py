"""The trainer pages under Streamlit's AppTest, against the session index of the real corpus."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.answer.verify import contains
from rag.trainer.briefing import NOTICE, POINTS
from rag.trainer.themes import PARTS

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
BRIEFING_PAGE = str(ROOT / "views" / "briefing_builder.py")
THEMES_PAGE = str(ROOT / "views" / "theme_explorer.py")
TIMEOUT = 600
# A rendered quote: “text” [n], with the page's markdown escapes.
_QUOTE = re.compile(
    r"^(?:> )?(?:\\\[\d+\\\] )?\u201c(?P<text>.*)\u201d(?: \\\[(?P<n>\d+)\\\])?$", re.S
)
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


@cache
def corpus_texts() -> tuple[str, ...]:
    return tuple(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.md")))


def quotes(at: AppTest) -> list[str]:
    out = []
    for md in at.markdown:
        m = _QUOTE.match(md.value)
        if m:
            out.append(_UNESCAPE.sub(r"\1", m["text"]))
    return out


def plain(markdown: str) -> str:
    return _UNESCAPE.sub(r"\1", markdown)


def verbatim(text: str) -> bool:
    return any(contains(doc, text) for doc in corpus_texts())


@pytest.fixture()
def env(monkeypatch, settings, pipeline):
    monkeypatch.setenv("RAG_VECTORSTORE_DIR", str(settings.vectorstore_dir))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("RAG_FEEDBACK_DB", str(settings.feedback_db))
    monkeypatch.delenv("RAG_CHROMA_URL", raising=False)
    monkeypatch.delenv("RAG_LLM", raising=False)


def build(topic: str) -> AppTest:
    at = AppTest.from_file(BRIEFING_PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    at.text_input(key="topic").input(topic)
    at.button(key="build").click().run()
    assert not at.exception, at.exception
    return at


def test_briefing_page_builds_previews_and_offers_three_downloads(env):
    at = build("safe sleep")
    assert any("7-minute briefing: safe sleep" in plain(h.value) for h in at.header)
    subheaders = [plain(s.value) for s in at.subheader]
    for n, title in enumerate(POINTS, 1):
        assert any(s.startswith(f"{n}. {title}") for s in subheaders), (n, title)
    assert "Questions for reflection" in subheaders and "Sources" in subheaders
    assert any("not quotes" in plain(c.value) for c in at.caption)
    shown = quotes(at)
    assert len(shown) >= 8
    assert all(verbatim(q) for q in shown)
    assert any("Baby Sally" in s for s in subheaders) and any("Child P" in s for s in subheaders)
    labels = sorted(d.label for d in at.download_button)
    assert labels == ["Download Markdown", "Download Print page (HTML)", "Download Word (.docx)"]
    assert not at.warning


def test_briefing_page_remove_and_edit(env):
    at = build("safe sleep")
    before = quotes(at)
    removes = [b for b in at.button if b.key and b.key.startswith("rm_")]
    assert len(removes) == len(before)
    removes[0].click().run()
    after = quotes(at)
    assert len(after) == len(before) - 1 and before[0] not in after

    edits = [t for t in at.text_area if t.key and t.key.startswith("edit_")]
    target = next(t for t in edits if len(t.value.split()) > 10)
    shorter = " ".join(target.value.split()[:6])
    key = target.key
    target.input(shorter)
    at.button(key=key.replace("edit_", "save_", 1)).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert shorter in quotes(at)

    target = next(t for t in at.text_area if t.key and t.key.startswith("edit_"))
    target.input(target.value + " Always.")
    at.button(key=target.key.replace("edit_", "save_", 1)).click().run()
    assert any("not word for word" in plain(e.value) for e in at.error)
    assert all(verbatim(q) for q in quotes(at))


def test_briefing_page_absent_topic_shows_the_notice(env):
    at = build("cybersecurity of school networks")
    assert any(NOTICE in plain(w.value) for w in at.warning)
    assert quotes(at) == []


def test_briefing_page_empty_topic_is_a_message_not_a_crash(env):
    at = build("   ")
    assert any("topic is empty" in plain(e.value) for e in at.error)


def test_theme_explorer_matrix_and_cell_quotes(env):
    at = AppTest.from_file(THEMES_PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    cells = [b for b in at.button if b.key and b.key.startswith("cell_")]
    reviews = 4
    assert len(cells) == 12 * reviews
    assert all(b.label.isdigit() for b in cells)
    headers = [plain(m.value) for m in at.markdown[: reviews + 1]]
    col = next(i for i, h in enumerate(headers) if "Baby Sally" in h) - 1
    row = 1  # safe sleep is the second theme in rag/data/themes.toml
    cell = at.button(key=f"cell_{row}_{col}")
    assert int(cell.label) >= 2
    cell.click().run()
    assert not at.exception, at.exception
    assert any(plain(s.value).startswith("safe sleep in Baby Sally") for s in at.subheader)
    shown = quotes(at)
    # Each passage gives at least its best sentence, under the part its span's role names.
    assert len(shown) >= int(cell.label)
    assert all(verbatim(q) for q in shown)
    assert any("Baby Sally" in plain(c.value) for c in at.caption)
    parts = [plain(m.value) for m in at.markdown if m.value.startswith("#### ")]
    assert parts and set(parts) <= {f"#### {t}" for t, _ in PARTS}

    at.button(key=f"theme_{row}").click().run()
    assert not at.exception, at.exception
    assert any(plain(s.value).startswith("safe sleep in every review") for s in at.subheader)
    assert len(quotes(at)) >= len(shown)
    assert all(verbatim(q) for q in quotes(at))
