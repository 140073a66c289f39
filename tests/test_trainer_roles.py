"""The briefing builder and theme explorer read each span's role, not the document's kind.

On a synthetic partnership response written for this test (no catalog entry): its findings,
its recommendations, each agency's response and a progress rating each go under their own role,
so a response is never shown as the review's recommendation and a progress line is never
learning. Real Chroma in a temp folder and the real packaged model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.verify import contains, verify_quote
from rag.assistant import Assistant
from rag.core.models import Quote
from rag.trainer.briefing import build
from rag.trainer.picking import INTRO, KEY, RESPONSE
from rag.trainer.service import Trainer
from rag.trainer.themes import PARTS, load_themes
from tests.conftest import make_settings

RESPONSE_DOC = """# Larkspur Safeguarding Children Partnership: response to the review of Baby Q

This fictional partnership response was written for a test. It sets out the review's findings
and recommendations, and what each agency has done about them.

## Findings

Finding 1: Safe sleep advice was given to the mother alone, and the father was never told how
to put the baby down to sleep.

Finding 2: Nobody asked where the baby slept when the family moved into a one-bedroom flat
with a sofa bed.

## Recommendations and responses

Recommendation 1: The partnership should make sure that every practitioner gives safe sleep
advice to both parents, and to any other carer, at each home visit.

Response (Health visiting): Health visitors now give safe sleep advice to both parents at the
new birth visit and record which carers heard it.

Progress rating: Amber – the audit of safe sleep advice at home visits has not yet reported on
whether fathers are reached.

Recommendation 2: Agencies should ask where the baby sleeps whenever a family with an infant
moves home.

Response (Housing): Housing officers now ask where the baby sleeps when they offer a family a
new tenancy, and tell the health visitor.

