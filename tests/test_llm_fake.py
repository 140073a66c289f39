"""LLM synthesis with LangChain's fake chat models: exact, deterministic cases for the verifier.

The fake model stands in for the provider at the project's own seam (Assistant's chat model);
retrieval, the documents and the checks are the real ones over the real index.
"""

from __future__ import annotations

import json
import re

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage
from pydantic import SecretStr

from rag.answer.verify import normalise
from rag.assistant import Assistant
from rag.core.errors import LLMUnavailable
from rag.core.models import Answer
from rag.core.settings import Settings
from rag.core.text import sentence_spans
from rag.llm.chat import build_chat_model, generate, parse_llm
from rag.llm.claims import SentenceCheck, parse_markers, split_sentences, strip_markers
from rag.llm.prompting import load_prompt, number_passages
from rag.llm.rewrite import rewrite_followup
from rag.llm.synthesis import (
    FALLBACK_NOTE,
    FLAG,
    Synthesis,
    evaluate_llm_answer,
    stream_synthesis,
    synthesise,
)
from rag.ui import view as ui
from rag.understand.followup import Exchange

QUESTION = "What did the Child P review recommend for GPs?"

SETTINGS = Settings()


class Recorder(BaseCallbackHandler):
    """Keeps the messages each chat model call was given."""

    def __init__(self):
        self.calls: list[list] = []

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.calls.append(messages[0])


@pytest.fixture(scope="module")
def passages(pipeline):
    """The numbered passages the model is shown for QUESTION, and the document texts."""
    hits, _ = pipeline.search(QUESTION)
    numbered = number_passages(hits, pipeline.settings, k=3)
    assert len(numbered) >= 2, "the question must retrieve at least two supported passages"
    return numbered


def sentences_of(passage, pipeline) -> list[str]:
    """Real sentences of a passage, verbatim from its document."""
    c = passage.hit.chunk
    text = pipeline.document_text(c.document)
    return [text[s.start : s.end] for s in sentence_spans(text, c.start, c.end)]


def quotable(passage, pipeline) -> str:
    """A sentence of the passage without double quotes, long enough to matter, on one line."""
    for s in sentences_of(passage, pipeline):
        if '"' not in s and len(s.split()) >= 6:
            return " ".join(s.split())
    raise AssertionError(f"no quotable sentence in {passage.hit.chunk.id}")


def pipe_with(pipeline, reply: str | list[str], **overrides) -> Assistant:
    """A pipeline over the shared index whose fake chat model gives `reply`."""
    settings = pipeline.settings.model_copy(update={"llm_passages": 3} | overrides)
    replies = reply if isinstance(reply, list) else [reply]
    fake = FakeListChatModel(responses=replies)
    return Assistant(settings, embedder=pipeline.embedder, store=pipeline.store, chat_model=fake)


def ask_with(pipeline, reply: str | list[str], **overrides) -> Answer:
    """Assistant.ask over the shared index, with a fake chat model giving `reply`."""
    return pipe_with(pipeline, reply, **overrides).ask(QUESTION)


def stream_with(pipeline, reply: str, **overrides) -> tuple[list[SentenceCheck], Answer]:
    """Assistant.stream_ask with a fake chat model streaming `reply`: the checks, the Answer."""
    events = list(pipe_with(pipeline, reply, **overrides).stream_ask(QUESTION))
    *checks, final = events
    assert all(isinstance(c, SentenceCheck) for c in checks) and isinstance(final, Answer)
    return checks, final


def assert_everything_shown_verifies(answer: Answer, pipeline) -> None:
    """Each citation is a verbatim span of its document; each shown sentence cites one."""
    for c in answer.citations:
        doc = pipeline.document_text(c.quote.document)
        assert doc[c.quote.start : c.quote.end] == c.quote.text
        assert normalise(c.quote.text) in normalise(c.hit.chunk.text)
    numbers = {c.n for c in answer.citations}
    for sentence in split_sentences(answer.text):
        if sentence.startswith(FLAG):
            assert '"' not in sentence and not parse_markers(sentence)
            continue
        marks = parse_markers(sentence)
        assert marks and set(marks) <= numbers, sentence
        for q in re.findall(r'"([^"]+)"', sentence):
            assert any(normalise(q) in normalise(answer.citations[n - 1].quote.text) for n in marks)
    report = evaluate_llm_answer(answer)
    assert report["shown_quotes_verbatim"] == report["shown_quotes"]
    assert report["shown_sentences_uncited"] == 0


