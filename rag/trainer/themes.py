"""Which passages are about a topic, and the theme × review matrix built from that.

A passage is *about* a topic when retrieval (Assistant.search) returns it for one of the topic's
queries and one of its sentences is close in meaning to that query: its best sentence cosine
reaches `Settings.topic_threshold`, calibrated on evals/themes_labels.jsonl. Themes are data:
each one is a short list of queries in rag/data/themes.toml, never a keyword table in code.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.verify import normalise, verify_quote
from rag.core.models import Chunk, Citation, Filters, Hit, Quote
from rag.core.resources import read_text
from rag.core.text import sentence_spans

THEMES_FILE = "themes.toml"
# How a cell's quotes are grouped: by the role of the span each sits in (rag/ingest/roles.py),
# so an agency's response is never shown as the review's recommendation. The last part takes
# every other role, and every quote of an index written before spans had roles.
PARTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Recommendations", frozenset({"recommendation"})),
    ("Findings and learning", frozenset({"finding", "learning"})),
    ("Good practice", frozenset({"good_practice"})),
    ("Responses and progress", frozenset({"response", "progress"})),
    ("Background", frozenset({"introduction", "background"})),
    ("Other passages", frozenset()),
)


@dataclass(frozen=True)
class Theme:
    """A named theme and the short queries that describe it."""

    name: str
    queries: tuple[str, ...]


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage, by document offsets, with its best cosine to the queries."""

    start: int
    end: int
    score: float
    # True when the sentence is part of the recommendation or finding text itself.
    in_rec: bool
    # The role of the span the sentence sits in (rag/ingest/roles.py); "" for an index written
    # before spans had roles, whose readers fall back on the chunk's kind.
    role: str = ""


@dataclass(frozen=True)
class Match:
    """A retrieved passage judged against a topic: its sentences, best first."""

    hit: Hit
    sentences: tuple[Sentence, ...]

    @property
    def score(self) -> float:
        """The passage's relevance: the cosine of its best sentence."""
        return self.sentences[0].score if self.sentences else 0.0

    @property
    def review(self) -> str:
        """The review the passage belongs to (its title when the catalog names no review)."""
        return self.hit.meta.review or self.hit.meta.title


def themes_source() -> str:
    """The text of the packaged theme list (rag/data/themes.toml), e.g. for a cache key."""
    return read_text(THEMES_FILE)


def load_themes(text: str | None = None) -> tuple[Theme, ...]:
    """The themes of a TOML text of [[theme]] tables with `name` and `queries`; by default the
    packaged rag/data/themes.toml."""
    path = THEMES_FILE
    data = tomllib.loads(themes_source() if text is None else text)
    themes = tuple(Theme(t["name"], tuple(t["queries"])) for t in data.get("theme", []))
    if not themes or any(not t.queries for t in themes):
        raise ValueError(f"{path}: every [[theme]] needs a name and at least one query")
    return themes


def _role(chunk: Chunk, offset: int) -> str:
    return chunk.role_at(offset) if chunk.roles else ""


def _body_spans(chunk: Chunk, body: int) -> list[tuple[int, int, str]]:
    """chunk's text from `body` on, cut where one role's span ends and the next begins."""
    if not chunk.roles:
        return [(body, chunk.end, "")]
    cut = [(max(a, body), min(b, chunk.end), r) for a, b, r in chunk.roles]
    return [(a, b, r) for a, b, r in cut if a < b]


class TopicSearch:
    """Finds the passages about a topic; caches sentence vectors, so build one per pipeline."""

    def __init__(self, assistant):
        self.assistant = assistant
        self.settings = assistant.settings
        # One TopicSearch serves every session of the app: its caches fill under a lock.
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] = {}
        self._spans: dict[str, list[tuple[int, int, bool, str]]] = {}
        self._passages: dict[str, list[Chunk]] | None = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of the texts, each embedded once per TopicSearch."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        fresh = dict(zip(missing, self.assistant.embed(missing))) if missing else {}
        if not texts:
            return self.assistant.embed([])
        with self._lock:
            self._vectors.update(fresh)
            return np.stack([self._vectors[t] for t in texts])

    def document_text(self, doc_id: str) -> str:
        """The stored text of a document; every offset points into it."""
        return self.assistant.document_text(doc_id)

    def passages(self, doc_id: str) -> list[Chunk]:
        """Every indexed passage of a document, in document order."""
        with self._lock:
            if self._passages is None:
                passages: dict[str, list[Chunk]] = {}
                for c in self.assistant.passages():
                    passages.setdefault(c.document, []).append(c)
                self._passages = passages
            return self._passages.get(doc_id, [])

    def spans(self, hit: Hit) -> list[tuple[int, int, bool, str]]:
        """The passage's sentences as (start, end, in_rec, role), recommendation text first;
        no sentence crosses from one role's span into another's."""
        c = hit.chunk
        if c.id not in self._spans:
            text = self.document_text(c.document)
            out: list[tuple[int, int, bool, str]] = []
            body = c.start
            if c.rec_start is not None and c.rec_end is not None and c.rec_end > c.rec_start:
                rec = sentence_spans(text, c.rec_start, c.rec_end)
                out += [(s.start, s.end, True, _role(c, s.start)) for s in rec]
                body = c.rec_end
            for a, b, role in _body_spans(c, body):
                out += [(s.start, s.end, False, role) for s in sentence_spans(text, a, b)]
            with self._lock:
                self._spans[c.id] = out
        return self._spans[c.id]

    def judge(self, hit: Hit, vectors: np.ndarray) -> Match:
        """The passage's sentences scored against the query vectors, best first."""
        spans = self.spans(hit)
        if not spans:
            return Match(hit, ())
        text = self.document_text(hit.chunk.document)
        sims = self.embed([text[a:b] for a, b, _, _ in spans]) @ vectors.T
        best = sims.max(axis=1)
        sentences = [Sentence(a, b, float(s), r, role) for (a, b, r, role), s in zip(spans, best)]
        return Match(hit, tuple(sorted(sentences, key=lambda s: -s.score)))

    def candidates(self, queries: Sequence[str], filters: Filters = Filters()) -> list[Hit]:
        """Every passage retrieval returns for any of the queries, first-seen order."""
        seen: dict[str, Hit] = {}
        for q in queries:
            hits, _ = self.assistant.search(q, filters)
            for h in hits:
                seen.setdefault(h.chunk.id, h)
        return list(seen.values())

    def find(
        self,
        queries: Sequence[str],
        filters: Filters = Filters(),
        threshold: float | None = None,
    ) -> list[Match]:
        """Passages about the queries (best sentence at or above the threshold), best first."""
        floor = self.settings.topic_threshold if threshold is None else threshold
        vectors = self.embed(list(queries))
        matches = [self.judge(h, vectors) for h in self.candidates(queries, filters)]
        return sorted((m for m in matches if m.score >= floor), key=lambda m: -m.score)

    def quote(self, match: Match, sentence: Sentence | None = None) -> Quote | None:
        """A sentence of the match as a verified quote (its best one by default), else None."""
        sentence = sentence or (match.sentences[0] if match.sentences else None)
        if sentence is None:
            return None
        doc = match.hit.chunk.document
        text = self.document_text(doc)
        q = Quote(doc, text[sentence.start : sentence.end], sentence.start, sentence.end)
        return q if verify_quote(q, {doc: text}) else None


