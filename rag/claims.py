"""The checks on generated text, sentence by sentence, against the numbered passages.

A sentence is kept only if it cites a given passage, every double-quoted span is verbatim in a
passage it cites (rag.verify's normalisation), unquoted text that copies a passage does so word
for word, most of its content words occur in the passages it cites, and it is not an echo of
the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rag.models import Hit
from rag.settings import Settings
from rag.verify import locate, normalise

# [1]  [1, 2]  [1-3]  [Passage 2]  [source 1; 3]
_MARK = re.compile(
    r"\[\s*(?:(?:passages?|sources?)\s*)?(\d{1,3}(?:\s*(?:[,;\u2013-]|and)\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_END = re.compile(r"[.!?][\"']*(?:\s*\[[^\[\]\n]{1,20}\])*(?=\s+[\"'(]?[A-Z0-9])")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]+|\d{1,2}[.)]|#+|\*\*answer:?\*\*|answer:)\s*", re.I)
QUOTE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[a-z0-9]+")
_CASED_WORD = re.compile(r"[A-Za-z0-9]+")
_STOPWORDS = """
    a an and are as at be been being but by can could did do does for from had has have he her
    his how i if in into is it its may might more most must not of on or our shall she should
    so such than that the their them then there these they this those to was we were what when
    where which who whom why will with would you your also about after all any before both each
    other only own same very well just over under while within without between passage passages
    review reviews recommendation recommendations says said states stated notes noted
    highlights highlighted suggests suggested according mentions mentioned
"""
_STOP = frozenset(_STOPWORDS.split())
# Unquoted text counts as a copy of a passage when at least _COPY_SHARE of its words (and at
# least _COPY_WORDS words) come from runs of _RUN or more words of that passage, in order.
_RUN = 3
_COPY_WORDS = 8
_COPY_SHARE = 0.6
# A shown sentence must say something: at least this many content words.
_MIN_CONTENT = 3


def parse_markers(text: str) -> tuple[int, ...]:
    """Every citation number written in `text`, in order, ranges expanded."""
    out: list[int] = []
    for m in _MARK.finditer(text):
        for part in re.split(r"\s*(?:[,;]|and)\s*", m.group(1)):
            a, _, b = re.sub(r"\s", "", part).replace("\u2013", "-").partition("-")
            lo, hi = int(a), int(b) if b else int(a)
            out += range(lo, min(hi, lo + 20) + 1) if hi >= lo else [lo, hi]
    return tuple(out)


def strip_markers(text: str) -> str:
    """`text` without citation markers and the spaces they leave behind."""
    out = _MARK.sub("", text)
    out = re.sub(r"\s+([.,;:!?])", r"\1", out)
    return " ".join(out.split())


def split_sentences(text: str) -> list[str]:
    """Generated text as sentences: by line, then at sentence ends outside double quotes."""
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    out: list[str] = []
    for line in text.splitlines():
        line = _BULLET.sub("", line).strip()
        start = 0
        for m in _END.finditer(line):
            if line.count('"', 0, m.end()) % 2:
                continue  # inside a quotation
            out.append(line[start : m.end()].strip())
            start = m.end()
        out.append(line[start:].strip())
    return [s for s in out if re.search(r"[A-Za-z0-9]", strip_markers(s))]


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:6]


def content_words(text: str) -> list[str]:
    """Stemmed content words of `text` (stop words and one- or two-letter words left out)."""
    words = _WORD.findall(normalise(text).lower())
    return [_stem(w) for w in words if w not in _STOP and (len(w) > 2 or w.isdigit())]


def support(claim: str, quoted: Sequence[str], passages: Sequence[str]) -> float:
    """Share of the sentence's content words found in the passages; verified quotes count."""
    outside = content_words(claim)
    inside = [w for q in quoted for w in content_words(q)]
    if not outside and not inside:
        return 0.0
    vocab = {w for p in passages for w in content_words(p)}
    hits = sum(w in vocab for w in outside) + len(inside)
    return hits / (len(outside) + len(inside))


def _tokens(text: str) -> list[str]:
    # Case is kept: rag.verify's normalisation does not forgive a changed capital either.
    return _CASED_WORD.findall(normalise(text))