def test_perfect_answer_is_kept_with_document_offsets(pipeline, passages):
    first, second = passages[0], passages[1]
    quote = quotable(first, pipeline)
    # A paraphrase made of the second passage's own words, so the support check passes.
    words = " ".join(quotable(second, pipeline).rstrip(".").split()[:12])
    reply = f'The review says "{quote}" [1]. It also notes that {words} [2].'
    answer = ask_with(pipeline, reply)

    assert answer.mode == "llm" and not answer.abstained
    out = answer.to_json()
    assert out["mode"] == "llm"
    assert set(out["citations"][0]) == {
        "n", "document", "title", "section", "page", "quote", "passage", "start", "end", "score"
    }  # fmt: skip
    assert quote in answer.text
    quoted = [c for c in answer.citations if normalise(c.quote.text) == normalise(quote)]
    assert quoted and quoted[0].quote.document == first.hit.chunk.document
    assert {c.hit.chunk.id for c in answer.citations} == {first.hit.chunk.id, second.hit.chunk.id}
    report = evaluate_llm_answer(answer)
    assert report["sentences_total"] == report["sentences_kept"] == 2
    assert report["sentences_dropped"] == report["sentences_flagged"] == 0
    assert report["citations_total"] == report["citations_supported"] == 2
    # The quote, and the second sentence's unquoted (exact) copy of passage 2's words.
    assert report["quotes_generated"] == report["quotes_verbatim"] == 2
    assert not report["fallback"]
    assert_everything_shown_verifies(answer, pipeline)


def test_fabricated_quote_is_removed_and_counted(pipeline, passages):
    quote = quotable(passages[0], pipeline)
    words = quote.split()
    altered = " ".join([*words[:3], "never", *words[3:]])  # one added word breaks it
    good = quotable(passages[1], pipeline)
    reply = f'The review found "{altered}" [1]. It says "{good}" [2].'
    answer = ask_with(pipeline, reply)

    assert answer.mode == "llm"
    assert normalise(altered) not in normalise(json.dumps(answer.to_json()))
    assert good in answer.text
    report = evaluate_llm_answer(answer)
    assert (report["sentences_kept"], report["sentences_dropped"]) == (1, 1)
    assert (report["quotes_verbatim"], report["quotes_generated"]) == (1, 2)
    assert_everything_shown_verifies(answer, pipeline)


def test_quote_from_a_passage_it_does_not_cite_fails(pipeline, passages):
    quote = quotable(passages[0], pipeline)
    if normalise(quote) in normalise(passages[1].hit.chunk.text):
        pytest.skip("the two passages share this sentence")
    good = quotable(passages[1], pipeline)
    answer = ask_with(pipeline, f'"{quote}" [2]. The review says "{good}" [2].')
    assert normalise(quote) not in normalise(answer.text)
    assert evaluate_llm_answer(answer)["sentences_dropped"] == 1


def test_wrong_citation_number_is_caught(pipeline, passages):
    good = quotable(passages[0], pipeline)
    words = " ".join(quotable(passages[1], pipeline).rstrip(".").split()[:12])
    reply = f'The review says "{good}" [1]. Also {words} [7].'
    answer = ask_with(pipeline, reply)

    report = evaluate_llm_answer(answer)
    assert report["citation_numbers_in_range"] == 1 and report["citations_total"] == 2
    assert report["citations_supported"] == 1
    assert (report["sentences_kept"], report["sentences_dropped"]) == (1, 1)
    assert "[7]" not in answer.text and words not in answer.text
    assert_everything_shown_verifies(answer, pipeline)


def test_uncited_sentence_is_unsupported(pipeline, passages):
    good = quotable(passages[0], pipeline)
    reply = f'The review says "{good}" [1]. Fathers are always the main risk to babies.'
    answer = ask_with(pipeline, reply)
    assert "always the main risk" not in answer.text
    assert evaluate_llm_answer(answer)["sentences_dropped"] == 1
    assert_everything_shown_verifies(answer, pipeline)


def test_cited_sentence_with_words_not_in_the_passage_is_unsupported(pipeline, passages):
    good = quotable(passages[0], pipeline)
    reply = f'The review says "{good}" [1]. Astronauts launched rockets to Jupiter yesterday [1].'
    answer = ask_with(pipeline, reply)
    assert "Jupiter" not in answer.text
    assert evaluate_llm_answer(answer)["sentences_dropped"] == 1


