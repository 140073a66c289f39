"""The Library: upload, check, correct, replace and remove documents, in the service and on
the page (AppTest), against a real index in a temporary folder. The reviews are written here."""

from __future__ import annotations

import datetime
import re
import threading
import tomllib
from pathlib import Path

import pytest
from pydantic import SecretStr
from streamlit.testing.v1 import AppTest

from rag.assistant import Assistant, Progress
from rag.core import errors
from rag.ingest.catalog import load_catalog, save_entry
from rag.ingest.uploads import safe_name, save_upload
from rag.library import Library, NotAllowed
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "library.py")

REVIEW = b"""# Local Child Safeguarding Practice Review: Child M

Published by the Ashcombe Safeguarding Children Partnership, 2024.

## Recommendation 1

Dentists should refer a child to the health visitor when two dental appointments are missed.

## Recommendation 2

The partnership should publish a leaflet about bruising in babies who are not yet mobile.
"""
OTHER = b"# Seven minute briefing: Baby T\n\n## Why it matters\n\nNight feeds were a strain.\n"


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    s = make_settings(tmp_path, corpus_dir=corpus)
    for name, value in [
        ("RAG_CORPUS_DIR", corpus),
        ("RAG_VECTORSTORE_DIR", s.vectorstore_dir),
        ("RAG_FEEDBACK_DB", s.feedback_db),
    ]:
        monkeypatch.setenv(name, str(value))
    for name in ("RAG_CHROMA_URL", "RAG_LLM", "RAG_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return s


@pytest.fixture(scope="module")
def model():
    """The packaged model, loaded once for this module's service tests."""
    from rag.index.embedder import Embedder

    return Embedder(make_settings(Path("unused")))


@pytest.mark.parametrize(
    ("sent", "saved"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("C:\\Users\\me\\Child M review.PDF", "Child-M-review.pdf"),
        ("résumé (final).docx", "resume-final.docx"),
        (".hidden.md", "hidden.md"),
    ],
)
def test_uploaded_names_are_made_safe(sent, saved):
    assert safe_name(sent) == saved


def test_an_upload_never_overwrites_another_document(tmp_path):
    (tmp_path / "review.md").write_text("old", encoding="utf-8")
    (tmp_path / "child-m.pdf").write_bytes(b"%PDF")
    assert save_upload(tmp_path, "review.md", b"new").name == "review-2.md"
    # Ids are stems: "child-m.md" would share an id with "child-m.pdf".
    assert save_upload(tmp_path, "child-m.md", b"new").name == "child-m-2.md"
    assert (tmp_path / "review.md").read_text(encoding="utf-8") == "old"
    with pytest.raises(errors.UnsupportedFormat):
        save_upload(tmp_path, "macro.exe", b"MZ")


def test_saving_an_entry_keeps_the_other_entries_and_comments(tmp_path):
    (tmp_path / "catalog.toml").write_text(
        '# kept\n[a]\ntitle = "A"\n\n[b]\nreview = "Child B"\n', encoding="utf-8"
    )
    save_entry(tmp_path, "catalog.toml", "a", {"review": 'Child "A"', "year": 2020})
    text = (tmp_path / "catalog.toml").read_text(encoding="utf-8")
    assert text.startswith("# kept\n")
    data = tomllib.loads(text)
    assert data == {"a": {"review": 'Child "A"', "year": 2020}, "b": {"review": "Child B"}}
    with pytest.raises(errors.CatalogError):
        save_entry(tmp_path, "catalog.toml", "a", {"colour": "red"})


def test_add_correct_replace_remove_through_the_service(settings):
    assistant = Assistant(settings)
    library = Library(assistant)
    added = library.add([("child-m.md", REVIEW), ("bad.md", b"caf\xe9 text\n")])
    assert [type(f) for f in added.failures] == [errors.NotUtf8]
    assert not any(settings.corpus_dir.rglob("bad.md"))  # it would fail on every ingest
    (entry,) = library.entries()
    assert entry.meta.id == "child-m" and entry.chunks >= 2
    assert entry.added == datetime.date.today().isoformat()
    # Chat answers from it at once, in the same process, with no restart.
    answer = assistant.ask("What should dentists do when dental appointments are missed?")
    assert not answer.abstained
    assert "Dentists should refer a child" in answer.citations[0].quote.text

    library.correct("child-m", {"review": "Child M (Ashcombe)", "year": 2024})
    (entry,) = library.entries()
    assert entry.meta.review == "Child M (Ashcombe)" and "review" not in entry.meta.inferred
    assert load_catalog(settings.corpus_dir, "catalog.toml").entries["child-m"]["year"] == 2024
    rows = library.outline("child-m")
    assert any("recommendation" in r.roles for r in rows)

    library.replace("child-m", "new-version.md", REVIEW.replace(b"two dental", b"three dental"))
    assert "three dental" in assistant.document_text("child-m")
    assert library.entries()[0].added == entry.added  # a new version keeps its first date
    assert library.entries()[0].meta.review == "Child M (Ashcombe)"  # the correction stays

    library.remove("child-m")
    assert library.entries() == []
    assert "child-m" not in load_catalog(settings.corpus_dir, "catalog.toml").entries


def test_an_upload_is_checked_and_corrected_before_it_is_live(settings, model):
    assistant = Assistant(settings, embedder=model)
    library = Library(assistant)
    staged = library.stage([("child-m.md", REVIEW)])
    assert staged.ids == ("child-m",) and not staged.failures
    # Read and chunked, nothing live: no index, and an ingest of the folder does not see it.
    assert assistant.ingest().documents == 0
    assert assistant.generation() is None and library.entries() == []
    (item,), problems = library.pending()
    assert not problems
    assert item.meta.title == "Local Child Safeguarding Practice Review: Child M"
    assert "title" in item.meta.inferred and item.chunks >= 2
    sections = [r.section for r in item.outline]
    assert sections == ["Introduction", "Recommendation 1", "Recommendation 2"]
    assert all("recommendation" in r.roles for r in item.outline[1:])
    # An upload cannot take the id of another one waiting.
    assert library.stage([("child-m.md", OTHER)]).ids == ("child-m-2",)
    library.discard("child-m-2")
    assert [p.meta.id for p in library.pending()[0]] == ["child-m"]

    assert library.correct("child-m", {"review": "Child M (Ashcombe)"}) is None
    (item,), _ = library.pending()
    assert item.meta.review == "Child M (Ashcombe)" and "review" not in item.meta.inferred
    assert assistant.generation() is None

    added = library.add_pending(["child-m"])
    assert added.report.sync.added == ("child-m",) and library.pending() == ([], ())
    (entry,) = library.entries()
    assert entry.meta.review == "Child M (Ashcombe)"
    assert (settings.corpus_dir / "child-m.md").exists()
    # Re-applied on every later ingest, as any catalog entry is.
    assistant.ingest()
    assert library.entries()[0].meta.review == "Child M (Ashcombe)"
    # Corrected again after adding: the one entry is updated and the document re-indexed.
    library.correct("child-m", {"year": 2023})
    assert library.entries()[0].meta.year == 2023
    assert library.entries()[0].meta.review == "Child M (Ashcombe)"


def test_discarding_an_upload_removes_it_and_its_corrections(settings, model):
    library = Library(Assistant(settings, embedder=model))
    library.stage([("child-m.md", REVIEW)])
    library.correct("child-m", {"review": "Child M"})
    library.discard("child-m")
    assert library.pending() == ([], ())
    assert not [f for f in settings.corpus_dir.rglob("*") if f.is_file() and f.suffix != ".toml"]
    assert load_catalog(settings.corpus_dir, "catalog.toml").entries == {}
    with pytest.raises(errors.RagError):
        library.add_pending(["child-m"])


def test_each_file_reports_reading_chunking_and_embedding(settings, model):
    small = settings.model_copy(update={"ingest_batch": 1})
    library = Library(Assistant(small, embedder=model))
    seen: list[tuple[str, str, int, int]] = []
    progress = Progress(document=lambda *event: seen.append(event))
    staged = library.stage([("child-m.md", REVIEW), ("baby-t.md", OTHER)], progress=progress)
    assert {(i, s) for i, s, *_ in seen} == {
        (i, s) for i in staged.ids for s in ("reading", "chunking")
    }
    seen.clear()
    library.add_pending(list(staged.ids), progress=progress)
    passages = {e.meta.id: e.chunks for e in library.entries()}
    for doc_id, total in passages.items():
        stages = [s for i, s, *_ in seen if i == doc_id]
        assert stages.index("reading") < stages.index("chunking") < stages.index("embedding")
        embedding = [(d, t) for i, s, d, t in seen if i == doc_id and s == "embedding"]
        assert embedding[0] == (0, total) and embedding[-1] == (total, total)
        # One batch of one chunk at a time: the bar moves through the file's passages.
        assert [d for d, _ in embedding] == sorted(d for d, _ in embedding)
        assert len({d for d, _ in embedding}) == total + 1


def test_an_answer_during_an_upload_equals_the_one_before(settings, model):
    small = settings.model_copy(update={"ingest_batch": 1})
    assistant = Assistant(small, embedder=model)
    library = Library(assistant)
    library.add([("child-m.md", REVIEW)])
    question = "What should dentists do when dental appointments are missed?"
    before = assistant.ask(question)
    assert not before.abstained

    library.stage([("baby-t.md", OTHER)])
    held, release = threading.Event(), threading.Event()

    def hold(doc_id: str, stage: str, done: int, total: int) -> None:
        # Inside the sync, after the first passage of the new file is embedded and written to
        # the generation being built, before it is switched to.
        if stage == "embedding" and done == 1 and not held.is_set():
            held.set()
            assert release.wait(120)

    result: list = []
    worker = threading.Thread(
        target=lambda: result.append(
            library.add_pending(["baby-t"], progress=Progress(document=hold))
        )
    )
    worker.start()
    try:
        assert held.wait(120), "the upload never reached embedding"
        during = assistant.ask(question)
        generation_during = assistant.generation()
    finally:
        release.set()
        worker.join(120)
    assert result and result[0].report.sync.added == ("baby-t",)
    assert generation_during == 0 and assistant.generation() == 1
    for name in ("question", "text", "abstained", "citations", "id", "mode", "notes"):
        assert getattr(during, name) == getattr(before, name), name
    # After the switch the scores move (the corpus grew), the quote does not.
    after = assistant.ask(question)
    assert [c.quote for c in after.citations][:1] == [c.quote for c in before.citations][:1]


def test_changes_need_the_password_when_one_is_set(settings):
    locked = settings.model_copy(update={"admin_password": SecretStr("correct horse")})
    library = Library(Assistant(locked))
    for change in (
        lambda p: library.add([("child-m.md", REVIEW)], password=p),
        lambda p: library.stage([("child-m.md", REVIEW)], password=p),
        lambda p: library.discard("child-m", password=p),
        lambda p: library.add_pending(["child-m"], password=p),
    ):
        with pytest.raises(NotAllowed):
            change("wrong")
    assert not any(settings.corpus_dir.iterdir())
    assert library.add([("child-m.md", REVIEW)], password="correct horse").report is not None


def plain(shown: str) -> str:
    """Markdown-escaped text as the reader sees it."""
    return shown.replace("\\", "")


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=240).run()


