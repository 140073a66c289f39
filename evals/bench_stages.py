"""The measured stages of evals/bench.py; each runs in its own process, so its peak is its own."""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH_SIZES = (16, 32, 64, 128)


def peak_mib() -> float:
    """Peak resident memory of this process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], p: int) -> float:
    """The p-th percentile (nearest rank; the median for 50)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if p == 50:
        return statistics.median(ordered)
    return ordered[max(0, round(p / 100 * len(ordered)) - 1)]


def _settings(spec: dict):
    from evals.scale_index import settings_for

    state = {"state_dir": Path(spec["state"])} if spec.get("state") else {}
    return settings_for(
        Path(spec["index"]), Path(spec["corpus"]), chroma_url=spec.get("chroma_url"), **state
    )


def stage_derive(spec: dict) -> dict:
    """What the index saves with its generation (the retriever's state, the sentence vectors),
    written now if an older build lacks it, so no timed stage pays for it."""
    from rag.assistant import Assistant

    t = time.perf_counter()
    pipe = Assistant(_settings(spec))
    _ = pipe.retriever
    pipe.store.sentence_vectors([("none", 0, 0)])
    return {"seconds": time.perf_counter() - t, "peak_mib": peak_mib()}


def stage_encode(spec: dict) -> dict:
    """Raw SentenceTransformer.encode on exactly the texts ingest embeds, at each batch size.

    Ingest embeds each chunk's search text and its candidate quote sentences; rates are in
    chunks per second either way. The chunk texts alone are timed at the best batch size.
    """
    from rag.answer.compose import scored_spans
    from rag.index.embedder import Embedder
    from rag.index.records import search_text
    from rag.ingest import reading as ingest
    from rag.ingest.chunking import chunk_document

    settings = _settings(spec)
    docs = ingest.load([settings.corpus_dir], settings).documents
    chunks = [(c, d.meta) for d in docs for c in chunk_document(d, settings)]
    searched = [search_text(c, meta) for c, meta in chunks]
    sentences = [
        c.text[s.start - c.start : s.end - c.start]
        for c, _ in chunks
        for s in scored_spans(c, settings)
    ]
    texts = searched + sentences
    model = Embedder(settings).model
    model.encode(texts[:64], batch_size=32)  # warm up
    rates = {}
    for bs in BATCH_SIZES:
        t = time.perf_counter()
        model.encode(texts, batch_size=bs, normalize_embeddings=True, show_progress_bar=False)
        rates[bs] = len(chunks) / (time.perf_counter() - t)
    best = max(rates, key=rates.get)
    t = time.perf_counter()
    model.encode(searched, batch_size=best, normalize_embeddings=True, show_progress_bar=False)
    return {
        "chunks": len(chunks),
        "sentences": len(sentences),
        "chars": {"chunks": sum(map(len, searched)), "sentences": sum(map(len, sentences))},
        "rates": rates,
        "best_batch": best,
        "best_rate": rates[best],
        "chunk_texts_only_rate": len(chunks) / (time.perf_counter() - t),
    }


def stage_ingest(spec: dict) -> dict:
    """`Assistant.ingest` into an empty index with the real embedder, timed after model load."""
    from rag.assistant import Assistant

    pipe = Assistant(_settings(spec))
    pipe.embedder.embed(["warm up"])
    t = time.perf_counter()
    report = pipe.ingest([pipe.settings.corpus_dir])
    seconds = time.perf_counter() - t
    return {
        "chunks": report.sync.chunks_embedded,
        "sentences": report.sync.sentences_embedded,
        "seconds": seconds,
        "rate": report.sync.chunks_embedded / seconds,
        "peak_mib": peak_mib(),
    }


def stage_build(spec: dict) -> dict:
    """The scale index (evals/scale_index.py): cached on disk, or into a Chroma server."""
    from evals.scale_index import build

    settings = _settings(spec) if spec.get("chroma_url") else None
    return build(spec["reviews"], settings)


def _questions(spec: dict, pipe) -> list[dict]:
    """The questions of the run: the gold set (x1) or the scale corpus's generated ones."""
    if spec["questions"] == "gold":
        path = ROOT / "evals" / "questions.jsonl"
        gold = [json.loads(line)["question"] for line in path.read_text().splitlines()]
        asked = [{"question": q, "review": None} for q in gold[: spec["n"]]]
        for q in asked:
            named = pipe.retriever.understand(q["question"]).documents
            q["kind"] = "review-scoped" if named else "corpus-wide"
        return asked
    from evals.scale_corpus import questions

    return questions(spec["reviews"], spec["n"])


def _raw(pipe, collection, q: dict, n: int) -> dict[str, float]:
    """A bare Chroma app: embed the question, query the chunks collection (ms)."""
    t0 = time.perf_counter()
    vector = pipe.embedder.embed([q["question"]])[0].tolist()
    t1 = time.perf_counter()
    collection.query(
        query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"]
    )
    t2 = time.perf_counter()
    out = {"raw": (t2 - t0) * 1000, "raw_query": (t2 - t1) * 1000}
    if q.get("review"):
        collection.query(
            query_embeddings=[vector],
            n_results=n,
            where={"review": q["review"]},
            include=["documents", "metadatas", "distances"],
        )
        out["raw_filtered"] = (t1 - t0) * 1000 + (time.perf_counter() - t2) * 1000
    return out


def stage_query(spec: dict) -> dict:
    """`Assistant.ask` per question, each followed by a raw Chroma query of the same question.

    Interleaved, so machine load falls on both alike. Also: the retriever's load time and
    memory, the process peak, and what the answers cite (a sanity check, not quality).
    """
    from rag.assistant import Assistant

    pipe = Assistant(_settings(spec))
    pipe.embedder.embed(["warm up"])
    before = rss_mib()
    t = time.perf_counter()
    _ = pipe.retriever  # loads BM25, the section index and the vocabulary
    load_seconds = time.perf_counter() - t
    retriever_mib = rss_mib() - before
    # The bench reads the collection directly: that is the baseline, a bare Chroma query.
    collection = pipe.store._current().chunks
    n = pipe.settings.candidates
    asked = _questions(spec, pipe)
    pipe.ask(asked[0]["question"])
    _raw(pipe, collection, asked[0], n)
    rows = []
    for q in asked:
        t = time.perf_counter()
        answer = pipe.ask(q["question"])
        row = {"kind": q["kind"], "ask": (time.perf_counter() - t) * 1000}
        row |= _raw(pipe, collection, q, n)
        cited = {pipe.document(c.quote.document).meta.review for c in answer.citations}
        row["abstained"] = answer.abstained
        row["reviews_cited"] = len(cited)
        row["cites_named"] = q.get("review") in cited if q.get("review") else None
        rows.append(row)
    return {
        "chunks": pipe.store.count(),
        "documents": len(pipe.store.documents()),
        "rows": rows,
        "retriever_load_s": load_seconds,
        "retriever_mib": retriever_mib,
        "peak_mib": peak_mib(),
    }
