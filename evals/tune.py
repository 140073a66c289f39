"""Grid over fusion settings on the dev split (retrieval only): how the defaults were chosen.

python -m evals.tune
"""

from __future__ import annotations

import itertools
import logging
import sys

from evals.metrics import is_hit
from evals.run import gold_of, load_questions


def main() -> int:
    """Print dev hit@1, hit@3 and MRR@10 for each fusion setting, best first."""
    from rag.assistant import Assistant
    from rag.core.models import Filters
    from rag.core.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    base = Settings().model_copy(update={"llm": None})
    pipe = Assistant(base)
    pipe.ingest()
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    retriever = pipe.retriever
    prepared = []
    for q in load_questions(split="dev"):
        if not q["answerable"]:
            continue
        info = retriever.understand(q["question"])
        prepared.append((q, pipe.query(info.text or q["question"], info)))

    def measure(settings) -> tuple[float, float, float]:
        retriever.settings = settings
        h1 = h3 = mrr = 0.0
        for q, query in prepared:
            hits = retriever.hits(query, Filters())
            gold = gold_of(q)
            rank = next(
                (
                    i
                    for i, h in enumerate(hits[:10])
                    if is_hit(h.chunk.document, h.chunk.text, gold)
                ),
                None,
            )
            h1 += rank == 0
            h3 += rank is not None and rank < 3
            mrr += 0 if rank is None else 1 / (rank + 1)
        n = len(prepared)
        return h1 / n, h3 / n, mrr / n

    grid = [
        ("rrf", {"rrf_k": k, "structural_weight": w, "candidates": c})
        for k, w, c in itertools.product([10, 30, 60, 100], [1.0, 2.0, 3.0], [20, 30, 50])
    ] + [("convex", {"fusion": "convex", "convex_alpha": a}) for a in (0.3, 0.5, 0.7)]
    rows = [(measure(base.model_copy(update=upd)), name, upd) for name, upd in grid]
    print(f"dev split, {len(prepared)} answerable questions")
    for (h1, h3, mrr), name, upd in sorted(rows, key=lambda r: (-r[0][0], -r[0][2])):
        print(f"hit@1={h1:.3f} hit@3={h3:.3f} mrr@10={mrr:.3f}  {name} {upd}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
