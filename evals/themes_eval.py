"""Precision of theme membership on the hand-labelled set evals/themes_labels.jsonl.

Each label row names a passage by document and a verbatim anchor phrase (so the labels survive
re-chunking) and lists the themes a reader judged it to be substantively about. The threshold
is calibrated on the dev split (best F0.5, weighting precision: a trainer must be able to trust
a cell) and reported on the test split. Passage-level cosine (the stored chunk vectors) is
reported alongside as the baseline the sentence-level decision is compared with.

    python -m evals.themes_eval            # uses the index in RAG_VECTORSTORE_DIR, or builds one
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.answer.verify import locate
from rag.trainer.themes import Theme, TopicSearch, load_themes

LABELS = Path(__file__).resolve().parent / "themes_labels.jsonl"
GRID = [round(0.30 + 0.01 * i, 2) for i in range(41)]


@dataclass(frozen=True)
class Label:
    """One hand-labelled passage."""

    id: str
    split: str
    document: str
    section: str
    anchor: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    """Precision and recall over (passage, theme) pairs."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """Share of predicted memberships the labels agree with (1.0 when none predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of labelled memberships that were predicted."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def f(self, beta: float = 1.0) -> float:
        """The F-beta measure; beta < 1 weights precision."""
        p, r, b2 = self.precision, self.recall, beta * beta
        return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0


def load_labels(path: Path = LABELS) -> list[Label]:
    """The labelled passages, in file order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [
        Label(r["id"], r["split"], r["document"], r["section"], r["anchor"], tuple(r["themes"]))
        for r in rows
    ]


def chunk_for(label: Label, search: TopicSearch) -> str | None:
    """Id of the indexed passage that holds the label's anchor phrase."""
    span = locate(label.anchor, search.document_text(label.document))
    if span is None:
        return None
    for c in search.assistant.store.chunks():
        if c.document == label.document and c.start <= span[0] < c.end:
            return c.id
    return None


def theme_scores(
    search: TopicSearch, themes: Iterable[Theme]
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """For each (passage id, theme) retrieval returned: best-sentence and passage cosines."""
    sentence: dict[tuple[str, str], float] = {}
    passage: dict[tuple[str, str], float] = {}
    for theme in themes:
        for m in search.find(theme.queries, threshold=-1.0):
            sentence[(m.hit.chunk.id, theme.name)] = m.score
        ids = [h.chunk.id for h in search.candidates(theme.queries)]
        for v in search.embed(list(theme.queries)):
            for cid, sim in search.assistant.store.similarities(v, ids).items():
                key = (cid, theme.name)
                passage[key] = max(passage.get(key, -1.0), sim)
    return sentence, passage


def evaluate(
    labels: Iterable[Label],
    ids: Mapping[str, str],
    scores: Mapping[tuple[str, str], float],
    themes: Iterable[str],
    threshold: float,
) -> Score:
    """Precision and recall of `score >= threshold` against the labels."""
    tp = fp = fn = 0
    names = list(themes)
    for label in labels:
        cid = ids[label.id]
        for t in names:
            predicted = scores.get((cid, t), -1.0) >= threshold
            wanted = t in label.themes
            tp += predicted and wanted
            fp += predicted and not wanted
            fn += wanted and not predicted
    return Score(tp, fp, fn)


def calibrate(score_at: Callable[[float], Score], beta: float = 0.5) -> float:
    """The grid threshold with the best F-beta (ties: the lower threshold)."""
    return max(GRID, key=lambda t: (round(score_at(t).f(beta), 6), -t))


def _pipeline():
    from rag.assistant import Assistant
    from rag.core.settings import Settings

    settings = Settings()
    pipe = Assistant(settings)
    if pipe.store.active_generation() is None:
        tmp = Path(tempfile.mkdtemp(prefix="themes-eval-"))
        settings = settings.model_copy(update={"vectorstore_dir": tmp / "vectorstore"})
        pipe = Assistant(settings, embedder=pipe.embedder)
        pipe.ingest()
    return pipe


def main(argv: list[str] | None = None) -> int:
    """Print the calibration sweep and the precision figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--sweep", action="store_true", help="Print the whole dev sweep.")
    args = ap.parse_args(argv)

    pipe = _pipeline()
    search = TopicSearch(pipe)
    themes = load_themes()
    names = [t.name for t in themes]
    labels = load_labels(args.labels)
    ids = {lab.id: chunk_for(lab, search) for lab in labels}
    lost = [i for i, c in ids.items() if c is None]
    if lost:
        print(f"labels whose anchor is in no indexed passage: {', '.join(lost)}", file=sys.stderr)
        return 1
    dev = [lab for lab in labels if lab.split == "dev"]
    test = [lab for lab in labels if lab.split == "test"]
    sentence, passage = theme_scores(search, themes)
    configured = pipe.settings.topic_threshold

    print(f"labelled passages: {len(labels)} (dev {len(dev)}, test {len(test)})", end="; ")
    print(f"themes: {len(names)}")
    print(f"labelled memberships: {sum(len(lab.themes) for lab in labels)}")
    for name, scores in (("sentence-level (used)", sentence), ("passage-level baseline", passage)):
        best = calibrate(lambda t, s=scores: evaluate(dev, ids, s, names, t))
        print(f"\n{name}: dev-calibrated threshold {best:.2f}")
        shown = [(f"dev-calibrated {best:.2f}", best)]
        if scores is sentence:
            shown.insert(0, (f"configured {configured:.2f}", configured))
        for label, t in shown:
            for split, rows in (("dev", dev), ("test", test), ("all", labels)):
                s = evaluate(rows, ids, scores, names, t)
                print(
                    f"  {label:<22} {split:<4} precision {s.precision:.3f}  recall {s.recall:.3f}"
                    f"  F1 {s.f():.3f}  (tp {s.tp}, fp {s.fp}, fn {s.fn})"
                )
        if args.sweep:
            for t in GRID:
                s = evaluate(dev, ids, scores, names, t)
                print(f"    {t:.2f}  P {s.precision:.3f}  R {s.recall:.3f}  F0.5 {s.f(0.5):.3f}")

    print(f"\nper theme, all labels, configured threshold {configured:.2f}:")
    for name in names:
        s = evaluate(labels, ids, sentence, [name], configured)
        print(
            f"  {name:<45} precision {s.precision:.3f}  recall {s.recall:.3f}  "
            f"(tp {s.tp}, fp {s.fp}, fn {s.fn})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
