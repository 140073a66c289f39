"""Fusion is a pure function of the rankings."""

from rag.retrieve.fusion import convex, prefer, rrf


def test_rrf_rewards_agreement():
    fused = rrf([["a", "b", "c"], ["b", "a", "d"]], k=60)
    ids = [d for d, _ in fused]
    assert set(ids[:2]) == {"a", "b"} and ids[-1] in {"c", "d"}
    assert dict(fused)["a"] == 1 / 61 + 1 / 62


def test_rrf_single_list_keeps_order():
    assert [d for d, _ in rrf([["x", "y", "z"]])] == ["x", "y", "z"]


def test_convex_weights_each_side():
    dense = {"a": 0.9, "b": 0.1}
    lexical = {"a": 0.0, "b": 10.0}
    assert convex(dense, lexical, alpha=1.0)[0][0] == "a"
    assert convex(dense, lexical, alpha=0.0)[0][0] == "b"
    assert convex({}, {}, 0.5) == []


def test_prefer_adds_one_more_ranking_to_rrf_scores():
    fused = rrf([["a", "b", "c"]], k=60)
    preferred = prefer(fused, ["c"], k=60, weight=1.0)
    assert [d for d, _ in preferred] == ["c", "a", "b"]
    assert dict(preferred)["c"] == 1 / 63 + 1 / 61
    # The same as fusing the preferred list in the first place.
    assert preferred == rrf([["a", "b", "c"], ["c"]], k=60)
    assert prefer(fused, [], k=60) == fused
