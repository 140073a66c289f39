"""evals/BENCHMARKS.md from the figures one `python -m evals.bench` run measured."""

from __future__ import annotations

from evals.bench_stages import pct

KINDS = ("review-scoped", "corpus-wide")
# p95 targets of `Assistant.ask` at 100k chunks (issue #20), by kind of question.
ASK_TARGET = {"review-scoped": 150, "corpus-wide": 400}
LABELS = {"query_x1": "corpus as shipped", "scale": "scale corpus", "server": "scale, server"}


def _runs(r: dict) -> list[tuple[str, dict, dict]]:
    """(label, query figures, cold start) of each index measured."""
    out = [(LABELS["query_x1"], r["query_x1"], r["cold_x1"])]
    for key in ("scale", "server"):
        if r.get(key):
            out.append((LABELS[key], r[key]["query"], r[key]["cold"]))
    return out


def _figures(q: dict, kind: str) -> dict:
    rows = [row for row in q["rows"] if row["kind"] == kind]
    got = {"n": len(rows)}
    for key in ("ask", "raw", "raw_query", "raw_filtered"):
        values = [row[key] for row in rows if key in row]
        got[f"{key}_p50"], got[f"{key}_p95"] = pct(values, 50), pct(values, 95)
    return got


def _header(r: dict) -> list[str]:
    return [
        "# Benchmarks",
        "",
        "Regenerate every figure below with one command (about an hour the first time, while "
        "the scale corpus is embedded into the cache; minutes after):",
        "",
        "    nice -n 10 .venv/bin/python -m evals.bench",
        "",
        f"This run: `{r['command']}`  ",
        f"Date: {r['date']}  ",
        f"Machine: {r['machine']}",
        "",
        "All figures come from this one run, each next to its baseline measured in the same run "
        "(the machine is shared, so read the ratios). Each stage ran in its own process.",
    ]


def _targets(r: dict) -> list[str]:
    rows = [
        "",
        "## Targets",
        "",
        "| figure | measured | baseline, same run | target | met |",
        "| --- | ---: | ---: | ---: | :---: |",
    ]
    enc, ing = r["encode"], r["ingest"]
    ratio = ing["rate"] / enc["best_rate"]
    rows.append(
        f"| ingest / raw encode of the same texts | {ratio:.2f} ({ing['rate']:.1f} chunks/s) "
        f"| {enc['best_rate']:.1f} chunks/s | >= 0.80 | {'yes' if ratio >= 0.8 else 'no'} |"
    )
    for label, q, cold in _runs(r):
        scaled = label != LABELS["query_x1"]
        for kind in KINDS:
            f = _figures(q, kind)
            if not f["n"]:
                continue
            target = ASK_TARGET[kind] if scaled else 150
            rows.append(
                f"| {label}, {q['chunks']:,} chunks: ask p95, {kind} ({f['n']}) "
                f"| {f['ask_p95']:.0f} ms | raw Chroma {f['raw_p95']:.0f} ms "
                f"| <= {target} ms | {'yes' if f['ask_p95'] <= target else 'no'} |"
            )
        own = cold["ask"] - cold["imports"]
        limit = 5 if scaled else 2
        rows.append(
            f"| {label}: cold start minus bare import | {own:.1f} s ({cold['ask']:.1f} s in all) "
            f"| import {cold['imports']:.1f} s | <= {limit} s | {'yes' if own <= limit else 'no'} |"
        )
        if scaled:
            rows.append(
                f"| {label}: retriever memory | {q['retriever_mib']:.0f} MiB | | <= 200 MiB "
                f"| {'yes' if q['retriever_mib'] <= 200 else 'no'} |"
            )
            rows.append(
                f"| {label}: query process peak | {q['peak_mib']:.0f} MiB | | <= 1536 MiB "
                f"| {'yes' if q['peak_mib'] <= 1536 else 'no'} |"
            )
    return rows + _load_targets(r)


