"""Whether the corpus supports an answer: the gates every question passes, in this order.

1. `unknown_names`: the question names something the corpus never mentions (a place, an Act,
   a safeguarding issue no review covers) -> abstain, naming it;
2. `outside_review`: it names a review and asks about words that review never uses, though
   other documents do -> abstain, naming the documents that do;
3. `unaddressed`: it asks what a named review recommended for someone none of its
   recommendations found addresses -> abstain;
4. `supported`: which retrieved passages clear the relevance threshold and are near the best
   (or hold the closest sentence of all); none -> abstain (compose does this when it finds
   nothing to quote);
5. `missing_fact`: the kind of fact asked for (a time, an amount, a person ...) is not stated
   by a quote from the first passages -> abstain, saying what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass

from rag.answer.wording import abstain, listed, not_in_review_text, review_name
from rag.core.models import Answer, DocMeta, Hit
from rag.core.settings import Settings
from rag.understand.facts import fact_tests
from rag.understand.question import QueryInfo, mentions_all

NO_DURATION_TEXT = (
    "The passages closest to this question give no time, deadline or frequency, so the corpus "
    "does not answer it and nothing is quoted. Try rephrasing, or ask about the reviews the "
    "corpus holds."
)
NO_AMOUNT_TEXT = (
    "The passages closest to this question give no dose, amount or number, so the corpus does "
    "not answer it and nothing is quoted. Try rephrasing, or ask about the reviews the corpus "
    "holds."
)
NO_PERSON_TEXT = (
    "The passages closest to this question name no one, so the corpus does not say who it was "
    "and nothing is quoted. Try asking what the review found or recommended."
)
NO_NAME_TEXT = (
    "The passages closest to this question give no name, so the corpus does not answer it and "
    "nothing is quoted. Reviews usually leave out the names of the people and places in a case."
)
NO_RATING_TEXT = (
    "The passages closest to this question give no inspection rating, so the corpus does not "
    "answer it and nothing is quoted. Try asking what the reviews found or recommended."
)
NO_VERDICT_TEXT = (
    "The passages closest to this question say nothing of charges, convictions or sentences, so "
    "the corpus does not answer it and nothing is quoted. Case reviews look at how agencies "
    "worked with a family, not at criminal proceedings."
)
NO_EXPANSION_TEXT = (
    "The passages closest to this question use the abbreviation but never spell it out, so the "
    "corpus does not answer it and nothing is quoted."
)
NO_PARTS_TEXT = (
    "The passages closest to this question mention what it asks about but never set out the "
    "parts asked for (its messages, steps, stages or criteria), so the corpus does not answer "
    "it and nothing is quoted. Try asking what the reviews found or recommended about it."
)

NO_PROGRESS_TEXT = (
    "The passages closest to this question are the review's own recommendations or findings, "
    "and no response or progress update about them is recorded, so the corpus does not say how "
    "far they have got and nothing is quoted."
)
# The roles of the passages that report how far a recommendation has got (rag.ingest.roles).
_PROGRESS_ROLES = frozenset({"progress", "response"})

_REASONS = {
    "duration": NO_DURATION_TEXT,
    "amount": NO_AMOUNT_TEXT,
    "person": NO_PERSON_TEXT,
    "name": NO_NAME_TEXT,
    "rating": NO_RATING_TEXT,
    "verdict": NO_VERDICT_TEXT,
    "expansion": NO_EXPANSION_TEXT,
    "parts": NO_PARTS_TEXT,
}


def unknown_names(question: str, info: QueryInfo, answer_id: str | None = None) -> Answer | None:
    """Gate 1: an abstention naming what the corpus never mentions, or None."""
    if not info.unknown_names:
        return None
    return abstain(question, answer_id, unknown=info.unknown_names)


def outside_review(
    question: str,
    info: QueryInfo,
    words: Sequence[str],
    others: Sequence[str],
    metas: Mapping[str, DocMeta],
    answer_id: str | None = None,
) -> Answer | None:
    """Gate 2: an abstention when the named review never uses the topic's `words` though the
    `others` documents do (see Retriever.not_in_review), or None."""
    if not words:
        return None
    text = not_in_review_text([metas[d] for d in info.documents], words, [metas[d] for d in others])
    return abstain(question, answer_id, text=text)


def unaddressed(
    question: str, info: QueryInfo, hits: Sequence[Hit], answer_id: str | None = None
) -> Answer | None:
    """Gate 3: an abstention when the question asks what a named review recommended for
    someone, and none of that review's recommendations found is for them, or None.

    A recommendation is for someone when its text, or the heading it sits under ("Health
    visiting"), names them. With no recommendation among the passages found, the gate cannot
    tell and passes.
    """
    if not (info.recipient and info.documents):
        return None
    named = set(info.documents)
    recs = [
        " ".join(
            (h.chunk.section, h.chunk.context, h.chunk.text[a - h.chunk.start : b - h.chunk.start])
        )
        for h in hits
        if h.chunk.document in named
        for a, b, role in h.chunk.roles
        if role == "recommendation"
    ]
    if not recs or any(mentions_all(info.recipient, t) for t in recs):
        return None
    reviews = listed([review_name(h.meta) for h in hits if h.chunk.document in named])
    who = " ".join(info.recipient)
    text = (
        f"None of the recommendations of {reviews} found for this question is addressed to "
        f"{who}, so the corpus does not say what it recommended for them and nothing is quoted."
    )
    return abstain(question, answer_id, text=text)


def supported(hits: Sequence[Hit], settings: Settings, across: bool = False) -> list[Hit]:
    """Gate 4: the passages worth quoting, above the abstention threshold and near the best.

    With `sentence_support` and no section named, the passage holding the closest candidate
    sentence of the first passages (`Hit.part`) is kept too, however far its whole vector is
    from the best.

    `across` (a question about what the reviews say, naming none) adds each other review's
    best supported passage, and puts one passage of each review first.
    """
    pool = [h for h in hits[: settings.top_k * 3] if h.dense is not None]
    # A section the question names ("Recommendation 7") supports it whatever its similarity.
    named = [h for h in pool if h.named]
    if not pool:
        return []
    best = max(h.dense for h in pool)
    if best < settings.abstain_threshold and not named:
        # Short questions about a named review ("What did Child A say about GPs?") leave a
        # topic too short for its cosine to clear the threshold; a recommendation or finding
        # of that review that uses every topic word supports it (a response that mentions the
        # police in passing does not: only the recommendation text counts). So does a passage
        # using a name few passages use. So does a passage holding one sentence close to the
        # question, though the rest of the passage pulls its whole vector away.
        by_part = settings.sentence_support
        return [
            h
            for h in pool
            if h.mentions
            or (by_part and h.part is not None and h.part >= settings.sentence_threshold)
        ][: settings.top_k]
    near = best - settings.passage_margin
    floor = max(settings.abstain_threshold, near)
    # The passage holding the closest sentence of all answers too, though the rest of it pulls
    # its own vector away from the question; not beside sections the question names ("the key
    # messages" are its learning sections, not a recommendation with one close sentence).
    by_sentence = settings.sentence_support and not named
    parts = [h.part for h in pool if h.part is not None] if by_sentence else []
    part_floor = max(parts) if parts else float("inf")

    def kept(h: Hit) -> bool:
        # Once the question is answerable, the passage ranked first (by words and sections as
        # well as meaning) is quoted if it is near the best, even a little under the threshold:
        # "How did the police respond?" is answered by the police response, whose wording is
        # far from the question's.
        by_part = h.part is not None and h.part >= part_floor
        return h.dense >= floor or (h is hits[0] and h.dense >= near) or by_part

    keep = named + [h for h in hits if h.dense is not None and not h.named and kept(h)]
    if across and not named:
        keep = _across_reviews(keep, pool, settings.abstain_threshold)
    return keep[: settings.top_k]


def _across_reviews(keep: list[Hit], pool: Sequence[Hit], threshold: float) -> list[Hit]:
    # "What have the reviews said about bruising?" asks for breadth: a review whose best
    # passage clears the threshold is quoted even when another review's passages are closer
    # (the margin would keep only those), and the first passage of each review comes first.
    keep = list(keep)
    reviews = {h.meta.review for h in keep}
    for h in pool:
        if h.dense >= threshold and h.meta.review not in reviews:
            keep.append(h)
            reviews.add(h.meta.review)
    firsts: list[Hit] = []
    rest: list[Hit] = []
    first_of: set[str | None] = set()
    for h in keep:
        (rest if h.meta.review in first_of else firsts).append(h)
        first_of.add(h.meta.review)
    return firsts + rest


_SPECIFIC = {"person", "name", "rating", "verdict", "expansion", "parts"}


def stating(
    kinds: Iterable[str], common: Set[str] = frozenset(), question: str = ""
) -> Callable[[str], bool] | None:
    """A test of whether a sentence states a fact of the kinds asked for; None if none is asked.

    Quote choice puts such sentences first: "Who was the lead reviewer?" is answered by the
    sentence that names them, not by the passage's most similar one. Times and amounts are left
    to similarity: any number would pass their test, and preferring numbers would quote one
    beside every question ("How much does a meeting cost?" was answered by a number from a
    nearby passage).
    """
    tests = list(fact_tests(set(kinds) & _SPECIFIC, common, question).values())
    return (lambda text: any(t(text) for t in tests)) if tests else None


def missing(
    answer: Answer, kinds: Iterable[str], common: Set[str] = frozenset(), passages: int = 2
) -> str | None:
    """Why an answer fails the kind of fact its question asks for, or None.

    The fact must be stated in one of the first `passages` passages quoted: "Within how many
    days must a visit be made?" is not answered by "reviewed after 6 months" from a later
    passage on something else.
    """
    if answer.abstained:
        return None
    first = list(dict.fromkeys(c.hit.chunk.id for c in answer.citations))[:passages]
    early = [c for c in answer.citations if c.hit.chunk.id in first]
    quotes = [c.quote.text for c in early]
    if "progress" in kinds and not any(
        c.hit.chunk.role_at(c.quote.start) in _PROGRESS_ROLES for c in early
    ):
        return NO_PROGRESS_TEXT
    for kind, test in fact_tests(kinds, common, answer.question).items():
        if not any(test(q) for q in quotes):
            return _REASONS[kind]
    return None


def missing_fact(
    answer: Answer, info: QueryInfo, common: Set[str], settings: Settings
) -> Answer | None:
    """Gate 5: an abstention saying which kind of fact no early quote states, or None."""
    reason = missing(answer, info.facts, common, settings.fact_passages)
    return None if reason is None else abstain(answer.question, answer.id, text=reason)


@dataclass(frozen=True)
class Grounds:
    """The extractive answer (or abstention) and, unless final, what synthesis is given."""

    answer: Answer
    final: bool = True
    question: str = ""
    hits: Sequence[Hit] = ()
    settings: Settings | None = None
    k: int | None = None
    across: bool = False