def test_page_empty_then_uploaded_with_a_bad_file_named(settings):
    at = page()
    assert not at.exception
    assert any("library is empty" in i.value for i in at.info)
    at.file_uploader(key="uploads_0").set_value(
        [("child-m.md", REVIEW, "text/markdown"), ("latin.md", b"caf\xe9\n", "text/markdown")]
    ).run()
    at.button(key="read").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors_shown = [plain(e.value) for e in at.error]
    assert any(e.startswith("Not added: latin.md: text is not UTF-8") for e in errors_shown)
    assert any("Read child-m" in plain(s.value) for s in at.success)
    # The preview: what was read, the outline, a form; nothing is live yet.
    assert any("Waiting to be checked: 1" in h.value for h in at.subheader)
    title = at.text_input(key="title_child-m_0")
    assert title.value == "Local Child Safeguarding Practice Review: Child M"
    assert title.label == "Title (read from the text)"
    outline = at.dataframe[0].value
    assert list(outline["Section"]) == ["Introduction", "Recommendation 1", "Recommendation 2"]
    assert "recommendation" in outline["Parts"][1]
    assert any("library is empty" in i.value for i in at.info)
    assert not (settings.corpus_dir / "child-m.md").exists()
    assert not any(settings.corpus_dir.rglob("latin.md"))


