"""The Streamlit app, driven through AppTest against a real index; widgets are found by key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.answer.verify import display, verify_quote
from rag.index.inventory import describe
from rag.ui import view as ui
from rag.ui.feedback import FeedbackStore
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]
# The README's acceptance question; the mechanics tests use one the index answers more surely.
GP_QUESTION = "What did the Child P review recommend for GPs?"
QUESTION = "What did the Child P review recommend for health visitors?"
NHS = "943 476 5919"
esc = ui.md_escape

pytestmark = pytest.mark.slow


def point_app_at(mp: pytest.MonkeyPatch, settings) -> None:
    """Make the app's Settings() read this test's index and feedback file."""
    mp.setenv("RAG_VECTORSTORE_DIR", str(settings.vectorstore_dir))
    mp.setenv("RAG_FEEDBACK_DB", str(settings.feedback_db))
    mp.setenv("RAG_CORPUS_DIR", str(settings.corpus_dir))
    for name in ("RAG_CHROMA_URL", "RAG_LLM", "RAG_LLM_BASE_URL"):
        mp.delenv(name, raising=False)


@pytest.fixture(scope="module")
def app_settings(settings, pipeline, tmp_path_factory):
    """The session index, with a feedback file of this module's own; one app pipeline serves all."""
    ours = settings.model_copy(
        update={"feedback_db": tmp_path_factory.mktemp("app") / "feedback.sqlite3"}
    )
    with pytest.MonkeyPatch.context() as mp:
        point_app_at(mp, ours)
        yield ours


def new_app() -> AppTest:
    # The first run loads the model and the index, once per test process.
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def turns(at: AppTest) -> list[dict]:
    return at.session_state["turns"]


def test_empty_screen_has_notice_examples_and_corpus_listing(app_settings, pipeline):
    at = new_app()
    assert not at.exception
    assert at.info[0].value == ui.NOTICE
    labels = [at.button(key=f"example_{i}").label for i in range(len(ui.EXAMPLE_QUESTIONS))]
    assert labels == list(ui.EXAMPLE_QUESTIONS)
    info = describe(pipeline.store)
    assert len(info.documents) == len(pipeline.store.documents())
    sidebar_md = [m.value for m in at.sidebar.markdown]
    sidebar_captions = [c.value for c in at.sidebar.caption]
    assert ui.NOTICE in sidebar_captions
    for doc in info.documents:
        assert f"**{esc(doc.meta.title)}**" in sidebar_md
        line = next(c for c in sidebar_captions if c.endswith(f"id {esc(doc.meta.id)}"))
        assert f"{doc.chunks} chunks" in line and esc(doc.meta.review) in line
        assert doc.chunks > 0
    assert sum(d.chunks for d in info.documents) == pipeline.store.count()
    assert at.multiselect(key="filter_review").options == list(info.reviews)


def test_question_gets_verified_quotes_and_citation_cards(app_settings, pipeline):
    at = ask(new_app(), GP_QUESTION)
    answer = turns(at)[0]["answer"]
    assert not answer.abstained and answer.citations
    md = markdown(at)
    assert esc(ui.lead_in(answer)) in md
    for c in answer.citations:
        assert verify_quote(c.quote, {c.quote.document: pipeline.document_text(c.quote.document)})
        assert f"> {esc(display(c.quote.text))} **[{c.n}]**" in md
        header = next(m for m in md if m.startswith(f"**[{c.n}] "))
        assert header.startswith(f"**[{c.n}] Child P**") and "Hampshire" in header
        assert "Section: " + esc(c.hit.chunk.section) in captions(at)
    assert "**Sources**" in md
    # Examples give way to the conversation.
    assert not [b for b in at.button if (b.key or "").startswith("example_")]


