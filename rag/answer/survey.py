"""Answers across reviews: for a question naming no review, every review that addresses it,
counted, each quoted from its best-supported passage, best supported first.

A corpus-wide question ("What have reviews found about safe sleep?") may be addressed by dozens
of reviews, far more than the few passages an answer quotes. The retriever is asked for a wider
pool of candidates (`settings.survey_pool` from each ranking: bounded, so the cost does not grow
with the index); the passages the abstention gate supports (`gates.supported`, with breadth over
reviews) are grouped by review; each review is quoted from its best passage by the same quote
selection and verification as any answer (`compose.quote_passages`). When fewer than two reviews
remain, the answer is left as it was. An answer across reviews is not rewritten by a language
model, which is given a few passages, not dozens.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from rag.answer.compose import Candidate, quote_passages
from rag.answer.gates import supported
from rag.answer.verify import display
from rag.answer.wording import review_name
from rag.core.models import Answer, Citation, DocMeta, Document, Filters, Hit, Quote, ReviewGroup
from rag.core.settings import Settings
from rag.retrieve.base import Query
from rag.understand.question import QueryInfo, topic_words


def applies(answer: Answer, info: QueryInfo, settings: Settings) -> bool:
    """Whether to look for every review that addresses the question: one that asks what the
    reviews say as a body, naming none (`QueryInfo.across_reviews`), and was answered.

    Not for a question naming no review that asks what to do ("Should families be told when I
    pass my concerns on?"): its answer is the few passages closest to it, and one passage per
    review would drop the second passage of the review that answers it (on the in-domain gold,
    quote_hit@3 fell from 0.823 to 0.797 when every such question was answered across reviews).
    Nor for one asking for a kind of fact (a time, a name ...: the missing-fact gate judges its
    first passages).
    """
    return wanted(info, settings) and not answer.abstained


def wanted(info: QueryInfo, settings: Settings) -> bool:
    """Whether the question, once answered, is answered across reviews (see `applies`)."""
    named = info.documents or info.refs or info.facts
    return bool(settings.survey_reviews) and info.across_reviews and not named


def topic(question: str) -> str:
    """The question from its first topic word on ("What have reviews found about safe sleep?"
    -> "safe sleep?"); the question itself when no word says what it is about."""
    words = topic_words(question)
    found = re.search(rf"(?<!\w){re.escape(words[0])}", question) if words else None
    return question[found.start() :] if found else question


def by_topic(query: Query, embed: Callable[[list[str]], np.ndarray]) -> Query:
    """The query with support judged by its topic alone.

    Every review says what reviews found: judged by the question as asked, a review's account
    of its own method ("The review used a systems approach") supports "What have reviews found
    about X?" whatever X is. A question naming a review is judged by its topic for the same
    reason (see Assistant.query).
    """
    text = topic(query.text)
    return query if text == query.text else replace(query, support=embed([text])[0])


def known_or(
    known: Mapping[str, np.ndarray], embed: Callable[[list[str]], np.ndarray], texts: list[str]
) -> np.ndarray:
    """The vectors of `texts` from `known` (the topic, embedded with the question) when it
    holds them all, else from `embed`."""
    if all(t in known for t in texts):
        return np.stack([known[t] for t in texts])
    return embed(texts)


def review_of(meta: DocMeta) -> tuple[str | None, str]:
    """What makes documents one review: a partnership's response and briefing on the same case
    are one review; a review with no catalog name goes by its title."""
    return meta.partnership, meta.review or meta.title


def best_by_review(hits: Sequence[Hit], settings: Settings) -> list[tuple[Hit, float]]:
    """Each review that the abstention gate finds supporting the question, with the passage to
    quote and the review's support, best supported first.

    The passage is the review's first in the fused ranking (words and meaning, not meaning
    alone: on zoo-dev it held the labelled phrase more often); the support is the highest
    cosine of any of its supported passages.
    """
    # The abstention gate, with breadth over reviews, every passage of the pool, and the
    # threshold calibrated for support judged by the topic alone (see `by_topic`).
    every = settings.model_copy(
        update={"top_k": max(1, len(hits)), "abstain_threshold": settings.survey_threshold}
    )
    first: dict[tuple[str | None, str], Hit] = {}
    support: dict[tuple[str | None, str], float] = {}
    for h in sorted(supported(hits, every, across=True), key=lambda h: -h.score):
        key = review_of(h.meta)
        first.setdefault(key, h)
        support[key] = max(support.get(key, -1.0), h.dense)
    return sorted(((first[k], support[k]) for k in first), key=lambda hs: -hs[1])


def _groups(citations: Sequence[Citation], support: dict) -> list[ReviewGroup]:
    """The citations grouped by review, in order; a review's support from `support`, else the
    cosine of its first quoted passage."""
    by_review: dict[tuple[str | None, str], list[Citation]] = {}
    for c in citations:
        by_review.setdefault(review_of(c.hit.meta), []).append(c)
    return [
        ReviewGroup(
            review=key[1],
            documents=tuple(dict.fromkeys(c.quote.document for c in cs)),
            citations=tuple(cs),
            support=float(support.get(key, cs[0].hit.dense or 0.0)),
        )
        for key, cs in by_review.items()
    ]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def cut_short(hits: Sequence[Hit], settings: Settings) -> bool:
    """Whether the pool may have left out reviews that address the question: it holds as many
    passages above the support threshold as one ranking gives (`settings.survey_pool`).

    The pool is bounded so that latency does not grow with the index; when a theme runs through
    hundreds of reviews, the reviews counted are those the pool reached, a lower bound.
    """
    above = sum(1 for h in hits if h.dense is not None and h.dense >= settings.survey_threshold)
    return above >= settings.survey_pool


def render(groups: Sequence[ReviewGroup], shown: int, at_least: bool = False) -> str:
    """The answer text: how many reviews address the question, then each shown review's quotes.

    The reviews held back are only counted in the lead-in: every later paragraph cites. With
    `at_least` (see `cut_short`) the count is said to be a lower bound.
    """
    total, hidden = len(groups), max(0, len(groups) - shown)
    count = f"At least {total}" if at_least else f"{total}"
    lead = f"{count} reviews address this. " + (
        f"The first {shown} are quoted below, word for word; the other {hidden} on request:"
        if hidden
        else "Each is quoted below, word for word:"
    )
    parts = [lead]
    for g in groups[:shown]:
        quotes = "\n".join(f'"{display(c.quote.text)}" [{c.n}]' for c in g.citations)
        parts.append(f"{_capital(review_name(g.citations[0].hit.meta))}:\n{quotes}")
    return "\n\n".join(parts)


def judged_by(query: Query) -> str:
    """The text whose vector judges an answer across reviews (see `by_topic`): the topic, else
    what the question's support vector was embedded from."""
    text = topic(query.text)
    if text != query.text or query.support is None:
        return text
    return query.info.topic or query.text


