"""A 7-minute briefing on a topic, filled only with verified verbatim quotes from the corpus.

The seven points: 1 Background, 2 Why it matters, 3-5 Key learning (grouped by review,
recommendation text first), 6 Things to note and remember, 7 What to do; then reflective
questions (templates, labelled as prompts for discussion) and the sources. When the topic is in
fewer than two reviews the briefing says so in a notice instead of padding itself.

Each part quotes spans of its roles (rag/ingest/roles.py), not passages of a kind of document:
key learning quotes what a review found and recommended, "What to do" what an agency said it
did, and no part quotes a progress rating.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rag.answer.verify import locate, verify_quote
from rag.core.errors import InvalidQuestion, RagError
from rag.core.models import Filters, Quote
from rag.trainer.picking import (
    KEY,
    RESPONSE,
    Item,
    Picker,
    Source,
    background,
    by_review,
    key_slots,
    pick,
)
from rag.trainer.reflective import choose_questions
from rag.trainer.themes import Theme, TopicSearch, load_themes

POINTS = (
    "Background",
    "Why it matters",
    "Key learning",
    "Key learning",
    "Key learning",
    "Things to note and remember",
    "What to do",
)
NOTICE = "Too little material"
MAX_TOPIC_CHARS = 200
# A topic this close to a theme's name borrows the theme's queries from rag/data/themes.toml.
# A sentence less like this probe than the floor does not say why the topic matters.
_NOTHING_MORE = "No further learning on this topic in the corpus."


class UnverifiedEdit(RagError):
    """An edited quote is no longer a verbatim span of its passage."""


@dataclass(frozen=True)
class Point:
    """One of the seven points: its quotes, or a note saying why it has none."""

    n: int
    title: str
    label: str = ""
    items: tuple[Item, ...] = ()
    note: str = ""

    @property
    def heading(self) -> str:
        """The heading as printed, e.g. '3. Key learning: Baby A'."""
        return f"{self.n}. {self.title}" + (f": {self.label}" if self.label else "")


@dataclass(frozen=True)
class Briefing:
    """A 7-minute briefing: seven points of quotes, reflective questions, sources."""

    topic: str
    points: tuple[Point, ...]
    questions: tuple[str, ...] = ()
    notice: str | None = None
    reviews: tuple[str, ...] = ()
    agency: str | None = None

    @property
    def items(self) -> tuple[Item, ...]:
        """Every quote, in reading order."""
        return tuple(i for p in self.points for i in p.items)

    @property
    def sources(self) -> tuple[Source, ...]:
        """The passages quoted, numbered by first appearance (1-based in print)."""
        return tuple(dict.fromkeys(i.source for i in self.items))

    def number(self, item: Item) -> int:
        """The printed endnote number of an item's source."""
        return self.sources.index(item.source) + 1


# -- building ----------------------------------------------------------------------------------


def check_topic(topic: str) -> str:
    """The topic stripped, or InvalidQuestion when it is empty or too long."""
    t = " ".join((topic or "").split())
    if not t:
        raise InvalidQuestion("the topic is empty: type a topic such as “safe sleep”")
    if len(t) > MAX_TOPIC_CHARS:
        raise InvalidQuestion(f"the topic is over {MAX_TOPIC_CHARS} characters; name it briefly")
    return t


def topic_queries(search: TopicSearch, topic: str, themes: Sequence[Theme]) -> list[str]:
    """The topic, plus the queries of any theme whose name means the same thing."""
    queries = [topic]
    if themes:
        sims = search.embed([topic]) @ search.embed([t.name for t in themes]).T
        for theme, sim in zip(themes, sims[0]):
            if sim >= search.settings.theme_match:
                queries += [q for q in theme.queries if q not in queries]
    return queries


def _notice(topic: str, found: Sequence[str]) -> str:
    if not found:
        return (
            f"{NOTICE}: the corpus has nothing on \u201c{topic}\u201d. Nothing is quoted, rather "
            "than padding the briefing with passages that are not about it."
        )
    return (
        f"{NOTICE}: \u201c{topic}\u201d is found in only one review ({found[0]}). The briefing "
        "below quotes that review alone and is not padded with others; it is not cross-review "
        "learning."
    )


def _empty(items: Sequence) -> str:
    return "" if items else "Nothing in the corpus for this point on this topic."


