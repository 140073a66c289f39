"""Answers across reviews on the layout zoo: corpus-wide questions, each labelled with the zoo
documents that address it and a phrase of each, against today's answer in the same run.

python -m evals.survey_eval [--out DIR]

Per question and system ("survey": the answer across reviews; "baseline": the same pipeline
with `survey_reviews=0`, which quotes top_k passages as before):
- recall_shown: labelled reviews among those shown at first (the first survey_reviews groups;
  the baseline's cited reviews);
- recall_counted: labelled reviews among those counted (every group; the baseline's cited ones);
- precision_shown: shown reviews that are labelled;
- quote_hit: labelled reviews with a shown quote that overlaps (or contains) their phrase;
- count_error: |reviews counted - reviews labelled|;
- for the questions no review addresses, whether the answer abstained.
Columns: zoo-dev (for tuning) and zoo-test (reporting only). Every quote of every group is also
checked to be the verbatim text at its offsets (fidelity), and each review to be one group.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from evals.run import HERE
from evals.zoo_run import SPLITS, ZOO, zoo_settings

QUESTIONS = ZOO / "survey_questions.jsonl"
METRICS = (
    "recall_shown",
    "recall_counted",
    "precision_shown",
    "quote_hit",
    "count_error",
    "abstain_unaddressed",
    "quote_fidelity",
    "groups_per_review",
    "latency_ms_p50",
)


def load(path: Path = QUESTIONS) -> list[dict]:
    """The labelled corpus-wide questions."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def phrase_spans(questions: Sequence[dict], documents: dict[str, str]) -> dict[tuple, tuple]:
    """Each label's (document, phrase) -> its offsets in the document; exits on a bad label."""
    from rag.answer.verify import locate

    spans, bad = {}, []
    for q in questions:
        for r in q["reviews"]:
            key = (r["document"], r["phrase"])
            at = locate(r["phrase"], documents.get(r["document"], ""))
            (bad.append(f"{q['id']}: {key}") if at is None else spans.__setitem__(key, at))
    if bad:
        sys.exit("phrases not found in their documents:\n" + "\n".join(bad))
    return spans


def _quotes(answer) -> list:
    return [c.quote for c in answer.citations]


def score(q: dict, answer, spans: dict, documents: dict[str, str], ms: float) -> dict:
    """One row of metrics for a question's answer."""
    labelled = {r["document"] for r in q["reviews"]}
    shown = {c.quote.document for c in answer.citations}
    counted = {d for g in answer.groups for d in g.documents} if answer.groups else shown
    count = len(answer.groups) if answer.groups else len(shown)
    every = [c for g in answer.groups for c in g.citations] or list(answer.citations)
    row = {
        "id": q["id"],
        "split": q["split"],
        "abstained": answer.abstained,
        "count": count,
        "labelled": len(labelled),
        "shown": sorted(shown),
        "count_error": abs(count - len(labelled)),
        "quote_fidelity": all(
            documents[c.quote.document][c.quote.start : c.quote.end] == c.quote.text for c in every
        ),
        "groups_per_review": len(answer.groups) == len({g.review for g in answer.groups}),
        "latency_ms": round(ms, 2),
    }
    if not labelled:
        return row | {"abstain_unaddressed": answer.abstained}

    def hit(r: dict) -> bool:
        a, b = spans[(r["document"], r["phrase"])]
        return any(
            x.document == r["document"] and x.start < b and a < x.end for x in _quotes(answer)
        )

    row |= {
        "recall_shown": len(labelled & shown) / len(labelled),
        "recall_counted": len(labelled & counted) / len(labelled),
        "quote_hit": sum(hit(r) for r in q["reviews"]) / len(labelled),
    }
    if shown:
        row["precision_shown"] = len(labelled & shown) / len(shown)
    return row


def aggregate(rows: Sequence[dict]) -> dict:
    """The mean of each metric over the rows that have it; latency as its median."""
    out: dict = {"questions": len(rows)}
    for m in METRICS[:-1]:
        values = [float(r[m]) for r in rows if m in r]
        out[m] = statistics.fmean(values) if values else float("nan")
    out["latency_ms_p50"] = statistics.median(r["latency_ms"] for r in rows)
    return out


def run(out: Path) -> dict[str, dict]:
    """Columns ('survey zoo-dev', 'baseline zoo-dev', ...); rows are written under `out`."""
    from rag.assistant import Assistant

    pipe = Assistant(zoo_settings(out))
    pipe.ingest()  # idempotent: nothing is written when the zoo is unchanged
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    off = pipe.settings.model_copy(update={"survey_reviews": 0})
    systems = {
        "survey": pipe,
        "baseline": Assistant(off, embedder=pipe.embedder, store=pipe.store),
    }
    documents = {i: pipe.document_text(i) for i in pipe.store.documents()}
    questions = load()
    spans = phrase_spans(questions, documents)
    pipe.ask(questions[0]["question"])  # warm both: the first question loads the model
    columns: dict[str, dict] = {}
    for name, system in systems.items():
        rows = []
        for q in questions:
            t0 = time.perf_counter()
            answer = system.ask(q["question"])
            ms = (time.perf_counter() - t0) * 1000
            # Every review counted, quoted as "show the rest" quotes it, so each is checked.
            rows.append(score(q, system.all_reviews(answer), spans, documents, ms))
        (out / f"rows-survey-{name}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
        )
        for split in SPLITS:
            columns[f"{name} {split}"] = aggregate([r for r in rows if r["split"] == split])
    return columns


def table(columns: dict[str, dict]) -> str:
    """The columns as a markdown table, one metric a row."""
    names = sorted(columns, key=lambda c: (c.split()[1], c.split()[0] != "survey"))
    lines = ["| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for m in ("questions", *METRICS):
        cells = [f"{columns[n][m]:.3f}" if m != "questions" else str(columns[n][m]) for n in names]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    columns = run(args.out)
    text = table(columns)
    (args.out / "summary-survey.md").write_text(text + "\n", encoding="utf-8")
    (args.out / "summary-survey.json").write_text(json.dumps(columns, indent=2))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
