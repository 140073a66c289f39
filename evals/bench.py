"""Benchmarks against this machine's own limits; writes evals/BENCHMARKS.md.

    python -m evals.bench [--scale 100000] [--throughput-chunks 1200] [--queries 40]

Every figure comes from one run, side by side: ingest throughput against raw
SentenceTransformer.encode on the same texts (best batch size), query latency p50/p95 with the
model loaded at corpus scale x1 and at `--scale` synthetic chunks, peak memory of each process,
and cold start (process start to first answer). Each measured stage runs in its own process, so
its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
OUT = ROOT / "evals" / "BENCHMARKS.md"
BATCH_SIZES = (16, 32, 64, 128)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return (
        ordered[max(0, round(p / 100 * len(ordered)) - 1)]
        if p != 50
        else statistics.median(ordered)
    )


def _settings(index: Path, **extra):
    from rag.settings import Settings

    return Settings(
        corpus_dir=CORPUS,
        vectorstore_dir=index / "vectorstore",
        feedback_db=index / "feedback.sqlite3",
        chroma_url=None,
        llm=None,
        **extra,
    )


def _paragraphs() -> list[str]:
    paras = []
    for f in sorted(CORPUS.glob("*.md")):
        for block in re.split(r"\n\s*\n", f.read_text(encoding="utf-8")):
            flat = " ".join(block.split())
            if 200 <= len(flat) <= 700 and not flat.lower().startswith("recommendation"):
                paras.append(flat)
    return paras


def synthetic_docs(n_chunks: int, seed: int = 7, recs: int = 20) -> list[tuple[str, str]]:
    """Review-shaped documents recombined from corpus paragraphs: about one chunk per
    recommendation. For load only, not quality."""
    rng = random.Random(seed)
    paras = _paragraphs()
    docs = []
    for d in range((n_chunks + recs - 1) // recs):
        parts = [f"Synthetic review {d}\n\nThis synthetic review recombines corpus text.\n"]
        for r in range(1, recs + 1):
            parts.append(f"Recommendation {r}:\n{rng.choice(paras)}\n\n{rng.choice(paras)}\n")
        docs.append((f"synthetic-{d:05d}", "\n".join(parts)))
    return docs


def _write(docs: list[tuple[str, str]], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in docs:
        (folder / f"{doc_id}.md").write_text(text, encoding="utf-8")
    return folder


# -- stages, each run in a child process --------------------------------------------------------


def stage_encode(folder: Path) -> dict:
    """Raw SentenceTransformer.encode on exactly the texts ingest embeds, at each batch size."""
    from rag import ingest
    from rag.chunk import chunk_document
    from rag.embed import Embedder
    from rag.retrieve import search_text

    settings = _settings(folder.parent)
    docs = ingest.load([folder], settings).documents
    texts = [search_text(c, d.meta) for d in docs for c in chunk_document(d, settings)]
    model = Embedder(settings).model
    model.encode(texts[:64], batch_size=32)  # warm up
    rates = {}
    for bs in BATCH_SIZES:
        t = time.perf_counter()
        model.encode(texts, batch_size=bs, normalize_embeddings=True, show_progress_bar=False)
        rates[bs] = len(texts) / (time.perf_counter() - t)
    best = max(rates, key=rates.get)
    return {"chunks": len(texts), "rates": rates, "best_batch": best, "best_rate": rates[best]}


def stage_ingest(folder: Path, index: Path) -> dict:
    """`Pipeline.ingest` into an empty index, timed from after the model is loaded."""
    from rag.pipeline import Pipeline

    pipe = Pipeline(_settings(index))
    pipe.embedder.embed(["warm up"])
    t = time.perf_counter()
    report = pipe.ingest([folder])
    seconds = time.perf_counter() - t
    return {
        "chunks": report.sync.chunks_embedded,
        "seconds": seconds,
        "rate": report.sync.chunks_embedded / seconds,
        "peak_mib": _peak_mib(),
    }


def stage_build_scale(n_chunks: int, index: Path) -> dict:
    """A large index from synthetic documents, built through Store.sync.

    Real vectors for a pool of distinct texts, and for the rest a pool vector plus noise: the
    load on Chroma and BM25 is real, and building takes minutes instead of hours of embedding.
    """
    import numpy as np

    from rag.chunk import chunk_document
    from rag.embed import Embedder
    from rag.ingest import content_hash, load
    from rag.models import DocMeta, Document
    from rag.retrieve import search_text
    from rag.store import Store

    settings = _settings(index)
    t0 = time.perf_counter()
    docs = [
        Document(DocMeta(i, f"Synthetic review {i}"), text) for i, text in synthetic_docs(n_chunks)
    ]
    # The real corpus goes in too, with real vectors, so the gold questions have their answers.
    real = list(load([CORPUS], settings).documents)
    prepared = [(d, content_hash(d.text), chunk_document(d, settings)) for d in real + docs]
    n = sum(len(c) for _, _, c in prepared)
    embedder = Embedder(settings)
    pool_texts = [search_text(c, d.meta) for d, _, cs in prepared[5:40] for c in cs][:512]
    pool = embedder.embed(pool_texts)
    rng = np.random.default_rng(7)
    real_ids = {d.id for d in real}

    def embed(items):
        out = pool[rng.integers(0, len(pool), len(items))]
        out = out + rng.normal(0, 0.02, out.shape).astype(np.float32)
        out = (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
        rows = [k for k, (c, _) in enumerate(items) if c.document in real_ids]
        if rows:
            out[rows] = embedder.embed([search_text(*items[k]) for k in rows])
        return out

    t1 = time.perf_counter()
    report = Store(settings).sync(prepared, embed, batch=1024)
    t2 = time.perf_counter()
    return {
        "chunks": n,
        "documents": len(docs),
        "stored": report.chunks_total,
        "prepare_seconds": t1 - t0,
        "store_seconds": t2 - t1,
        "peak_mib": _peak_mib(),
    }


def stage_query(index: Path, n_queries: int) -> dict:
    """`Pipeline.ask` latency with the model loaded, and the memory the retriever holds."""
    from rag.models import Filters
    from rag.pipeline import Pipeline

    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "evals" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    pipe = Pipeline(_settings(index))
    pipe.embedder.embed(["warm up"])
    before = _rss_mib()
    t = time.perf_counter()
    pipe.retriever  # noqa: B018 - loads the chunks and builds BM25
    load_seconds = time.perf_counter() - t
    retriever_mib = _rss_mib() - before
    bm25 = pipe.retriever.lexical.bm25
    bm25_mib = sum(a.nbytes for a in bm25.scores.values() if hasattr(a, "nbytes")) / 2**20
    pipe.ask(questions[0])
    asked = (questions * (1 + n_queries // len(questions)))[:n_queries]
    times, search_times = [], []
    for q in asked:
        t = time.perf_counter()
        pipe.ask(q)
        times.append((time.perf_counter() - t) * 1000)
    # Retrieval alone (embed the question, dense + BM25 + fusion): the part that grows with scale.
    parts: dict[str, list[float]] = {"embed": [], "dense": [], "bm25": []}
    for q in asked:
        t = time.perf_counter()
        pipe.search(q)
        search_times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        vector = pipe.embedder.embed_one(q)
        t1 = time.perf_counter()
        pipe.store.search(vector, pipe.settings.candidates, Filters())
        t2 = time.perf_counter()
        pipe.retriever.lexical.search(q, pipe.settings.candidates, Filters())
        t3 = time.perf_counter()
        for name, ms in zip(parts, (t1 - t, t2 - t1, t3 - t2)):
            parts[name].append(ms * 1000)
    return {
        "chunks": pipe.store.count(),
        "queries": len(times),
        "p50_ms": _pct(times, 50),
        "p95_ms": _pct(times, 95),
        "search_p50_ms": _pct(search_times, 50),
        "search_p95_ms": _pct(search_times, 95),
        **{f"{name}_p95_ms": _pct(ms, 95) for name, ms in parts.items()},
        "retriever_load_s": load_seconds,
        "retriever_mib": retriever_mib,
        "bm25_arrays_mib": bm25_mib,
        "peak_mib": _peak_mib(),
    }


def cold_start(index: Path) -> float:
    """Seconds from launching `rag ask` to its answer, in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | {
        "RAG_CORPUS_DIR": str(CORPUS),
        "RAG_VECTORSTORE_DIR": str(index / "vectorstore"),
        "RAG_FEEDBACK_DB": str(index / "feedback.sqlite3"),
        "HF_HUB_OFFLINE": "1",
    }
    q = "What did the Baby Sally review recommend about fathers?"
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rag", "ask", q, "--json"],
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - t


