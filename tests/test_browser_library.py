"""In a real browser: upload a PDF review on the Library page, correct its review name in the
preview before it is added, add it, and ask about it in Chat; the answer quotes it and the
citation shows the corrected name and page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.pdf_factory import write_pages
from tests.test_browser import ANSWER_MS, ARTIFACTS, LOAD_MS, browser, send, serve  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [
    [
        "Overview report: Child K",
        "",
        "This fictional review was written for a browser test.",
        "Child K was four months old and lived with his parents.",
    ],
    [
        "Recommendation 1",
        "",
        "Midwives should ask both parents about smoking when they discuss safe sleep.",
    ],
]
QUESTION = "What should midwives ask parents about smoking when they discuss safe sleep?"


def test_upload_correct_and_ask(browser, tmp_path):  # noqa: F811
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pdf = tmp_path / "child-k-overview.pdf"
    write_pages(PAGES, pdf)
    env = {
        "RAG_CORPUS_DIR": str(corpus),
        "RAG_VECTORSTORE_DIR": str(tmp_path / "vectorstore"),
        "RAG_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
    }
    with serve(tmp_path, **env) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.goto(f"{url}/library")
        expect(page.get_by_text("The library is empty")).to_be_visible(timeout=LOAD_MS)
        page.locator('input[type="file"]').first.set_input_files(str(pdf))
        settled(page)
        page.get_by_role("button", name="Read the files").click()
        expect(page.get_by_text("Read child-k-overview")).to_be_visible(timeout=LOAD_MS)
        settled(page)
        # The preview: nothing is live yet; correct the review name, then add it.
        expect(page.get_by_text("Waiting to be checked: 1")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "library-preview.png"), full_page=True)
        review = page.get_by_label("Review name", exact=False).first
        review.fill("Child K (Northdale)")
        review.press("Tab")  # commits the typed text before the button is pressed
        settled(page)
        page.get_by_role("button", name="Add to the library").click()
        expect(page.get_by_text("Added: child-k-overview")).to_be_visible(timeout=LOAD_MS)
        settled(page)
        expect(page.get_by_text("Waiting to be checked")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "library.png"), full_page=True)

        page.get_by_test_id("stSidebarNavLink").filter(has_text="Chat").first.click()
        expect(page.get_by_text("Try one of these questions")).to_be_visible(timeout=LOAD_MS)
        settled(page)
        send(page, QUESTION)
        quote = page.locator("blockquote").filter(has_text="Midwives should ask both parents")
        expect(quote.first).to_be_visible(timeout=ANSWER_MS)
        settled(page)
        body = page.locator("body").inner_text()
        assert "Child K (Northdale)" in body
        assert "p. 2" in body
        page.close()


def settled(page) -> None:
    """Wait for the Streamlit run an action started to finish (its running widget goes)."""
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=LOAD_MS)
