"""Check, in code, that every quote is a verbatim span of the document it cites.

The one documented normalisation (applied to both sides before comparing):
1. Unicode NFKC, character by character;
2. curly single and double quotes become ' and ", and every dash or minus becomes -;
3. markdown emphasis is dropped: `*`, `__`, `_` at a word edge, and inline <u> <b> <i> <em>
   <strong> tags;
4. every run of whitespace becomes one space, and the ends are trimmed.

Nothing else is forgiven: a changed, added or dropped word fails.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from rag.core.models import Quote

log = logging.getLogger(__name__)

_QUOTES = dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u0060\u00b4", "'") | dict.fromkeys(
    "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'
)
_DASHES = dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-")
_CHAR_MAP = _QUOTES | _DASHES
_TAG = re.compile(r"</?(?:u|b|i|em|strong)>", re.IGNORECASE)


@dataclass(frozen=True)
class Normalised:
    """Normalised text plus, for each of its characters, the raw offset it came from."""

    text: str
    origin: tuple[int, ...]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw [start, end) covering normalised [start, end)."""
        return self.origin[start], self.origin[end - 1] + 1


def _drop_mask(raw: str) -> list[bool]:
    """Mark raw characters that are markdown emphasis, not words."""
    drop = [False] * len(raw)
    for m in _TAG.finditer(raw):
        for i in range(m.start(), m.end()):
            drop[i] = True
    for i, ch in enumerate(raw):
        if ch == "*":
            drop[i] = True
        elif ch == "_":
            before = raw[i - 1] if i else " "
            after = raw[i + 1] if i + 1 < len(raw) else " "
            # Keep underscores inside identifiers (snake_case); drop emphasis markers.
            if not (before.isalnum() and after.isalnum()):
                drop[i] = True
    return drop


def normalise_with_map(raw: str) -> Normalised:
    """Normalise `raw` and remember where each output character came from."""
    drop = _drop_mask(raw)
    out: list[str] = []
    origin: list[int] = []
    pending_space = False
    for i, ch in enumerate(raw):
        if drop[i]:
            continue
        for c in unicodedata.normalize("NFKC", ch):
            c = _CHAR_MAP.get(c, c)
            if c.isspace():
                pending_space = bool(out)
                continue
            if pending_space:
                out.append(" ")
                origin.append(i)
                pending_space = False
            out.append(c)
            origin.append(i)
    return Normalised("".join(out), tuple(origin))


def normalise(text: str) -> str:
    """The documented normalisation, as a plain string."""
    return normalise_with_map(text).text


def display(quote_text: str) -> str:
    """A quote as shown to a reader: emphasis markers dropped and whitespace folded.

    The words and punctuation are untouched, so the shown text still passes `contains`.
    """
    drop = _drop_mask(quote_text)
    kept = "".join(ch for i, ch in enumerate(quote_text) if not drop[i])
    return " ".join(kept.split())


def locate(phrase: str, document_text: str) -> tuple[int, int] | None:
    """Raw offsets of the first span of `document_text` equal to `phrase` once normalised."""
    needle = normalise(phrase)
    if not needle:
        return None
    hay = normalise_with_map(document_text)
    at = hay.text.find(needle)
    if at < 0:
        return None
    return hay.raw_span(at, at + len(needle))


def contains(document_text: str, phrase: str) -> bool:
    """True when `phrase` is verbatim in the document under the normalisation."""
    needle = normalise(phrase)
    return bool(needle) and needle in normalise(document_text)


def _has_text(text: str) -> bool:
    # Whether anything is left once normalised. A letter or digit always is (none is dropped),
    # and finding one is all most quotes need: normalising every quote of an answer across
    # dozens of reviews cost 70 ms at 25k chunks.
    return any(ch.isalnum() for ch in text) or bool(normalise(text))


def verify_quote(quote: Quote, documents: Mapping[str, str]) -> bool:
    """True only if the quote's document exists and `text[start:end]` is exactly the quote."""
    text = documents.get(quote.document)
    if text is None:
        log.warning("rejected quote: unknown document %r", quote.document)
        return False
    if not (0 <= quote.start < quote.end <= len(text)):
        log.warning("rejected quote: offsets %d..%d out of range", quote.start, quote.end)
        return False
    if text[quote.start : quote.end] != quote.text or not _has_text(quote.text):
        log.warning(
            "rejected quote: not verbatim at %s[%d:%d]", quote.document, quote.start, quote.end
        )
        return False
    return True
