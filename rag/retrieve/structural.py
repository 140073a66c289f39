"""The sections a question names: a numbered item, an agency group, or a part by its title.

Built once per index from the chunks' section paths; `structural_ranking` is one of the rankings
`rag.retrieve.hybrid` fuses.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from rag.core.models import Chunk, ChunkRef
from rag.core.numbers import SECTION
from rag.core.words import word_table
from rag.core.words import words as word_list
from rag.retrieve.base import Query, Ranking
from rag.understand.question import (
    REFERENCE,
    QueryInfo,
    phrase_in,
    section_ref,
    topic_words,
    vocabulary,
)


def _label(section: str) -> str:
    """The last named part of a section path, without sub-item letters."""
    parts = [p for p in section.split(" › ") if not re.fullmatch(r"\(?[a-z]\)", p.strip())]
    return parts[-1] if parts else section


# A heading's paragraph number ("2.1 Methodology", "5. Recommendations"): no question says it.
_HEADING_NUMBER = re.compile(rf"^\s*(?:{SECTION}|[A-Z]\.)\s+")


def _title(label: str) -> str:
    """A section label as a question may name it: lower-cased, without its paragraph number."""
    return _HEADING_NUMBER.sub("", label).strip().lower()


# A heading phrased as a question's opening ("What happened", "Why it matters") is met in
# questions about anything; only a question naming its review names that part by it.
_ASKING = re.compile(r"^(?:what|why|how|who|when|where|which)\b")


def _names_alone(title: str) -> bool:
    """Whether a title names its part in any question, not only in one naming its review."""
    return len(title.split()) >= 2 and not _ASKING.match(title)


# "What are the key messages of the briefing?" asks for its learning, whatever the heading says
# ("Key Learning Points", "Key Themes", "Lessons learned").
_KEY_MESSAGES = re.compile(
    r"\b(?:key|main|top|core|headline|important)\s+(?:messages?|points?|lessons?|takeaways?)\b"
    r"|\btake[- ]?(?:home|away)\s+messages?\b|\btakeaways?\b",
    re.IGNORECASE,
)
_LEARNING_LABEL = re.compile(r"\b(?:learning|lessons?|themes?)\b", re.IGNORECASE)
_GENERIC = word_list("group_generic")


_FILLER = word_list("label_filler")


def _significant(label: str) -> set[str]:
    """The words of a section label that say which part it is ("The Review" -> none)."""
    return vocabulary([label]) - _FILLER


def _singular(words: Iterable[str]) -> set[str]:
    return {w.removesuffix("s") if len(w) > 2 else w for w in words} - _GENERIC


# The service whose group heading a profession sits under (rag/data/words.toml); keys are
# `_singular` forms of question words.
_PROFESSION_SERVICE = word_table("profession_service")


def _services(words: set[str]) -> set[str]:
    """The service whose group heading each profession named in the question sits under."""
    return {_PROFESSION_SERVICE[w] for w in words if w in _PROFESSION_SERVICE}


def _group_words(section: str) -> list[frozenset[str]]:
    """The significant words of each agency group in a path ("GP Services" -> {"gp"})."""
    return [
        frozenset(_singular(vocabulary([part])))
        for part in section.split(" › ")[:-1]
        if part.lower().startswith("recommendations for ")
    ]


class SectionIndex:
    """Chunks by the names their sections can be called by; built once per index, not per query."""

    def __init__(self, chunks: Iterable[Chunk | ChunkRef], opening: int = 2):
        # Only where each chunk is (ChunkRef) is needed, so an index of 100k chunks stays small.
        self.by_ref: dict[tuple[str, int], list[Chunk | ChunkRef]] = defaultdict(list)
        self.by_label: dict[str, list[Chunk | ChunkRef]] = defaultdict(list)
        self.by_group: dict[frozenset[str], list[Chunk | ChunkRef]] = defaultdict(list)
        self.words: dict[str, frozenset[str]] = {}
        # Each document's first two chunks: its opening, which says what case the review was
        # and how it was done (the first alone may be only a title page).
        self.opening: dict[str, list[Chunk | ChunkRef]] = defaultdict(list)
        for c in chunks:
            first = self.opening[c.document]
            first.append(c)
            first.sort(key=lambda c: c.start)
            del first[opening:]
            ref = section_ref(c.section)
            if ref:
                self.by_ref[ref].append(c)
            label = _label(c.section)
            # "The Review" is named by every "what did the review say": a label made only of
            # such words is not a name ("The Background" is). One word ("Methodology") names a
            # part only in a question naming its review (see `named`).
            title = _title(label)
            if title and _significant(title) and section_ref(label) is None:
                self.by_label[title].append(c)
            for words in _group_words(c.section):
                if words:
                    self.by_group[words].append(c)
            if c.section not in self.words:
                self.words[c.section] = frozenset(vocabulary([c.section]))

    def positions(self, position: Mapping[str, int]) -> dict:
        """The index as plain lists, each chunk by its `position` (see `from_positions`)."""

        def at(chunks: list[Chunk | ChunkRef]) -> list[int]:
            return [position[c.id] for c in chunks]

        return {
            "by_ref": [[kind, n, at(cs)] for (kind, n), cs in self.by_ref.items()],
            "by_label": {label: at(cs) for label, cs in self.by_label.items()},
            "by_group": [[sorted(words), at(cs)] for words, cs in self.by_group.items()],
            "words": {section: sorted(words) for section, words in self.words.items()},
            "opening": {doc: at(cs) for doc, cs in self.opening.items()},
        }

    @classmethod
    def from_positions(cls, state: dict, refs: Sequence[ChunkRef]) -> SectionIndex:
        """The index `positions` wrote, over the chunks at those positions (`refs`)."""
        index = cls(())
        # In the order they were built: `named` gathers chunks in dictionary order.
        index.by_ref.update(((k, n), [refs[p] for p in ps]) for k, n, ps in state["by_ref"])
        index.by_label.update((k, [refs[p] for p in ps]) for k, ps in state["by_label"].items())
        index.by_group.update((frozenset(w), [refs[p] for p in ps]) for w, ps in state["by_group"])
        index.words.update((k, frozenset(w)) for k, w in state["words"].items())
        index.opening.update((k, [refs[p] for p in ps]) for k, ps in state["opening"].items())
        return index

    def named(self, question: str, info: QueryInfo) -> list[Chunk | ChunkRef]:
        """Chunks whose section the question names: a numbered item, a group, or a named part."""
        q = question.lower()
        q_singular = _singular(vocabulary([question]))
        services = _services(q_singular)
        found: dict[str, Chunk | ChunkRef] = {}
        # "Rec 3 in the action plan" names the item; the part it sits in only says where.
        for label, chunks in () if info.refs else self.by_label.items():
            if (info.documents or _names_alone(label)) and phrase_in(label, q):
                found |= {c.id: c for c in chunks}
        # Only when nothing else is asked: "the key points for health visitors" wants theirs.
        if _KEY_MESSAGES.search(question) and not topic_words(
            _KEY_MESSAGES.sub(" ", info.topic or question)
        ):
            for label, chunks in self.by_label.items():
                if _LEARNING_LABEL.search(label):
                    found |= {c.id: c for c in chunks}
        for ref in info.refs:
            found |= {c.id: c for c in self.by_ref.get(ref, ())}
        if not info.refs and info.documents:
            # Without a number, naming the group ("for GPs") names every section in it.
            for words, chunks in self.by_group.items():
                # All of a short group name ("GP Services", "Health Visitors"), most of a long one.
                # A named profession names its service's group ("midwives" -> "Midwifery/Neonatal").
                if words & services or len(words & q_singular) >= max(
                    1, len(words) - len(words) // 3
                ):
                    found |= {c.id: c for c in chunks}
        return list(found.values())


def structural_ranking(
    question: str,
    info: QueryInfo,
    index: SectionIndex,
    allowed: Callable[[Chunk | ChunkRef], bool] = lambda c: True,
) -> list[str]:
    """Ids of the chunks the question names, best named first, first pieces only."""
    if info.asks_overview:
        return [c.id for d in info.documents for c in index.opening.get(d, ()) if allowed(c)]
    q_words = set(vocabulary([question]))
    wanted = bool(info.refs)
    matched = []
    for c in index.named(question, info):
        if allowed(c):
            # Words shared with the path pick the agency group ("midwifery", "GP Services").
            overlap = len(q_words & index.words[c.section])
            matched.append((-overlap, c.document, c.start, c))
    matched.sort(key=lambda t: t[:3])
    if wanted and matched:
        # "midwifery Recommendation Three" names that group's item, not every Three.
        matched = [t for t in matched if t[0] == matched[0][0]]
    # The first piece of a split section holds the recommendation itself. A question asking
    # about part of it ("Finding 1 - the bit about transferring the case") names every piece,
    # and the other rankings pick the part.
    about = topic_words(REFERENCE.sub(" ", info.topic or question)) if wanted else []
    seen: set[tuple[str, str]] = set()
    firsts: list[str] = []
    for *_, c in matched:
        key = (c.document, c.section.split(" › ")[0] if wanted and not about else c.section)
        if key not in seen:
            firsts.append(c.id)
        seen.add(key)
    # Otherwise only first pieces: a sub-item should not outrank the finding it belongs to.
    return firsts


class StructuralSearcher:
    """The sections a question names, as a ranking: best named first, first pieces only."""

    def __init__(self, index: SectionIndex):
        self.index = index

    def search(self, query: Query, k: int, allowed: frozenset[str] | None = None) -> Ranking:
        """Chunk ids of the named sections among the allowed documents, scored by rank."""
        ok = (lambda c: True) if allowed is None else (lambda c: c.document in allowed)
        ids = structural_ranking(query.text, query.info, self.index, ok)[:k]
        return [(cid, 1.0 / rank) for rank, cid in enumerate(ids, start=1)]
