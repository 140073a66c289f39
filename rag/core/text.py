"""The one sentence splitter, and the small text helpers every stage shares.

`sentence_spans` cuts document text into sentence spans by offsets (what quotes are made of);
`sentences` cuts a short text (a question, a generated reply) into sentence strings with the
same rule: a sentence ends at . ! or ?, after any closing quotes, emphasis, brackets or citation
markers, where whitespace and a capital or digit follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE_END = re.compile(
    r"(?<=[.!?])(?P<close>[\"'”’*)\]]*(?:\s*\[[^\[\]\n]{1,20}\])*)\s+(?=[\"'“‘(*]*[A-Z0-9])"
)
# Blocks: blank lines, and the starts of list items.
_BLOCK_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-•*]\s|\(?[a-z]\)\s))")
_LEAD_MARK = re.compile(r"^(?:[-•]\s+|\*\*|\(?[a-z]\)\s+|#+\s*)+")
_TRAIL_MARK = re.compile(r"[\s*]+$")
WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")
# Dot leaders, as a contents page sets between a heading and its page number.
LEADER = re.compile(r"\.{4,}|…{2,}|\. \. \.")
_CONTENTS_ENTRY = re.compile(rf"(?:{LEADER.pattern})[.… ]*\d{{1,3}}\b")
# A contents entry is a heading's few words; more per entry is prose that happens to hold some.
_CONTENTS_WORDS = 16


@dataclass(frozen=True)
class Span:
    """A sentence-sized piece of a document, by document offsets."""

    start: int
    end: int


def is_contents(text: str) -> bool:
    """Whether text is a contents list: three or more headings led by dots to a page number."""
    entries = len(_CONTENTS_ENTRY.findall(text))
    return entries >= 3 and len(WORD.findall(text)) <= _CONTENTS_WORDS * entries


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """text[start:end] without its leading and trailing whitespace, as offsets."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    piece = text[start:end]
    lead = _LEAD_MARK.match(piece)
    cut = len(lead.group(0)) if lead else 0
    while cut < len(piece) and piece[cut].isspace():
        cut += 1
    trail = _TRAIL_MARK.search(piece)
    stop = trail.start() if trail else len(piece)
    # A quoted paragraph's first sentence keeps its opening mark and its last the closing one;
    # shown alone, either reads as a stray mark (""The … in a quote).
    inner = piece[cut:stop]
    if inner[:1] == "“" and "”" not in inner or inner[:1] == '"' and inner.count('"') % 2:
        cut += 1
    elif inner[-1:] == "”" and "“" not in inner or inner[-1:] == '"' and inner.count('"') % 2:
        stop -= 1
    return start + cut, start + max(cut, stop)


def sentence_spans(doc_text: str, start: int, end: int, min_words: int = 4) -> list[Span]:
    """Split doc_text[start:end] into sentence spans (document offsets), list markers and
    emphasis trimmed; pieces of fewer than `min_words` words are left out."""
    spans: list[Span] = []
    text = doc_text[start:end]
    block_start = 0
    for brk in [*_BLOCK_BREAK.finditer(text), None]:
        block_end = brk.start() if brk else len(text)
        cursor = block_start
        for m in [*SENTENCE_END.finditer(text, block_start, block_end), None]:
            stop = m.start() if m else block_end
            a, b = _trim(doc_text, start + cursor, start + stop)
            if len(doc_text[a:b].split()) >= min_words:
                spans.append(Span(a, b))
            cursor = m.end() if m else block_end
        block_start = brk.end() if brk else len(text)
    return spans


def sentences(text: str) -> list[str]:
    """A short text's sentences as strings, closing quotes and citation markers kept."""
    out, start = [], 0
    for m in SENTENCE_END.finditer(text):
        out.append(text[start : m.end("close")].strip())
        start = m.end()
    out.append(text[start:].strip())
    return [s for s in out if s]


def vocabulary(texts) -> set[str]:
    """Lower-cased words of the given texts."""
    vocab: set[str] = set()
    for t in texts:
        vocab.update(w.lower() for w in WORD.findall(t))
    return vocab


def merge_adjacent(spans, text: str) -> list[tuple[int, int]]:
    """(start, end) spans joined where only blanks, emphasis or a dash lie between them in
    `text`, so one quote reads continuously; accepts Span objects or pairs."""
    out: list[tuple[int, int]] = []
    for a, b in sorted((s.start, s.end) if isinstance(s, Span) else tuple(s) for s in spans):
        if out and not text[out[-1][1] : a].strip(" \n\t*-"):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out