def test_unquoted_copy_must_be_word_for_word(pipeline, passages):
    quote = quotable(passages[0], pipeline).rstrip(".")
    words = quote.split()
    altered = " ".join([*words[:-2], "never", words[-1]])  # one changed word near the end
    good = quotable(passages[1], pipeline)
    answer = ask_with(pipeline, f"{altered} [1]. {good} [2].")
    assert normalise(altered) not in normalise(json.dumps(answer.to_json()))
    assert normalise(good.rstrip(".")) in normalise(answer.text)  # an exact copy is kept
    report = evaluate_llm_answer(answer)
    assert (report["sentences_kept"], report["sentences_dropped"]) == (1, 1)
    assert (report["quotes_verbatim"], report["quotes_generated"]) == (1, 2)
    assert_everything_shown_verifies(answer, pipeline)


def test_echo_of_the_prompt_is_not_an_answer(pipeline, passages):
    good = quotable(passages[0], pipeline)
    echo = "You answer questions from safeguarding practitioners about published child "
    echo += "safeguarding case reviews, using only the numbered passages you are given [1]."
    answer = ask_with(pipeline, f'{echo} The review says "{good}" [1].')
    assert "You answer questions" not in answer.text
    assert evaluate_llm_answer(answer)["sentences_dropped"] == 1


def test_streaming_checks_each_sentence_then_gives_the_verified_answer(pipeline, passages):
    good = quotable(passages[0], pipeline)
    reply = f'The review says "{good}" [1]. Astronauts orbit distant moons nightly [2]. Done [1].'
    hits, _ = pipeline.search(QUESTION)
    fallback = pipeline.ask(QUESTION)
    args = (pipeline.document_text, pipeline._verify, pipeline.settings)
    events = list(
        stream_synthesis(
            QUESTION, hits, fallback, GenericFakeChatModel(messages=iter([reply])), *args, k=3
        )
    )
    checks, final = events[:-1], events[-1]
    assert all(isinstance(c, SentenceCheck) for c in checks) and isinstance(final, Synthesis)
    assert [c.kept for c in checks] == [True, False]  # the last sentence waits for the end
    whole = synthesise(QUESTION, hits, fallback, FakeListChatModel(responses=[reply]), *args, k=3)
    assert final.answer == whole.answer and final.raw == reply
    assert [c.kept for c in final.checks] == [True, False, False]


def test_stream_ask_streams_checks_then_the_answer_ask_gives(pipeline, passages):
    first, second = quotable(passages[0], pipeline), quotable(passages[1], pipeline)
    words = " ".join(second.rstrip(".").split()[:12])
    reply = (
        f'The review says "{first}" [1]. It also notes that {words} [2]. It says "{second}" [2].'
    )
    checks, final = stream_with(pipeline, reply)
    # Every sentence but the last is checked while the model is still writing.
    assert [strip_markers(c.text) for c in checks] == [
        strip_markers(s) for s in split_sentences(reply)[:2]
    ]
    assert final == ask_with(pipeline, reply)
    assert final.mode == "llm" and evaluate_llm_answer(final)["sentences_kept"] == 3
    assert_everything_shown_verifies(final, pipeline)


@pytest.mark.parametrize("mode", ["drop", "flag"])
def test_a_streamed_fabricated_quote_is_never_shown_as_verified(pipeline, passages, mode):
    quote = quotable(passages[0], pipeline)
    words = quote.split()
    altered = " ".join([*words[:3], "never", *words[3:]])  # one added word breaks it
    good = quotable(passages[1], pipeline)
    reply = f'The review found "{altered}" [1]. It says "{good}" [2]. It says "{good}" [2].'
    reply = (
        f'The review found "{altered}" [1]. It says "{good}" [2]. The review says "{quote}" [1].'
    )
    checks, final = stream_with(pipeline, reply, llm_unsupported=mode)
    # The model did stream it, and its first check already failed: the draft leaves it out.
    assert checks[0].failed_quotes and not checks[0].kept
    assert not any(normalise(altered) in normalise(d) for d in ui.draft_sentences(checks))
    assert final == ask_with(pipeline, reply, llm_unsupported=mode)
    assert final.mode == "llm"
    verified = [w.text for w in ui.written_sentences(final) if w.verified]
    assert verified and not any(normalise(altered) in normalise(v) for v in verified)
    assert not any(normalise(altered) in normalise(c.quote.text) for c in final.citations)
    assert f'"{altered}"' not in final.text  # in flag mode its words show, unquoted and marked
    assert (FLAG in final.text) == (mode == "flag")
    assert_everything_shown_verifies(final, pipeline)


