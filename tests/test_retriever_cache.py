"""The retriever's state is saved with each index generation: a fresh process loads it instead
of rebuilding it from every chunk, ranks exactly as a rebuilt one, and a missing or damaged
folder is rebuilt, never a crash. Real Chroma in a temporary directory, the real model."""

from __future__ import annotations

import shutil

import pytest

from rag.assistant import Assistant
from tests.conftest import make_settings

# Fictional reviews written for this test.
REVIEWS = {
    "alder-child-q-review.md": """# Local Child Safeguarding Practice Review: Child Q

Alderbrook Safeguarding Children Partnership

## Findings

Finding 1: Health visitors did not know that the family had moved between three temporary
addresses, so the new-birth visit was missed and no one followed it up.

## Recommendations

Recommendation 1: The partnership should ensure that housing providers tell the health visiting
service within five working days when a family with a baby moves to temporary accommodation.

Recommendation 2: Schools should record and share concerns about neglect with the early help
hub, including repeated lateness and poor hygiene.
""",
    "birch-baby-v-review.md": """# Serious Case Review: Baby V

Birchfield Local Safeguarding Children Board

## Learning

Learning point 1: Safe sleep advice was given at discharge but not repeated when the family's
circumstances changed, and the baby slept on a sofa with an adult who had been drinking.

## Recommendations

Recommendation 1: Midwives and health visitors should revisit safe sleep advice at every contact
where the household or sleeping arrangements have changed.
""",
}
QUESTIONS = (
    "What did the reviews recommend about safe sleep advice?",
    "What should housing providers tell health visitors?",
    "What did the Child Q review recommend for schools about neglect?",
)


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture()
def settings(tmp_path):
    corpus = tmp_path / "corpus"
    for name, text in REVIEWS.items():
        _write(corpus, name, text)
    return make_settings(tmp_path, corpus_dir=corpus)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from rag.index.embedder import Embedder

    return Embedder(make_settings(tmp_path_factory.mktemp("model")))


def _ranks(assistant: Assistant) -> list:
    out = []
    for q in QUESTIONS:
        hits, _ = assistant.search(q)
        out.append([(h.chunk.id, round(h.score, 9), h.dense, h.lexical, h.named) for h in hits])
    return out


def _fresh(settings, model) -> Assistant:
    return Assistant(settings, embedder=model)


def test_a_fresh_process_loads_the_saved_state_and_ranks_as_a_rebuilt_one(settings, model):
    _fresh(settings, model).ingest()
    loaded = _fresh(settings, model)
    assert loaded.retriever.built is False  # written at ingest, before the switch
    saved = _ranks(loaded)
    gen = loaded.store.active_generation()
    shutil.rmtree(loaded.store.saved(gen))
    rebuilt = _fresh(settings, model)
    assert rebuilt.retriever.built is True
    assert _ranks(rebuilt) == saved
    # The rebuild saved it again, so the next process loads it.
    assert _fresh(settings, model).retriever.built is False


def test_each_generation_has_its_own_state_dropped_with_it(settings, model):
    first = _fresh(settings, model)
    first.ingest()
    old = first.store.active_generation()
    old_folder = first.store.saved(old)
    assert old_folder is not None and old_folder.is_dir()
    _write(
        settings.corpus_dir,
        "cedar-child-m-review.md",
        "# Rapid Review: Child M\n\nCedarvale Safeguarding Partnership\n\n"
        "Recommendation 1: GPs should ask about domestic abuse when a parent attends with an "
        "injury, and record the answer where the health visitor can see it.\n",
    )
    second = _fresh(settings, model)
    second.ingest()
    new = second.store.active_generation()
    assert new != old
    assert second.store.saved(new) is not None
    # The generation before the active one stays for questions still reading it; the next
    # ingest drops it, and its saved state with it.
    _write(
        settings.corpus_dir,
        "extra.md",
        "# Review: Child N\n\nRecommendation 1: Schools should share attendance concerns "
        "with the school nurse and the early help hub every half term.\n",
    )
    third = _fresh(settings, model)
    third.ingest()
    assert third.store.active_generation() != new
    assert not old_folder.exists()
    assert third.store.saved(new) is not None
    answer = _fresh(settings, model).ask("What should GPs ask about domestic abuse?")
    assert not answer.abstained
    assert any("domestic abuse" in c.quote.text for c in answer.citations)