def build(
    search: TopicSearch,
    topic: str,
    reviews: Sequence[str] = (),
    agency: str | None = None,
    themes: Sequence[Theme] | None = None,
    questions_text: str | None = None,
) -> Briefing:
    """The briefing on `topic`, from the chosen reviews (default: all), with an agency focus."""
    topic = check_topic(topic)
    agency = " ".join((agency or "").split()) or None
    themes = load_themes() if themes is None else themes
    queries = topic_queries(search, topic, themes)
    matches = search.find(queries, Filters(reviews=tuple(reviews)))
    order = list(dict.fromkeys(m.review for m in matches))
    needed = min(2, len(reviews)) if reviews else 2
    notice = None if len(order) >= needed else _notice(topic, order)
    b = Picker(search, queries, agency)
    tau = search.settings.topic_threshold
    # Each part quotes spans of its roles, whatever kind of document or section holds them.
    learning = KEY
    why_probe = search.embed([search.settings.why_probe])[0]
    # "Why it matters" goes first so its sentence is not buried inside a key point's quote.
    why_cands = b.candidates(
        matches, learning, why_probe, whole_recs=True, probe_floor=search.settings.why_floor
    )
    why = pick(b, why_cands, 2, floor=tau)
    slots = key_slots(b, matches, order)
    key_points = [Point(3 + i, POINTS[2 + i], r, items) for i, (r, items) in enumerate(slots)]
    key_points += [Point(n, POINTS[n - 1], note=_NOTHING_MORE) for n in range(3 + len(slots), 6)]
    led = list(dict.fromkeys(r for r, _ in slots))
    todo = pick(b, b.candidates(matches, RESPONSE), 4)
    note = pick(b, b.candidates(matches, learning | RESPONSE), 3, floor=tau)
    quoted = {i.source.review for i in (*why, *todo, *note)} | set(led)
    intro = background(b, [r for r in order if r in quoted])
    points = (
        Point(1, POINTS[0], items=tuple(intro), note=_empty(intro)),
        Point(2, POINTS[1], items=tuple(why), note=_empty(why)),
        *key_points,
        Point(6, POINTS[5], items=tuple(note), note=_empty(note)),
        Point(7, POINTS[6], items=tuple(by_review(todo, led)), note=_empty(todo)),
    )
    grounds = [(p.n, p.label, " ".join(i.text for i in p.items)) for p in key_points if p.items]
    questions = choose_questions(search, topic, grounds, agency, questions_text)
    return Briefing(topic, points, questions, notice, tuple(order), agency)


# -- editing -----------------------------------------------------------------------------------


def _replace_item(b: Briefing, key: str, new: Item | None) -> Briefing:
    if key not in {i.key for i in b.items}:
        raise KeyError(key)
    points = tuple(
        replace(p, items=tuple(new if i.key == key else i for i in p.items if new or i.key != key))
        for p in b.points
    )
    return replace(b, points=points)


def remove_item(b: Briefing, key: str) -> Briefing:
    """The briefing without one quote."""
    return _replace_item(b, key, None)


def edit_item(b: Briefing, key: str, text: str, document_text: Callable[[str], str]) -> Briefing:
    """The briefing with one quote re-cut to `text`, which must be verbatim in its passage."""
    item = next(i for i in b.items if i.key == key)
    doc = document_text(item.quote.document)
    src = item.source
    span = locate(text, doc[src.start : src.end])
    if span is not None:
        start, end = span[0] + src.start, span[1] + src.start
        quote = Quote(item.quote.document, doc[start:end], start, end)
        if verify_quote(quote, {quote.document: doc}):
            return _replace_item(b, key, replace(item, quote=quote))
    raise UnverifiedEdit(
        "the edited quote is not word for word in its passage "
        f"({src.cite()}), so the original was kept. A quote can be shortened or re-cut, "
        "not reworded."
    )


def set_questions(b: Briefing, questions: Sequence[str]) -> Briefing:
    """The briefing with its reflective questions replaced (blank ones dropped)."""
    return replace(b, questions=tuple(q.strip() for q in questions if q.strip()))


def check(b: Briefing, document_text: Callable[[str], str]) -> None:
    """Raise UnverifiedEdit unless every quote is a verbatim span of its document."""
    for item in b.items:
        doc = item.quote.document
        if not verify_quote(item.quote, {doc: document_text(doc)}):
            raise UnverifiedEdit(f"a quote failed verification against {doc}; not exported")