def _child(stage: str, *args) -> dict:
    """Run one stage in a fresh process and return what it measured."""
    out = subprocess.run(
        [sys.executable, "-m", "evals.bench", "--stage", stage, *map(str, args)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- report -----------------------------------------------------------------------------------


def _report(cmd: str, r: dict) -> str:
    enc, ing = r["encode"], r["ingest"]
    rows = [
        "# Benchmarks",
        "",
        f"Command: `{cmd}`  ",
        f"Date: {r['date']}  ",
        f"Machine: {r['machine']}",
        "",
        "All figures below come from this one run. Each stage ran in its own process.",
        "",
        "## Ingest throughput",
        "",
        f"{enc['chunks']} chunks of synthetic review documents (corpus paragraphs recombined); "
        f"raw encode and ingest were run alternately, {r.get('rounds', 1)} rounds, and each "
        "figure is its best round.",
        "",
        "| what | chunks/s |",
        "| --- | ---: |",
        *(
            f"| raw `SentenceTransformer.encode`, batch {bs} | {rate:.1f} |"
            for bs, rate in enc["rates"].items()
        ),  # fmt: skip
        f"| **`rag ingest` (read, chunk, embed, write Chroma)** | **{ing['rate']:.1f}** |",
        "",
        f"Ratio to raw encode at its best batch size ({enc['best_batch']}): "
        f"**{ing['rate'] / enc['best_rate']:.2f}** (target >= 0.80). "
        f"Peak memory of the ingest process: {ing['peak_mib']:.0f} MiB.",
        "",
        "## Query latency, memory and cold start",
        "",
        "`Pipeline.ask` (what `rag ask` runs) with the model already loaded, over the gold "
        "questions; cold start is a fresh `python -m rag ask` process, launch to answer.",
        "",
        "| index | chunks | queries | ask p50 ms | ask p95 ms | target p95 | retrieval p50 ms "
        "| retrieval p95 ms | query peak MiB | retriever MiB | BM25 arrays MiB "
        "| retriever load s | cold start s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for name, target in (("x1", 150), ("scale", 400)):
        q = r.get(f"query_{name}")
        if q:
            rows.append(
                f"| {'corpus x1' if name == 'x1' else 'synthetic'} | {q['chunks']:,} | "
                f"{q['queries']} | {q['p50_ms']:.0f} | {q['p95_ms']:.0f} | <= {target} | "
                f"{q['search_p50_ms']:.0f} | {q['search_p95_ms']:.0f} | {q['peak_mib']:.0f} | "
                f"{q['retriever_mib']:.0f} | {q['bm25_arrays_mib']:.1f} | "
                f"{q['retriever_load_s']:.1f} | {r[f'cold_{name}']:.1f} |"
            )
    for name in ("x1", "scale"):
        q = r.get(f"query_{name}")
        if q:
            rows.append(
                f"\nRetrieval parts at {q['chunks']:,} chunks, p95: question embedding "
                f"{q['embed_p95_ms']:.0f} ms, Chroma dense search {q['dense_p95_ms']:.0f} ms, "
                f"BM25 {q['bm25_p95_ms']:.0f} ms; the rest of retrieval is fusion and the "
                "structural (section-number) ranking."
            )
    b = r.get("build_scale")
    if b:
        rows += [
            "",
            f"Synthetic index: {b['stored']:,} chunks in {b['documents']:,} documents, built in "
            f"{b['prepare_seconds']:.0f} s (make and chunk) + {b['store_seconds']:.0f} s "
            f"(Store.sync into Chroma); peak memory of that process {b['peak_mib']:.0f} MiB. "
            "Its vectors are a pool of 512 real embeddings plus noise (load only, not quality).",
        ]
    rows += ["", "## Notes", "", *_notes(r), ""]
    return "\n".join(rows)


def _notes(r: dict) -> list[str]:
    """What the figures mean, and the design choices they support."""
    out = []
    if "ingest_x1" in r:
        i = r["ingest_x1"]
        out.append(
            f"- Ingest of the real corpus (x1, {i['chunks']} chunks): {i['seconds']:.1f} s, "
            f"peak {i['peak_mib']:.0f} MiB; most of an ingest process's memory is the model "
            "and torch."
        )
    q, b = r.get("query_scale"), r.get("build_scale")
    if q and b:
        per_chunk = q["retriever_mib"] * 1024 / q["chunks"]
        out += [
            f"- BM25 at scale: the bm25s score arrays take {q['bm25_arrays_mib']:.0f} MiB at "
            f"{q['chunks']:,} chunks and a query costs {q['bm25_p95_ms']:.0f} ms (p95), so the "
            "in-memory bm25s index fits and stays; a persisted bm25s index or Chroma's "
            "full-text search would not save much. The larger per-process cost is the "
            f"retriever's cache of chunk texts ({q['retriever_mib']:.0f} MiB, about "
            f"{per_chunk:.1f} KiB per chunk, loaded from Chroma in {q['retriever_load_s']:.0f} s "
            "on the first question), which the BM25 index, the structural section-number "
            "ranking and the question-vocabulary check share. It grows linearly with the "
            "corpus: the ~70k chunks of a 1,400-review national repository would need about "
            f"{per_chunk * 70_000 / 1024:.0f} MiB per app process.",
            "- Query latency at scale: dense search in Chroma and BM25 stay in tens of "
            "milliseconds; most of the retrieval time at 100k is the structural ranking "
            "(rag/query.py), which scans every chunk in Python on each question. Answer "
            "composition adds the embedding of candidate sentences (rag/answer.py).",
            "- The synthetic index holds the five real corpus documents (real vectors) plus "
            "recombined paragraphs, so the gold questions are answered from it; its other "
            "vectors are a pool of real embeddings plus noise, for load only.",
        ]
    out.append(
        "- The machine is shared with other engineers' test runs, so absolute figures vary "
        "from run to run; ratios are measured within one run."
    )
    return out


def main() -> None:
    """Run every stage and write evals/BENCHMARKS.md."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--stage")
    ap.add_argument("args", nargs="*")
    ap.add_argument("--scale", type=int, default=100_000, help="Chunks in the large index.")
    ap.add_argument("--throughput-chunks", type=int, default=1200)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2, help="Interleaved throughput rounds.")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    if a.stage:
        fn = globals()[f"stage_{a.stage}"]
        conv = [Path(x) if "/" in x else int(x) for x in a.args]
        print(json.dumps(fn(*conv)))
        return

    cmd = "python -m evals.bench " + " ".join(sys.argv[1:])
    r: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}, shared with other work",
    }
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        tmp = Path(tmp)
        folder = _write(synthetic_docs(a.throughput_chunks, seed=3), tmp / "through" / "docs")
        # Interleaved rounds, best of each: other work on a shared machine only ever slows a
        # measurement down, so the best round is the closest to what the hardware can do.
        encodes, ingests = [], []
        for n in range(a.rounds):
            encodes.append(_child("encode", folder))
            ingests.append(_child("ingest", folder, tmp / "through" / f"index{n}"))
            print("round", n, encodes[-1], ingests[-1], flush=True)
        rates = {bs: max(e["rates"][bs] for e in encodes) for bs in encodes[0]["rates"]}
        best = max(rates, key=rates.get)
        r["encode"] = encodes[0] | {"rates": rates, "best_batch": best, "best_rate": rates[best]}
        r["ingest"] = max(ingests, key=lambda i: i["rate"])
        r["rounds"] = a.rounds

        x1 = tmp / "x1"
        r["ingest_x1"] = _child("ingest", CORPUS, x1)
        r["query_x1"] = _child("query", x1, a.queries)
        r["cold_x1"] = cold_start(x1)
        print("x1", r["query_x1"], r["cold_x1"], flush=True)

        big = tmp / "scale"
        r["build_scale"] = _child("build_scale", a.scale, big)
        print("build", r["build_scale"], flush=True)
        r["query_scale"] = _child("query", big, a.queries)
        r["cold_scale"] = cold_start(big)
        print("scale", r["query_scale"], r["cold_scale"], flush=True)
    a.out.write_text(_report(cmd, r), encoding="utf-8")
    (a.out.with_suffix(".json")).write_text(json.dumps(r, indent=1), encoding="utf-8")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