def test_a_damaged_saved_state_is_rebuilt_not_a_crash(settings, model):
    _fresh(settings, model).ingest()
    good = _fresh(settings, model)
    expected = _ranks(good)
    folder = good.store.saved(good.store.active_generation())
    biggest = max((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    biggest.write_bytes(biggest.read_bytes()[: biggest.stat().st_size // 2])
    damaged = _fresh(settings, model)
    assert damaged.retriever.built is True
    assert _ranks(damaged) == expected


def test_bm25_settings_reach_the_index_and_a_change_rebuilds_the_saved_state(settings, model):
    _fresh(settings, model).ingest()
    default = _fresh(settings, model)
    assert default.retriever.built is False
    flat = settings.model_copy(update={"bm25_k1": 0.5, "bm25_b": 0.0})
    other = _fresh(flat, model)
    # Saved for other settings: rebuilt with these, not read.
    assert other.retriever.built is True
    assert (other.retriever.lexical.bm25.k1, other.retriever.lexical.bm25.b) == (0.5, 0.0)
    question = "What should housing providers tell health visitors?"
    scores = [
        [h.lexical for h in a.search(question)[0] if h.lexical is not None]
        for a in (default, other)
    ]
    assert scores[0] and scores[0] != scores[1]


def test_a_stamp_of_another_generation_is_not_read(settings, model):
    _fresh(settings, model).ingest()
    a = _fresh(settings, model)
    gen = a.store.active_generation()
    folder = a.store.saved(gen)
    stamp = folder / "generation.json"
    stamp.write_text(stamp.read_text(encoding="utf-8").replace('"key": "', '"key": "x'))
    assert a.store.saved(gen) is None
    assert _fresh(settings, model).retriever.built is True


def test_saved_state_lives_beside_an_embedded_index_and_outside_it_for_a_server(
    tmp_path, monkeypatch
):
    from rag.index import derived

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    vs = tmp_path / "vectorstore"
    assert derived.root(None, vs, None) == vs / "derived"
    assert derived.root(tmp_path / "s", vs, "http://localhost:8000") == tmp_path / "s"
    served = derived.root(None, vs, "http://chroma.example:8001")
    assert served == tmp_path / "cache" / "rag" / "servers" / "chroma.example_8001"
    assert derived.root(None, vs, "http://other:8001") != served


def test_folders_of_servers_unused_for_long_are_removed_and_the_one_in_use_kept(tmp_path):
    import os
    import time

    from rag.index import derived

    servers = tmp_path / "rag" / "servers"
    gone, recent, unmarked = servers / "old_8000", servers / "recent_8000", servers / "x_1"
    for folder in (gone, recent, unmarked):
        (folder / "reviews__g1").mkdir(parents=True)
    now = time.time()
    derived.tend_servers(gone, 30, now - 40 * 86400)  # last opened 40 days ago
    derived.tend_servers(recent, 30, now - 86400)
    os.utime(recent / ".used", (now - 86400, now - 86400))
    os.utime(gone / ".used", (now - 40 * 86400, now - 40 * 86400))
    os.utime(unmarked, (now - 90 * 86400, now - 90 * 86400))
    here = servers / "here_8000"
    assert sorted(derived.tend_servers(here, 30, now)) == sorted([gone, unmarked])
    assert recent.is_dir() and (recent / "reviews__g1").is_dir()
    assert (here / ".used").is_file()
    # 0 keeps every folder, however old.
    os.utime(recent / ".used", (now - 400 * 86400, now - 400 * 86400))
    assert derived.tend_servers(here, 0, now) == [] and recent.is_dir()


def _sentence_folders(settings) -> list:
    return sorted((settings.vectorstore_dir / "derived").glob("reviews.sentences__g*"))


def test_sentence_vectors_are_saved_at_ingest_exactly_as_stored(settings, model):
    import numpy as np

    from rag.index.records import sentence_key
    from rag.index.vectors import SentenceVectors

    _fresh(settings, model).ingest()
    a = _fresh(settings, model)
    (folder,) = _sentence_folders(settings)
    stored = a.store._current().sentences.get(include=["embeddings"])
    assert stored["ids"]
    table = SentenceVectors(folder)
    assert len(table) == len(stored["ids"])
    saved = table.get(stored["ids"])
    for i, v in zip(stored["ids"], stored["embeddings"]):
        np.testing.assert_array_equal(saved[i], np.asarray(v, dtype=np.float32))
    assert table.get(["no-such:0:1"]) == {}
    # The store reads them from the saved arrays, keyed as answers ask for them.
    keys = [sentence_key(i) for i in stored["ids"][:5]]
    got = a.store.sentence_vectors(keys)
    assert set(got) == set(keys)
    answer = a.ask(QUESTIONS[0])
    assert not answer.abstained and answer.citations


def test_damaged_sentence_vectors_are_written_again_not_a_crash(settings, model):
    import numpy as np

    from rag.index.records import sentence_key

    _fresh(settings, model).ingest()
    good = _fresh(settings, model).store
    keys = [sentence_key(i) for i in good._current().sentences.get()["ids"]]
    expected = good.sentence_vectors(keys)
    (folder,) = _sentence_folders(settings)
    vectors = folder / "vectors.npy"
    full = vectors.stat().st_size
    vectors.write_bytes(vectors.read_bytes()[: full // 2])
    got = _fresh(settings, model).store.sentence_vectors(keys)
    assert set(got) == set(expected) == set(keys)
    for k in keys:
        np.testing.assert_array_equal(got[k], expected[k])
    (again,) = _sentence_folders(settings)
    assert (again / "vectors.npy").stat().st_size == full


def test_sentence_vectors_go_with_their_generation(settings, model):
    _fresh(settings, model).ingest()
    (first,) = _sentence_folders(settings)
    for n, name in enumerate(("one.md", "two.md")):
        _write(
            settings.corpus_dir,
            name,
            f"# Review: Child {n}\n\nRecommendation 1: Schools should share attendance "
            f"concerns with the school nurse every {('week', 'month')[n]}.\n",
        )
        _fresh(settings, model).ingest()
    # The active generation and the one before it keep theirs; the first one's is gone.
    assert len(_sentence_folders(settings)) == 2 and not first.exists()