def test_passage_and_document_view_highlight_the_quote(app_settings, pipeline):
    at = ask(new_app(), QUESTION)
    first = turns(at)[0]["answer"].citations[0]
    words = esc(display(first.quote.text)).split()[:6]
    passages = [e for e in at.expander if e.label == "Whole passage, quote highlighted"]
    assert len(passages) == len(turns(at)[0]["answer"].citations)
    body = passages[0].markdown[0].value
    assert ":orange-background[" + " ".join(words) in body
    assert esc(first.hit.chunk.section.split(" › ")[-1]) in body or len(body) > len(words)

    at.toggle(key="doc_1_1").set_value(True).run()
    doc_text = pipeline.document_text(first.quote.document)
    window = ui.context_window(doc_text, first)
    assert window.start <= first.quote.start < first.quote.end <= window.end
    assert window.markdown in markdown(at)
    assert any(esc(first.quote.document) in c and "characters" in c for c in captions(at))


def test_example_question_button_asks_it(app_settings):
    at = new_app()
    at.button(key="example_0").click().run()
    (turn,) = turns(at)
    assert turn["question"] == ui.EXAMPLE_QUESTIONS[0]
    assert not turn["answer"].abstained


def test_abstention_says_so_and_lists_the_reviews(app_settings, pipeline):
    at = ask(new_app(), "What is the capital of France?")
    answer = turns(at)[0]["answer"]
    assert answer.abstained and not answer.citations
    md = markdown(at)
    assert "**I can't answer that from the reviews.**" in md
    listing = next(m for m in md if "The corpus covers these reviews" in m)
    for line in describe(pipeline.store).review_summaries():
        assert esc(line) in listing
    assert "**Sources**" not in md
    assert not [m for m in md if m.startswith("> ")]


def test_review_filter_narrows_the_sources(app_settings):
    question = "What training do staff receive on safeguarding?"
    unfiltered = turns(ask(new_app(), question))[0]["answer"]
    assert {c.hit.meta.review for c in unfiltered.citations} - {"Child Z"}, "needs other reviews"

    at = new_app()
    at.multiselect(key="filter_review").set_value(["Child Z"]).run()
    ask(at, question)
    answer = turns(at)[0]["answer"]
    assert not answer.abstained
    assert {c.hit.meta.review for c in answer.citations} == {"Child Z"}
    headers = [m for m in markdown(at) if m.startswith("**[")]
    assert headers and all(h.split("**")[1].endswith("Child Z") for h in headers)


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [("filter_kind", "Briefing", "kind"), ("filter_partnership", "Hampshire", "partnership")],
)
def test_kind_and_partnership_filters_narrow_the_sources(app_settings, pipeline, key, value, field):
    # A question the unfiltered answer cites several partnerships and kinds of document for.
    question = "What training should practitioners have?"
    unfiltered = pipeline.ask(question)
    assert {getattr(c.hit.meta, field) for c in unfiltered.citations} - {value}
    at = new_app()
    at.multiselect(key=key).set_value([value]).run()
    ask(at, question)
    answer = turns(at)[0]["answer"]
    assert not answer.abstained
    assert {getattr(c.hit.meta, field) for c in answer.citations} == {value}


def test_follow_up_question_carries_the_review(app_settings):
    at = ask(new_app(), QUESTION)
    ask(at, "And midwives?")
    follow = turns(at)[1]
    assert follow["resolved"].followup
    assert (
        "Follow-up, understood as: "
        + esc("midwives, in the Child P review")
        + " ("
        + esc("review: Child P")
        + ")"
    ) in captions(at)
    answer = follow["answer"]
    assert not answer.abstained
    assert {c.hit.meta.review for c in answer.citations} == {"Child P"}
    assert any("Midwifery" in c.hit.chunk.section for c in answer.citations)