def test_page_corrects_an_upload_before_adding_it(settings):
    Library(Assistant(settings)).stage([("child-m.md", REVIEW)])
    at = page()
    at.text_input(key="review_child-m_0").set_value("Child M (checked)")
    at.button(key="check_child-m").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Saved the corrections" in plain(s.value) for s in at.success)
    assert load_catalog(settings.corpus_dir, "catalog.toml").entries == {
        "child-m": {"review": "Child M (checked)"}
    }
    # Still waiting, the form shows the saved value, marked as no longer read from the text.
    review = at.text_input(key="review_child-m_1")
    assert review.value == "Child M (checked)" and review.label == "Review name"
    assert any("library is empty" in i.value for i in at.info)
    # Typed and added in one go: the form's values are saved first, then it goes in.
    at.text_input(key="year_child-m_1").set_value("2023")
    at.button(key="add_child-m").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Added: child-m" in plain(s.value) for s in at.success)
    assert not any("Waiting to be checked" in h.value for h in at.subheader)
    table = at.dataframe[0].value
    assert list(table["Review"]) == ["Child M (checked)"]
    assert (settings.corpus_dir / "child-m.md").exists()
    entry = load_catalog(settings.corpus_dir, "catalog.toml").entries["child-m"]
    assert entry == {"review": "Child M (checked)", "year": 2023}


