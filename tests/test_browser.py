"""End to end in a real browser: `streamlit run app.py` on a free port, driven by Playwright in
Debian's headless Chromium (installed by `make browser-deps`; Playwright downloads nothing)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from rag.answer.verify import display

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# No network here: nothing in the browser may try to reach out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
QUESTION = "What did the Child P review recommend for health visitors?"
LOAD_MS = 240_000  # first page load includes loading the model and the index
ANSWER_MS = 120_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(tmp: Path, **env_vars: str):
    """`streamlit run app.py` on a free port with these RAG_* settings; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    } | env_vars
    log = (tmp / "streamlit.log").open("w")
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, url, tmp)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_healthy(proc, url: str, tmp: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited: {(tmp / 'streamlit.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("streamlit did not become healthy within 120 s")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def server(settings, pipeline, tmp_path_factory):
    """The app served by `streamlit run` against the session's test index."""
    tmp = tmp_path_factory.mktemp("browser")
    with serve(
        tmp,
        RAG_VECTORSTORE_DIR=str(settings.vectorstore_dir),
        RAG_CORPUS_DIR=str(settings.corpus_dir),
        RAG_FEEDBACK_DB=str(tmp / "feedback.sqlite3"),
    ) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian chromium is missing: run `make browser-deps` (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def open_app(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.get_by_text("Try one of these questions").wait_for(timeout=LOAD_MS)
    return page, dialogs


def send(page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")


def test_question_shows_a_quote_and_a_checkable_citation(server, browser, pipeline):
    # Same index and settings as the server, so the same verified quotes must appear.
    expected = pipeline.ask(QUESTION)
    assert not expected.abstained
    first = expected.citations[0]
    page, dialogs = open_app(browser, server)
    assert page.get_by_text("not advice on a live case").first.is_visible()
    send(page, QUESTION)

    quote = page.locator("blockquote").filter(has_text=display(first.quote.text)[:80]).first
    quote.wait_for(timeout=ANSWER_MS)
    assert quote.is_visible()
    card = page.locator(".st-key-card_1_1")
    # The card is rendered element by element, so a one-off inner_text() can catch it half
    # drawn (CI once saw the review line without the section); expect() retries until done.
    expect(card).to_contain_text(f"[1] {first.hit.meta.review}", timeout=ANSWER_MS)
    expect(card).to_contain_text(first.hit.chunk.section.split(" › ")[-1], timeout=ANSWER_MS)

    card.get_by_text("View in document").click()
    context = page.locator(".st-key-context_1_1")
    expect(context).to_contain_text(display(first.quote.text)[:60], timeout=ANSWER_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    card.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / "browser_citation.png"))
    # The question, the lead-in and the quotes, as a user first sees them.
    page.get_by_test_id("stChatMessage").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / "browser_answer.png"))
    assert (ARTIFACTS / "browser_answer.png").stat().st_size > 10_000
    assert not dialogs
    page.close()


def test_html_typed_into_a_question_shows_literally(server, browser):
    page, dialogs = open_app(browser, server)
    hostile = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> neglect?'
    send(page, hostile)
    user = page.get_by_test_id("stChatMessage").first
    user.get_by_text("<script>window.__xss = 1</script>", exact=False).wait_for(timeout=ANSWER_MS)
    assert "<img src=x onerror=" in user.inner_text()
    page.get_by_test_id("stChatMessage").nth(1).wait_for(timeout=ANSWER_MS)
    page.wait_for_timeout(1000)
    assert page.evaluate("window.__xss") is None
    assert page.locator('img[src="x"]').count() == 0
    assert not dialogs
    page.screenshot(path=str(ARTIFACTS / "browser_html_question.png"))
    page.close()