def test_feedback_is_written_to_sqlite(app_settings):
    store = FeedbackStore(app_settings.feedback_db)
    before = len(store.rows())
    at = ask(new_app(), QUESTION)
    answer = turns(at)[0]["answer"]
    at.feedback(key="rating_1").set_value(0).run()
    rows = store.rows()
    assert len(rows) == before + 1
    row = rows[-1]
    assert (row["rating"], row["question"], row["answer"]) == ("down", QUESTION, answer.text)
    assert [c["quote"] for c in row["citations"]] == [c.quote.text for c in answer.citations]
    assert [c["document"] for c in row["citations"]] == [c.quote.document for c in answer.citations]
    assert any(c.startswith("Feedback saved") for c in captions(at))

    at.selectbox(key="reason_1").set_value("quote doesn't support the answer")
    at.text_input(key="comment_1").set_value("Quote [2] is about training")
    at.button(key="send_1").click().run()
    row = store.rows()[-1]
    assert len(store.rows()) == before + 1
    assert (row["reason"], row["comment"]) == (
        "quote doesn't support the answer",
        "Quote [2] is about training",
    )

    assert any(c.endswith("Reason saved.") for c in captions(at))
    at.feedback(key="rating_1").set_value(1).run()
    row = store.rows()[-1]
    assert (row["rating"], row["reason"]) == ("up", "quote doesn't support the answer")


def test_personal_details_warn_before_answering_and_are_never_stored(app_settings):
    store = FeedbackStore(app_settings.feedback_db)
    question = f"Baby with NHS number {NHS} was not seen: {QUESTION}"
    at = ask(new_app(), question)
    (warning,) = at.warning
    assert "personal details" in warning.value and "an NHS number" in warning.value
    assert turns(at)[0]["answer"] is None
    assert "**Sources**" not in markdown(at)

    at.button(key="anyway_1").click().run()
    answer = turns(at)[0]["answer"]
    assert answer is not None and not answer.abstained
    assert not at.warning
    # The identifier never reached the search: the pipeline was asked the redacted question.
    assert NHS not in answer.question and "[removed]" in answer.question
    assert any("removed before searching" in c and "not stored" in c for c in captions(at))
    at.feedback(key="rating_1").set_value(1).run()
    row = store.rows()[-1]
    assert row["question"] is None and row["asked_as"] is None and row["question_withheld"]
    assert any("question was not stored" in c for c in captions(at))
    assert NHS.encode() not in app_settings.feedback_db.read_bytes()


def test_html_in_a_question_is_rendered_as_text(app_settings):
    question = "<script>alert('x')</script><img src=x onerror=alert(1)> " + QUESTION
    at = ask(new_app(), question)
    md = markdown(at)
    assert esc(question) in md
    assert r"\<script\>alert\(\'x\'\)\<\/script\>" in esc(question)
    assert not any(m.proto.allow_html for m in (*at.markdown, *at.caption))
    assert not at.get("html")


HOSTILE = """# Serious Case Review: Child Q

Recommendation 1: Health visitors must record every home visit <script>alert('x')</script> and
check the sleeping arrangements <img src=x onerror=alert(1)> for the baby at each contact.

Health visitors now record every home visit in the **electronic record** and check the
sleeping arrangements at each contact <b>as routine</b>, which is audited each quarter.
"""


@pytest.fixture(scope="module")
def hostile_settings(tmp_path_factory, embedder):
    """A one-document index whose text holds markdown and HTML."""
    from rag.assistant import Assistant

    tmp = tmp_path_factory.mktemp("hostile")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "child-q.md").write_text(HOSTILE, encoding="utf-8")
    settings = make_settings(tmp, corpus_dir=corpus)
    report = Assistant(settings, embedder=embedder).ingest()
    assert report.documents == 1 and not report.failures
    return settings


def test_html_in_a_document_is_rendered_as_text(hostile_settings, monkeypatch):
    point_app_at(monkeypatch, hostile_settings)
    at = ask(new_app(), "How do health visitors record home visits and sleeping arrangements?")
    answer = turns(at)[0]["answer"]
    assert not answer.abstained
    assert "<script>" in answer.citations[0].hit.chunk.text
    at.toggle(key="doc_1_1").set_value(True).run()
    everything = "\n".join(markdown(at) + captions(at))
    assert r"\<script\>alert\(\'x\'\)\<\/script\>" in everything
    assert r"\<img src\=x onerror\=alert\(1\)\>" in everything
    # Every angle bracket reaching the page is escaped, so none can open a tag.
    assert not re.search(r"(?<!\\)<", everything)
    assert r"\*\*electronic record\*\*" in everything or "electronic record" not in everything
    assert not any(m.proto.allow_html for m in (*at.markdown, *at.caption))


