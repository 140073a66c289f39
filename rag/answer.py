"""Extractive answers: pick the passages, then the sentences in them, and quote them verbatim."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.models import Answer, Chunk, Citation, DocMeta, Document, Hit, Quote
from rag.settings import Settings
from rag.verify import display, normalise

ABSTAIN_TEXT = (
    "No supporting passage was found in the corpus for this question, so there is nothing to "
    "quote. Try rephrasing it, or ask about the reviews the corpus holds."
)

# Sentence ends inside a block: . ! or ? (maybe closing quotes/emphasis), space, then a capital.
_SENT_END = re.compile(r"(?<=[.!?])[\"'”’*]*\s+(?=[\"'“‘(*]*[A-Z0-9])")
# Blocks: blank lines, and the starts of list items.
_BLOCK_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-•*]\s|\(?[a-z]\)\s))")
_LEAD_MARK = re.compile(r"^(?:[-•]\s+|\*\*|\(?[a-z]\)\s+|#+\s*)+")
_TRAIL_MARK = re.compile(r"[\s*]+$")
_MIN_WORDS = 4
_WHOLE_REC_CHARS = 600
_LEAD_PRIOR = 0.05


@dataclass(frozen=True)
class Span:
    """A sentence-sized piece of a document, by document offsets."""

    start: int
    end: int


@dataclass(frozen=True)
class Candidate:
    """A sentence compose scores: the chunk it belongs to, where it is, and its text."""

    chunk: str
    span: Span
    text: str


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    piece = text[start:end]
    lead = _LEAD_MARK.match(piece)
    cut = len(lead.group(0)) if lead else 0
    while cut < len(piece) and piece[cut].isspace():
        cut += 1
    trail = _TRAIL_MARK.search(piece)
    stop = trail.start() if trail else len(piece)
    # A quoted paragraph's first sentence keeps its opening mark and its last the closing one;
    # shown alone, either reads as a stray mark (""The Surrey …" in a quote).
    inner = piece[cut:stop]
    if inner[:1] == "“" and "”" not in inner or inner[:1] == '"' and inner.count('"') % 2:
        cut += 1
    elif inner[-1:] == "”" and "“" not in inner or inner[-1:] == '"' and inner.count('"') % 2:
        stop -= 1
    return start + cut, start + max(cut, stop)


def sentence_spans(doc_text: str, start: int, end: int) -> list[Span]:
    """Split doc_text[start:end] into sentence spans (document offsets), markers trimmed."""
    spans: list[Span] = []
    text = doc_text[start:end]
    block_start = 0
    for brk in [*_BLOCK_BREAK.finditer(text), None]:
        block_end = brk.start() if brk else len(text)
        cursor = block_start
        for m in [*_SENT_END.finditer(text, block_start, block_end), None]:
            stop = m.start() if m else block_end
            a, b = _trim(doc_text, start + cursor, start + stop)
            if len(doc_text[a:b].split()) >= _MIN_WORDS:
                spans.append(Span(a, b))
            cursor = m.end() if m else block_end
        block_start = brk.end() if brk else len(text)
    return spans


def review_name(meta: DocMeta) -> str:
    """How a document is named in prose, e.g. 'the Child P review (Hampshire)'."""
    name = meta.review or meta.title
    kind = " briefing" if (meta.kind or "").lower() == "briefing" else " review"
    suffix = f" ({meta.partnership})" if meta.partnership else ""
    return f"the {name}{kind}{suffix}"


def supported(hits: Sequence[Hit], settings: Settings, across: bool = False) -> list[Hit]:
    """The passages worth quoting: above the abstention threshold and near the best one.

    `across` (a question about what the reviews say, naming none) adds each other review's
    best supported passage, and puts one passage of each review first.
    """
    pool = [h for h in hits[: settings.top_k * 3] if h.dense is not None]
    # A section the question names ("Recommendation 7") supports it whatever its similarity.
    named = [h for h in pool if h.named]
    if not pool:
        return []
    best = max(h.dense for h in pool)
    if best < settings.abstain_threshold and not named:
        # Short questions about a named review ("What did Child Z say about GPs?") leave a
        # topic too short for its cosine to clear the threshold; a recommendation or finding
        # of that review that uses every topic word supports it (a response that mentions the
        # police in passing does not: only the recommendation text counts). So does a passage
        # using a name few passages use ("Which reviews mention BadgerNet?").
        return [h for h in pool if h.mentions][: settings.top_k]
    near = best - settings.passage_margin
    floor = max(settings.abstain_threshold, near)

    def kept(h: Hit) -> bool:
        # Once the question is answerable, the passage ranked first (by words and sections as
        # well as meaning) is quoted if it is near the best, even a little under the threshold:
        # "How did Surrey respond?" is answered by Surrey's response, whose wording is far
        # from the question's.
        return h.dense >= floor or (h is hits[0] and h.dense >= near)

    keep = named + [h for h in hits if h.dense is not None and not h.named and kept(h)]
    if across and not named:
        keep = _across_reviews(keep, pool, settings.abstain_threshold)
    return keep[: settings.top_k]


def _across_reviews(keep: list[Hit], pool: Sequence[Hit], threshold: float) -> list[Hit]:
    # "What have the reviews said about safe sleep?" asks for breadth: a review whose best
    # passage clears the threshold is quoted even when another review's passages are closer
    # (the margin would keep only those), and the first passage of each review comes first.
    keep = list(keep)
    reviews = {h.meta.review for h in keep}
    for h in pool:
        if h.dense >= threshold and h.meta.review not in reviews:
            keep.append(h)
            reviews.add(h.meta.review)
    firsts: list[Hit] = []
    rest: list[Hit] = []
    first_of: set[str | None] = set()
    for h in keep:
        (rest if h.meta.review in first_of else firsts).append(h)
        first_of.add(h.meta.review)
    return firsts + rest


def _merge(spans: list[Span], doc_text: str) -> list[Span]:
    """Join spans that are neighbours in the text, so one quote reads continuously."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: s.start):
        if out and not doc_text[out[-1].end : s.start].strip(" \n\t*-"):
            out[-1] = Span(out[-1].start, s.end)
        else:
            out.append(s)
    return out


