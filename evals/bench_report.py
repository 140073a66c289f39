"""evals/BENCHMARKS.md from the figures one `python -m evals.bench` run measured."""

from __future__ import annotations

PARTS = (
    ("understand", "reading the question"),
    ("embed", "question embedding"),
    ("dense", "dense search"),
    ("bm25", "BM25"),
    ("structural", "section-name ranking"),
    ("answer", "answer composition"),
)


def render(cmd: str, r: dict, previous: dict) -> str:
    """The whole report; `previous` is the run it replaces (its JSON), for a comparison."""
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
        "figure is its best round. Ingest embeds each chunk's search text and its candidate "
        f"quote sentences ({enc['sentences']} sentences here, "
        f"{enc['chars']['sentences'] / enc['chars']['chunks']:.0%} of the chunk characters "
        "again), so the raw encode baseline encodes exactly those texts; every rate is in "
        "chunks per second.",
        "",
        "| what | chunks/s |",
        "| --- | ---: |",
        *(
            f"| raw `SentenceTransformer.encode` of chunk and sentence texts, batch {bs} "
            f"| {rate:.1f} |"
            for bs, rate in enc["rates"].items()
        ),
        f"| raw encode of the chunk texts alone (what ingest embedded before sentence vectors "
        f"were stored), batch {enc['best_batch']} | {enc['chunk_texts_only_rate']:.1f} |",
        f"| **`rag ingest` (read, chunk, embed chunks and sentences, write Chroma)** "
        f"| **{ing['rate']:.1f}** |",
        "",
        f"Ratio to raw encode of the same texts at its best batch size ({enc['best_batch']}): "
        f"**{ing['rate'] / enc['best_rate']:.2f}** (target >= 0.80). Embedding the sentences "
        f"at ingest costs throughput: {ing['rate']:.1f} chunks/s against "
        f"{enc['chunk_texts_only_rate']:.1f} for raw encode of the chunk texts alone "
        f"({ing['rate'] / enc['chunk_texts_only_rate']:.2f} of it). "
        f"Peak memory of the ingest process: {ing['peak_mib']:.0f} MiB.",
        "",
        "## Query latency, memory and cold start",
        "",
        "`Assistant.ask` (what `rag ask` runs) with the model already loaded, over the gold "
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
    rows += [
        "",
        "Parts of each question, measured one by one the way `Assistant.ask` calls them (p50 / "
        "p95 ms). Retrieval is reading the question, embedding it, the three rankings, fusion "
        "and one read of the candidates' texts and vectors; answer composition reads the "
        "stored vectors of the candidate sentences and verifies every quote.",
        "",
        "| index | " + " | ".join(label for _, label in PARTS) + " |",
        "| --- |" + " ---: |" * len(PARTS),
    ]
    for name in ("x1", "scale"):
        q = r.get(f"query_{name}")
        if q:
            cells = " | ".join(f"{q[f'{k}_p50_ms']:.1f} / {q[f'{k}_p95_ms']:.1f}" for k, _ in PARTS)
            rows.append(f"| {q['chunks']:,} chunks | {cells} |")
    q = r.get("query_scale")
    if q:
        rows += [
            "",
            f"{q['filtered_share']:.0%} of the questions name a review, so their dense search "
            "and BM25 run within that review's chunks.",
        ]
    b = r.get("build_scale")
    if b:
        rows += [
            "",
            f"Synthetic index: {b['stored']:,} chunks and {b['sentences']:,} candidate quote "
            f"sentences in {b['documents']:,} documents, built in {b['prepare_seconds']:.0f} s "
            f"(make and chunk) + {b['store_seconds']:.0f} s (Store.sync into Chroma); peak "
            f"memory of that process {b['peak_mib']:.0f} MiB. Its vectors are a pool of 512 "
            "real embeddings plus noise (load only, not quality).",
        ]
    rows += _compared(r, previous)
    rows += ["", "## Notes", "", *_notes(r), ""]
    return "\n".join(rows)