def test_clear_conversation_starts_again(app_settings):
    at = ask(new_app(), QUESTION)
    assert at.chat_message
    at.button(key="clear").click().run()
    assert not turns(at) and not at.chat_message
    assert at.button(key="example_0")


def test_an_overlong_question_gets_a_plain_error(app_settings):
    at = ask(new_app(), "Why? " * 500)
    assert turns(at)[0]["answer"] is None
    assert "characters" in at.error[0].value and "limit" in at.error[0].value


def test_missing_index_is_a_plain_message(tmp_path, monkeypatch):
    point_app_at(monkeypatch, make_settings(tmp_path))
    at = new_app()
    assert not at.exception
    assert "no index yet" in at.error[0].value


# -- the view models app.py renders ------------------------------------------------------------

HOSTILE_TEXT = (
    "  <script>alert(1)</script> <img src=x onerror=alert(2)> *x* _y_ :red[z] $x^2$\n"
    "    # heading\n1. item\n- bullet\n> quote [link](javascript:alert(3)) &amp; | a | b |"
)


def rendered(md: str) -> str:
    """CommonMark HTML for `md` (the same escaping rules Streamlit's renderer follows)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(md)


def test_md_escape_renders_every_character_literally():
    import html

    out = rendered(ui.md_escape(HOSTILE_TEXT))
    assert out.startswith("<p>") and out.count("<") == 2  # only the paragraph's own tags
    lines = [line.strip() for line in HOSTILE_TEXT.split("\n")]
    assert html.unescape(out[3:-5]) == "\n".join(lines)


def test_highlight_marks_exactly_the_span():
    text = "Before it. The quoted *span* <b>here</b>.\n\nNext paragraph, also quoted. After."
    start, end = text.index("The quoted"), text.index(" After.")
    md = ui.highlighted(text, start, end)
    assert md.count(":orange-background[") == 2  # one per paragraph
    first = md.split(":orange-background[")[1].split("]\n")[0]
    assert first == ui.md_escape("The quoted *span* <b>here</b>.")
    assert md.startswith("Before it\\. :orange-background[")
    assert md.endswith("also quoted\\.] After\\.")


def test_context_window_opens_just_before_the_quote(pipeline):
    answer = pipeline.ask(QUESTION)
    c = answer.citations[-1]
    doc = pipeline.document_text(c.quote.document)
    window = ui.context_window(doc, c, before=350, after=1600)
    assert window.start <= c.quote.start and c.quote.end <= window.end
    # 350 characters back, then at most half that again to start on a paragraph or line.
    assert c.quote.start - window.start <= 350 + 175
    assert window.start == 0 or doc[window.start - 1] == "\n"
    assert window.length == len(doc)
    assert ":orange-background[" in window.markdown
    assert f"of {len(doc):,}" in window.position


def test_llm_answers_show_all_their_prose():
    from dataclasses import replace

    from rag.core.models import Answer

    extractive = Answer("q", 'Lead in.\n\n"quote" [1]', False)
    assert ui.lead_in(extractive) == "Lead in."
    written = replace(extractive, text="First claim [1]. Second claim [2].", mode="llm")
    assert ui.lead_in(written) == "First claim [1]. Second claim [2]."


def test_a_draft_is_plain_labelled_text_without_failed_sentences():
    from rag.llm.claims import SentenceCheck

    def check(text: str, kept: bool) -> SentenceCheck:
        return SentenceCheck(text, (1,), (1,), (1,) if kept else (), (), (), 1.0, kept)

    checks = [
        check('The review says "GPs should ask about fathers" [1].', True),
        check('Staff said "nothing was wrong" [2].', False),
        check("Health visitors must record it [1][2].", True),
    ]
    assert ui.draft_sentences(checks) == [
        "The review says GPs should ask about fathers.",
        "Health visitors must record it.",
    ]
    status = ui.draft_status(checks)
    assert status.startswith(ui.DRAFT_LABEL + ": 3 sentences written so far")
    assert "1 already set aside because it did not check out" in status
    assert "1 already" not in ui.draft_status(checks[:1])