def quote_groups(
    chosen: Sequence[tuple[Hit, float]],
    judge: np.ndarray,
    documents: Callable[[Sequence[str]], Mapping[str, Document]],
    vectors: Callable[[list[Candidate]], np.ndarray],
    verify: Callable[[Quote], bool],
    settings: Settings,
    after: int = 0,
) -> list[ReviewGroup]:
    """One group per passage whose quotes pass verification, each with its support; the quotes
    numbered on from `after`. One call composes them all (one read of the documents)."""
    cited = quote_passages([h for h, _ in chosen], judge, documents, vectors, verify, settings)
    cited = [replace(c, n=after + i) for i, c in enumerate(cited, 1)]
    support = {review_of(h.meta): s for h, s in chosen}
    return _groups(cited, support)


def held(hit: Hit, support: float) -> ReviewGroup:
    """A review counted but not yet quoted: its quotes are composed when it is asked for."""
    return ReviewGroup(review_of(hit.meta)[1], (hit.chunk.document,), (), support, passage=hit)


def widen(
    answer: Answer,
    query: Query,
    search: Callable[[Query, Filters, int], Sequence[Hit]],
    filters: Filters,
    embed: Callable[[list[str]], np.ndarray],
    documents: Callable[[Sequence[str]], Mapping[str, Document]],
    vectors: Callable[[list[Candidate]], np.ndarray],
    verify: Callable[[Quote], bool],
    settings: Settings,
) -> Answer:
    """`answer` grouped by review, then every other review whose passages in a wider pool
    (`search`, i.e. Retriever.hits, with `settings.survey_pool` from each ranking) support the
    question's topic, best supported first; `answer` itself when fewer than two reviews do.

    The reviews the answer quotes keep its quotes and come first: the gates chose them, and an
    answer across reviews should never show less than the answer it extends (on the in-domain
    gold, replacing them with each review's best passage lost quote_hit@3 0.823 -> 0.814).
    Quotes are composed for the reviews shown; the others are counted from their supported
    passages and held (`held`), quoted only when asked for (`expand`): a theme of a national
    index reaches dozens of reviews, and quoting every one cost most of a corpus-wide answer.
    A review whose quotes all fail verification is never shown. Each quote is checked by
    `verify` against its document; `documents` reads every document quoted in one request.
    """
    about = by_topic(query, embed)
    pool = search(about, filters, settings.survey_pool)
    best = best_by_review(pool, settings)
    support = {review_of(h.meta): s for h, s in best}
    quoted = _groups(answer.citations, support)
    have = {review_of(g.citations[0].hit.meta) for g in quoted}
    more = [(h, s) for h, s in best if review_of(h.meta) not in have]
    if len(quoted) + len(more) < 2:
        return answer
    judge = about.full if about.support is None else about.support
    fresh: list[ReviewGroup] = []
    numbered = len(answer.citations)
    # In batches, so that a review whose quotes fail verification gives way to the next.
    while more and len(quoted) + len(fresh) < settings.survey_reviews:
        want = settings.survey_reviews - len(quoted) - len(fresh)
        batch, more = more[:want], more[want:]
        fresh += quote_groups(batch, judge, documents, vectors, verify, settings, numbered)
        numbered = len(answer.citations) + sum(len(g.citations) for g in fresh)
    groups = quoted + fresh + [held(h, s) for h, s in more]
    if len(groups) < 2:
        return answer
    shown = len(quoted) + len(fresh)
    citations = tuple(c for g in groups[:shown] for c in g.citations)
    at_least = cut_short(pool, settings)
    return Answer(
        answer.question,
        render(groups, shown, at_least),
        False,
        citations,
        answer.id,
        groups=tuple(groups),
        shown=shown,
        judged_by=judged_by(query),
        at_least=at_least,
    )


def expand(
    answer: Answer,
    judge: np.ndarray,
    documents: Callable[[Sequence[str]], Mapping[str, Document]],
    vectors: Callable[[list[Candidate]], np.ndarray],
    verify: Callable[[Quote], bool],
    settings: Settings,
) -> Answer:
    """`answer` with every held group quoted, by `judge` (the vector of `answer.judged_by`),
    numbered on from the quotes before it; a held review none of whose quotes pass
    verification is dropped, and no longer counted."""
    waiting = [g for g in answer.groups if g.held]
    if not waiting:
        return answer
    before = sum(len(g.citations) for g in answer.groups)
    chosen = [(g.passage, g.support) for g in waiting if g.passage is not None]
    fresh = quote_groups(chosen, judge, documents, vectors, verify, settings, before)
    # A held group quotes one passage, so its document names it.
    by_document = {g.documents[0]: g for g in fresh}
    groups = tuple(
        by_document[g.documents[0]] if g.held else g
        for g in answer.groups
        if not g.held or g.documents[0] in by_document
    )
    return replace(answer, text=render(groups, answer.shown, answer.at_least), groups=groups)