def test_stream_ask_without_a_model_gives_only_the_answer_ask_gives(pipeline):
    for question in (QUESTION, "What did the reviews say about Leeds?"):
        events = list(pipeline.stream_ask(question))
        assert events == [pipeline.ask(question)]
    # A model that cannot be built gives the extractive answer with the same note as ask.
    missing = pipeline.settings.model_copy(update={"llm": "llamacpp:/nonexistent/none.gguf"})
    pipe = Assistant(missing, embedder=pipeline.embedder, store=pipeline.store)
    (answer,) = list(pipe.stream_ask(QUESTION))
    assert answer == pipe.ask(QUESTION) and answer.mode == "extractive"
    assert any("does not exist" in n for n in answer.notes)


def test_a_model_failing_mid_stream_leaves_the_extractive_answer(pipeline, passages):
    good = quotable(passages[0], pipeline)
    reply = f'The review says "{good}" [1]. The review says "{good}" [1]. More text here.'
    fake = FakeListChatModel(responses=[reply], error_on_chunk_number=len(reply) - 5)
    pipe = Assistant(
        pipeline.settings, embedder=pipeline.embedder, store=pipeline.store, chat_model=fake
    )
    *checks, final = list(pipe.stream_ask(QUESTION))
    assert len(checks) == 2 and all(isinstance(c, SentenceCheck) for c in checks)
    assert final.mode == "extractive" and final.citations == pipeline.ask(QUESTION).citations
    assert any("Language model unavailable" in n for n in final.notes)


def test_empty_answer_falls_back_to_extractive(pipeline):
    extractive = pipeline.ask(QUESTION)
    answer = ask_with(pipeline, "")
    assert answer.mode == "extractive" and answer.text == extractive.text
    assert answer.citations == extractive.citations
    assert FALLBACK_NOTE in answer.notes
    report = evaluate_llm_answer(answer)
    assert report["fallback"] and report["sentences_total"] == 0
    assert report["shown_quotes_verbatim"] == report["shown_quotes"] > 0


def test_too_little_surviving_falls_back(pipeline, passages):
    good = quotable(passages[0], pipeline)
    reply = f'"{good}" [1]. Made up one. Made up two [9]. Made up "three words here" [1].'
    answer = ask_with(pipeline, reply)
    assert answer.mode == "extractive" and FALLBACK_NOTE in answer.notes
    report = evaluate_llm_answer(answer)
    assert (report["sentences_total"], report["sentences_kept"], report["sentences_shown"]) == (
        4,
        1,
        0,
    )
    # The same reply is enough when the floor is lowered.
    assert ask_with(pipeline, reply, llm_min_kept=0.2).mode == "llm"


def test_flag_mode_shows_unsupported_sentences_marked_and_unquoted(pipeline, passages):
    good = quotable(passages[0], pipeline)
    reply = f'The review says "{good}" [1]. Staff said "nothing was ever wrong" [2].'
    answer = ask_with(pipeline, reply, llm_unsupported="flag")
    flagged = [s for s in split_sentences(answer.text) if s.startswith(FLAG)]
    assert flagged == [f"{FLAG} Staff said nothing was ever wrong."]
    report = evaluate_llm_answer(answer)
    assert (report["sentences_kept"], report["sentences_flagged"]) == (1, 1)
    assert_everything_shown_verifies(answer, pipeline)


def test_no_model_keeps_the_extractive_path(pipeline):
    answer = pipeline.ask(QUESTION)
    assert pipeline.chat_model is None and answer.mode == "extractive" and not answer.notes


def test_unavailable_model_gives_the_extractive_answer_with_a_notice(pipeline, tmp_path):
    settings = pipeline.settings.model_copy(update={"llm": f"llamacpp:{tmp_path}/none.gguf"})
    pipe = Assistant(settings, embedder=pipeline.embedder, store=pipeline.store)
    answer = pipe.ask(QUESTION)
    assert answer.mode == "extractive" and answer.citations
    assert any("does not exist" in n for n in answer.notes)


@pytest.mark.parametrize("spec", ["ollama:llama3.1", "openai:gpt-4o-mini"])
def test_unreachable_server_gives_the_extractive_answer(pipeline, spec):
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    settings = pipeline.settings.model_copy(
        update={"llm": spec, "llm_base_url": "http://127.0.0.1:9", "llm_timeout": 5.0}
    )
    pipe = Assistant(settings, embedder=pipeline.embedder, store=pipeline.store)
    answer = pipe.ask(QUESTION)
    assert answer.mode == "extractive" and answer.citations
    assert any("Language model unavailable" in n for n in answer.notes)


