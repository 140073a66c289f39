"""Safeguarding words a question may use: practitioners' abbreviations ("CP plan", "HV") and
the specific safeguarding issues (county lines, FGM, private fostering) a corpus may not cover."""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.core.resources import read_toml

_GLOSSARY = read_toml("glossary.toml")
# Abbreviations with the wordings documents spell them out in (rag/data/glossary.toml).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    k: tuple(v) for k, v in _GLOSSARY["abbreviations"].items()
}
# Written in capitals as a word of its own, with an optional plural ("HVs", "PCs").
_ABBREVIATION = re.compile(
    r"(?<![\w&])("
    + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(s?)(?![\w&])"
)


def _uses(wording: str, vocabulary: set[str]) -> bool:
    """Whether the corpus uses the wording: each pair of its words, the second maybe plural."""
    words = wording.lower().split()
    pairs = [f"{a} {b}" for a, b in zip(words, words[1:])] or words
    return all(p in vocabulary or p + "s" in vocabulary for p in pairs)


def spell_out(question: str, vocabulary: set[str]) -> str:
    """The question with abbreviations the corpus never uses in the corpus's own words.

    "Does coming off a CP plan mean…" is about child protection plans; read as a name the
    reviews never use, it would be abstained on, and neither search would find "child
    protection". An abbreviation is left as written when the corpus uses it, or uses none of
    its wordings: "FGM" stays an unknown name, so a question about it still abstains.
    """

    def words(m: re.Match) -> str:
        abbreviation, plural = m.group(1), m.group(2)
        if abbreviation.lower() in vocabulary:
            return m.group(0)
        used = [w for w in ABBREVIATIONS[abbreviation] if _uses(w, vocabulary)]
        return used[0] + plural if used else m.group(0)

    return _ABBREVIATION.sub(words, question)


# Specific safeguarding issues, as statutory guidance names them (rag/data/glossary.toml).
TOPICS: tuple[str, ...] = tuple(_GLOSSARY["topics"]["issues"])
_TOPIC = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(t) for t in sorted(TOPICS, key=len, reverse=True))
    + r")(?:s|ed|ing)?(?![\w-])",
    re.IGNORECASE,
)


def unnamed_topics(
    question: str, vocabulary: set[str], uses: Callable[[str], bool] | None = None
) -> tuple[str, ...]:
    """The specific safeguarding issues the question names that the corpus never uses.

    `uses(wording)` says whether a passage of the index uses every word of a wording in some
    form (stemmed), so "home educated" is used by reviews that say "home education".
    """
    found = (m.group(1).lower() for m in _TOPIC.finditer(question))
    return tuple(dict.fromkeys(t for t in found if not _topic_used(t, vocabulary, uses)))


def _topic_used(topic: str, vocabulary: set[str], uses: Callable[[str], bool] | None) -> bool:
    # "Fabricated and Induced Illness" is the same issue as "fabricated or induced illness",
    # and a corpus that says "FII" or "CSE" names it too.
    wordings = {topic, topic.replace(" or ", " and "), topic.replace(" and ", " or ")}
    wordings |= {a for a, spelled in ABBREVIATIONS.items() if topic in spelled}
    return any(_uses(w, vocabulary) or (uses is not None and uses(w)) for w in wordings)
