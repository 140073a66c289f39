"""Accuracy of the metadata read from a document's own text (rag.ingest.metadata).

Truth: evals/zoo/expected.toml (splits zoo-dev, zoo-test) and corpus/catalog.toml (in-domain).
A field matches when equal after casefolding and treating dashes, colons and runs of blanks
alike; a title also matches when one contains the other. Review types are compared by the type
they name ("Child Practice Review" is CPR, "Thematic SCR" a thematic review). Each document is
read as ingest reads it, and only its text and file name are used.

    python -m evals.metadata_eval
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from rag.core.settings import Settings
from rag.ingest.metadata import canonical_type, infer_metadata
from rag.ingest.reading import read_document

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("title", "partnership", "partnership_full", "review", "review_type", "kind", "year",
          "author")  # fmt: skip
SPLITS = ("in-domain", "zoo-dev", "zoo-test")


def _norm(value: object) -> str:
    return " ".join(re.sub(r"[\s:–—-]+", " ", str(value)).casefold().split())


def _match(field: str, got: object, want: object) -> bool:
    if field == "review_type" and got is not None:
        got, want = canonical_type(str(got)) or got, canonical_type(str(want)) or want
    a, b = _norm(got), _norm(want)
    return got is not None and (a == b or field == "title" and bool(a) and (a in b or b in a))


def _cases() -> list[tuple[str, Path, dict]]:
    """(split, file, truth) for every document with recorded metadata."""
    zoo = tomllib.loads((ROOT / "evals/zoo/expected.toml").read_text(encoding="utf-8"))
    catalog = tomllib.loads((ROOT / "corpus/catalog.toml").read_text(encoding="utf-8"))
    cases = [
        ("in-domain", ROOT / "corpus" / f"{stem}.md", truth) for stem, truth in catalog.items()
    ]
    for stem, truth in zoo.items():
        path = next((ROOT / "evals/zoo/docs").glob(f"{stem}.*"))
        cases.append((truth["split"], path, truth))
    return cases


def main() -> None:
    """Print per-field accuracy for each split, then every mismatch."""
    settings = Settings()
    scores = {(s, f): [0, 0] for s in SPLITS for f in FIELDS}
    misses = []
    for split, path, truth in _cases():
        meta = infer_metadata(read_document(path, {}, settings).text, path.stem)
        found = {f: getattr(meta, f) for f in FIELDS}
        for field in (f for f in FIELDS if f in truth):
            ok = _match(field, found[field], truth[field])
            scores[split, field][0] += ok
            scores[split, field][1] += 1
            if not ok:
                misses.append(f"{split:9} {path.stem}: {field} = {found[field]!r}, "
                              f"expected {truth[field]!r}")  # fmt: skip
    print(f"{'field':17}" + "".join(f"{s:>12}" for s in SPLITS))
    for field in FIELDS:
        cells = [f"{h}/{n}" if n else "—" for h, n in (scores[s, field] for s in SPLITS)]
        print(f"{field:17}" + "".join(f"{c:>12}" for c in cells))
    total = [sum(scores[s, f][i] for f in FIELDS) for s in SPLITS for i in (0, 1)]
    print(f"{'all':17}" + "".join(f"{total[i]}/{total[i + 1]:<}".rjust(12) for i in (0, 2, 4)))
    print("\nMismatches:" if misses else "\nNo mismatches.")
    print("\n".join(misses))


if __name__ == "__main__":
    main()
