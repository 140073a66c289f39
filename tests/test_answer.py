"""Answer composition: which spans are quoted, and which page each citation names."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rag.answer.compose import compose
from rag.answer.gates import supported
from rag.core.models import Chunk, DocMeta, Document, Hit
from rag.core.settings import Settings
from rag.core.text import sentence_spans

REC = "Recommendation One:\n\nGPs should review the missed appointments policy every year."
RESP = "The CCG has reviewed the policy and shared it with every practice in the county."
TEXT = REC + "\n\n" + RESP


def make_doc_and_hit(page_two_at: int):
    doc = Document(DocMeta("d", "Doc", review="Child P"), TEXT, page_starts=(0, page_two_at))
    rec_start = TEXT.index("GPs")
    chunk = Chunk(
        "c",
        "d",
        TEXT,
        0,
        len(TEXT),
        "Recommendation One",
        "recommendation",
        page=1,
        rec_start=rec_start,
        rec_end=rec_start + len(REC) - REC.index("GPs"),
    )
    return doc, Hit(chunk, doc.meta, score=1.0, dense=0.9)


def answer_for(doc, hit):
    return compose(
        "missed appointments",
        [hit],
        np.ones(3, dtype=np.float32),
        documents=lambda ids: {i: doc for i in ids},
        vectors=lambda candidates: np.ones((len(candidates), 3), dtype=np.float32) / 3,
        verify=lambda q: TEXT[q.start : q.end] == q.text,
        settings=Settings(abstain_threshold=0.3),
    )


def test_recommendation_then_response_as_separate_quotes():
    doc, hit = make_doc_and_hit(page_two_at=TEXT.index("The CCG"))
    answer = answer_for(doc, hit)
    quotes = [c.quote.text for c in answer.citations]
    assert quotes == [REC[REC.index("GPs") :], RESP]


def test_each_citation_names_the_page_its_quote_starts_on():
    doc, hit = make_doc_and_hit(page_two_at=TEXT.index("The CCG"))
    pages = [c.page for c in answer_for(doc, hit).citations]
    assert pages == [1, 2]


def test_sentence_spans_trim_list_markers_and_emphasis():
    text = "- (a) **All agencies to ensure that staff are aware.**\n- (b) Short."
    spans = sentence_spans(text, 0, len(text))
    assert [text[s.start : s.end] for s in spans] == [
        "All agencies to ensure that staff are aware."
    ]


def test_sentence_spans_drop_a_quotation_mark_the_sentence_does_not_close():
    text = '"The partnership is committed to this work. It has made changes since then."\n\n'
    text += '"One whole quoted sentence stays quoted."'
    spans = sentence_spans(text, 0, len(text))
    assert [text[s.start : s.end] for s in spans] == [
        "The partnership is committed to this work.",
        "It has made changes since then.",
        '"One whole quoted sentence stays quoted."',
    ]
    curly = "“Treating every child as a child first. Always.” was the principle."
    assert [curly[s.start : s.end] for s in sentence_spans(curly, 0, len(curly))][0] == (
        "Treating every child as a child first."
    )


def _hits(*scores: float) -> list[Hit]:
    meta = DocMeta("d", "Doc")
    return [
        Hit(Chunk(f"c{i}", "d", "x", i, i + 1, f"S{i}", "recommendation"), meta, 1.0, dense=s)
        for i, s in enumerate(scores)
    ]


def test_the_first_ranked_passage_near_the_best_is_quoted_under_the_threshold():
    settings = Settings(abstain_threshold=0.355, passage_margin=0.08)
    first, best, other = _hits(0.34, 0.37, 0.345)
    kept = supported([first, best, other], settings)
    # The first passage is kept for its rank; another passage as weak is still left out.
    assert kept == [first, best]
    # Too far below the best, the first passage is not quoted at all.
    far, best = _hits(0.28, 0.37)
    assert supported([far, best], settings) == [best]


def test_a_first_passage_under_the_threshold_alone_still_abstains():
    settings = Settings(abstain_threshold=0.355, passage_margin=0.08)
    assert supported(_hits(0.34, 0.30), settings) == []


def test_one_sentence_close_to_the_question_supports_a_passage_under_the_threshold():
    settings = Settings(abstain_threshold=0.355, sentence_threshold=0.6)
    diluted, close, weak = _hits(0.33, 0.30, 0.34)
    diluted = replace(diluted, part=0.62)
    close = replace(close, part=0.58)
    # Only the passage whose best sentence clears sentence_threshold answers; none would alone.
    assert supported([weak, diluted, close], settings) == [diluted]
    assert (
        supported([weak, diluted, close], settings.model_copy(update={"sentence_threshold": 1.0}))
        == []
    )
    off = settings.model_copy(update={"sentence_support": False})
    assert supported([weak, diluted, close], off) == []


def test_a_question_across_reviews_quotes_each_supported_review_first():
    def hit(i, review, dense):
        meta = DocMeta(review.lower(), review, review=review)
        chunk = Chunk(f"c{i}", meta.id, "x", i, i + 1, f"S{i}", "recommendation")
        return Hit(chunk, meta, 1.0, dense=dense)

    a1, a2, b1, c1 = hit(0, "A", 0.60), hit(1, "A", 0.58), hit(2, "B", 0.45), hit(3, "C", 0.30)
    settings = Settings(abstain_threshold=0.355, passage_margin=0.08, top_k=3)
    hits = [a1, a2, b1, c1]
    # Asked of one review, only passages near the best are quoted.
    assert supported(hits, settings) == [a1, a2]
    # Asked across reviews, review B's best passage clears the threshold and comes before A's
    # second; review C's is unsupported and stays out.
    assert supported(hits, settings, across=True) == [a1, b1, a2]


def test_a_narrative_sentence_a_little_less_close_than_the_best_is_quoted_too():
    # A long narrative passage tells many things; the sentence that answers is often not the
    # one closest to the question in meaning, but it is seldom far behind (the first sentence
    # also gains the response lead prior, 0.05).
    text = (
        "The family moved to the town in the spring of that year after losing their flat. "
        "The first home visit took place nine weeks later and the twins were not seen. "
        "The school nurse offered drop-in sessions at the library on Tuesdays."
    )
    doc = Document(DocMeta("n", "Doc", review="Child Q"), text)
    chunk = Chunk("n1", "n", text, 0, len(text), "Summary of events", "other")
    hit = Hit(chunk, doc.meta, score=1.0, dense=0.7)
    sims = iter([0.60, 0.52, 0.30])

    def vectors(candidates):
        out = []
        for _ in candidates:
            s = next(sims)
            out.append([s, (1 - s * s) ** 0.5, 0.0])
        return np.asarray(out, dtype=np.float32)

    answer = compose(
        "When was the first visit?",
        [hit],
        np.array([1.0, 0.0, 0.0], dtype=np.float32),
        documents=lambda ids: {i: doc for i in ids},
        vectors=vectors,
        verify=lambda q: text[q.start : q.end] == q.text,
        settings=Settings(abstain_threshold=0.3),
    )
    quoted = " ".join(c.quote.text for c in answer.citations)
    assert "first home visit" in quoted
    assert "drop-in" not in quoted


NARRATIVE = """# Ambergate Safeguarding Children Partnership

## Local Child Safeguarding Practice Review: Child Q

This is a fictional document written for software testing; all names are invented.

### What happened

The Child Q review looked at events over two years in the Ambergate area, from the birth of her
brother. Relatives were asked to translate at health appointments, so the mother's own account
was never heard. The family moved house twice in that time.

### Background

Child Q lived with her mother and baby brother in a rented flat near the school.
"""


def test_a_review_named_question_quotes_the_sentence_on_its_topic_not_on_the_review(
    tmp_path, embedder
):
    """Every sentence of the review shares its name; the sentence that answers is chosen by
    the question's topic, not by the review's name that the question repeats."""
    from rag.assistant import Assistant
    from tests.conftest import make_settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ambergate-child-q.md").write_text(NARRATIVE, encoding="utf-8")
    settings = make_settings(tmp_path, corpus_dir=corpus, catalog_file="none.toml")
    assistant = Assistant(settings, embedder=embedder)
    assistant.ingest()
    answer = assistant.ask("What did the Child Q review say about interpreting for the mother?")
    assert not answer.abstained
    assert answer.citations[0].quote.text.startswith("Relatives were asked to translate")