def test_page_discards_an_upload(settings):
    Library(Assistant(settings)).stage([("child-m.md", REVIEW)])
    at = page()
    at.button(key="discard_child-m").click().run()
    assert any("Discarded child-m.md" in plain(s.value) for s in at.success)
    assert not any(f.is_file() for f in settings.corpus_dir.rglob("*"))


def test_page_correct_after_adding_then_remove(settings):
    Library(Assistant(settings)).add([("child-m.md", REVIEW), ("baby-t.md", OTHER)])
    at = page()
    at.text_input(key="review_child-m_0").set_value("Child M (corrected)")
    at.button(key="save_child-m").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Saved the corrections" in plain(s.value) for s in at.success)
    reviews = dict(zip(at.dataframe[0].value["Id"], at.dataframe[0].value["Review"]))
    assert reviews["child-m"] == "Child M (corrected)"
    # Only the field the person changed is catalog data; the rest is still read from the text.
    catalog = load_catalog(settings.corpus_dir, "catalog.toml").entries
    assert catalog == {"child-m": {"review": "Child M (corrected)"}}
    # The form shows what is now saved, aliases included (they follow the corrected name).
    assert at.text_input(key="aliases_child-m_1").value == "Child M (corrected)"
    at.text_input(key="year_child-m_1").set_value("last year")
    at.button(key="save_child-m").click().run()
    assert any("year must be a number" in e.value for e in at.error)
    at.button(key="remove_baby-t").click().run()
    assert list(at.dataframe[0].value["Id"]) == ["child-m"]
    assert not (settings.corpus_dir / "baby-t.md").exists()


def test_page_replaces_a_document(settings):
    Library(Assistant(settings)).add([("child-m.md", REVIEW)])
    at = page()
    assert at.button(key="do_replace_child-m").disabled
    new = REVIEW.replace(b"two dental", b"three dental")
    at.file_uploader(key="replace_child-m").set_value(("v2.md", new, "text/markdown")).run()
    at.button(key="do_replace_child-m").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Replaced" in plain(s.value) and "v2.md" in plain(s.value) for s in at.success)
    assert list(at.dataframe[0].value["Id"]) == ["child-m"]
    stored = Assistant(settings).document_text("child-m")
    assert "three dental" in stored and "two dental" not in stored
    assert (settings.corpus_dir / "child-m.md").read_bytes() == new


def test_page_asks_for_the_password_before_a_change(settings, monkeypatch):
    monkeypatch.setenv("RAG_ADMIN_PASSWORD", "s3cret")
    at = page()
    assert at.text_input(key="admin_password")
    at.file_uploader(key="uploads_0").set_value(("child-m.md", REVIEW, "text/markdown")).run()
    at.button(key="read").click().run()
    assert any("password" in plain(e.value) for e in at.error)
    assert not any(f.is_file() for f in settings.corpus_dir.rglob("*"))
    at.text_input(key="admin_password").set_value("s3cret").run()
    at.file_uploader(key="uploads_0").set_value(("child-m.md", REVIEW, "text/markdown")).run()
    at.button(key="read").click().run()
    assert at.text_input(key="title_child-m_0")
    at.text_input(key="admin_password").set_value("wrong").run()
    at.button(key="add_child-m").click().run()
    assert any("password" in plain(e.value) for e in at.error)
    assert not (settings.corpus_dir / "child-m.md").exists()
    at.text_input(key="admin_password").set_value("s3cret").run()
    at.button(key="add_child-m").click().run()
    assert (settings.corpus_dir / "child-m.md").exists()


def test_page_shows_document_text_as_text(settings):
    html = b"# <img src=x onerror=alert(1)> *Child* M\n\n## Recommendation 1\n\nShare it.\n"
    Library(Assistant(settings)).stage([("html.md", html)])
    at = page()
    shown = [m.value for m in at.markdown]
    assert any("\\<img src" in v for v in shown)  # escaped, so shown as the characters
    assert not any(re.search(r"(?<!\\)<", v) for v in shown)
