"""Rank fusion as pure functions: rankings in, one fused ranking out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def rrf(
    rankings: Sequence[Sequence[str]], k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: score(d) = sum over rankings of w / (k + rank), rank from 1."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def prefer(
    fused: Sequence[tuple[str, float]], preferred: Sequence[str], k: int = 60, weight: float = 1.0
) -> list[tuple[str, float]]:
    """Fuse one more ranking into RRF scores: each preferred id gains weight / (k + its rank)."""
    bonus = {doc_id: weight / (k + rank) for rank, doc_id in enumerate(preferred, start=1)}
    scores = [(doc_id, score + bonus.get(doc_id, 0.0)) for doc_id, score in fused]
    return sorted(scores, key=lambda kv: (-kv[1], kv[0]))


def _min_max(scores: Mapping[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = hi - lo
    return {d: (s - lo) / span if span > 0 else 1.0 for d, s in scores.items()}


def convex(
    dense: Mapping[str, float], lexical: Mapping[str, float], alpha: float = 0.5
) -> list[tuple[str, float]]:
    """Convex combination alpha * dense + (1 - alpha) * lexical of min-max normalised scores."""
    d, lex = _min_max(dense), _min_max(lexical)
    fused = {
        doc_id: alpha * d.get(doc_id, 0.0) + (1 - alpha) * lex.get(doc_id, 0.0)
        for doc_id in set(d) | set(lex)
    }
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