def _compared(r: dict, previous: dict) -> list[str]:
    """The key figures of the run this one replaces, next to this run's."""
    if not previous.get("query_scale") or not r.get("query_scale"):
        return []
    figures = [
        ("ingest, chunks/s", ("ingest", "rate"), ".1f"),
        ("ingest / raw encode of the same texts", None, ".2f"),
        ("ask p50 ms at x1", ("query_x1", "p50_ms"), ".0f"),
        ("ask p95 ms at x1", ("query_x1", "p95_ms"), ".0f"),
        ("ask p50 ms at scale", ("query_scale", "p50_ms"), ".0f"),
        ("ask p95 ms at scale", ("query_scale", "p95_ms"), ".0f"),
        ("retrieval p50 ms at scale", ("query_scale", "search_p50_ms"), ".0f"),
        ("retriever MiB at scale", ("query_scale", "retriever_mib"), ".0f"),
        ("retriever load s at scale", ("query_scale", "retriever_load_s"), ".1f"),
        ("query process peak MiB at scale", ("query_scale", "peak_mib"), ".0f"),
        ("cold start s at scale", ("cold_scale",), ".1f"),
    ]

    def get(run: dict, path):
        if path is None:
            return run["ingest"]["rate"] / run["encode"]["best_rate"]
        for key in path:
            run = run[key]
        return run

    rows = [
        "",
        f"## Against the previous run ({previous.get('date', 'unknown date')})",
        "",
        "Measured in a different run, so machine load differs; the ratios within each run are "
        "the fair comparison.",
        "",
        "| figure | previous run | this run |",
        "| --- | ---: | ---: |",
    ]
    for label, path, fmt in figures:
        rows.append(f"| {label} | {get(previous, path):{fmt}} | {get(r, path):{fmt}} |")
    return rows


def _notes(r: dict) -> list[str]:
    """What the figures mean, and the design choices they support."""
    out = []
    if "ingest_x1" in r:
        i = r["ingest_x1"]
        out.append(
            f"- Ingest of the real corpus (x1, {i['chunks']} chunks and {i['sentences']} "
            f"sentences): {i['seconds']:.1f} s, peak {i['peak_mib']:.0f} MiB; most of an ingest "
            "process's memory is the model and torch."
        )
    q = r.get("query_scale")
    if q:
        out += [
            "- Answer composition no longer embeds anything: ingest stores the vector of every "
            "sentence an answer may quote (rag.answer.compose.scored_spans) in a per-generation "
            "Chroma "
            "collection, and compose reads them by id. An index built before that embeds them "
            "while answering, as before, until its next `rag ingest` adds them.",
            "- Dense search within a few allowed chunks (a question that names a review, or "
            "narrow filters) compares the question with their stored vectors exactly, instead "
            "of Chroma's filtered graph search, which visits most of a large graph to find a "
            "few allowed chunks (about 130 ms at 100k chunks). Wider filters still use Chroma "
            "(`RAG_EXACT_SEARCH_LIMIT`).",
            "- BM25 selects its top candidates among the allowed chunks only; a top-k over every "
            "chunk with the others masked to zero took 18 ms at 100k chunks.",
            f"- The retriever keeps no chunk texts: BM25 ({q['bm25_arrays_mib']:.0f} MiB of "
            "score arrays), the section-name index and the question vocabulary are built from "
            "one pass over the chunks, a page at a time, and a candidate's text is read back "
            "from Chroma with its vector; the heap the build used and freed is handed back to "
            "the system (glibc malloc_trim). The process growth while loading "
            f"({q['retriever_mib']:.0f} MiB at {q['chunks']:,} chunks) is mostly Chroma's own "
            "caches of the collections it read; the Python objects the retriever keeps are "
            "the BM25 arrays, the chunk ids and the section index.",
            "- The synthetic index holds the five real corpus documents (real vectors) plus "
            "recombined paragraphs, so the gold questions are answered from it; its other "
            "vectors are a pool of real embeddings plus noise, for load only.",
        ]
    out.append(
        "- The machine is shared with other engineers' test runs, so absolute figures vary "
        "from run to run; ratios are measured within one run."
    )
    return out