def copy_of(claim: str, passage: str) -> tuple[int, bool]:
    """How many words of `claim` are copied runs of `passage`, and whether the copy is altered.

    Runs of three or more words in order count as copying. A copy is altered when a word of
    the passage is skipped or changed between or after its runs: a lead-in before the first run
    ("The review said") is allowed, a changed or dropped word inside the copy is not.
    """
    a, b = _tokens(claim), _tokens(passage)
    blocks = [m for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()]
    runs = [m for m in blocks if m.size >= _RUN]
    if not runs:
        return 0, False
    copied = sum(m.size for m in runs)
    gaps = any(n.a != m.a + m.size or n.b != m.b + m.size for m, n in zip(runs, runs[1:]))
    tail = runs[-1].a + runs[-1].size < len(a)
    return copied, gaps or tail


def is_copy(claim: str, copied: int) -> bool:
    """True when most of the claim is copied from a passage, so it must be word for word."""
    n = len(_tokens(claim))
    return n >= _COPY_WORDS and copied / n >= _COPY_SHARE


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as numbered for the model: [n] is `hit`."""

    n: int
    hit: Hit


@dataclass(frozen=True)
class SentenceCheck:
    """One generated sentence and what the checks found."""

    text: str
    markers: tuple[int, ...]
    in_range: tuple[int, ...]
    supported: tuple[int, ...]
    quotes: tuple[str, ...]
    failed_quotes: tuple[str, ...]
    support: float
    kept: bool
    # Unquoted text that copies a passage: "" (none), "verbatim" or "altered" (which fails).
    copy: str = ""
    echo: bool = False

    @property
    def quotations(self) -> int:
        """Quoted spans, plus one for unquoted text copied from a passage."""
        return len(self.quotes) + bool(self.copy)

    @property
    def verbatim(self) -> int:
        """Quotations (as counted above) that are word for word in a cited passage."""
        return sum(q not in self.failed_quotes for q in self.quotes) + (self.copy == "verbatim")


def check_sentence(
    sentence: str, passages: Sequence[Passage], settings: Settings, prompt: str = ""
) -> tuple[SentenceCheck, dict[str, Passage]]:
    """The checks on one sentence, and for each verbatim quote the passage that holds it.

    `prompt` is the prompt's own wording (instructions, headings, the question) without the
    passages: a sentence that only repeats it is an echo, not an answer."""
    by_n = {p.n: p for p in passages}
    markers = parse_markers(sentence)
    in_range = tuple(dict.fromkeys(n for n in markers if n in by_n))
    body = strip_markers(sentence)
    quotes = tuple(q for q in QUOTE.findall(body) if q.strip())
    unbalanced = body.count('"') % 2 == 1
    claim = QUOTE.sub(" ", body)
    found: dict[str, Passage] = {}
    for q in quotes:
        for n in in_range:
            if locate(q, by_n[n].hit.chunk.text):
                found[q] = by_n[n]
                break
    failed = tuple(q for q in quotes if q not in found)
    if unbalanced:
        failed += (body[body.rfind('"') + 1 :].strip() or '"',)
    texts = {n: by_n[n].hit.chunk.text for n in in_range}
    supported = tuple(
        n
        for n in in_range
        if any(p.n == n for p in found.values())
        or support(claim, [q for q in found if found[q].n == n], [texts[n]])
        >= settings.llm_min_support
    )
    share = support(claim, list(found), list(texts.values()))
    copy = _copy(claim, passages)
    if copy == "altered":
        failed += (" ".join(claim.split()),)
    said = normalise(body).rstrip(".!?:;, ")
    echo = bool(prompt) and said in normalise(prompt)
    if echo or len(content_words(body)) < _MIN_CONTENT:
        supported = ()  # a repeated heading or a fragment is no claim for a citation to support
    kept = bool(supported) and not failed and share >= settings.llm_min_support
    check = SentenceCheck(
        sentence, markers, in_range, supported, quotes, failed, share, kept, copy, echo
    )
    return check, found


def _copy(claim: str, passages: Sequence[Passage]) -> str:
    """Whether unquoted text copies a given passage, and if so whether word for word."""
    verdict = ""
    for p in passages:
        copied, altered = copy_of(claim, p.hit.chunk.text)
        if is_copy(claim, copied):
            if not altered:
                return "verbatim"
            verdict = "altered"
    return verdict
