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

from collections.abc import Callable, Sequence

import numpy as np

from rag.answer.compose import Candidate, quote_passages
from rag.answer.gates import supported
from rag.answer.verify import display
from rag.answer.wording import review_name
from rag.core.models import Answer, Citation, DocMeta, Document, Hit, Quote, ReviewGroup
from rag.core.settings import Settings
from rag.understand.question import QueryInfo


def applies(answer: Answer, info: QueryInfo, settings: Settings) -> bool:
    """Whether to look for every review that addresses the question.

    Not for a question that names a review or a numbered section (it is answered from there),
    nor one that asks for a kind of fact (a time, a name ...: the missing-fact gate judges its
    first passages), nor an abstention.
    """
    named = info.documents or info.refs or info.facts
    return bool(settings.survey_reviews) and not answer.abstained and not named


def review_of(meta: DocMeta) -> tuple[str | None, str]:
    """What makes documents one review: a partnership's response and briefing on the same case
    are one review; a review with no catalog name goes by its title."""
    return meta.partnership, meta.review or meta.title


def best_by_review(hits: Sequence[Hit], settings: Settings) -> list[Hit]:
    """Each review's best-supported passage among those the abstention gate supports, best
    first: the passages any answer across reviews could quote, however many there are."""
    every = settings.model_copy(update={"top_k": max(1, len(hits))})
    best: dict[tuple[str | None, str], Hit] = {}
    for h in supported(hits, every, across=True):
        key = review_of(h.meta)
        if key not in best or h.dense > best[key].dense:
            best[key] = h
    return sorted(best.values(), key=lambda h: -h.dense)


def _groups(citations: Sequence[Citation]) -> list[ReviewGroup]:
    by_review: dict[tuple[str | None, str], list[Citation]] = {}
    for c in citations:
        by_review.setdefault(review_of(c.hit.meta), []).append(c)
    return [
        ReviewGroup(
            review=cs[0].hit.meta.review or cs[0].hit.meta.title,
            documents=tuple(dict.fromkeys(c.quote.document for c in cs)),
            citations=tuple(cs),
            support=float(cs[0].hit.dense),
        )
        for cs in by_review.values()
    ]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def render(groups: Sequence[ReviewGroup], shown: int) -> str:
    """The answer text: how many reviews address the question, then each shown review's quotes."""
    total, hidden = len(groups), max(0, len(groups) - shown)
    lead = f"{total} reviews address this. " + (
        f"The {shown} with the strongest support are quoted below, each from its best-supported "
        "passage, word for word:"
        if hidden
        else "Each is quoted below from its best-supported passage, word for word:"
    )
    parts = [lead]
    for g in groups[:shown]:
        quotes = "\n".join(f'"{display(c.quote.text)}" [{c.n}]' for c in g.citations)
        parts.append(f"{_capital(review_name(g.citations[0].hit.meta))}:\n{quotes}")
    if hidden:
        more = "review addresses" if hidden == 1 else "reviews address"
        parts.append(f"{hidden} more {more} this, with less support; ask to see them.")
    return "\n\n".join(parts)


def widen(
    answer: Answer,
    hits: Sequence[Hit],
    vector: np.ndarray,
    documents: Callable[[str], Document],
    vectors: Callable[[list[Candidate]], np.ndarray],
    verify: Callable[[Quote], bool],
    settings: Settings,
) -> Answer:
    """The answer across every review the pool `hits` supports, or `answer` when fewer than two.

    A review whose quotes all fail verification is neither shown nor counted.
    """
    best = best_by_review(hits, settings)
    if len(best) < 2:
        return answer
    groups = _groups(quote_passages(best, vector, documents, vectors, verify, settings))
    if len(groups) < 2:
        return answer
    shown = min(settings.survey_reviews, len(groups))
    citations = tuple(c for g in groups[:shown] for c in g.citations)
    text = render(groups, shown)
    return Answer(
        answer.question, text, False, citations, answer.id, groups=tuple(groups), shown=shown
    )