def _throughput(r: dict) -> list[str]:
    enc, ing = r["encode"], r["ingest"]
    return [
        "",
        "## Ingest throughput",
        "",
        f"{enc['chunks']} chunks of scale-corpus reviews that are in no cache; raw encode and "
        f"ingest were run alternately, {r['rounds']} rounds, each figure its best round. Ingest "
        f"embeds each chunk's search text and its candidate quote sentences ({enc['sentences']} "
        f"sentences, {enc['chars']['sentences'] / enc['chars']['chunks']:.0%} of the chunk "
        "characters again), so the raw baseline encodes exactly those texts; rates in chunks/s.",
        "",
        "| what | chunks/s |",
        "| --- | ---: |",
        *(
            f"| raw `SentenceTransformer.encode` of chunk and sentence texts, batch {bs} "
            f"| {rate:.1f} |"
            for bs, rate in enc["rates"].items()
        ),
        f"| raw encode of the chunk texts alone, batch {enc['best_batch']} "
        f"| {enc['chunk_texts_only_rate']:.1f} |",
        f"| **`rag ingest` (read, chunk, embed chunks and sentences, write Chroma)** "
        f"| **{ing['rate']:.1f}** |",
        "",
        f"Peak memory of the ingest process: {ing['peak_mib']:.0f} MiB. The corpus as shipped "
        f"({r['ingest_x1']['chunks']} chunks) ingests in {r['ingest_x1']['seconds']:.1f} s.",
    ]


