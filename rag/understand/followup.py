"""Follow-up questions without an LLM: carry the previous question's subject and filters.

A question's *subject* is the review it names (matched against the reviews in the index) and
the recommendation or finding it points at ("Recommendation 3", "Finding Two"). A follow-up
such as "What about health visitors?" or "and the police response?" names neither; it is
resolved by asking its own topic within the previous subject, restricted to that review. A
follow-up that names only a new subject ("What about Child B?") re-asks the previous question
about it. Everything here is a pure function of the chat history, so it is tested directly;
a language model, when configured, is passed in as a `rewrite` function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rag.core import items
from rag.core.models import Answer, Filters
from rag.core.words import words as word_list
from rag.understand.question import REFERENCE

# Openings that only make sense as a continuation of the previous question.
_LEAD = re.compile(
    r"^\s*(?:(?:and|but|so|also|ok(?:ay)?|then)[\s,]+)?(?:what|how)\s+about\b"
    r"|^\s*(?:and|also|plus|but)\b|^\s*what\s+of\b|^\s*same\s+(?:for|about|with)\b",
    re.IGNORECASE,
)
_ANAPHORA = re.compile(
    r"\b(?:in|from|of|for)?\s*(?:that|this|the\s+same)\s+"
    r"(?:review|case|report|recommendation|finding|one)\b",
    re.IGNORECASE,
)
_FILLER = word_list("followup_filler")
_QUESTION_WORD = re.compile(
    r"^\s*(?:what|how|why|who|whom|whose|when|where|which|is|are|was|were|do|does|did|can|"
    r"could|should|would|will|has|have|had|tell|list|explain|describe|give|show)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Subject:
    """What a question is about: a review name from the index and/or a recommendation."""

    review: str | None = None
    reference: str | None = None

    def __bool__(self) -> bool:
        return bool(self.review or self.reference)

    def phrase(self) -> str:
        """The subject as words to add to a question: 'Recommendation 3 of the Child A review'."""
        review = review_phrase(self.review) if self.review else ""
        if self.reference and review:
            return f"{self.reference} of {review}"
        return self.reference or review


@dataclass(frozen=True)
class Resolved:
    """A question as typed, and what is actually asked: query text and filters."""

    question: str
    query: str
    filters: Filters = Filters()
    subject: Subject = Subject()
    followup: bool = False


# (earlier turns, question) -> a standalone question; e.g. rag.llm.rewrite.rewrite_followup.
Rewrite = Callable[[Sequence["Exchange"], str], str]


@dataclass(frozen=True)
class Exchange:
    """One earlier turn: how its question was resolved, and the answer (None if not answered)."""

    resolved: Resolved
    answer: Answer | None = None


def review_phrase(review: str) -> str:
    """A review name as prose: 'the Child A review', or the name itself if it says 'Review'."""
    return review if "review" in review.lower() else f"the {review} review"


def _aliases(review: str) -> list[str]:
    """Ways a user may name a review: its name, the parts around a dash, and their initials."""
    names = [review]
    parts = [p.strip() for p in re.split(r"\s+[–—-]\s+", review) if p.strip()]
    if len(parts) > 1:
        names += parts
    for part in parts:
        words = re.findall(r"[A-Za-z]+", part)
        if len(words) >= 3:
            names.append("".join(w[0] for w in words).upper())
    return names


def _alias_pattern(alias: str) -> re.Pattern:
    words = [re.escape(w) for w in re.split(r"[\s\-–—]+", alias) if w]
    return re.compile(r"\b" + r"[\s\-–—]+".join(words) + r"\b", re.IGNORECASE)


def find_reviews(text: str, reviews: Sequence[str]) -> list[str]:
    """Reviews named in `text`, in order of first mention; longer names win overlaps."""
    spans: list[tuple[int, int, str]] = []
    candidates = [(a, r) for r in reviews for a in _aliases(r)]
    for alias, review in sorted(candidates, key=lambda ar: -len(ar[0])):
        for m in _alias_pattern(alias).finditer(text):
            if not any(m.start() < e and s < m.end() for s, e, _ in spans):
                spans.append((m.start(), m.end(), review))
    return list(dict.fromkeys(r for _, _, r in sorted(spans)))


def _review_spans(text: str, review: str) -> list[tuple[int, int]]:
    out = []
    for alias in sorted(_aliases(review), key=len, reverse=True):
        for m in _alias_pattern(alias).finditer(text):
            if not any(m.start() < e and s < m.end() for s, e in out):
                out.append((m.start(), m.end()))
    return sorted(out)


def find_reference(text: str) -> str | None:
    """The first recommendation or finding named in `text`, e.g. 'Recommendation 3'."""
    for m in REFERENCE.finditer(text):
        if items.read(m):
            # One form for every way of writing it; sections are found by the same grammar.
            return items.written(m)
    return None


def subject_of(text: str, reviews: Sequence[str]) -> Subject:
    """The review and recommendation a question names itself."""
    named = find_reviews(text, reviews)
    return Subject(named[0] if named else None, find_reference(text))


def _topic(text: str, reviews: Sequence[str]) -> str:
    """The follow-up with its opening, subject mentions and filler words taken out."""
    text = _ANAPHORA.sub(" ", text)
    text = REFERENCE.sub(" ", text)
    for review in reviews:
        for s, e in reversed(_review_spans(text, review)):
            text = text[:s] + " " + text[e:]
    text = re.sub(r"[?!.,;:'’\"]+", " ", text)
    # "and, in that review, what about ..." opens twice once the subject is taken out.
    while (stripped := _LEAD.sub("", text, count=1)) != text:
        text = stripped
    words = text.split()
    while words and words[0].lower() in _FILLER:
        words.pop(0)
    while words and (words[-1].lower() in _FILLER or words[-1].lower() in {"review", "one"}):
        words.pop()
    return " ".join(words)


def _previous_subject(last: Exchange) -> Subject:
    """The last turn's subject; a review it did not name is taken from its answer if only one
    review was cited, because the user is following up on what they were shown."""
    subject = last.resolved.subject
    if subject.review is None and last.answer is not None and not last.answer.abstained:
        cited = {c.hit.meta.review for c in last.answer.citations if c.hit.meta.review}
        if len(cited) == 1:
            subject = replace(subject, review=cited.pop())
    return subject


def _merge_filters(current: Filters, previous: Filters, review: str | None) -> Filters:
    """Today's sidebar filters, the previous turn's where today's leave a field open, then the
    carried review unless the sidebar explicitly excludes it."""
    merged = Filters(
        documents=current.documents or previous.documents,
        partnerships=current.partnerships or previous.partnerships,
        reviews=current.reviews or previous.reviews,
        kinds=current.kinds or previous.kinds,
    )
    if review and (not current.reviews or review in current.reviews):
        merged = replace(merged, reviews=(review,))
    return merged


def _swap_subject(previous: Resolved, new: Subject) -> str:
    """The previous question re-asked about a new review or recommendation."""
    query = previous.query
    if new.review and new.review != previous.subject.review:
        old = previous.subject.review
        spans = _review_spans(query, old) if old else []
        for s, e in reversed(spans):
            query = query[:s] + new.review + query[e:]
        if not spans:
            query = f"{query.rstrip(' ?')}, in {review_phrase(new.review)}"
    if new.reference and new.reference != previous.subject.reference:
        if REFERENCE.search(query):
            query = REFERENCE.sub(new.reference, query, count=1)
        else:
            query = f"{query.rstrip(' ?')}, {new.reference}"
    return query


def is_followup(question: str, own: Subject, has_previous: bool, short: int = 4) -> bool:
    """True when a question leans on the previous one rather than standing alone."""
    if not has_previous:
        return False
    if _LEAD.search(question) or _ANAPHORA.search(question):
        return True
    # A bare topic ("Health visitors?") right after a question is a follow-up too; a short
    # question of its own ("What is neglect?") is not.
    words = question.split()
    return not own and len(words) <= short and not _QUESTION_WORD.match(question)


def resolve(
    question: str,
    history: Sequence[Exchange],
    filters: Filters,
    reviews: Sequence[str],
    rewrite: Rewrite | None = None,
    short_words: int = 4,
) -> Resolved:
    """What to ask the pipeline for `question`, given the earlier turns and sidebar filters.

    `rewrite(history, question)`, when given (a configured language model), may turn the
    question into a standalone one; the rules still decide which filters are carried.
    """
    resolved = _resolve_by_rules(question.strip(), history, filters, reviews, short_words)
    if rewrite is None or not history:
        return resolved
    standalone = " ".join(rewrite(history, resolved.question).split())
    if not standalone or standalone == resolved.question:
        return resolved
    own = subject_of(standalone, reviews)
    subject = Subject(own.review or resolved.subject.review, own.reference)
    return replace(resolved, query=standalone, subject=subject, followup=True)


def _resolve_by_rules(
    question: str,
    history: Sequence[Exchange],
    filters: Filters,
    reviews: Sequence[str],
    short_words: int = 4,
) -> Resolved:
    own = subject_of(question, reviews)
    last = history[-1] if history else None
    previous = _previous_subject(last) if last else Subject()
    # After a question naming no review, only one naming a review leans on it ("What about
    # Child K?" after "What have the reviews found about X?": X, asked of that review).
    if last is None or not is_followup(question, own, bool(previous or own), short_words):
        return Resolved(question, question, filters, own)
    subject = Subject(own.review or previous.review, own.reference or previous.reference)
    topic = _topic(question, reviews)
    carried_filters = _merge_filters(filters, last.resolved.filters, subject.review)
    if not topic:
        query = _swap_subject(replace(last.resolved, subject=previous), own)
    else:
        query = f"{topic}, in {subject.phrase()}"
    return Resolved(question, query, carried_filters, subject, followup=True)
