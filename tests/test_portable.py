"""A copied or moved project keeps its index: documents are recorded relative to the corpus."""

from __future__ import annotations

import shutil

from rag.assistant import Assistant
from tests.conftest import make_settings

REVIEW = """# Review of Child V

## Recommendation 1

Schools should tell the health visitor when a child under five stops attending nursery.
"""
BRIEFING = """# Seven minute briefing: Child V

## What went well

The nursery manager rang the health visitor on the day the child stopped attending.
"""


def _project(root):
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "child-v-review.md").write_text(REVIEW, encoding="utf-8")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "child-v-briefing.md").write_text(BRIEFING, encoding="utf-8")
    return make_settings(root, corpus_dir=corpus)


def test_a_copied_project_finds_every_document_unchanged(tmp_path):
    first = Assistant(_project(tmp_path / "a"))
    report = first.ingest()
    assert sorted(report.sync.added) == ["child-v-briefing", "child-v-review"]
    stored = {first.store.document(i).path for i in report.sync.added}
    assert stored == {"child-v-review.md", "sub/child-v-briefing.md"}
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(tmp_path / "a")  # the old folder is gone, as after a move
    moved = make_settings(tmp_path / "b", corpus_dir=tmp_path / "b" / "corpus")
    again = Assistant(moved).ingest()
    assert again.sync.replaced == () and again.sync.removed == ()
    assert sorted(again.sync.unchanged) == ["child-v-briefing", "child-v-review"]
    assert again.sync.chunks_embedded == 0 and not again.sync.wrote


def test_a_file_deleted_after_the_move_is_still_removed(tmp_path):
    Assistant(_project(tmp_path / "a")).ingest()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    (tmp_path / "b" / "corpus" / "sub" / "child-v-briefing.md").unlink()
    moved = make_settings(tmp_path / "b", corpus_dir=tmp_path / "b" / "corpus")
    report = Assistant(moved).ingest()
    assert report.sync.removed == ("child-v-briefing",)
    assert report.sync.unchanged == ("child-v-review",)
