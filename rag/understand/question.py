"""Read what a question names: numbered recommendations or findings, reviews, unknown names,
and the kind of fact it asks for."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from rag.core import items, numbers
from rag.core.models import DocMeta
from rag.core.text import WORD
from rag.core.text import sentences as _sentences
from rag.core.text import vocabulary as vocabulary
from rag.core.words import common_caps, frame_words, stopwords, words
from rag.understand import facts
from rag.understand.glossary import spell_out, unnamed_topics

# An item number in a question: digits, a number word, or a roman numeral other than a lone
# capital "I" ("which recommendations I should read" asks about no Recommendation 1).
_NUM = "(" + numbers.ITEM.replace("(?=[ivxlc])", r"(?-i:(?!I\b))(?=[ivxlc])") + ")"
# "Recommendation 3", "rec. 3", "Finding No. 2", "LP2", "R1": the one item grammar.
REFERENCE = items.pattern(_NUM)
_REF_BEFORE = items.ordinal_pattern(_NUM)
_WORD = WORD
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# Questions about what the reviews say as a body ("What have the reviews said about …?").
_ASKS_ACROSS = re.compile(r"\breviews\b|\bacross\b", re.IGNORECASE)
# Questions about what was done with a recommendation rather than what it said.
_ASKS_RESPONSE = re.compile(
    r"\brespon(?:d|ds|ded|se|ses)\b|\bprogress\b|\bupdates?\b|\bactions? taken\b"
    r"|\bimplemented\b|\bwhat (?:has|have) been done\b|\bdone about\b"
    # What an agency has changed or set up since: "What has the police put in place …?", "…
    # and has it been changed?", "What did the trust change …?" (not "… want them to change").
    r"|\bput in place\b|\bsince (?:the|this|that) (?:[\w'’-]+ ){0,4}?(?:review|report|scr|lcspr)\b"
    r"|\b(?:has|have|had)\s+(?:[\w'’-]+\s+){1,4}?(?:changed|introduced|set up|done since)\b"
    r"|\bdid\s+(?:[\w'’-]+\s+){1,6}?(?<!\bto\s)change\b",
    re.IGNORECASE,
)
# Questions about what an agency was asked to do: the recommendation answers, not the agency's
# account of its response ("What was NHS England asked to do?").
_ASKS_RECOMMENDATION = re.compile(
    r"\b(?:ask(?:ed)?|told|expected|required|supposed)\b(?:\s+[\w'’-]+){0,4}?\s+to\s+do\b"
    r"|\brecommend(?:ed|ations?)?\s+(?:for|to)\b",
    re.IGNORECASE,
)
# Whom a recommendation was for: "What did the review recommend for the police?", "… make for
# GP practices about …". The phrase runs to the topic's opening word or the end.
_RECIPIENT = re.compile(
    r"\b(?:recommend(?:ed|s)?|recommendations?(?:\s+(?:did|does)\s+[\w\s'’-]{1,60}?\s+make)?)"
    r"\s+(?:for|to)\s+(?P<who>[\w'’&/-]+(?:\s+[\w'’&/-]+){0,3}?)"
    r"(?=\s+(?:about|on|regarding|around|in|after|from|to|and|,)\b|\s*[?.,;–—-]|\s*$)",
    re.IGNORECASE,
)
# Conversational frames that say nothing about the topic: "..., what did the review say about
# that?", "Is there anything about ...". Left in, they pull the question's vector towards every
# passage that talks about "the review".
_FRAMES = re.compile(
    r"\s*[-–—:,;]?\s*(?:so\s+)?what\s+(?:did|does|do|have|has)\s+(?:the\s+)?(?:reviews?|it|they)"
    r"\s+(?:say|said|recommend(?:ed)?)\s+(?:about|on)\s+(?:that|this|it)\s*\??\s*$"
    r"|^\s*(?:is|was)\s+there\s+anything\s+(?:in\s+the\s+reviews?\s+)?(?:about|on)\s+",
    re.IGNORECASE,
)
# Words that frame a question about a review rather than say what it is about, and capitalised
# words a question may use that say nothing about which document is meant (rag/data/words.toml).
_FRAME_WORDS = frame_words()
_COMMON_CAPS = common_caps()

# Words that never say what a question is about (see topic_words). Function words are among
# them: "after", "so", "her" say nothing of a topic, and a passage need not use them to be on it.
_NOT_TOPIC = _FRAME_WORDS | _COMMON_CAPS | stopwords()
_GENERIC = words("recipient_generic")


def number(token: str) -> int | None:
    """An integer from digits or an English number word, else None (a word of a question that
    reads as a roman numeral is a word)."""
    return numbers.number(token, romans=False)


def _item_number(token: str) -> int | None:
    """The number of an item reference: digits (a suffix letter dropped), a word or a numeral."""
    found = numbers.item(token)
    return None if found is None else found[0]


@dataclass(frozen=True)
class QueryInfo:
    """What a question refers to, beyond its words."""

    refs: tuple[tuple[str, int], ...] = ()
    documents: tuple[str, ...] = ()
    unknown_names: tuple[str, ...] = ()
    # The kinds of fact asked for ("duration", "amount", …; see `rag.understand.facts`).
    facts: tuple[str, ...] = ()
    asks_response: bool = False
    asks_recommendation: bool = False
    # Asks what the reviews say as a body, naming none: the answer should span reviews.
    across_reviews: bool = False
    # Names a review and nothing it is asked about ("Tell me about the Child B review"): the
    # review's opening, which says what case it reviewed and how, answers it.
    asks_overview: bool = False
    # The question without the names of the reviews it names; "" when it names none.
    topic: str = ""
    # The words of whom the question asks a recommendation was for ("the police" -> ("police",)).
    recipient: tuple[str, ...] = ()
    # The question as searched: abbreviations the corpus never uses spelled out ("CP plan" ->
    # "child protection plan"); "" when nothing changed.
    text: str = ""

    @property
    def asks_duration(self) -> bool:
        """Asks how long, by when or how often."""
        return "duration" in self.facts

    @property
    def asks_amount(self) -> bool:
        """Asks for a dose, a quantity, a count of things in the world or a share."""
        return "amount" in self.facts

    @property
    def asks_frequency(self) -> bool:
        """Asks how often, which a rate answers too."""
        return "frequency" in self.facts


def section_ref(section: str) -> tuple[str, int] | None:
    """The (kind, number) a section path ends on, e.g. ('recommendation', 2), or None."""
    found = None
    for m in REFERENCE.finditer(section):
        if ref := items.read(m):
            found = (ref.kind, ref.number)
    return found


def phrase_in(phrase: str, text: str) -> bool:
    """Whether a phrase occurs in lower-cased text as whole words."""
    phrase = phrase.lower()
    # The substring test rules out almost every name at once; only hits pay for the regex.
    if phrase not in text:
        return False
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def mentioned_documents(question: str, metas: Mapping[str, DocMeta]) -> tuple[str, ...]:
    """Documents whose review name or aliases the question uses; the best-matched ones only."""
    q = question.lower()
    counts: dict[str, int] = {}
    for doc_id, meta in metas.items():
        names = {a for a in meta.aliases} | ({meta.review} if meta.review else set())
        n = sum(phrase_in(name, q) for name in names if name)
        if n:
            counts[doc_id] = n
    if not counts:
        return ()
    best = max(counts.values())
    return tuple(sorted(d for d, n in counts.items() if n == best))


def unknown_names(question: str, vocabulary: set[str]) -> tuple[str, ...]:
    """Names in the question that appear nowhere in the corpus or its catalog.

    A question about "Leeds", "Arthur Labinjo-Hughes", "the Care Act" or "Working Together
    2023" cannot be answered from reviews that never mention them, however similar the rest
    of the question is. Names are capitalised words, runs of them, and years, in the sentences
    that ask: a case described first ("Baby Leo is 4 months …") names people the reviews
    cannot know, and does not make their learning any less relevant.
    """
    question = _asking(question)
    found = list(_WORD.finditer(question))
    # Title Case questions capitalise every word; their runs of capitals are not names.
    title_case = _title_case(found)
    out: list[str] = []
    run: list[re.Match] = []
    for i, m in enumerate(found):
        w = m.group(0)
        if not w[0].isupper() or w.lower() in _COMMON_CAPS:
            out += _unknown_run(question, run, vocabulary)
            run = []
            continue
        if run and question[run[-1].end() : m.start()].strip():
            out += _unknown_run(question, run, vocabulary)
            run = []
        run.append(m)
        # The first word of a sentence is capitalised for grammar, not because it is a name;
        # it still belongs to a run ("Child A GP recs" is Child A's GP recommendations).
        initial = i == 0 or _SENTENCE_END.search(question[found[i - 1].end() : m.start()])
        if not _known(w, vocabulary) and not (initial and not w.isupper()):
            out.append(w)
    out += _unknown_run(question, run, vocabulary)
    if title_case:
        out = [w for w in out if " " not in w]
    out += _other_partnerships(question, vocabulary)
    out += [y for y in _YEAR.findall(question) if y not in vocabulary]
    return tuple(dict.fromkeys(out))


# A safeguarding partnership or board by its place: "Portsmouth Safeguarding Children Partnership".
_PARTNERSHIP = re.compile(
    r"\b([A-Z][\w'’-]*)\s+(?:Local\s+)?Safeguarding\s+(?:Children(?:['’]s)?\s+)?"
    r"(?:Partnership|Board)\b"
)


def _other_partnerships(question: str, vocabulary: set[str]) -> list[str]:
    """Partnerships the corpus never names, though it may name their place.

    A review by "Portsmouth Safeguarding Children Partnership" is not in a corpus that
    mentions Portsmouth only in a list of areas: the run is otherwise made of known pairs
    ("Safeguarding Children Partnership"), so `_unknown_run` takes it for a known name.
    """
    return [
        m.group(0)
        for m in _PARTNERSHIP.finditer(question)
        if m.group(1).lower() not in _COMMON_CAPS | {"local"}
        and f"{_owner(m.group(1).lower())} safeguarding" not in vocabulary
    ]


_SENTENCE_END = re.compile(r"[.!?\n]")


def _asking(question: str) -> str:
    """The sentences of a question that ask: those ending in "?", and the last one."""
    sentences = [s for s in _sentences(question.strip()) if s]
    return " ".join(s for i, s in enumerate(sentences, 1) if s.endswith("?") or i == len(sentences))


def names_used(question: str, vocabulary: set[str], exclude: set[str]) -> tuple[str, ...]:
    """Names in the question that the corpus uses ("BadgerNet", "ICON"), except `exclude`.

    Names are capitalised words, as for `unknown_names`; the words of review and partnership
    names go in `exclude`, as every passage of a review carries them.
    """
    found = list(_WORD.finditer(question))
    title_case = _title_case(found)
    out = []
    for i, m in enumerate(found):
        w = _owner(m.group(0))  # "BadgerNet's" names BadgerNet
        low = w.lower()
        if not w[0].isupper() or low in _COMMON_CAPS or (i == 0 and not w.isupper()):
            continue
        if title_case and not any(c.isupper() for c in w[1:]):
            continue  # every word is capitalised; only "ICON" or "BadgerNet" still reads as a name
        if low in vocabulary and low not in exclude and number(w) is None:
            out.append(w)
    return tuple(dict.fromkeys(out))


def _title_case(found: list[re.Match]) -> bool:
    """Whether most words are capitalised, as in a Title Case question."""
    return len(found) >= 4 and sum(m.group(0)[0].isupper() for m in found) > 0.6 * len(found)


def _owner(word: str) -> str:
    """The word without a possessive ending: "Solent's" -> "Solent", "parents'" -> "parents"."""
    return re.sub(r"['’]s?$", "", word)


def _known(word: str, vocabulary: set[str]) -> bool:
    """Whether the corpus uses the word, its singular, or its owner ("Solent's" -> "solent");
    a hyphenated word when it uses every part ("GP-to-midwifery")."""
    low = _owner(word.lower())
    if low in vocabulary or low.rstrip("s") in vocabulary:
        return True
    parts = low.split("-")
    return len(parts) > 1 and all(
        p and (p in vocabulary or p.rstrip("s") in vocabulary) for p in parts
    )


def _unknown_run(question: str, run: list[re.Match], vocabulary: set[str]) -> list[str]:
    """A run of capitalised words no two of which the corpus uses together, e.g. "Care Act"."""
    words = [m.group(0).lower() for m in run]
    if len(words) < 2 or any(w not in vocabulary for w in words):
        return []  # single words are judged on their own, and an unknown word is named already
    pairs = [f"{a} {b}" for a, b in zip(words, words[1:])]
    # Any pair the corpus uses means a known name plus more ("the Child B SCR"): not unknown.
    if any(p in vocabulary for p in pairs):
        return []
    return [question[run[0].start() : run[-1].end()]]


def known_names(texts: Iterable[str], lower: set[str] | None = None) -> set[str]:
    """Lower-cased words, word pairs and years of the given texts, for `unknown_names`.

    Given a set, `lower` also gains the words the texts write in lower case (ordinary words,
    not names; see `rag.understand.facts.names_person`): one pass over a large corpus instead of
    two.
    """
    known: set[str] = set()
    for t in texts:
        found = _WORD.findall(t)
        if lower is not None:
            lower.update(w for w in found if w.islower())
        words = [w.lower() for w in found]
        known.update(words)
        known.update(f"{a} {b}" for a, b in zip(words, words[1:]))
        known.update(_YEAR.findall(t))
    return known


def parse(
    question: str,
    metas: Mapping[str, DocMeta],
    vocab: set[str],
    uses: Callable[[str], bool] | None = None,
) -> QueryInfo:
    """Everything `rag.understand.question` can read from a question; `uses` tells whether the
    index uses a wording in any form of its words (see `glossary.unnamed_topics`)."""
    asked, question = question, spell_out(question, vocab)
    refs = []
    for m in REFERENCE.finditer(question):
        if ref := items.read(m):
            refs.append((ref.kind, ref.number))
    for m in _REF_BEFORE.finditer(question):
        n = _item_number(m["num"])
        if n is not None:
            refs.append((items.kind_of(m["word"]), n))
    documents = mentioned_documents(question, metas)
    about = topic(question, documents, metas) if documents else ""
    return QueryInfo(
        refs=tuple(dict.fromkeys(refs)),
        documents=documents,
        topic=about,
        unknown_names=_merge_names(
            unknown_names(question, vocab), unnamed_topics(question, vocab, uses)
        ),
        # The parts of a named review ("the key messages of the ABC briefing") are its learning.
        facts=tuple(k for k in facts.asked(question) if not (k == "parts" and documents)),
        asks_response=_ASKS_RESPONSE.search(question) is not None,
        asks_recommendation=_ASKS_RECOMMENDATION.search(question) is not None,
        across_reviews=not documents and _ASKS_ACROSS.search(question) is not None,
        asks_overview=bool(documents) and not refs and not topic_words(about),
        recipient=recipient(about) if documents and not refs else (),
        text=question if question != asked else "",
    )


def _merge_names(names: tuple[str, ...], topics: tuple[str, ...]) -> tuple[str, ...]:
    seen = {n.lower() for n in names}
    return names + tuple(t for t in topics if t not in seen)


def topic(question: str, documents: Iterable[str], metas: Mapping[str, DocMeta]) -> str:
    """The question without the review names it uses, or their partnerships' names.

    Chunk embeddings carry their review's name, so a question that names a review looks
    similar to every passage of it; its topic alone says whether a passage supports it.
    """
    out = question
    for doc_id in documents:
        meta = metas[doc_id]
        names = {*meta.aliases, meta.review or "", meta.partnership or ""} - {""}
        for name in sorted(names, key=len, reverse=True):
            out = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", out, flags=re.IGNORECASE)
    return " ".join(out.split())


def focus(text: str) -> str:
    """The text without conversational frames that carry no topic; the text if little is left."""
    out = " ".join(_FRAMES.sub(" ", text).split())
    # "What did the review say about that?" alone is all frame: keep it as asked.
    return out if len(out) > 10 else text


def mentions_all(words: Iterable[str], text: str) -> bool:
    """Whether every word (or its singular) begins a word of the text; False for no words."""
    stems = [w.lower().removesuffix("s") for w in words]
    low = text.lower()
    return bool(stems) and all(re.search(rf"(?<!\w){re.escape(s)}", low) for s in stems)


def recipient(topic: str) -> tuple[str, ...]:
    """The topic words of whom a recommendation is asked to be for, or () when none is named."""
    m = _RECIPIENT.search(topic)
    return tuple(w for w in topic_words(m["who"]) if w.lower() not in _GENERIC) if m else ()


def topic_words(topic: str) -> list[str]:
    """The words of a question's topic that say what it is about, as the question wrote them."""
    # A contraction is read by its first word: "What's" is "what".
    words = [w for w in _WORD.findall(topic) if _owner(w).lower() not in _NOT_TOPIC]
    return [w for w in dict.fromkeys(words) if number(w) is None]
