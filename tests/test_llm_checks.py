"""The sentence checks that a real small model made necessary, on exact, deterministic cases.

Gemma 3 270M, once it answered at all, wrote sentences made of passage words that the passage
does not say ("The Care Act 2014 (Cth) requires ..."), and copies that drop a "should" or a
"not". The first half checks rag.llm.claims on a made-up passage; the second drives the
one-passage-at-a-time path with LangChain's fake chat model at the project's seam.
"""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from rag.answer.gates import supported
from rag.assistant import Assistant
from rag.core.models import Answer, Chunk, DocMeta, Hit
from rag.core.settings import Settings
from rag.llm.chat import _prompt, continues_text
from rag.llm.claims import Passage, check_sentence, grounding, parse_markers, split_sentences
from rag.llm.prompting import load_prompt, number_passages, prompting, requests
from rag.llm.synthesis import FALLBACK_NOTE, FLAG, evaluate_llm_answer, llm_counts
from rag.ui import view as ui

TEXT = (
    "Health visitors should ask who lives in the home at every contact. "
    "Staff did not record the baby's presence at the incident."
)
QUESTION = "What did the Child P review recommend for GPs?"


def passage(text: str = TEXT) -> Passage:
    chunk = Chunk("c1", "child-a", text, 0, len(text), "Recommendation 2", "recommendation")
    meta = DocMeta("child-a", "Child A review", partnership="Northshire", review="Child A")
    return Passage(1, Hit(chunk, meta, 1.0, dense=1.0))


def check(sentence: str, settings):
    return check_sentence(sentence, [passage()], settings)[0]


def test_a_faithful_sentence_with_a_lead_in_is_kept(settings):
    c = check(
        "The review says that health visitors should ask who lives in the home [1].", settings
    )
    assert c.kept and c.support == 1.0 and not c.ungrounded and not c.lost
    assert c.evidence == ((1, 0, TEXT.index(".") + 1),)


def test_passage_words_recombined_into_a_new_claim_are_not_grounded(settings):
    # Every word occurs in the passage, but not beside the words it has here.
    c = check("Staff ask the home at every incident about the baby [1].", settings)
    assert not c.kept and c.support < 1.0
    assert {"staff", "ask", "incident"} <= set(c.ungrounded)
    share, loose = grounding("the baby's presence at the incident", [TEXT])
    assert share == 1.0 and loose == ()


def test_the_heading_may_name_the_source(settings):
    c = check("The Child A review says staff did not record the baby's presence [1].", settings)
    assert c.kept, c.ungrounded
    # A name from somewhere else is a claim the passage does not make.
    c = check("The Leeds review says staff did not record the baby's presence [1].", settings)
    assert not c.kept and c.ungrounded == ("leeds",)


def test_a_dropped_should_is_caught(settings):
    c = check("It says health visitors ask who lives in the home at every contact [1].", settings)
    assert c.copy == "verbatim" and c.support == 1.0  # the other checks would let it through
    assert c.lost == "modality" and not c.kept


def test_a_dropped_or_added_not_is_caught(settings):
    c = check("Staff did record the baby's presence at the incident [1].", settings)
    assert c.copy == "verbatim" and c.support == 1.0
    assert c.lost == "negation" and not c.kept
    c = check("Health visitors should not ask who lives in the home [1].", settings)
    assert "not" in c.ungrounded and not c.kept


def test_a_sentence_that_is_only_a_verified_quote_is_grounded(settings):
    c = check('The review says "Staff did not record the baby\'s presence" [1].', settings)
    assert c.kept and c.support == 1.0


# -- one passage at a time, through the pipeline, with a fake chat model ----------------------


def ask_per_passage(pipeline, replies: list[str], **overrides) -> Answer:
    settings = pipeline.settings.model_copy(
        update={"llm_passages": 2, "llm_prompting": "per-passage"} | overrides
    )
    fake = FakeListChatModel(responses=replies)
    pipe = Assistant(settings, embedder=pipeline.embedder, store=pipeline.store, chat_model=fake)
    return pipe.ask(QUESTION)


def first_sentence(p: Passage, pipeline) -> str:
    from rag.core.text import sentence_spans

    c = p.hit.chunk
    doc = pipeline.document_text(c.document)
    for s in sentence_spans(doc, c.start, c.end):
        text = " ".join(doc[s.start : s.end].split())
        if '"' not in text and len(text.split()) >= 6 and text.endswith("."):
            return text
    raise AssertionError(f"no usable sentence in {c.id}")


def two_passages(pipeline) -> list[Passage]:
    hits, _ = pipeline.search(QUESTION)
    found = number_passages(hits, pipeline.settings, k=2)
    assert len(found) == 2
    return found