def _after_heading(doc_text: str, chunk) -> int:
    """Where a chunk's body starts: after its first line when that line is the heading."""
    first_end = doc_text.find("\n", chunk.start, chunk.end)
    if first_end < 0:
        return chunk.start
    label = normalise(chunk.section.split(" › ")[-1]).lower()
    line = normalise(doc_text[chunk.start : first_end]).lower().rstrip(":")
    return first_end if label and (label in line or line in label) else chunk.start


def _candidates(c: Chunk, doc_text: str) -> tuple[list[Span], list[Span]]:
    if c.rec_start is not None and c.rec_end is not None and c.rec_end > c.rec_start:
        return sentence_spans(doc_text, c.rec_start, c.rec_end), sentence_spans(
            doc_text, c.rec_end, c.end
        )
    return [], sentence_spans(doc_text, _after_heading(doc_text, c), c.end)


def candidate_spans(hit: Hit, doc_text: str) -> tuple[list[Span], list[Span]]:
    """A passage's sentences: those of its recommendation text, and those after it."""
    return _candidates(hit.chunk, doc_text)


def _scored(c: Chunk, rec_spans: list[Span], rest: list[Span]) -> list[Span]:
    """The sentences whose scores choose_spans reads: a short recommendation is quoted whole."""
    long_rec = bool(rec_spans) and c.rec_end - c.rec_start > _WHOLE_REC_CHARS
    return [*(rec_spans if long_rec else []), *rest]


def scored_spans(chunk: Chunk) -> list[Span]:
    """The sentences of a chunk that compose scores against a question, by document offsets.

    Computed from the chunk alone (every rule above reads only inside the chunk), so ingest can
    embed exactly these sentences once and compose read their vectors back.
    """
    # The same rules on the chunk's own text, with offsets moved to start at 0 and back.
    at = chunk.start
    local = replace(
        chunk,
        start=0,
        end=chunk.end - at,
        rec_start=None if chunk.rec_start is None else chunk.rec_start - at,
        rec_end=None if chunk.rec_end is None else chunk.rec_end - at,
    )
    spans = _scored(local, *_candidates(local, chunk.text))
    return [Span(s.start + at, s.end + at) for s in spans]


def choose_spans(
    hit: Hit, doc_text: str, score: dict[Span, float], settings: Settings
) -> list[Span]:
    """The recommendation text first, then the response sentences most relevant to the question.

    `score` holds each candidate sentence's similarity to the question.
    """
    rec_spans, rest = candidate_spans(hit, doc_text)
    score = dict(score)
    if rest:
        # An agency response usually opens by saying what was done; a small prior keeps it.
        score[rest[0]] += _LEAD_PRIOR
    chosen: list[Span] = []
    if rec_spans:
        if hit.chunk.rec_end - hit.chunk.rec_start <= _WHOLE_REC_CHARS:
            chosen.append(Span(rec_spans[0].start, rec_spans[-1].end))
        else:
            # A long finding opens with its statement: always quote it, then the best other one.
            best_other = sorted(rec_spans[1:], key=lambda s: -score[s])[:1]
            chosen += _merge([rec_spans[0], *best_other], doc_text)
    ranked = sorted(rest, key=lambda s: -score[s])
    if ranked:
        best = score[ranked[0]]
        # Only response sentences nearly as relevant as the best one; no padding.
        picked = [s for s in ranked[: settings.max_sentences] if score[s] >= best - 0.1]
        # Merged separately, so the recommendation and the response are never one quote.
        chosen += _merge(picked, doc_text)
    return chosen


