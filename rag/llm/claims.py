"""The checks on generated text, sentence by sentence, against the numbered passages.

A sentence is kept only if it cites a given passage, every double-quoted span is verbatim in a
passage it cites (rag.answer.verify's normalisation), unquoted text that copies a passage does
so word for word, each of its content words occurs in a cited passage beside a word it has there (a
shared word pair), it keeps the negation and modality of the passage sentence it rests on, and
it is neither an echo of the prompt nor a repeat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rag.answer.verify import locate, normalise
from rag.answer.wording import review_name
from rag.core.models import Hit
from rag.core.settings import Settings
from rag.core.text import SENTENCE_END, sentence_spans
from rag.core.words import stopwords, words

# [1]  [1, 2]  [1-3]  [Passage 2]  [source 1; 3]
_MARK = re.compile(
    r"\[\s*(?:(?:passages?|sources?)\s*)?(\d{1,3}(?:\s*(?:[,;\u2013-]|and)\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]+|\d{1,2}[.)]|#+|\*\*answer:?\*\*|answer:)\s*", re.I)
QUOTE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[a-z0-9]+")
_CASED_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = stopwords()
# Words that turn a statement round or make it a wish, not a fact. Dropping one, or adding one
# the passage does not have, changes what is claimed, so they are checked like content words.
_NEGATION = words("negation")
_MODAL = words("modal")


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
        for m in SENTENCE_END.finditer(line):
            if line.count('"', 0, m.end("close")) % 2:
                continue  # inside a quotation
            out.append(line[start : m.end("close")].strip())
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


def _words(text: str) -> list[str]:
    text = normalise(text).lower().replace("n't", " not").replace("cannot", "can not")
    return _WORD.findall(text)


def _checked(word: str) -> bool:
    return (
        word in _NEGATION
        or word in _MODAL
        or (word not in _STOP and (len(word) > 2 or word.isdigit()))
    )


def _pairs(text: str) -> set[tuple[str, str]]:
    stems = [_stem(w) for w in _words(text)]
    return set(zip(stems, stems[1:]))


def grounding(claim: str, sources: Sequence[str], names: str = "") -> tuple[float, tuple[str, ...]]:
    """Share of the claim's content words (negations and modals included) that are grounded,
    and the words that are not.

    A word is grounded when it stands next to one of its neighbours in the claim as it does in a
    source (a shared pair of stemmed words), so a phrase the model made up from scattered
    passage words fails even when every word occurs somewhere. Words of `names` (the heading
    the model was shown: review, partnership, section) may stand alone: naming the source is
    not a claim about it. A negation or modal always needs its pair."""
    words = _words(claim)
    stems = [_stem(w) for w in words]
    pairs = set().union(*(_pairs(s) for s in sources)) if sources else set()
    named = {_stem(w) for w in _words(names)}
    checked = [i for i, w in enumerate(words) if _checked(w)]
    loose = []
    for i in checked:
        if stems[i] in named and words[i] not in _NEGATION | _MODAL:
            continue
        before = i > 0 and (stems[i - 1], stems[i]) in pairs
        after = i + 1 < len(stems) and (stems[i], stems[i + 1]) in pairs
        if not (before or after):
            loose.append(words[i])
    return (1 - len(loose) / len(checked) if checked else 0.0), tuple(loose)


def _polarity(text: str) -> tuple[bool, bool]:
    words = set(_words(text))
    return bool(words & _NEGATION), bool(words & _MODAL)


def evidence_span(claim: str, text: str) -> tuple[int, int]:
    """Offsets in `text` of its sentence sharing most word pairs with the claim (the evidence
    a citation shows); the whole text when it has no sentence."""
    spans = sentence_spans(text, 0, len(text))
    if not spans:
        lead = len(text) - len(text.lstrip())
        return lead, len(text.rstrip())
    want = _pairs(claim)
    best = max(spans, key=lambda sp: len(want & _pairs(text[sp.start : sp.end])))
    return best.start, best.end


def _tokens(text: str) -> list[str]:
    # Case is kept: rag.answer.verify's normalisation does not forgive a changed capital either.
    return _CASED_WORD.findall(normalise(text))


def copy_of(claim: str, passage: str, run: int = 3) -> tuple[int, bool]:
    """How many words of `claim` are copied runs of `passage`, and whether the copy is altered.

    Runs of `run` or more words in order count as copying. A copy is altered when a word of
    the passage is skipped or changed between or after its runs: a lead-in before the first run
    ("The review said") is allowed, a changed or dropped word inside the copy is not.
    """
    a, b = _tokens(claim), _tokens(passage)
    blocks = [m for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()]
    runs = [m for m in blocks if m.size >= run]
    if not runs:
        return 0, False
    copied = sum(m.size for m in runs)
    gaps = any(n.a != m.a + m.size or n.b != m.b + m.size for m, n in zip(runs, runs[1:]))
    tail = runs[-1].a + runs[-1].size < len(a)
    return copied, gaps or tail


def is_copy(claim: str, copied: int, settings: Settings) -> bool:
    """True when most of the claim is copied from a passage, so it must be word for word: at
    least llm_copy_share of its words, and llm_copy_words words, come from copied runs."""
    n = len(_tokens(claim))
    return n >= settings.llm_copy_words and copied / n >= settings.llm_copy_share


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as numbered for the model: [n] is `hit`."""

    n: int
    hit: Hit

    @property
    def heading(self) -> str:
        """The passage's heading as the model is shown it: review, partnership and section."""
        name = review_name(self.hit.meta).removeprefix("the ")
        return f"{name[:1].upper()}{name[1:]} - {self.hit.chunk.section}"


