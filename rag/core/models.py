"""Small frozen data objects that join the pipeline stages."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DocMeta:
    """A document's metadata, from the catalog or read from its text; `id` is the file stem."""

    id: str
    title: str
    partnership: str | None = None
    review: str | None = None
    review_type: str | None = None
    kind: str | None = None
    year: int | None = None
    source: str | None = None
    # Names people use for the review in questions, e.g. "Child A" or "ABC".
    aliases: tuple[str, ...] = ()
    author: str | None = None
    # The fields read from the document's text because the catalog did not set them.
    inferred: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """A document's stored text; every offset in the system points into `text`."""

    meta: DocMeta
    text: str
    path: str = ""
    # Offset of the first character of each page; empty when the format has no pages.
    page_starts: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        """The document id (file stem)."""
        return self.meta.id

    def page_at(self, offset: int) -> int | None:
        """1-based page number holding `offset`, or None for unpaginated text."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))


@dataclass(frozen=True)
class Chunk:
    """One retrievable unit: a recommendation or finding with its response, or a named part."""

    id: str
    document: str
    text: str
    start: int
    end: int
    section: str
    kind: str
    page: int | None = None
    # The recommendation or finding text alone, as document offsets; None when there is none.
    rec_start: int | None = None
    rec_end: int | None = None
    # Words that belong with the chunk but sit elsewhere in the text, e.g. a table row's column
    # names with its other cells; searched, never quoted.
    context: str = ""
    # (start, end, role) document spans covering the chunk: "recommendation", "finding",
    # "response", "progress", "background", "learning", "good_practice", "reflective_question"...
    roles: tuple[tuple[int, int, str], ...] = ()

    def role_at(self, offset: int) -> str:
        """The role of the span holding document offset `offset` ("other" when none does)."""
        return next((r for a, b, r in self.roles if a <= offset < b), "other")

    @property
    def rec_text(self) -> str:
        """The recommendation text on its own, or '' when the chunk has none."""
        if self.rec_start is None or self.rec_end is None:
            return ""
        return self.text[self.rec_start - self.start : self.rec_end - self.start]


@dataclass(frozen=True, slots=True)
class ChunkRef:
    """Where a chunk is, without its text: what indexes held in memory keep of each chunk."""

    id: str
    document: str
    section: str
    start: int


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the scores it was fused from."""

    chunk: Chunk
    meta: DocMeta
    score: float
    # Cosine similarity to the question, with any review names it uses taken out.
    dense: float | None = None
    lexical: float | None = None
    # True when the question names this section ("Recommendation 7", "Key Themes").
    named: bool = False
    # Cosine of the passage's best part (its closest stored sentence, or itself) to the
    # vector `dense` is judged by; None when sentences were not scored.
    part: float | None = None
    # True when the question names this passage's review and its recommendation or finding
    # text uses every word of the question's topic ("What did Child B say about GPs?"), or
    # when the passage uses every distinctive name the question uses ("BadgerNet").
    mentions: bool = False


@dataclass(frozen=True)
class Quote:
    """A verbatim span of a document: `document_text[start:end] == text`."""

    document: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """A numbered, checkable pointer from an answer to a verified quote."""

    n: int
    quote: Quote
    hit: Hit
    page: int | None = None

    def to_json(self) -> dict:
        """The citation as the CLI's JSON contract spells it."""
        return {
            "n": self.n,
            "document": self.quote.document,
            "title": self.hit.meta.title,
            "section": self.hit.chunk.section,
            "page": self.page,
            "quote": self.quote.text,
            "passage": self.hit.chunk.text,
            "start": self.quote.start,
            "end": self.quote.end,
            "score": round(float(self.hit.score), 6),
        }


@dataclass(frozen=True)
class ReviewGroup:
    """One review's part of an answer across reviews: its best-supported passage, quoted."""

    review: str
    documents: tuple[str, ...]
    citations: tuple[Citation, ...]
    # The cosine of the review's best passage to the question, which orders the groups.
    support: float
    # A group held back: the passage its quotes are composed from when it is asked for
    # (rag.answer.survey.expand); None once quoted.
    passage: Hit | None = None

    @property
    def held(self) -> bool:
        """Whether the group's quotes are still to be composed, on request."""
        return self.passage is not None and not self.citations

    def to_json(self) -> dict:
        """The group as the CLI's JSON contract spells it (a held group has no citations)."""
        return {
            "review": self.review,
            "documents": list(self.documents),
            "support": round(float(self.support), 6),
            "citations": [c.to_json() for c in self.citations],
        } | ({"held": True} if self.held else {})


@dataclass(frozen=True)
class Answer:
    """What the assistant says: a lead-in, verified quotes and their citations, or abstains."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    id: str | None = None
    mode: str = "extractive"
    notes: tuple[str, ...] = field(default=())
    # Every review that addresses a question naming none, best supported first (empty for an
    # answer from one review); the first `shown` are quoted in `citations`, the rest on request.
    groups: tuple[ReviewGroup, ...] = ()
    shown: int = 0
    # Of an answer across reviews: the text its support was judged by, which quotes the groups
    # held back on request, and whether the count of groups is a lower bound.
    judged_by: str = ""
    at_least: bool = False

    @property
    def hidden(self) -> tuple[ReviewGroup, ...]:
        """The groups shown only on request."""
        return self.groups[self.shown :]

    def to_json(self) -> dict:
        """The answer as the CLI's JSON contract spells it."""
        out: dict = {} if self.id is None else {"id": self.id}
        out |= {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
        }
        if self.mode != "extractive":
            out["mode"] = self.mode
        if self.groups:
            out["reviews"] = len(self.groups)
            out["groups"] = [
                g.to_json() | {"shown": i < self.shown} for i, g in enumerate(self.groups)
            ]
        return out


@dataclass(frozen=True)
class Filters:
    """Restrictions on which documents may be cited."""

    documents: tuple[str, ...] = ()
    partnerships: tuple[str, ...] = ()
    reviews: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.documents or self.partnerships or self.reviews or self.kinds)

    def allows(self, meta: DocMeta) -> bool:
        """True when a document with this metadata passes every filter."""
        return (
            (not self.documents or meta.id in self.documents)
            and (not self.partnerships or meta.partnership in self.partnerships)
            # A document the catalog names no review for goes by its title, as the UI lists it.
            and (not self.reviews or (meta.review or meta.title) in self.reviews)
            and (not self.kinds or meta.kind in self.kinds)
        )


@dataclass(frozen=True)
class Progress:
    """Callbacks that follow a long ingest as (done, total): files read, then chunks embedded."""

    files: Callable[[int, int], None] = lambda done, total: None
    chunks: Callable[[int, int], None] = lambda done, total: None
    # Each file on its own, as (document id, stage, done, total); the stages are "reading",
    # "chunking" (0 of 1, then 1 of 1) and "embedding" (passages embedded of its passages).
    document: Callable[[str, str, int, int], None] = lambda doc_id, stage, done, total: None