Progress rating: Green – every housing officer has been trained to ask about the baby's
sleeping place at each move.
"""
ROOT = Path(__file__).resolve().parents[1]
THEMES = """
[[theme]]
name = "safe sleep"
queries = ["safe sleep advice for both parents", "where the baby sleeps"]
"""
TOPIC = "safe sleep advice and where the baby sleeps"
REC_1 = "every practitioner gives safe sleep advice to both parents"
RESPONSE_1 = "Health visitors now give safe sleep advice"
FINDING_1 = "Safe sleep advice was given to the mother alone"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder):
    tmp = tmp_path_factory.mktemp("roles")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "larkspur-response.md").write_text(RESPONSE_DOC, encoding="utf-8")
    a = Assistant(make_settings(tmp, corpus_dir=corpus), embedder=embedder)
    report = a.ingest()
    assert not report.failures, report.failures
    return a


@pytest.fixture(scope="module")
def trainer(assistant):
    return Trainer(assistant)


def flat(text: str) -> str:
    return " ".join(text.split())


def span_role(trainer: Trainer, quote: Quote) -> str:
    """The role of the one span that holds the whole quote (fails if it crosses two)."""
    for c in trainer.search.passages(quote.document):
        if c.start <= quote.start < c.end:
            first, last = c.role_at(quote.start), c.role_at(quote.end - 1)
            assert first == last, f"quote crosses a {first} and a {last} span: {quote.text!r}"
            return first
    raise AssertionError(f"no passage holds {quote.text!r}")


def assert_verbatim(trainer: Trainer, quote: Quote) -> None:
    doc = trainer.assistant.document_text(quote.document)
    assert verify_quote(quote, {quote.document: doc})
    assert contains(RESPONSE_DOC, quote.text), quote.text


@pytest.fixture(scope="module")
def briefing(trainer):
    return build(trainer.search, TOPIC, themes=load_themes(THEMES))


def test_every_briefing_quote_is_labelled_with_its_spans_role(briefing, trainer):
    assert briefing.items
    for item in briefing.items:
        assert_verbatim(trainer, item.quote)
        assert item.role == span_role(trainer, item.quote), item.text


def test_each_briefing_point_quotes_spans_of_its_roles(briefing, trainer):
    def roles(*points):
        return {span_role(trainer, i.quote) for p in points for i in p.items}

    background, why, *key, note, todo = briefing.points
    assert roles(background) <= INTRO
    assert roles(why) <= KEY
    assert roles(*key) <= KEY
    assert roles(note) <= KEY | RESPONSE
    # "What to do" quotes what agencies did, never a progress rating.
    assert todo.items and roles(todo) == {"response"}
    assert any(RESPONSE_1 in flat(i.text) for i in todo.items)


def test_a_finding_is_a_finding_and_progress_is_never_learning(briefing):
    key = [i for p in briefing.points[2:5] for i in p.items]
    roles = {i.role: i for i in key}
    # The review's findings and recommendations, each called what it is.
    assert any(FINDING_1 in flat(i.text) for i in key if i.role == "finding")
    assert any(REC_1 in flat(i.text) for i in key if i.role == "recommendation")
    assert roles["finding"].label == "Finding"
    assert roles["recommendation"].label == "Recommendation"
    # An agency's response is never shown as the review's words.
    assert not any(i.text.startswith(("Health visitors now", "Housing officers now")) for i in key)
    # No part of a briefing quotes a progress rating.
    progress = ("Progress rating", "has been trained", "not yet reported")
    assert not any(p in flat(i.text) for p in progress for i in briefing.items)


def test_theme_explorer_shows_recommendations_findings_and_responses_apart(trainer):
    matrix = trainer.matrix(THEMES)
    assert matrix.reviews and matrix.row("safe sleep")
    parts = trainer.parts(matrix.row("safe sleep"))
    titles = [p.title for p in parts]
    assert {"Recommendations", "Findings and learning", "Responses and progress"} <= set(titles)
    assert titles == [t for t, _ in PARTS if t in titles]
    roles = dict(PARTS)
    numbers = []
    for part in parts:
        for c in part.citations:
            assert_verbatim(trainer, c.quote)
            role = span_role(trainer, c.quote)
            # The last part holds every role no other part names.
            assert role in roles[part.title] or (
                part.title == PARTS[-1][0] and all(role not in r for _, r in PARTS)
            ), (part.title, role, c.quote.text)
            numbers.append(c.n)
    assert numbers == list(range(1, len(numbers) + 1))
    texts = {p.title: flat(" ".join(c.quote.text for c in p.citations)) for p in parts}
    assert REC_1 in texts["Recommendations"]
    assert FINDING_1 in texts["Findings and learning"]
    assert RESPONSE_1 in texts["Responses and progress"]
    assert "Health visitors now" not in texts["Recommendations"]


@pytest.fixture()
def pages_env(monkeypatch, assistant):
    s = assistant.settings
    monkeypatch.setenv("RAG_VECTORSTORE_DIR", str(s.vectorstore_dir))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(s.corpus_dir))
    monkeypatch.setenv("RAG_FEEDBACK_DB", str(s.feedback_db))
    monkeypatch.delenv("RAG_CHROMA_URL", raising=False)
    monkeypatch.delenv("RAG_LLM", raising=False)


def under_headings(at) -> dict[str, str]:
    """Each part heading the page shows, with the quotes rendered below it, flattened."""
    out: dict[str, str] = {}
    heading = None
    for md in at.markdown:
        if md.value.startswith("#### "):
            heading = md.value[5:]
            out[heading] = ""
        elif heading and "\u201c" in md.value:
            out[heading] += " " + flat(md.value.replace("\\", ""))
    return out


# Words of each span of RESPONSE_DOC, with the part of the theme explorer they belong under.
EXPECTED_PART = {
    REC_1: "Recommendations",
    "Agencies should ask where the baby sleeps": "Recommendations",
    FINDING_1: "Findings and learning",
    "Nobody asked where the baby slept": "Findings and learning",
    RESPONSE_1: "Responses and progress",
    "Housing officers now ask where the baby sleeps": "Responses and progress",
    "has not yet reported on whether fathers": "Responses and progress",
    "every housing officer has been trained": "Responses and progress",
}


def test_theme_explorer_page_shows_each_quote_under_its_role(pages_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "views" / "theme_explorer.py"), default_timeout=600).run()
    assert not at.exception, at.exception
    seen = set()
    for row in range(len(load_themes())):
        if at.button(key=f"theme_{row}").disabled:  # no review has a passage on it
            continue
        at.button(key=f"theme_{row}").click().run()
        assert not at.exception, at.exception
        for heading, text in under_headings(at).items():
            for words, part in EXPECTED_PART.items():
                if words in text:
                    assert heading == part, (words, heading)
                    seen.add(part)
    # The packaged themes find the recommendations and the agencies' responses.
    assert {"Recommendations", "Responses and progress"} <= seen


def test_briefing_page_names_each_quotes_role(pages_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "views" / "briefing_builder.py"), default_timeout=600).run()
    at.text_input(key="topic").input(TOPIC)
    at.button(key="build").click().run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Finding · ") for c in captions)
    assert any(c.startswith("Recommendation · ") for c in captions)
    assert any(c.startswith("Response · ") for c in captions)
