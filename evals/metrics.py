"""Evaluation metrics as pure functions over one question's outcome."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from rag.answer.verify import contains, normalise


@dataclass(frozen=True)
class Gold:
    """One acceptable answer location: a verbatim phrase in a document."""

    document: str
    phrase: str


@dataclass(frozen=True)
class ShownQuote:
    """A quote as a system returned it, with the rank of the passage it came from (1-based)."""

    n: int
    document: str
    text: str
    start: int
    end: int
    passage_rank: int


@dataclass(frozen=True)
class Outcome:
    """Everything a system returned for one question."""

    ranked: tuple[tuple[str, str], ...]  # (document, passage text), best first
    quotes: tuple[ShownQuote, ...]
    abstained: bool
    answer: str
    latency_ms: float
    relevant_in_index: int = 0
    extra: dict = field(default_factory=dict)


def is_hit(document: str, passage: str, gold: Sequence[Gold]) -> bool:
    """True when the passage is in a gold document and contains that gold phrase."""
    return any(g.document == document and contains(passage, g.phrase) for g in gold)


def retrieval_metrics(outcome: Outcome, gold: Sequence[Gold]) -> dict[str, float]:
    """hit@1/3/5, MRR@10 and nDCG@10 with binary relevance, plus quote-hit@3."""
    rels = [is_hit(d, p, gold) for d, p in outcome.ranked[:10]]
    first = next((i for i, r in enumerate(rels) if r), None)
    dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(rels) if r)
    n_ideal = min(10, max(outcome.relevant_in_index, sum(rels), 1))
    idcg = sum(1 / math.log2(i + 2) for i in range(n_ideal))
    quote_hit = any(
        q.passage_rank <= 3
        and any(g.document == q.document and contains(q.text, g.phrase) for g in gold)
        for q in outcome.quotes
    )
    return {
        "hit@1": float(first is not None and first < 1),
        "hit@3": float(first is not None and first < 3),
        "hit@5": float(first is not None and first < 5),
        "mrr@10": 0.0 if first is None else 1 / (first + 1),
        "ndcg@10": dcg / idcg,
        "quote_hit@3": float(quote_hit),
    }


def citation_checks(
    outcome: Outcome, documents: Mapping[str, str], gold: Sequence[Gold]
) -> dict[str, float | int]:
    """Counts for quote fidelity, offset validity, citation validity and doc precision/recall."""
    quotes = outcome.quotes
    exists = [q.document in documents for q in quotes]
    faithful = [e and contains(documents[q.document], q.text) for q, e in zip(quotes, exists)]
    wrong_doc = [
        not f and any(contains(t, q.text) for d, t in documents.items() if d != q.document)
        for q, f in zip(quotes, faithful)
    ]
    offsets = [
        e and documents[q.document][q.start : q.end] == q.text for q, e in zip(quotes, exists)
    ]
    cited = {q.document for q in quotes}
    gold_docs = {g.document for g in gold}
    return {
        "quotes": len(quotes),
        "faithful": sum(faithful),
        "misattributed": sum(wrong_doc),
        "offsets_ok": sum(offsets),
        "citations_valid": sum(exists),
        "cited_docs": len(cited),
        "cited_docs_correct": len(cited & gold_docs),
        "gold_docs": len(gold_docs),
        "gold_docs_cited": len(cited & gold_docs),
    }


_MARK = re.compile(r"\[(\d+)\]")


def statement_support(answer: str, verified: set[int]) -> tuple[int, int]:
    """ALCE-style: (statements, statements carrying at least one verified citation).

    Statements are the answer's paragraphs after the lead-in line.
    """
    parts = [p for p in answer.split("\n\n")[1:] if normalise(p)]
    supported = sum(any(int(m) in verified for m in _MARK.findall(p)) for p in parts)
    return len(parts), supported


def bootstrap_ci(
    values: Sequence[float],
    stat: Callable[[Sequence[float]], float] | None = None,
    n: int = 2000,
    seed: int = 7,
) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean (or of `stat`)."""
    if not values:
        return (float("nan"), float("nan"))
    stat = stat or (lambda xs: sum(xs) / len(xs))
    rng = random.Random(seed)
    draws = sorted(stat([rng.choice(values) for _ in values]) for _ in range(n))
    return draws[int(0.025 * n)], draws[int(0.975 * n) - 1]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