@dataclass(frozen=True)
class ThemeMatrix:
    """Supporting passages for each theme in each review."""

    themes: tuple[Theme, ...]
    reviews: tuple[str, ...]
    cells: tuple[tuple[tuple[Match, ...], ...], ...]  # [theme][review]

    def matches(self, theme: str, review: str) -> tuple[Match, ...]:
        """The passages supporting one theme in one review, best first."""
        t = [x.name for x in self.themes].index(theme)
        return self.cells[t][self.reviews.index(review)]

    def count(self, theme: str, review: str) -> int:
        """How many passages support the theme in the review."""
        return len(self.matches(theme, review))

    def row(self, theme: str) -> tuple[Match, ...]:
        """The passages supporting one theme in every review, review by review."""
        return tuple(m for r in self.reviews for m in self.matches(theme, r))


def distinct(matches: Sequence[Match], search: TopicSearch) -> list[Match]:
    """Matches whose best sentence is not word-for-word one already kept.

    A briefing and a response to the same review repeat each recommendation; counting both
    would double a theme's weight in that review.
    """
    seen: set[str] = set()
    out = []
    for m in matches:
        if not m.sentences:
            continue
        s = m.sentences[0]
        key = normalise(search.document_text(m.hit.chunk.document)[s.start : s.end])
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def reviews(search: TopicSearch) -> tuple[str, ...]:
    """Every review in the index, oldest first."""
    metas = search.assistant.metas().values()
    years = {}
    for m in metas:
        name = m.review or m.title
        years[name] = min(years.get(name, 9999), m.year or 9999)
    return tuple(sorted(years, key=lambda r: (years[r], r)))


def theme_matrix(search: TopicSearch, themes: Sequence[Theme]) -> ThemeMatrix:
    """The theme × review matrix: for each cell, the distinct passages about the theme."""
    cols = reviews(search)
    rows = []
    for theme in themes:
        found = distinct(search.find(theme.queries), search)
        rows.append(tuple(tuple(m for m in found if m.review == r) for r in cols))
    return ThemeMatrix(tuple(themes), cols, tuple(rows))


@dataclass(frozen=True)
class CellPart:
    """The quotes of a cell whose spans have one part's roles, e.g. its recommendations."""

    title: str
    citations: tuple[Citation, ...]


def part_of(role: str) -> str:
    """The title of the part a span's role is shown under."""
    return next((t for t, roles in PARTS if role in roles), PARTS[-1][0])


def _by_part(search: TopicSearch, m: Match) -> dict[str, Sentence]:
    """The match's best sentence in each part: its best sentence overall, and the best of each
    other part that is itself about the topic."""
    floor = search.settings.topic_threshold
    best: dict[str, Sentence] = {}
    for n, s in enumerate(m.sentences):
        if n == 0 or s.score >= floor:
            best.setdefault(part_of(s.role), s)
    return best


def cell_parts(search: TopicSearch, matches: Sequence[Match]) -> tuple[CellPart, ...]:
    """Verified quotes of the supporting passages grouped by their spans' roles, in PARTS order,
    numbered in reading order; no words quoted twice."""
    picked: dict[str, list[tuple[Match, Sentence]]] = {t: [] for t, _ in PARTS}
    for m in matches:
        for title, s in _by_part(search, m).items():
            picked[title].append((m, s))
    seen: set[str] = set()
    parts: list[CellPart] = []
    n = 0
    for title, _ in PARTS:
        cites = []
        for m, s in picked[title]:
            q = search.quote(m, s)
            if q is None or normalise(q.text) in seen:
                continue
            seen.add(normalise(q.text))
            n += 1
            cites.append(Citation(n, q, m.hit, m.hit.chunk.page))
        if cites:
            parts.append(CellPart(title, tuple(cites)))
    return tuple(parts)
