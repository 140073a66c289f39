"""Synthetic review documents for load benchmarks: corpus paragraphs recombined."""

from __future__ import annotations

import random
import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _paragraphs() -> list[str]:
    """Corpus paragraphs of a usable length, flattened, that are not recommendation headings."""
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


def write(docs: list[tuple[str, str]], folder: Path) -> Path:
    """Write (id, text) documents as markdown files into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in docs:
        (folder / f"{doc_id}.md").write_text(text, encoding="utf-8")
    return folder