@dataclass(frozen=True)
class SentenceCheck:
    """One generated sentence and what the checks found."""

    text: str
    markers: tuple[int, ...]
    in_range: tuple[int, ...]
    supported: tuple[int, ...]
    quotes: tuple[str, ...]
    failed_quotes: tuple[str, ...]
    # Share of the sentence's content words grounded in the passages it cites (see grounding).
    support: float
    kept: bool
    # Unquoted text that copies a passage: "" (none), "verbatim" or "altered" (which fails).
    copy: str = ""
    echo: bool = False
    # Content words found in no cited passage beside a word they have there.
    ungrounded: tuple[str, ...] = ()
    # "negation" or "modality" when the sentence drops or adds what its evidence sentence has.
    lost: str = ""
    # Said before in the same answer, or cut off (the last sentence, ending without a stop).
    repeat: bool = False
    unfinished: bool = False
    # Per supported passage without a verbatim quote: (n, start, end) of the evidence sentence
    # in the passage's text, the span its citation shows.
    evidence: tuple[tuple[int, int, int], ...] = ()

    @property
    def quotations(self) -> int:
        """Quoted spans, plus one for unquoted text copied from a passage."""
        return len(self.quotes) + bool(self.copy)

    @property
    def verbatim(self) -> int:
        """Quotations (as counted above) that are word for word in a cited passage."""
        return sum(q not in self.failed_quotes for q in self.quotes) + (self.copy == "verbatim")


def _ground(claim: str, quoted: bool, passages: Sequence[Passage]) -> tuple[float, tuple]:
    # Text outside verified quotes is what needs grounding; a bare verified quote is grounded.
    share, loose = grounding(
        claim, [p.hit.chunk.text for p in passages], " ".join(p.heading for p in passages)
    )
    if quoted and not any(_checked(w) for w in _words(claim)):
        return 1.0, ()
    return share, loose


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
    cited = [by_n[n] for n in in_range]
    share, loose = _ground(claim, bool(found), cited)
    enough = settings.llm_min_support
    whole = bool(cited) and share >= enough

    def alone(n: int) -> bool:
        return _ground(claim, any(p.n == n for p in found.values()), [by_n[n]])[0] >= enough

    def needed(n: int) -> bool:
        rest = [p for p in cited if p.n != n]
        return not rest or _ground(claim, bool(found), rest)[0] < enough

    # ALCE citation precision: a citation counts when its passage alone supports the sentence,
    # or the sentence is supported with it and not without it.
    supported = tuple(
        n
        for n in in_range
        if any(p.n == n for p in found.values()) or alone(n) or (whole and needed(n))
    )
    evidence, lost = _evidence(claim, body, [by_n[n] for n in supported], found)
    copy = _copy(claim, passages, settings)
    if copy == "altered":
        failed += (" ".join(claim.split()),)
    said = normalise(body).rstrip(".!?:;, ")
    echo = bool(prompt) and said in normalise(prompt)
    if echo or len(content_words(body)) < settings.llm_min_content:
        supported = ()  # a repeated heading or a fragment is no claim for a citation to support
    kept = bool(supported) and not failed and whole and not lost
    check = SentenceCheck(
        sentence, markers, in_range, supported, quotes, failed, share, kept, copy, echo,
        loose, lost, evidence=evidence,
    )  # fmt: skip
    return check, found


def _evidence(
    claim: str, body: str, passages: Sequence[Passage], found: dict[str, Passage]
) -> tuple[tuple[tuple[int, int, int], ...], str]:
    """The evidence sentence of each supporting passage without a quote, and whether the
    sentence drops or adds the negation or modality that sentence has ("" when it keeps it)."""
    out, lost = [], ""
    quoted = {p.n for p in found.values()}
    said = _polarity(body)
    for p in passages:
        if p.n in quoted:
            continue
        a, b = evidence_span(claim, p.hit.chunk.text)
        out.append((p.n, a, b))
        has = _polarity(p.hit.chunk.text[a:b])
        if has[0] != said[0]:
            lost = lost or "negation"
        elif has[1] and not said[1]:
            lost = lost or "modality"
    return tuple(out), lost


def _copy(claim: str, passages: Sequence[Passage], settings: Settings) -> str:
    """Whether unquoted text copies a given passage, and if so whether word for word."""
    verdict = ""
    for p in passages:
        copied, altered = copy_of(claim, p.hit.chunk.text, settings.llm_copy_run)
        if is_copy(claim, copied, settings):
            if not altered:
                return "verbatim"
            verdict = "altered"
    return verdict
