"""Do the trainer tools show each quote as what its span is? Figures over the packaged themes.

For a briefing on each theme of rag/data/themes.toml and for every theme row of the theme
explorer, each quote is looked up in the span roles ingest recorded (rag/ingest/roles.py): a
quote shown as a recommendation must sit in a recommendation span, a "What to do" quote in a
response span, a theme explorer quote under the part its span's role names, and no quote may
cross from one role's span into another's or quote a progress rating.

    python -m evals.trainer_roles      # uses the index in RAG_VECTORSTORE_DIR, or builds one
"""

from __future__ import annotations

import sys

from evals.themes_eval import _pipeline
from rag.core.models import Quote
from rag.trainer.briefing import build
from rag.trainer.picking import INTRO, KEY, RESPONSE
from rag.trainer.themes import PARTS, TopicSearch, cell_parts, load_themes, theme_matrix

# The roles each briefing point may quote, by point number.
POINT_ROLES = {1: INTRO, 2: KEY, 3: KEY, 4: KEY, 5: KEY, 6: KEY | RESPONSE, 7: RESPONSE}


def roles_under(search: TopicSearch, quote: Quote) -> set[str]:
    """The roles of every span the quote overlaps."""
    return {
        r
        for c in search.passages(quote.document)
        for a, b, r in c.roles
        if a < quote.end and quote.start < b
    }


def briefing_figures(search: TopicSearch, topics: list[str]) -> dict[str, int]:
    """Counts over the briefings on the topics."""
    n = wrong_label = wrong_point = mixed = progress = 0
    for topic in topics:
        for point in build(search, topic).points:
            for item in point.items:
                roles = roles_under(search, item.quote)
                n += 1
                wrong_label += roles != {item.role}
                wrong_point += not roles <= POINT_ROLES[point.n]
                mixed += len(roles) > 1
                progress += "progress" in roles
    return {
        "quotes": n,
        "labelled other than their span": wrong_label,
        "in a point that does not take their span's role": wrong_point,
        "crossing two roles' spans": mixed,
        "quoting a progress span": progress,
    }


def explorer_figures(search: TopicSearch) -> dict[str, int]:
    """Counts over every theme row of the explorer (all reviews)."""
    themes = load_themes()
    matrix = theme_matrix(search, themes)
    allowed = dict(PARTS)
    named = set().union(*allowed.values())
    n = passages = wrong = responses = 0
    for theme in themes:
        row = matrix.row(theme.name)
        passages += len(row)
        for part in cell_parts(search, row):
            for c in part.citations:
                roles = roles_under(search, c.quote)
                n += 1
                ok = roles <= allowed[part.title] or (
                    part.title == PARTS[-1][0] and not roles & named
                )
                wrong += not ok
                responses += bool(roles & {"response", "progress"})
    return {
        "passages": passages,
        "quotes": n,
        "under a part their span's role does not have": wrong,
        "from response or progress spans": responses,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    search = TopicSearch(_pipeline())
    topics = [t.name for t in load_themes()]
    print(f"briefings on the {len(topics)} packaged themes:")
    for k, v in briefing_figures(search, topics).items():
        print(f"  {k}: {v}")
    print("theme explorer, every theme row:")
    for k, v in explorer_figures(search).items():
        print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
