"""The scale index of the benchmarks: the scale corpus ingested through `Assistant.ingest`.

    python -m evals.scale_index warm --reviews 1570     # embed into the cache, in steps
    python -m evals.scale_index build --reviews 1570    # the cached index (built if missing)

Ingest is the real path (reading, catalog, chunker, Store.sync); only the embedder is wrapped
in the benchmark's text-keyed cache (evals/embed_cache.py), so a second build embeds nothing.
The built index is kept under ~/.cache/rag-bench/index/<generator version>-<reviews>, so
re-running the benchmark does not rebuild it. `warm` embeds reviews in order of their number,
a step at a time, so an interrupted warm-up still serves every smaller corpus.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from evals import scale_corpus
from evals.embed_cache import CACHE, CachedEmbedder


def settings_for(index: Path, corpus: Path, **extra):
    """Settings of a benchmark index in `index`, with no language model."""
    from rag.core.settings import Settings

    return Settings(
        corpus_dir=corpus,
        vectorstore_dir=index / "vectorstore",
        feedback_db=index / "feedback.sqlite3",
        llm=None,
        **({"chroma_url": None} | extra),
    )


def index_dir(reviews: int) -> Path:
    """Where the index of the first `reviews` reviews is kept."""
    return CACHE / "index" / f"{scale_corpus.VERSION}-{reviews}"


def corpus_dir(reviews: int) -> Path:
    """Where the documents of the first `reviews` reviews are written."""
    return CACHE / "corpus" / f"{scale_corpus.VERSION}-{reviews}"


def ingest(folder: Path, settings, cache: CachedEmbedder) -> dict:
    """`Assistant.ingest` of `folder` with the cached embedder; what it took."""
    from rag.assistant import Assistant

    t = time.perf_counter()
    report = Assistant(settings, embedder=cache).ingest([folder])
    cache.flush()
    return {
        "documents": report.documents,
        "chunks": report.chunks,
        "sentences": report.sync.sentences_embedded,
        "seconds": time.perf_counter() - t,
        "failures": len(report.failures),
    }


def warm(reviews: int, step: int = 50, first: int = 0) -> None:
    """Embed the texts of reviews first .. reviews-1 into the cache, `step` at a time."""
    with tempfile.TemporaryDirectory(prefix="rag-warm-") as tmp:
        tmp = Path(tmp)
        cache = None
        for start in range(first, reviews, step):
            folder = scale_corpus.write(min(reviews, start + step), tmp / f"d{start}", start)
            settings = settings_for(tmp / f"i{start}", folder)
            cache = cache or CachedEmbedder(settings)
            before = cache.misses
            t = time.perf_counter()
            got = ingest(folder, settings, cache)
            took = time.perf_counter() - t
            print(
                f"reviews {start}-{start + step}: {got['chunks']} chunks, "
                f"{cache.misses - before} texts embedded in {took:.0f} s, cache {len(cache)}",
                flush=True,
            )
            shutil.rmtree(folder)
            shutil.rmtree(tmp / f"i{start}")


def build(reviews: int, settings=None) -> dict:
    """The index of the first `reviews` reviews: read from the cache, or built and kept there.

    With `settings` (a Chroma server) the corpus is ingested into that store instead, and
    nothing is kept.
    """
    folder = corpus_dir(reviews)
    if not (folder / "catalog.toml").exists():
        scale_corpus.write(reviews, folder)
    target = index_dir(reviews)
    done = target / "built.json"
    if settings is None and done.exists():
        return json.loads(done.read_text()) | {"cached": True}
    if settings is None:
        shutil.rmtree(target, ignore_errors=True)
        settings = settings_for(target, folder)
    cache = CachedEmbedder(settings)
    got = ingest(folder, settings, cache) | {
        "reviews": reviews,
        "embedded": cache.misses,
        "from_cache": cache.hits,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cached": False,
    }
    if settings.chroma_url is None:
        done.write_text(json.dumps(got))
    return got


def main() -> None:
    """Warm the cache or build the index."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("what", choices=("warm", "build"))
    ap.add_argument("--reviews", type=int, default=1570)
    ap.add_argument("--step", type=int, default=50)
    ap.add_argument("--start", type=int, default=0, help="First review to warm.")
    a = ap.parse_args()
    if a.what == "warm":
        warm(a.reviews, a.step, a.start)
    else:
        print(json.dumps(build(a.reviews)))


if __name__ == "__main__":
    main()
