"""Reflective questions for a briefing, from the templates in rag/data/reflective_questions.toml.

They are prompts for discussion, never quotes: every renderer prints QUESTIONS_LABEL with them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass

from rag.core.resources import read_text
from rag.trainer.themes import TopicSearch

QUESTIONS_FILE = "reflective_questions.toml"
QUESTIONS_LABEL = (
    "Prompts for discussion: written for this briefing from templates, not quotes from the reviews."
)
# A specific template is used only when one of its `fits` is at least this close to the topic.
_MIN, _MAX, _MAX_SPECIFIC = 3, 5, 3


@dataclass(frozen=True)
class Template:
    """A reflective-question template and the topics it fits."""

    text: str
    fits: tuple[str, ...] = ()
    general: bool = False


def load_templates(text: str | None = None) -> tuple[Template, ...]:
    """The [[question]] templates of a TOML text; by default rag/data/reflective_questions.toml."""
    path = QUESTIONS_FILE
    data = tomllib.loads(read_text(QUESTIONS_FILE) if text is None else text)
    out = tuple(
        Template(q["text"], tuple(q.get("fits", ())), bool(q.get("general", False)))
        for q in data.get("question", [])
    )
    if sum(t.general for t in out) < _MIN or any(not (t.general or t.fits) for t in out):
        raise ValueError(f"{path}: needs {_MIN}+ general templates, and `fits` on the others")
    return out


def choose_questions(
    search: TopicSearch,
    topic: str,
    points: Sequence[tuple[int, str, str]],
    agency: str | None = None,
    templates_text: str | None = None,
) -> tuple[str, ...]:
    """3 to 5 questions fitted to the topic, each tied to a key point (number, review, text).

    Without quoted key points there is no learning to ground a question in, so there are none.
    """
    if not points:
        return ()
    templates = load_templates(templates_text)
    point_vecs = search.embed([text for _, _, text in points])
    topic_vec = search.embed([topic])[0]
    scored = []
    for t in templates:
        if t.general:
            continue
        fits = search.embed(list(t.fits))
        # Chosen for the topic; grounded in the key point its `fits` are closest to.
        fit = float((fits @ topic_vec).max())
        scored.append((fit, t, int((fits @ point_vecs.T).max(axis=0).argmax())))
    specific = sorted(
        (s for s in scored if s[0] >= search.settings.reflective_fit), key=lambda s: -s[0]
    )
    chosen = [(t, at) for _, t, at in specific[:_MAX_SPECIFIC]]
    for i, t in enumerate(t for t in templates if t.general):
        # General questions make up the minimum, and two of them always close the list.
        if len(chosen) >= _MAX or (len(chosen) >= _MIN and i >= 2):
            break
        chosen.append((t, i % len(points)))
    team = f"our {agency.removeprefix('for ').strip()}" if agency else "our team"
    return tuple(
        t.text.format(topic=topic, review=points[at][1], point=points[at][0], team=team)
        for t, at in chosen
    )
