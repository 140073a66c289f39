"""Benchmarks against this machine's own limits; one command rewrites evals/BENCHMARKS.md.

    nice -n 10 python -m evals.bench                 # everything: x1, 100k chunks, server
    python -m evals.bench --reviews 470 --no-server  # about 30k chunks, embedded Chroma only

Every figure comes from one run, each next to a baseline measured in the same run: ingest
throughput against raw SentenceTransformer.encode of the same texts; `Assistant.ask` p50/p95
against a bare Chroma query of the same question (embed it, `collection.query`, same
n_results), for corpus-wide and review-scoped questions, on the shipped corpus, on the scale
corpus (evals/scale_corpus.py, ~64 chunks a review; 1570 reviews is ~100k chunks) and on the
same corpus in a `chroma run` server; cold start (a fresh `python -m rag ask`) against a bare
`import chromadb, sentence_transformers`; retriever memory and the query process's peak; the
load test of the running app (evals/load.py, N = 1, 4 and 8 browser sessions).
The scale index is built through `Assistant.ingest` with a text-keyed embedding cache and kept
(evals/scale_index.py), so only the first run embeds it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from evals import scale_corpus
from evals.bench_report import render
from evals.bench_server import chroma_server
from evals.bench_server import peak_mib as server_peak_mib
from evals.scale_index import CACHE, corpus_dir

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
OUT = ROOT / "evals" / "BENCHMARKS.md"
ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def _env(extra: dict | None = None) -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | ENV | (extra or {})


def _child(stage: str, spec: dict) -> dict:
    """Run one stage of evals/bench_stages.py in a fresh process; what it measured."""
    out = subprocess.run(
        [sys.executable, "-m", "evals.bench", "--stage", stage, json.dumps(spec, default=str)],
        cwd=ROOT,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_start(spec: dict, question: str, rounds: int) -> dict:
    """Seconds from launching `rag ask` to its answer, and of a bare import of its vendors.

    Interleaved, best of `rounds` each: the import is what any Python app using Chroma and
    sentence-transformers pays before its first line, so the difference is the app's own.
    """
    env = _env(
        {
            "RAG_CORPUS_DIR": str(spec["corpus"]),
            "RAG_VECTORSTORE_DIR": str(Path(spec["index"]) / "vectorstore"),
            "RAG_FEEDBACK_DB": str(Path(spec["index"]) / "feedback.sqlite3"),
        }
        | ({"RAG_CHROMA_URL": spec["chroma_url"]} if spec.get("chroma_url") else {})
        | ({"RAG_STATE_DIR": str(spec["state"])} if spec.get("state") else {})
    )
    commands = {
        "ask": [sys.executable, "-m", "rag", "ask", question, "--json"],
        "imports": [sys.executable, "-c", "import chromadb, sentence_transformers"],
    }
    best = {k: float("inf") for k in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            t = time.perf_counter()
            done = subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=ROOT)
            best[name] = min(best[name], time.perf_counter() - t)
            if name == "ask" and json.loads(done.stdout)["abstained"]:
                raise SystemExit(f"cold start question abstained (times no search): {question}")
    return best


def throughput(tmp: Path, reviews: int, rounds: int) -> dict:
    """Raw encode and `rag ingest` of the same documents, alternately, best round of each."""
    # Reviews from the end of the name list: never in a scale index, so never cached anywhere.
    folder = scale_corpus.write(3000, tmp / "through" / "docs", 3000 - reviews)
    encodes, ingests = [], []
    for n in range(rounds):
        spec = {"index": tmp / "through" / f"index{n}", "corpus": folder}
        encodes.append(_child("encode", spec))
        ingests.append(_child("ingest", spec))
        print("round", n, encodes[-1], ingests[-1], flush=True)
    rates = {bs: max(e["rates"][bs] for e in encodes) for bs in encodes[0]["rates"]}
    best = max(rates, key=rates.get)
    return {
        "encode": encodes[0]
        | {
            "rates": rates,
            "best_batch": best,
            "best_rate": rates[best],
            "chunk_texts_only_rate": max(e["chunk_texts_only_rate"] for e in encodes),
        },
        "ingest": max(ingests, key=lambda i: i["rate"]),
        "rounds": rounds,
    }


def scale_run(spec: dict, a: argparse.Namespace) -> dict:
    """Build (or read the cached) scale index, then query it and cold-start on it."""
    out = {"build": _child("build", spec)}
    out["derive"] = _child("derive", spec)
    print("build", out["build"], out["derive"], flush=True)
    out["query"] = _child("query", spec | {"questions": "scale", "n": a.scale_queries})
    q = scale_corpus.questions(a.reviews, 2)[1]["question"]
    out["cold"] = cold_start(spec, q, a.rounds)
    print("scale", {k: v for k, v in out["query"].items() if k != "rows"}, out["cold"], flush=True)
    return out


def server_run(a: argparse.Namespace) -> dict:
    """The scale corpus ingested into a `chroma run` server, the app pointed at it (kept)."""
    path = CACHE / "server" / f"{scale_corpus.VERSION}-{a.reviews}"
    with chroma_server(path / "chroma") as (url, proc):
        spec = {
            "index": path,
            "corpus": corpus_dir(a.reviews),
            "chroma_url": url,
            "reviews": a.reviews,
            # Saved state in a folder of its own: the server's port differs from run to run.
            "state": path / "state",
        }
        done = path / "built.json"
        if done.exists():
            build = json.loads(done.read_text()) | {"cached": True}
        else:
            build = _child("build", spec)
            done.write_text(json.dumps(build))
        out = {"build": build, "derive": _child("derive", spec)}
        print("server build", build, out["derive"], flush=True)
        out["query"] = _child("query", spec | {"questions": "scale", "n": a.scale_queries})
        out["cold"] = cold_start(spec, scale_corpus.questions(a.reviews, 2)[1]["question"], 1)
        out["server_peak_mib"] = server_peak_mib(proc.pid)
    return out


def load_run(tmp: Path) -> dict:
    """The load test of the running app (evals/load.py: N = 1, 4, 8 browser sessions)."""
    out = tmp / "load.json"
    cmd = [sys.executable, "-m", "evals.load", "--users", "1,4,8", "--questions", "4"]
    subprocess.run([*cmd, "--out", str(out)], cwd=ROOT, env=_env(), check=True)
    return json.loads(out.read_text())


def main() -> None:
    """Run every section and write evals/BENCHMARKS.md (and its figures as .json)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--stage")
    ap.add_argument("spec", nargs="?")
    ap.add_argument("--reviews", type=int, default=1570, help="Reviews in the scale corpus.")
    ap.add_argument("--throughput-reviews", type=int, default=6)
    ap.add_argument("--queries", type=int, default=40, help="Gold questions on the corpus.")
    ap.add_argument("--scale-queries", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2, help="Interleaved rounds (best of each).")
    ap.add_argument("--no-server", action="store_true", help="Skip the Chroma server section.")
    ap.add_argument("--no-load", action="store_true", help="Skip the load test of the app.")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    if a.stage:
        from evals import bench_stages

        print(json.dumps(getattr(bench_stages, f"stage_{a.stage}")(json.loads(a.spec))))
        return
    r: dict = {
        "command": "python -m evals.bench " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}, shared with other work",
        "reviews": a.reviews,
    }
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        tmp = Path(tmp)
        r |= throughput(tmp, a.throughput_reviews, a.rounds)
        x1 = {"index": tmp / "x1", "corpus": CORPUS}
        r["ingest_x1"] = _child("ingest", x1)
        r["query_x1"] = _child("query", x1 | {"questions": "gold", "n": a.queries})
        # Answered from retrieval (a question refused from the vocabulary alone never loads
        # the model, and would time only the imports of the CLI).
        q = "What do the reviews say about safe sleep?"
        r["cold_x1"] = cold_start(x1, q, a.rounds)
        print("x1", r["cold_x1"], flush=True)
    spec = {"index": CACHE / "index" / f"{scale_corpus.VERSION}-{a.reviews}"}
    spec |= {"corpus": corpus_dir(a.reviews), "reviews": a.reviews}
    r["scale"] = scale_run(spec, a)
    if not a.no_server:
        r["server"] = server_run(a)
    if not a.no_load:
        with tempfile.TemporaryDirectory(prefix="rag-bench-load-") as tmp:
            r["load"] = load_run(Path(tmp))
    previous_file = a.out.with_suffix(".json")
    previous = json.loads(previous_file.read_text()) if previous_file.exists() else {}
    a.out.write_text(render(r, previous), encoding="utf-8")
    previous_file.write_text(json.dumps(r, indent=1, default=str), encoding="utf-8")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
