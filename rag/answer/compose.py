"""Extractive answers: in the supported passages, pick the sentences, and quote them verbatim."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.gates import supported
from rag.answer.verify import normalise
from rag.answer.wording import abstain, render
from rag.core.models import Answer, Chunk, Citation, Document, Hit, Quote
from rag.core.settings import Settings
from rag.core.text import Span, merge_adjacent, sentence_spans


@dataclass(frozen=True)
class Candidate:
    """A sentence compose scores: the chunk it belongs to, where it is, and its text."""

    chunk: str
    span: Span
    text: str


def _merge(spans: list[Span], doc_text: str) -> list[Span]:
    return [Span(a, b) for a, b in merge_adjacent(spans, doc_text)]


def _after_heading(doc_text: str, chunk) -> int:
    """Where a chunk's body starts: after its first line when that line is the heading."""
    first_end = doc_text.find("\n", chunk.start, chunk.end)
    if first_end < 0:
        return chunk.start
    label = normalise(chunk.section.split(" › ")[-1]).lower()
    line = normalise(doc_text[chunk.start : first_end]).lower().rstrip(":")
    return first_end if label and (label in line or line in label) else chunk.start


def _candidates(c: Chunk, doc_text: str, settings: Settings) -> tuple[list[Span], list[Span]]:
    words = settings.min_quote_words
    if c.rec_start is not None and c.rec_end is not None and c.rec_end > c.rec_start:
        return sentence_spans(doc_text, c.rec_start, c.rec_end, words), sentence_spans(
            doc_text, c.rec_end, c.end, words
        )
    return [], sentence_spans(doc_text, _after_heading(doc_text, c), c.end, words)


def candidate_spans(hit: Hit, doc_text: str, settings: Settings) -> tuple[list[Span], list[Span]]:
    """A passage's sentences: those of its recommendation text, and those after it."""
    return _candidates(hit.chunk, doc_text, settings)


def _scored(c: Chunk, rec_spans: list[Span], rest: list[Span], settings: Settings) -> list[Span]:
    """The sentences whose scores choose_spans reads: a short recommendation is quoted whole."""
    long_rec = bool(rec_spans) and c.rec_end - c.rec_start > settings.whole_rec_chars
    return [*(rec_spans if long_rec else []), *rest]


def scored_spans(chunk: Chunk, settings: Settings) -> list[Span]:
    """The sentences of a chunk that compose scores against a question, by document offsets.

    Computed from the chunk alone (every rule above reads only inside the chunk), so ingest can
    embed exactly these sentences once and compose read their vectors back.
    """
    # The same rules on the chunk's own text, with offsets moved to start at 0 and back.
    at = chunk.start
    local = replace(
        chunk,
        start=0,
        end=chunk.end - at,
        rec_start=None if chunk.rec_start is None else chunk.rec_start - at,
        rec_end=None if chunk.rec_end is None else chunk.rec_end - at,
    )
    spans = _scored(local, *_candidates(local, chunk.text, settings), settings)
    return [Span(s.start + at, s.end + at) for s in spans]


def choose_spans(
    hit: Hit, doc_text: str, score: dict[Span, float], settings: Settings
) -> list[Span]:
    """The recommendation text first, then the response sentences most relevant to the question.

    `score` holds each candidate sentence's similarity to the question.
    """
    rec_spans, rest = candidate_spans(hit, doc_text, settings)
    score = dict(score)
    if rest:
        # An agency response usually opens by saying what was done; a small prior keeps it.
        score[rest[0]] += settings.response_lead_prior
    chosen: list[Span] = []
    if rec_spans:
        if hit.chunk.rec_end - hit.chunk.rec_start <= settings.whole_rec_chars:
            chosen.append(Span(rec_spans[0].start, rec_spans[-1].end))
        else:
            # A long finding opens with its statement: always quote it, then the best other one.
            best_other = sorted(rec_spans[1:], key=lambda s: -score[s])[:1]
            chosen += _merge([rec_spans[0], *best_other], doc_text)
    ranked = sorted(rest, key=lambda s: -score[s])
    if ranked:
        best = score[ranked[0]]
        # Only response sentences nearly as relevant as the best one; no padding.
        picked = [
            s
            for s in ranked[: settings.max_sentences]
            if score[s] >= best - settings.sentence_margin
        ]
        # Merged separately, so the recommendation and the response are never one quote.
        chosen += _merge(picked, doc_text)
    return chosen