def test_provider_settings_are_parsed_and_checked(monkeypatch, settings):
    assert parse_llm("llamacpp:/m/x.gguf").name == "/m/x.gguf"
    assert parse_llm("Ollama: llama3.1").provider == "ollama"
    for bad in ["llama3.1", "gpt:4o", "openai:", ""]:
        with pytest.raises(LLMUnavailable, match="RAG_LLM"):
            parse_llm(bad)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMUnavailable, match="API key"):
        build_chat_model(settings.model_copy(update={"llm": "openai:gpt-4o-mini"}))
    chat = build_chat_model(
        settings.model_copy(
            update={"llm": "openai:m", "llm_api_key": SecretStr("sk-test"), "llm_max_tokens": 77}
        )
    )
    assert chat.max_tokens == 77 and chat.temperature == 0.0
    ollama = build_chat_model(settings.model_copy(update={"llm": "ollama:llama3.1"}))
    assert ollama.model == "llama3.1" and ollama.num_predict == settings.llm_max_tokens


def test_provider_errors_become_llm_unavailable():
    class Broken(FakeListChatModel):
        def _call(self, *args, **kwargs):
            raise ConnectionError("refused")

    with pytest.raises(LLMUnavailable, match="ConnectionError: refused"):
        generate(
            Broken(responses=["x"]),
            load_prompt("rewrite").format_messages(history="", question="q"),
        )


def test_sentence_splitting_markers_and_quotes():
    text = (
        '- The review said "Staff must ask. They must record." [1]. Next point [2, 3].\n'
        "Answer: Then [Passage 4] and [1-2]! Last one"
    )
    assert split_sentences(text) == [
        'The review said "Staff must ask. They must record." [1].',
        "Next point [2, 3].",
        "Then [Passage 4] and [1-2]!",
        "Last one",
    ]
    assert parse_markers("a [2, 3] b [Passage 4] c [1-2] d [source 5; 6]") == (2, 3, 4, 1, 2, 5, 6)
    assert strip_markers("Point [1][2].") == "Point."


def test_rewrite_followup_uses_the_history_and_the_prompt():
    recorder = Recorder()
    fake = FakeListChatModel(
        responses=["Standalone question: What did the Child P review say about fathers?"],
        callbacks=[recorder],
    )
    history = [("What did the Child P review recommend?", "It recommended ... [1]")]
    out = rewrite_followup(history, "And about fathers?", fake, SETTINGS)
    assert out == "What did the Child P review say about fathers?"
    sent = "\n".join(m.content for m in recorder.calls[0])
    assert "Child P review recommend" in sent and "And about fathers?" in sent
    assert "standalone question" in sent.lower()


def test_rewrite_followup_falls_back_to_the_question():
    question = "And about fathers?"
    assert rewrite_followup([], question, FakeListChatModel(responses=["x?"]), SETTINGS) == question
    assert rewrite_followup([("q", "a")], question, None, SETTINGS) == question
    assert (
        rewrite_followup([("q", "a")], question, FakeListChatModel(responses=["  "]), SETTINGS)
        == question
    )
    gen = GenericFakeChatModel(messages=iter([AIMessage(content="Which review?\nmore")]))
    assert rewrite_followup([("q", "a")], question, gen, SETTINGS) == "Which review?"


def test_rewrite_rejects_echoes_and_non_questions():
    history = [("What did the Child P review recommend?", "It recommended ... [1]")]
    echo = "Conversation so far:"
    for reply in [echo, "The review recommended training", "x" * 600 + "?"]:
        fake = FakeListChatModel(responses=[reply])
        assert rewrite_followup(history, "And fathers?", fake, SETTINGS) == "And fathers?"


def test_the_chat_turn_rewrites_follow_ups_only_with_a_model(pipeline, tmp_path):
    first = pipeline.prepare("What did the Child P review recommend?")
    history = [Exchange(first.resolved, pipeline.respond(first))]
    by_rules = pipeline.prepare("And fathers?", history).resolved.query
    assert by_rules != "What did the Child P review say about fathers?"
    fake = FakeListChatModel(responses=["What did the Child P review say about fathers?"])
    pipe = Assistant(
        pipeline.settings, embedder=pipeline.embedder, store=pipeline.store, chat_model=fake
    )
    assert pipe.prepare("And fathers?", history).resolved.query == (
        "What did the Child P review say about fathers?"
    )
    missing = pipeline.settings.model_copy(update={"llm": f"llamacpp:{tmp_path}/none.gguf"})
    pipe = Assistant(missing, embedder=pipeline.embedder, store=pipeline.store)
    assert pipe.prepare("And fathers?", history).resolved.query == by_rules


def test_prompts_are_files_with_their_placeholders():
    assert set(load_prompt("answer").input_variables) == {"passages", "question"}
    assert set(load_prompt("rewrite").input_variables) == {"history", "question"}