def _latency(r: dict) -> list[str]:
    rows = [
        "",
        "## Question latency against a bare Chroma query",
        "",
        "Each question is answered by `Assistant.ask` (what `rag ask` runs; model loaded, "
        "retriever warm) and then, in the same loop, by a bare Chroma app: embed the question "
        "with the same model, `collection.query` on the chunks collection with the same "
        "n_results as the dense retriever (`candidates`), documents and metadata included. "
        "Review-scoped questions name a review; corpus-wide ones name none. The bare query of a "
        "review-scoped question is also timed with `where={review: name}`. Times in ms.",
        "",
        "| index | chunks | questions | n | ask p50 | ask p95 | raw p50 | raw p95 | ask/raw p50 "
        "| ask/raw p95 | raw query alone p50 | raw filtered p95 |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, q, _ in _runs(r):
        for kind in KINDS:
            f = _figures(q, kind)
            if f["n"]:
                filtered = (
                    ""
                    if f["raw_filtered_p95"] != f["raw_filtered_p95"]
                    else (f"{f['raw_filtered_p95']:.0f}")
                )
                rows.append(
                    f"| {label} | {q['chunks']:,} | {kind} | {f['n']} | {f['ask_p50']:.0f} "
                    f"| {f['ask_p95']:.0f} | {f['raw_p50']:.0f} | {f['raw_p95']:.0f} "
                    f"| {f['ask_p50'] / f['raw_p50']:.1f} | {f['ask_p95'] / f['raw_p95']:.1f} "
                    f"| {f['raw_query_p50']:.1f} | {filtered} |"
                )
    return rows


def _memory(r: dict) -> list[str]:
    rows = [
        "",
        "## Cold start and memory",
        "",
        "Cold start: a fresh `python -m rag ask QUESTION --json`, launch to answer, against a "
        'fresh `python -c "import chromadb, sentence_transformers"` (best of the rounds, '
        "interleaved). Retriever memory: growth of the process while the retriever loads.",
        "",
        "| index | chunks | cold start s | bare import s | difference s | retriever load s "
        "| retriever MiB | query process peak MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, q, cold in _runs(r):
        rows.append(
            f"| {label} | {q['chunks']:,} | {cold['ask']:.1f} | {cold['imports']:.1f} "
            f"| {cold['ask'] - cold['imports']:.1f} | {q['retriever_load_s']:.1f} "
            f"| {q['retriever_mib']:.0f} | {q['peak_mib']:.0f} |"
        )
    return rows


def _scale(r: dict) -> list[str]:
    s = r.get("scale")
    if not s:
        return []
    b, q = s["build"], s["query"]
    how = (
        "read from the cache of an earlier run"
        if b.get("cached")
        else f"built in this run in {b['seconds']:.0f} s"
    )
    rows = [
        "",
        "## The scale corpus",
        "",
        f"{r['reviews']:,} fictional reviews from `evals/scale_corpus.py` "
        f"({q['documents']:,} documents, {q['chunks']:,} chunks, {b['sentences']:,} candidate "
        "quote sentences): each its own review name, partnership, reviewer and review type, "
        "11-14 themes of evals/scale_themes.toml with findings, recommendations, agency "
        "responses and progress, in one of seven layouts taken from the layout zoo. Ingested "
        f"by `Assistant.ingest` (real reading, catalog, chunker and Chroma writes), {how}. "
        "Every vector is the model's embedding of that chunk's or sentence's own text; the "
        "benchmark only caches them on disk by text (evals/embed_cache.py).",
    ]
    if not b.get("cached"):
        rows[-1] += (
            f" This build embedded {b['embedded']:,} texts and took {b['from_cache']:,} from the "
            f"cache; peak memory {b['peak_mib']:.0f} MiB."
        )
    rows += _sanity(q)
    srv = r.get("server")
    if srv:
        sb = srv["build"]
        how = (
            "read from the kept server data"
            if sb.get("cached")
            else (f"ingested over HTTP in {sb['seconds']:.0f} s")
        )
        rows += [
            "",
            f"Server: a `chroma run` process on its own data folder, the app pointed at it with "
            f"`RAG_CHROMA_URL`; the same corpus, {how}; the server's peak memory "
            f"{srv['server_peak_mib']:.0f} MiB.",
        ]
    return rows


def _sanity(q: dict) -> list[str]:
    """What the answers cited: a check that the questions exercise what they claim to."""
    scoped = [row for row in q["rows"] if row["kind"] == "review-scoped"]
    wide = [row for row in q["rows"] if row["kind"] == "corpus-wide"]
    if not scoped or not wide:
        return []
    named = sum(bool(row["cites_named"]) for row in scoped) / len(scoped)
    cited = sum(row["reviews_cited"] for row in wide) / len(wide)
    return [
        "",
        f"Answers at scale: {named:.0%} of review-scoped answers cite the review named; "
        f"corpus-wide answers cite {cited:.1f} reviews on average; "
        f"{sum(row['abstained'] for row in q['rows'])} of {len(q['rows'])} abstained.",
    ]


def _load_targets(r: dict) -> list[str]:
    v = (r.get("load") or {}).get("verdict")
    if not v:
        return []
    n, ratio = v["largest_users"], v["cpu_per_answer_ratio"]
    clean = not v["errors_at_largest"] and not v["leaks_at_largest"]
    return [
        f"| load test, N = {n} sessions: errors, leaks | {v['errors_at_largest']}, "
        f"{v['leaks_at_largest']} | | 0, 0 | {'yes' if clean else 'no'} |",
        f"| load test: app CPU s per answer, N = {n} / N = 1 | {ratio} | N = 1 | "
        f"<= {v['cpu_target']} | {'yes' if v['met'] else 'no'} |",
    ]


def _load(r: dict) -> list[str]:
    rows = ["", "## Load test of the running app (evals/load.py)", ""]
    load = r.get("load")
    if not load:
        return rows + ["Not run in this run (`--no-load`)."]
    rows += [
        f"`{load['command']}`: the app's server on loopback over a temporary index of the corpus "
        "as shipped, N headless Chromium sessions (one Playwright context each), "
        f"{load['questions_per_session']} questions per session; each checks that its own answer "
        "arrives with its quotes and that no page shows another session's questions, quotes or "
        "feedback. The browsers share the 2 cores with the app, so the app's CPU seconds per "
        "answer is its own cost; time to answer at large N is mostly the browsers' share.",
        "",
        "| N | answers | p50 s | p95 s | app CPU s / answer | browsers + driver CPU s | errors "
        "| leaks |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in load["phases"]:
        rows.append(
            f"| {p['users']} | {p['answers']} | {p['p50_s']} | {p['p95_s']} "
            f"| {p['app_cpu_per_answer_s']} | {p['driver_cpu_s']:.1f} | {len(p['errors'])} "
            f"| {len(p['leaks'])} |"
        )
    return rows


def render(r: dict, previous: dict) -> str:
    """The whole report; `previous` is the run it replaces (its JSON), for the record."""
    rows = _header(r) + _targets(r) + _throughput(r) + _latency(r) + _memory(r) + _scale(r)
    rows += _load(r)
    if previous.get("date"):
        rows += [
            "",
            "## Previous run",
            "",
            f"The run this report replaces was made on {previous['date']}; its figures are in "
            "git history (evals/BENCHMARKS.json). Runs are not compared here: the machine's "
            "load differs between runs (the bare import and the bare Chroma query show how "
            "much), so compare the ratios to those baselines, not the times.",
        ]
    return "\n".join(rows) + "\n"