def test_each_reply_is_cited_by_the_passage_it_was_given(pipeline):
    p1, p2 = two_passages(pipeline)
    # The model writes a wrong number on the first: a one-passage reply's numbers are ignored.
    replies = [f"{first_sentence(p1, pipeline)} [7]", first_sentence(p2, pipeline)]
    answer = ask_per_passage(pipeline, replies)
    assert answer.mode == "llm"
    sentences = split_sentences(answer.text)
    assert len(sentences) == 2 and "[7]" not in answer.text
    for sentence, p in zip(sentences, (p1, p2)):
        (n,) = parse_markers(sentence)
        assert answer.citations[n - 1].hit.chunk.id == p.hit.chunk.id
    report = evaluate_llm_answer(answer)
    assert report["sentences_kept"] == report["sentences_total"] == 2
    assert report["citation_numbers_in_range"] == report["citations_total"] == 2


def test_unfinished_and_repeated_sentences_are_not_shown(pipeline):
    p1, p2 = two_passages(pipeline)
    good = first_sentence(p1, pipeline)
    cut = " ".join(first_sentence(p2, pipeline).rstrip(".").split()[:-2])  # no full stop
    answer = ask_per_passage(pipeline, [f"{good} {good}", f"{good} {cut}"])
    assert answer.mode == "llm"
    assert split_sentences(answer.text) == [split_sentences(answer.text)[0]]
    counts = llm_counts(answer)
    assert (counts["total"], counts["kept"], counts["shown"], counts["dropped"]) == (4, 1, 1, 3)
    assert "3 sentences removed" in ui.check_summary(answer)


def test_a_reply_mostly_failing_is_left_out_while_another_is_shown(pipeline):
    p1, p2 = two_passages(pipeline)
    made_up = "Astronauts orbit distant moons nightly. Jupiter rockets launched yesterday."
    replies = [first_sentence(p1, pipeline), f"{first_sentence(p2, pipeline)} {made_up}"]
    answer = ask_per_passage(pipeline, replies)
    counts = llm_counts(answer)
    assert answer.mode == "llm" and counts["kept"] == 2 and counts["shown"] == 1
    assert "left out with the rest of a reply" in ui.check_summary(answer)
    assert "Astronauts" not in answer.text
    # A reply left out is left out whole: flagging does not bring its failed sentences back.
    flagged = ask_per_passage(pipeline, replies, llm_unsupported="flag")
    assert llm_counts(flagged)["flagged"] == 0 and "Astronauts" not in flagged.text
    everything = ask_per_passage(pipeline, replies, llm_unsupported="flag", llm_min_kept=0.0)
    assert llm_counts(everything)["flagged"] == 2
    assert f"{FLAG} Astronauts orbit distant moons nightly." in everything.text


def test_nothing_passing_falls_back_with_a_summary(pipeline):
    answer = ask_per_passage(pipeline, ["Astronauts orbit distant moons nightly."])
    assert answer.mode == "extractive" and FALLBACK_NOTE in answer.notes
    assert "did not check out" in ui.check_summary(answer)
    flagged = ask_per_passage(
        pipeline, ["Astronauts orbit distant moons nightly."], llm_unsupported="flag"
    )
    # Flagged sentences alone are no answer: with nothing verified, the extractive one is shown.
    assert flagged.mode == "extractive" and FLAG not in flagged.text


def test_a_base_model_is_given_the_prompt_as_text_to_continue(settings):
    messages = [SystemMessage("Intro."), HumanMessage("Question: q\nAnswer:"), AIMessage("It")]
    assert _prompt(messages) == "Intro.\n\nQuestion: q\nAnswer: It"
    prompt = load_prompt("answer_passage")
    assert set(prompt.input_variables) == {"passage", "question"}
    fake = FakeListChatModel(responses=["x"])
    assert not continues_text(fake) and prompting(fake, settings) == "numbered"
    each = settings.model_copy(update={"llm_prompting": "per-passage"})
    (one,) = requests("q?", [passage()], fake, each)
    # A chat model is not given the answer's opening words: it would take them as its turn.
    assert one.start == "" and one.passage == 1 and one.messages[-1].type == "human"
    # The answer's token budget is shared by its calls.
    assert one.max_tokens == settings.llm_max_tokens
    two = requests("q?", [passage(), Passage(2, passage().hit)], fake, each)
    assert [r.max_tokens for r in two] == [settings.llm_max_tokens // 2] * 2
    assert "Staff did not record" not in one.prompt and "Question: q?" in one.prompt


def test_a_question_across_reviews_gives_the_model_each_review_like_the_extractive_answer():
    def hit(i, review, dense):
        meta = DocMeta(review.lower(), review, review=review)
        return Hit(Chunk(f"c{i}", meta.id, "x", i, i + 1, f"S{i}", "rec"), meta, 1.0, dense=dense)

    hits = [hit(0, "A", 0.60), hit(1, "A", 0.58), hit(2, "B", 0.45)]
    settings = Settings(abstain_threshold=0.355, passage_margin=0.08, llm_passages=3)
    assert [p.hit for p in number_passages(hits, settings)] == hits[:2]
    given = [p.hit for p in number_passages(hits, settings, across=True)]
    assert given == [hits[0], hits[2], hits[1]]
    assert given == supported(hits, settings.model_copy(update={"top_k": 3}), across=True)
