"""Choosing the verified quotes for a briefing's points, sentence by sentence.

Every quote is a sentence-sized span of a passage that retrieval found for the topic; the
`Picker` verifies each one (rag.answer.verify) and never quotes the same words twice, even when a
briefing and a response to the same review repeat a recommendation word for word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.verify import display, normalise, verify_quote
from rag.core.models import Chunk, Filters, Quote
from rag.core.text import merge_adjacent, sentence_spans
from rag.trainer.themes import Match, Sentence, TopicSearch

# How much an agency focus moves a passage or sentence up the ranking.
# A recommendation this short is quoted whole; a longer one by its most relevant sentences.
_INTRO_KINDS = {"introduction", "background"}
_LEARNING_KINDS = {"key_learning", "key_themes", "good_practice"}
# The roles of span (rag/ingest/roles.py) each part of a briefing quotes: the review's
# introduction; what it found and recommended; what an agency said it did. A progress line
# ("Progress rating: Amber") is none of these, so no part quotes one.
INTRO = frozenset({"introduction", "background"})
KEY = frozenset({"recommendation", "finding", "learning", "good_practice"})
RESPONSE = frozenset({"response"})
# An item's own words: the span a recommendation or finding label opens.
_ITEM_ROLES = frozenset({"recommendation", "finding"})
_LABELS = {
    "introduction": "Background",
    "background": "Background",
    "recommendation": "Recommendation",
    "finding": "Finding",
    "learning": "Learning",
    "good_practice": "Good practice",
    "response": "Response",
}


@dataclass(frozen=True)
class Source:
    """Where a quote comes from: the document, its review and the passage's section."""

    document: str
    title: str
    review: str
    partnership: str | None
    section: str
    page: int | None
    year: int | None
    # The passage's document offsets: an edited quote must stay inside them.
    start: int
    end: int

    def cite(self) -> str:
        """The citation as printed, e.g. 'Title (Northtown, 2019), Recommendation Two'."""
        extra = ", ".join(str(x) for x in (self.partnership, self.year) if x)
        page = f", p. {self.page}" if self.page else ""
        return f"{self.title}{f' ({extra})' if extra else ''}, {self.section}{page}"


