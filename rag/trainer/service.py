"""The trainer tools as one service over an Assistant: briefings and the theme explorer.

The briefing builder and theme explorer pages call only this, so they never reach into the
index; one Trainer serves one index generation (its topic search caches sentence vectors).
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.trainer import briefing as briefings
from rag.trainer.briefing import Briefing
from rag.trainer.export import FORMATS, MEDIA_TYPES, render
from rag.trainer.reflective import QUESTIONS_LABEL
from rag.trainer.themes import (
    CellPart,
    Match,
    Theme,
    ThemeMatrix,
    TopicSearch,
    cell_parts,
    load_themes,
    theme_matrix,
    themes_source,
)

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "QUESTIONS_LABEL",
    "Briefing",
    "CellPart",
    "ThemeMatrix",
    "Trainer",
    "themes_source",
]


class Trainer:
    """Briefings and theme matrices from the assistant's index."""

    def __init__(self, assistant):
        self.assistant = assistant
        self.search = TopicSearch(assistant)

    def reviews(self) -> list[str]:
        """The review names a briefing can be limited to (a document's title when it names no
        review), sorted."""
        return sorted({m.review or m.title for m in self.assistant.metas().values()})

    def briefing(
        self, topic: str, reviews: Sequence[str] = (), agency: str | None = None
    ) -> Briefing:
        """A cited 7-minute briefing on the topic, from the chosen reviews (default: all)."""
        return briefings.build(self.search, topic, reviews=reviews, agency=agency)

    def edit(self, b: Briefing, key: str, text: str) -> Briefing:
        """The briefing with one quote re-cut to `text`, which must stay verbatim."""
        return briefings.edit_item(b, key, text, self.assistant.document_text)

    @staticmethod
    def remove(b: Briefing, key: str) -> Briefing:
        """The briefing without one quote."""
        return briefings.remove_item(b, key)

    @staticmethod
    def set_questions(b: Briefing, questions: Sequence[str]) -> Briefing:
        """The briefing with its reflective questions replaced."""
        return briefings.set_questions(b, questions)

    def export(self, b: Briefing, fmt: str) -> bytes:
        """The briefing as md, docx or html, after checking every quote is still verbatim."""
        briefings.check(b, self.assistant.document_text)
        return render(b, fmt)

    def matrix(self, themes_text: str | None = None) -> ThemeMatrix:
        """The theme × review matrix for the themes of a TOML text (default: the packaged)."""
        return theme_matrix(self.search, load_themes(themes_text))

    def themes(self, themes_text: str | None = None) -> tuple[Theme, ...]:
        """The themes of a TOML text (default: the packaged rag/data/themes.toml)."""
        return load_themes(themes_text)

    def parts(self, matches: Sequence[Match]) -> tuple[CellPart, ...]:
        """The passages' verified quotes grouped by their spans' roles: recommendations,
        findings and learning, good practice, responses and progress, background, other."""
        return cell_parts(self.search, matches)
