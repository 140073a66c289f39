"""Latency of answers across reviews at corpus scale, against today's answer in the same run.

    python -m evals.survey_bench [--scale 100000] [--index DIR] [--queries 30]

Builds (or reuses, with --index) the synthetic large index of evals/bench.py, then times
`Assistant.ask` on the gold questions that ask across reviews, with answers across reviews on
(the settings' survey_pool and survey_reviews) and off (survey_reviews=0), alternating question
by question so both see the same machine load. Prints p50/p95 of each and their ratio.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

from evals.bench import ROOT, _pct, _settings, stage_build_scale


def across_questions(pipe) -> list[str]:
    """The gold questions the assistant reads as asking across reviews."""
    lines = (ROOT / "evals" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line]
    return [q for q in questions if pipe.retriever.understand(q).across_reviews]


def measure(index: Path, n_queries: int) -> dict:
    """Latency with answers across reviews on and off, and how many reviews they counted."""
    from rag.assistant import Assistant

    on = Assistant(_settings(index))
    off = Assistant(
        on.settings.model_copy(update={"survey_reviews": 0}), embedder=on.embedder, store=on.store
    )
    questions = across_questions(on)
    asked = (questions * (1 + n_queries // max(1, len(questions))))[:n_queries]
    on.ask(asked[0]), off.ask(asked[0])  # warm: model, retriever, document caches
    times: dict[str, list[float]] = {"survey": [], "baseline": []}
    counts = []
    for q in asked:
        for name, pipe in (("survey", on), ("baseline", off)):
            t = time.perf_counter()
            answer = pipe.ask(q)
            times[name].append((time.perf_counter() - t) * 1000)
            if name == "survey":
                counts.append(len(answer.groups))
    out = {"chunks": on.store.count(), "queries": len(asked), "pool": on.settings.survey_pool}
    for name, ms in times.items():
        out |= {f"{name}_p50_ms": _pct(ms, 50), f"{name}_p95_ms": _pct(ms, 95)}
    out["ratio_p50"] = out["survey_p50_ms"] / out["baseline_p50_ms"]
    out["ratio_p95"] = out["survey_p95_ms"] / out["baseline_p95_ms"]
    out["reviews_counted_median"] = statistics.median(counts)
    return out


def main() -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=int, default=100_000, help="Chunks in the large index.")
    ap.add_argument("--index", type=Path, help="Reuse (or build once into) this index folder.")
    ap.add_argument("--queries", type=int, default=30)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or Path(tmp) / "index"
        if not (index / "vectorstore").exists():
            t = time.perf_counter()
            built = stage_build_scale(args.scale, index)
            print(f"built {built['chunks']} chunks in {time.perf_counter() - t:.0f} s")
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        result = measure(index, args.queries)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