def _in_order(spans: list[Span], doc_text: str, settings: Settings) -> dict[Span, float]:
    # A question with no topic has no similarity to go by: the opening's first sentences say
    # what the review was. Title lines ("Serious Case Review of Child W") are not sentences.
    words = settings.overview_sentence_words
    order = [s for s in spans if len(doc_text[s.start : s.end].split()) >= words]
    score = dict.fromkeys(spans, -1.0)
    score.update({s: 1.0 - i * 0.01 for i, s in enumerate(order)})
    return score


def quote_passages(
    chosen: Sequence[Hit],
    vector: np.ndarray,
    documents: Callable[[Sequence[str]], Mapping[str, Document]],
    vectors: Callable[[list[Candidate]], np.ndarray],
    verify: Callable[[Quote], bool],
    settings: Settings,
    overview: bool = False,
    states: Callable[[str], bool] | None = None,
) -> list[Citation]:
    """The verified quotes of each passage, in the passages' order and numbered from 1.

    The sentences are chosen by `choose_spans`; a quote `verify` rejects is dropped. See
    `compose` for `vectors`, `overview` and `states`.
    """
    # One read for every document, however many of its passages are quoted.
    docs = documents(list(dict.fromkeys(h.chunk.document for h in chosen)))
    passages = [(hit, docs[hit.chunk.document].text) for hit in chosen]
    spans = [_scored(h.chunk, *candidate_spans(h, t, settings), settings) for h, t in passages]
    wanted = [
        Candidate(h.chunk.id, s, t[s.start : s.end])
        for (h, t), ss in zip(passages, spans)
        for s in ss
    ]
    # One look-up for every candidate sentence of every passage.
    sims = iter((vectors(wanted) @ vector).tolist() if wanted else [])
    citations: list[Citation] = []
    for (hit, doc_text), candidates in zip(passages, spans):
        score = {s: next(sims) for s in candidates}
        if overview and hit.named:
            score = _in_order(candidates, doc_text, settings)
            if max(score.values(), default=-1.0) < 0:
                continue  # a title page: nothing in it says what the review was
        if states is not None:
            score = {s: v + float(states(doc_text[s.start : s.end])) for s, v in score.items()}
        for span in choose_spans(hit, doc_text, score, settings):
            quote = Quote(hit.chunk.document, doc_text[span.start : span.end], span.start, span.end)
            if verify(quote):
                # The page holding the quote's first character, not the chunk's.
                page = docs[quote.document].page_at(quote.start)
                citations.append(Citation(len(citations) + 1, quote, hit, page))
    return citations


def compose(
    question: str,
    hits: Sequence[Hit],
    vector: np.ndarray,
    documents: Callable[[Sequence[str]], Mapping[str, Document]],
    vectors: Callable[[list[Candidate]], np.ndarray],
    verify: Callable[[Quote], bool],
    settings: Settings,
    answer_id: str | None = None,
    across: bool = False,
    overview: bool = False,
    states: Callable[[str], bool] | None = None,
) -> Answer:
    """Build the answer from verified quotes only; abstain when nothing supports it.

    `vectors` gives the unit vectors of candidate sentences (stored at ingest, or embedded);
    `across` asks for breadth over reviews (see `supported`); `overview` (a question naming a
    review and nothing else) quotes the named openings' first full sentences; `states` tells
    the sentences stating the kind of fact asked for (see `rag.understand.facts`), which come
    first.
    """
    chosen = supported(hits, settings, across)
    citations = quote_passages(
        chosen, vector, documents, vectors, verify, settings, overview, states
    )
    if not citations:
        return abstain(question, answer_id)
    return Answer(question, render(citations), False, tuple(citations), answer_id)
