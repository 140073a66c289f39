"""Catalog metadata, and documents that have no catalog entry."""

from __future__ import annotations

from rag.ingest.reading import load, load_catalog
from tests.conftest import CORPUS, make_settings


def test_every_corpus_document_has_full_catalog_metadata():
    catalog = load_catalog(CORPUS, "catalog.toml")
    stems = {p.stem for p in CORPUS.glob("*.md")}
    assert set(catalog) == stems
    for meta in catalog.values():
        assert meta.title and meta.partnership in {"Hampshire", "Southampton"}
        assert meta.review and meta.review_type and meta.kind and meta.source
    assert catalog["hampshire-child-p-response"].review == "Child P"
    assert catalog["hampshire-baby-sally-response"].review_type == "LCSPR"
    assert "NAI" in catalog["southampton-nai-thematic-response"].aliases


def test_uncatalogued_document_ingests_with_title_from_its_first_heading(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "leeds-child-q-response.md").write_text(
        "\n\n# **Response to the Review of Child Q**\n\nRecommendation 1\n\nShare information.\n",
        encoding="utf-8",
    )
    (corpus / "plain.txt").write_text("Learning from a review\nSome text.\n", encoding="utf-8")
    loaded = load([corpus], make_settings(tmp_path, corpus_dir=corpus))
    titles = {d.id: d.meta.title for d in loaded.documents}
    assert titles == {
        "leeds-child-q-response": "Response to the Review of Child Q",
        "plain": "Learning from a review",
    }
    assert all(d.meta.partnership is None for d in loaded.documents)
