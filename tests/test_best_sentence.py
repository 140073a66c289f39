"""A passage scored by its best sentence: one fact late in a long narrative passage, past
what the model reads of the passage (256 word pieces), is found from the sentence vectors
stored at ingest, for ranking (`sentence_weight`) and for support (`sentence_support`)."""

from __future__ import annotations

import pytest

from rag.assistant import Assistant
from rag.retrieve.sentences import PoolSentences, SentenceSearcher
from tests.conftest import make_settings

REVIEW = """# Local child safeguarding practice review: Child M

This fictional review was written for a test.

## Background

Child M lived with her mother and two older brothers in a rented flat. The family moved on
3.2.19, 14.9.19, 7.3.20 and 28.11.20, each time because the landlord wanted the property back,
and each move meant a new school for the boys and a new nursery for Child M. Her mother worked
evening shifts and relied on a neighbour to sit with the children until after midnight.
Professionals described the mother as warm, tired and proud; she found it hard to ask for help
because she feared being judged. The boys' attendance fell to 81%, 74% and then 62% across
three terms, and the education welfare officer visited on 12.1.21 and 26.1.21 without finding
anyone at home. The nursery noted that Child M often arrived hungry and was collected late, and
logged it on 4.2.21, 11.2.21, 3.3.21 and 17.3.21 but did not pass it on, believing the school
already knew. The housing association logged repairs to a broken window (ref. HA-2291) and a
leaking roof (ref. HA-2304) without asking about the children. The family's health visitor
changed twice, and each new health visitor started again from the records. When she was four, a
dentist at the community clinic found that eight of her teeth were decayed and needed removing
under general anaesthetic, and wrote to the GP, but nobody arranged the operation.

## Finding 1: Sharing what each agency knew

The nursery, the school and the housing association each held part of the picture, and none of
them shared it. A single agency seeing a family in crisis should check what others know before
deciding it is not their concern.

## Finding 2: Health visiting

When a health visitor leaves, a handover visit with the new health visitor should be arranged
so that the family does not have to tell its story again.

## Finding 3: Checks of a child's weight and growth

The nursery weighed Child M once and her growth was never plotted; a child who arrives hungry
should have her weight and growth checked and recorded.

## Finding 4: Dental health of children who move often

Children who move home and school often miss seeing a dentist; the school nurse should ask
whether the child has a dentist and help the family register with one.
"""
QUESTION = "Did a dentist ever see Child M?"
FACT = "a dentist at the community clinic found that eight of her teeth were decayed"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder):
    tmp = tmp_path_factory.mktemp("best-sentence")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "child-m.md").write_text(REVIEW)
    a = Assistant(make_settings(tmp, corpus_dir=corpus), embedder=embedder)
    a.ingest()
    return a


def _with(assistant: Assistant, **update) -> Assistant:
    return Assistant(assistant.settings.model_copy(update=update), embedder=assistant.embedder)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _background(assistant: Assistant):
    (chunk,) = [c for c in assistant.store.chunks() if FACT in _flat(c.text)]
    return chunk


def test_the_fact_is_past_what_the_model_reads_of_its_passage(assistant):
    chunk = _background(assistant)
    tokenizer = assistant.embedder.model.tokenizer
    before = chunk.text[: chunk.text.index("When she was")]
    assert len(tokenizer(before)["input_ids"]) > assistant.embedder.model.max_seq_length


def test_the_passage_is_ranked_first_by_its_best_sentence_not_by_its_own_vector(assistant):
    retriever = assistant.retriever
    info = retriever.understand(QUESTION)
    query = assistant.query(info.text or QUESTION, info)
    fetched = retriever.store.fetch([c.id for c in retriever.store.chunks()])
    background = _background(assistant).id
    whole = sorted(fetched, key=lambda cid: -float(fetched[cid][1] @ query.vector))
    assert whole[0] != background  # the passage's own vector does not find the fact
    sentences = PoolSentences(fetched, assistant._quotable, retriever.store.sentence_vectors)
    ranking = SentenceSearcher(sentences).search(query, 3)
    assert ranking[0][0] == background
    # Restricted to other documents, the pool has nothing to offer.
    assert SentenceSearcher(sentences).search(query, 3, frozenset({"elsewhere"})) == []


def test_a_passage_whose_one_sentence_is_the_closest_is_quoted_with_sentence_support(assistant):
    background = _background(assistant).id
    off = _with(assistant, sentence_support=False).ask(QUESTION)
    on = _with(assistant, sentence_support=True).ask(QUESTION)
    assert not off.abstained and not on.abstained
    assert background not in {c.hit.chunk.id for c in off.citations}
    quoted = [c.quote.text for c in on.citations if c.hit.chunk.id == background]
    assert any(FACT in _flat(q) for q in quoted)


def test_the_sentence_ranking_is_fused_only_when_weighted(assistant):
    background = _background(assistant).id
    score = {}
    for weight in (0.0, 1.0):
        hits, _ = _with(assistant, sentence_weight=weight).search(QUESTION)
        score[weight] = {h.chunk.id: h.score for h in hits}[background]
    # First by its best sentence: it gains the weight over (k + 1) in reciprocal rank fusion.
    k = assistant.settings.rrf_k
    assert score[1.0] - score[0.0] == pytest.approx(1.0 / (k + 1))
