"""The catalog: optional metadata that overrides, field by field, what a document's text says;
and documents that have no catalog entry."""

from __future__ import annotations

from click.testing import CliRunner

from rag.cli import cli
from rag.ingest.catalog import document_meta, load_catalog
from rag.ingest.reading import load
from tests.conftest import CORPUS, make_settings


def test_every_corpus_document_has_full_catalog_metadata():
    catalog = load_catalog(CORPUS, "catalog.toml")
    assert catalog.problems == ()
    stems = {p.stem for p in CORPUS.glob("*.md")}
    assert set(catalog.entries) == stems
    for doc_id, given in catalog.entries.items():
        meta = document_meta(doc_id, (CORPUS / f"{doc_id}.md").read_text(encoding="utf-8"), given)
        assert meta.title and meta.partnership in {"Hampshire", "Southampton"}
        assert meta.review and meta.review_type and meta.kind and meta.source
        assert {"title", "partnership", "review", "kind", "aliases"}.isdisjoint(meta.inferred)
    assert catalog.entries["hampshire-child-p-response"]["review"] == "Child P"
    assert catalog.entries["hampshire-baby-sally-response"]["review_type"] == "LCSPR"
    assert "NAI" in catalog.entries["southampton-nai-thematic-response"]["aliases"]


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
    assert all("title" in d.meta.inferred for d in loaded.documents)


def test_catalog_fields_override_the_text_one_by_one(tmp_path):
    text = "# Response to the Review of Child Q\n\nRecommendation 1: share information.\n"
    meta = document_meta("q", text, {"review": "Child Q (2023)", "year": 2023})
    assert meta.review == "Child Q (2023)" and meta.year == 2023
    assert meta.title == "Response to the Review of Child Q"
    assert "review" not in meta.inferred and "year" not in meta.inferred
    assert "title" in meta.inferred
    assert "Child Q (2023)" in meta.aliases


def _corpus_with_catalog(tmp_path, catalog: str):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one.md").write_text("# Review One\n\nRecommendation 1: act.\n", encoding="utf-8")
    (corpus / "two.md").write_text("# Review Two\n\nRecommendation 1: wait.\n", encoding="utf-8")
    (corpus / "catalog.toml").write_text(catalog, encoding="utf-8")
    return corpus


def test_a_bad_key_is_named_with_its_file_and_the_rest_still_applies(tmp_path):
    corpus = _corpus_with_catalog(
        tmp_path, '[one]\ntitel = "Typo"\nreview = "Child One"\n\n[two]\nyear = "last year"\n'
    )
    catalog = load_catalog(corpus, "catalog.toml")
    messages = [str(p) for p in catalog.problems]
    assert len(messages) == 2
    assert "catalog.toml" in messages[0] and "'titel'" in messages[0] and "[one]" in messages[0]
    assert "'year'" in messages[1] and "whole number" in messages[1]
    loaded = load([corpus], make_settings(tmp_path, corpus_dir=corpus))
    metas = {d.id: d.meta for d in loaded.documents}
    assert metas["one"].review == "Child One" and metas["one"].title == "Review One"
    assert metas["two"].year is None and len(loaded.catalog_problems) == 2


def test_a_catalog_that_is_not_toml_leaves_every_document_loading(tmp_path):
    corpus = _corpus_with_catalog(tmp_path, '[one\ntitle = "x"\n')
    loaded = load([corpus], make_settings(tmp_path, corpus_dir=corpus))
    assert {d.id for d in loaded.documents} == {"one", "two"}
    (problem,) = loaded.catalog_problems
    assert "catalog.toml" in str(problem) and "cannot be read" in str(problem)


def test_ingest_names_a_bad_catalog_key_without_a_traceback(tmp_path, monkeypatch):
    corpus = _corpus_with_catalog(tmp_path, '[one]\nreview_name = "Child One"\n')
    s = make_settings(tmp_path, corpus_dir=corpus)
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("RAG_VECTORSTORE_DIR", str(s.vectorstore_dir))
    monkeypatch.setenv("RAG_FEEDBACK_DB", str(s.feedback_db))
    result = CliRunner().invoke(cli, ["ingest"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "unknown key 'review_name'" in result.output
    assert "catalog.toml" in result.output
    # What was read from the text is shown, so a wrong guess is caught before anyone asks.
    assert "read from the text of one" in result.output and "Review One" in result.output
    assert CliRunner().invoke(cli, ["ingest", "--keep-going"]).exit_code == 0