_SENTENCE_WORDS = 8


def _in_order(spans: list[Span], doc_text: str) -> dict[Span, float]:
    # A question with no topic has no similarity to go by: the opening's first sentences say
    # what the review was. Title lines ("Serious Case Review of Child Z") are not sentences.
    order = [s for s in spans if len(doc_text[s.start : s.end].split()) >= _SENTENCE_WORDS]
    score = dict.fromkeys(spans, -1.0)
    score.update({s: 1.0 - i * 0.01 for i, s in enumerate(order)})
    return score


def compose(
    question: str,
    hits: Sequence[Hit],
    vector: np.ndarray,
    documents: Callable[[str], Document],
    vectors: Callable[[list[Candidate]], np.ndarray],
    verify: Callable[[Quote], bool],
    settings: Settings,
    answer_id: str | None = None,
    across: bool = False,
    overview: bool = False,
    states: Callable[[str], bool] | None = None,
) -> Answer:
    """Build the answer from verified quotes only; abstain when nothing supports it.

    `vectors` gives the unit vectors of candidate sentences (stored at ingest, or embedded);
    `across` asks for breadth over reviews (see `supported`); `overview` (a question naming a
    review and nothing else) quotes the named openings' first full sentences; `states` tells
    the sentences stating the kind of fact asked for (see `rag.facts`), which come first.
    """
    chosen = supported(hits, settings, across)
    docs = {h.chunk.document: documents(h.chunk.document) for h in chosen}
    passages = [(hit, docs[hit.chunk.document].text) for hit in chosen]
    spans = [_scored(h.chunk, *candidate_spans(h, t)) for h, t in passages]
    wanted = [
        Candidate(h.chunk.id, s, t[s.start : s.end])
        for (h, t), ss in zip(passages, spans)
        for s in ss
    ]
    # One look-up for every candidate sentence of every passage.
    sims = iter((vectors(wanted) @ vector).tolist() if wanted else [])
    citations: list[Citation] = []
    for (hit, doc_text), candidates in zip(passages, spans):
        score = {s: next(sims) for s in candidates}
        if overview and hit.named:
            score = _in_order(candidates, doc_text)
            if max(score.values(), default=-1.0) < 0:
                continue  # a title page: nothing in it says what the review was
        if states is not None:
            score = {s: v + float(states(doc_text[s.start : s.end])) for s, v in score.items()}
        for span in choose_spans(hit, doc_text, score, settings):
            quote = Quote(hit.chunk.document, doc_text[span.start : span.end], span.start, span.end)
            if verify(quote):
                # The page holding the quote's first character, not the chunk's.
                page = docs[quote.document].page_at(quote.start)
                citations.append(Citation(len(citations) + 1, quote, hit, page))
    if not citations:
        return abstain(question, answer_id)
    return Answer(question, _render(citations), False, tuple(citations), answer_id)


def abstain(
    question: str, answer_id: str | None, unknown: Sequence[str] = (), text: str = ABSTAIN_TEXT
) -> Answer:
    """An abstention; names the terms the corpus never mentions, when that is the reason."""
    if unknown:
        names = ", ".join(f"“{u}”" for u in unknown)
        text = (
            f"The reviews in the corpus never mention {names}, so no passage supports an answer "
            "and nothing is quoted. Try rephrasing, or ask about the reviews the corpus holds."
        )
    return Answer(question, text, True, (), answer_id)


def _listed(items: Sequence[str], joiner: str = "and") -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {joiner} " + items[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def not_in_review_text(
    named: Sequence[DocMeta], words: Sequence[str], others: Sequence[DocMeta]
) -> str:
    """Why a question about a review is not answered: the review never uses its words."""
    reviews = _listed([review_name(m) for m in named])
    used = _listed([f"“{w}”" for w in words], "or")
    names = list(dict.fromkeys(review_name(m) for m in others))
    verb = "uses" if len(names) == 1 else "use"
    return (
        f"{_capital(reviews)} never uses {used}, so nothing is quoted from it. "
        f"{_capital(_listed(names))} {verb} {'it' if len(words) == 1 else 'some of them'}: ask "
        "without naming a review to see those passages."
    )


def _render(citations: Sequence[Citation]) -> str:
    names: list[str] = []
    passages: list[str] = []
    for c in citations:
        if review_name(c.hit.meta) not in names:
            names.append(review_name(c.hit.meta))
        if c.hit.chunk.id not in passages:
            passages.append(c.hit.chunk.id)
    joined = _listed(names)
    plural = "passage" if len(passages) == 1 else "passages"
    lead = f"{len(passages)} {plural} from {joined} address this, quoted word for word:"
    lines = [f'"{display(c.quote.text)}" [{c.n}]' for c in citations]
    return "\n\n".join([lead, *lines])