@dataclass(frozen=True)
class Item:
    """One verified verbatim quote in the briefing."""

    quote: Quote
    source: Source
    # The role of the span the quote sits in: introduction, background, recommendation,
    # finding, learning, good_practice or response.
    role: str

    @property
    def key(self) -> str:
        """A stable id for editing: document and offsets."""
        return f"{self.quote.document}:{self.quote.start}-{self.quote.end}"

    @property
    def text(self) -> str:
        """The quote as shown to a reader (emphasis markers dropped, words untouched)."""
        return display(self.quote.text)

    @property
    def label(self) -> str:
        """What the quote is, as a reader is told: 'Recommendation', 'Finding', 'Response'..."""
        return _LABELS.get(self.role, self.role.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Pick:
    """A verified sentence picked for a briefing, with its match, role and rank."""

    match: Match
    sentence: Sentence
    role: str
    rank: float


def role(match: Match, sentence: Sentence) -> str:
    """What a sentence is in its review: the role of the span it sits in."""
    if sentence.role:
        return sentence.role
    # An index written before spans had roles: the chunk's kind decides.
    chunk = match.hit.chunk
    if chunk.kind in _INTRO_KINDS:
        return "introduction"
    if sentence.in_rec:
        return "recommendation"
    if chunk.kind in _LEARNING_KINDS:
        return "learning"
    return "other" if chunk.kind == "other" else "response"


def _has_role(chunk: Chunk, roles: frozenset[str], kinds: set[str]) -> bool:
    """True when a span of the chunk has one of the roles (by kind for an index without)."""
    if not chunk.roles:
        return chunk.kind in kinds
    return any(r in roles for _, _, r in chunk.roles)


def source_of(match: Match) -> Source:
    """The citation source of a match: its review, partnership, section, page and span."""
    c, m = match.hit.chunk, match.hit.meta
    return Source(
        c.document, m.title, match.review, m.partnership, c.section, c.page, m.year, c.start, c.end
    )


class Picker:
    """Hands out verified quotes for one briefing, never the same words twice."""

    def __init__(self, search: TopicSearch, queries: Sequence[str], agency: str | None):
        self.search = search
        self.vectors = search.embed(list(queries))
        self.agency_vec = search.embed([agency])[0] if agency else None
        self.used: list[tuple[str, int, int]] = []
        self.seen: set[str] = set()

    def item(self, match: Match, start: int, end: int, kind: str) -> Item | None:
        """A verified quote of document[start:end], unless its words are already used."""
        doc = match.hit.chunk.document
        text = self.search.document_text(doc)
        # Sentence by sentence: a briefing and a response repeat the same recommendations.
        keys = {normalise(text[s.start : s.end]) for s in sentence_spans(text, start, end)}
        keys = keys or {normalise(text[start:end])}
        if not all(keys) or keys & self.seen or self.overlaps(doc, start, end):
            return None
        quote = Quote(doc, text[start:end], start, end)
        if not verify_quote(quote, {doc: text}):
            return None
        self.used.append((doc, start, end))
        self.seen |= keys
        return Item(quote, source_of(match), kind)

    def overlaps(self, doc: str, start: int, end: int) -> bool:
        """True when document[start:end] overlaps a quote already in the briefing."""
        return any(d == doc and start < z and a < end for d, a, z in self.used)

    def agency_bonus(self, texts: Sequence[str]) -> np.ndarray:
        """Similarity of each text to the agency focus, weighted; zeros without a focus."""
        if self.agency_vec is None or not texts:
            return np.zeros(len(texts))
        return self.search.settings.agency_weight * (
            self.search.embed(list(texts)) @ self.agency_vec
        )

    def candidates(
        self,
        matches: Sequence[Match],
        roles: frozenset[str],
        probe: np.ndarray | None = None,
        whole_recs: bool = False,
        probe_floor: float = -1.0,
    ) -> list[Pick]:
        """Sentences of the matches with one of the roles, best first for topic (and probe).

        With `whole_recs`, the lead sentence of a recommendation is left out: it belongs to the
        key learning, which always quotes it.
        """
        out = []
        for m in matches:
            text = self.search.document_text(m.hit.chunk.document)
            sents = [s for s in m.sentences if role(m, s) in roles]
            if whole_recs:
                lead = min((s.start for s in m.sentences if s.in_rec), default=None)
                sents = [s for s in sents if s.start != lead]
            bonus = self.agency_bonus([text[s.start : s.end] for s in sents])
            extra = np.zeros(len(sents))
            if probe is not None and sents:
                extra = self.search.embed([text[s.start : s.end] for s in sents]) @ probe
            for s, b, e in zip(sents, bonus, extra):
                if probe is not None and e < probe_floor:
                    continue
                rank = s.score + b + e
                out.append(Pick(m, s, role(m, s), float(rank)))
        return sorted(out, key=lambda c: -c.rank)


def _key_spans(b: Picker, match: Match) -> list[tuple[int, int, str]]:
    """The item's own words not yet quoted (whole when short), each with the role of its span
    (a recommendation, or a finding), else the best other sentence of what the review learned."""
    text = b.search.document_text(match.hit.chunk.document)
    doc = match.hit.chunk.document
    rec = [
        s
        for s in sorted(match.sentences, key=lambda s: s.start)
        if s.in_rec and role(match, s) in KEY and not b.overlaps(doc, s.start, s.end)
    ]
    if rec:
        spans = merge_adjacent([(s.start, s.end) for s in rec], text)
        if len(spans) > 1 or spans[0][1] - spans[0][0] > b.search.settings.whole_rec_chars:
            best = sorted(rec, key=lambda s: -s.score)[:2]
            spans = merge_adjacent([(s.start, s.end) for s in best], text)
        # Every sentence of an item's own words has the item's role.
        return [(a, z, role(match, rec[0])) for a, z in spans]
    learned = [s for s in match.sentences if not s.in_rec and role(match, s) in KEY]
    return [(learned[0].start, learned[0].end, role(match, learned[0]))] if learned else []


def _with_recommendation(b: Picker, match: Match) -> Match | None:
    """The match itself when it holds learning; for a response alone, the recommendation it
    answers (the part of the same section that holds the recommendation text), else None."""
    if any(role(match, s) in KEY for s in match.sentences):
        return match
    c = match.hit.chunk
    for other in b.search.passages(c.document):
        if (
            other.section == c.section
            and other.id != c.id
            and other.rec_start is not None
            and _has_role(other, _ITEM_ROLES, {"recommendation", "finding"})
        ):
            lead = b.search.judge(replace(match.hit, chunk=other), b.vectors)
            # Ranked by the response's relevance: the response is why the section is here.
            return replace(
                lead, sentences=tuple(replace(s, score=match.score) for s in lead.sentences)
            )
    return None


def key_slots(
    b: Picker, matches: Sequence[Match], order: list[str]
) -> list[tuple[str, tuple[Item, ...]]]:
    """Up to three key-learning slots (review, quotes), reviews taken in turn, then grouped."""
    pool: dict[str, list[Match]] = {r: [] for r in order}
    leads = [_with_recommendation(b, m) for m in matches]
    for c in b.candidates([m for m in leads if m], KEY):
        if c.match not in pool[c.match.review]:
            pool[c.match.review].append(c.match)
    slots: list[tuple[str, tuple[Item, ...]]] = []
    while len(slots) < 3 and any(pool.values()):
        for review in order:
            while pool[review] and len(slots) < 3:
                match = pool[review].pop(0)
                spans = _key_spans(b, match)
                items = tuple(filter(None, (b.item(match, a, z, role) for a, z, role in spans)))
                if items:
                    slots.append((review, items))
                    break
    slots.sort(key=lambda s: order.index(s[0]))
    return slots


def pick(b: Picker, cands: Sequence[Pick], n: int, floor: float | None = None) -> list[Item]:
    """Up to n items from ranked candidates, one per review first, then the rest by rank."""
    chosen: list[Item] = []
    reviews: set[str] = set()
    for first_round in (True, False):
        for c in cands:
            if len(chosen) >= n:
                return chosen
            if floor is not None and c.sentence.score < floor:
                continue
            if first_round and c.match.review in reviews:
                continue
            item = b.item(c.match, c.sentence.start, c.sentence.end, c.role)
            if item:
                chosen.append(item)
                reviews.add(c.match.review)
    return chosen


def background(b: Picker, reviews: Sequence[str]) -> list[Item]:
    """One sentence per review from its introduction: which review, when, what happened.

    Each introduction's first full sentence is a candidate (a title line is not one); the
    probe picks between a review's documents.
    """
    search = b.search
    probe_text = search.settings.background_probe
    probe = search.embed([probe_text])
    out = []
    for review in reviews:
        hits = [
            h
            for h in search.candidates([probe_text], Filters(reviews=(review,)))
            if _has_role(h.chunk, INTRO, _INTRO_KINDS)
        ]
        firsts = []
        for h in hits:
            m = search.judge(h, probe)
            long = [s for s in m.sentences if role(m, s) in INTRO and _is_sentence(search, m, s)]
            if long:
                firsts.append((m, min(long, key=lambda s: s.start)))
        for m, s in sorted(firsts, key=lambda ms: -ms[1].score):
            item = b.item(m, s.start, s.end, role(m, s))
            if item:
                out.append(item)
                break
    return out


def _is_sentence(search: TopicSearch, match: Match, s: Sentence) -> bool:
    """A full sentence, not a title line: long enough and ending in a full stop."""
    text = search.document_text(match.hit.chunk.document)[s.start : s.end]
    return len(text.split()) >= search.settings.background_words and text.rstrip("*_ ").endswith(
        "."
    )


def by_review(items: Sequence[Item], order: Sequence[str]) -> list[Item]:
    """Items grouped by review in the key points' order (others after), rank kept within."""
    rank = {r: i for i, r in enumerate(order)}
    return sorted(items, key=lambda i: rank.get(i.source.review, len(rank)))
