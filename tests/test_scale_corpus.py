"""The benchmark's scale corpus and embedding cache (evals/scale_corpus.py, evals/embed_cache.py).

The scale figures in evals/BENCHMARKS.md are only as good as the corpus they come from: each
review must be the same whatever the corpus size (so the cache and the kept index serve every
run), read by ingest as a review in its layout (name, partnership, recommendation and response
spans), and asked about corpus-wide at least half the time. The cache must give back exactly
what the model gives, and nothing for another model.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from evals import scale_corpus as sc
from evals.embed_cache import CachedEmbedder
from evals.scale_layouts import LAYOUTS
from rag.core.settings import Settings
from rag.ingest.reading import prepare


def _one_per_layout(limit: int = 300) -> dict[str, sc.Review]:
    found: dict[str, sc.Review] = {}
    for i in range(limit):
        r = sc.review(i)
        found.setdefault(r.layout, r)
    return found


def test_a_review_is_the_same_whatever_the_corpus_size():
    small, large = sc.reviews(5), sc.reviews(12)
    assert small == large[:5]
    assert sc.render(small[3]) == sc.render(large[3])
    assert sc.reviews(12, start=7) == large[7:]


def test_reviews_have_their_own_names_and_files_and_say_they_are_fictional():
    rs = sc.reviews(200)
    assert len({r.name for r in rs}) == len(rs)
    assert len({r.doc_id for r in rs}) == len(rs)
    assert len({r.place for r in rs}) > 10
    assert all(sc.FICTION in sc.render(r)[1] for r in rs[:40])


def test_every_layout_is_read_as_a_review_with_no_catalog(tmp_path):
    layouts = _one_per_layout()
    assert set(layouts) == set(LAYOUTS)
    folder = tmp_path / "docs"
    folder.mkdir()
    for r in layouts.values():
        name, text = sc.render(r)
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(
        corpus_dir=folder, catalog_file="none.toml", vectorstore_dir=tmp_path / "v", llm=None
    )
    prepared = prepare([folder], settings)
    assert not prepared.loaded.failures
    by_id = {r.doc_id: r for r in layouts.values()}
    for doc, _, chunks in prepared.documents:
        r = by_id[doc.id]
        assert (doc.meta.review, doc.meta.partnership) == (r.name, r.place), r.layout
        roles = Counter(role for c in chunks for _, _, role in c.roles)
        assert roles["recommendation"] >= len(r.blocks), (r.layout, roles)
        assert roles["response"] >= len(r.blocks), (r.layout, roles)


def test_at_least_half_the_questions_name_no_review_and_the_rest_name_one_of_its_themes():
    asked = sc.questions(40, 30)
    wide = [q for q in asked if q["kind"] == "corpus-wide"]
    assert len(wide) * 2 >= len(asked)
    names = {r.name: r for r in sc.reviews(40)}
    for q in wide:
        assert not any(name in q["question"] for name in names)
    for q in asked:
        if q["kind"] == "review-scoped":
            r = names[q["review"]]
            assert r.name in q["question"] and q["theme"] in {b.theme for b in r.blocks}


@pytest.fixture()
def model_settings(tmp_path):
    return Settings(corpus_dir=tmp_path, vectorstore_dir=tmp_path / "v", llm=None)


def test_the_cache_gives_back_the_model_vectors_and_keeps_them_across_processes(
    tmp_path, model_settings, embedder
):
    texts = ["A review of neglect.", "Safe sleep advice was given.", "A review of neglect."]
    first = CachedEmbedder(model_settings, tmp_path / "cache", inner=embedder)
    got = first.embed(texts)
    assert (first.misses, first.hits) == (2, 1)
    np.testing.assert_allclose(got, embedder.embed(texts), atol=1e-6)
    first.flush()

    class Refuses:
        def embed(self, texts, batch_size=None):
            raise AssertionError(f"embedded again: {texts}")

    again = CachedEmbedder(model_settings, tmp_path / "cache", inner=Refuses())
    np.testing.assert_array_equal(again.embed(texts), got)
    assert (again.misses, again.hits) == (0, 3)


def test_the_cache_never_serves_another_models_vectors(tmp_path, model_settings, embedder):
    CachedEmbedder(model_settings, tmp_path / "cache", inner=embedder).embed(["x"])
    other = model_settings.model_copy(update={"embedding_model": str(tmp_path / "other-model")})
    cache = CachedEmbedder(other, tmp_path / "cache", inner=embedder)
    cache.embed(["x"])
    assert cache.misses == 1
    assert cache.folder != CachedEmbedder(model_settings, tmp_path / "cache").folder
    assert Path(cache.folder).parent == tmp_path / "cache"
