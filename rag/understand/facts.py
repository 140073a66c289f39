"""The kind of fact a question asks for (a time, an amount, a person or place, a rating, a
court outcome), and whether the quotes chosen for it state one.

A passage on the right topic that lacks the fact does not answer the question: "How long …?"
is not answered by a recommendation that gives no time, nor "Who wrote the review?" by one that
names nobody. The corpus does not hold the fact, however close its passages are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Set

from rag.core.numbers import CARDINAL, NUMBERED, SEVERAL
from rag.core.stemming import stemmed
from rag.core.text import WORD, sentences
from rag.core.words import frame_words, stopwords, words


def _either(name: str) -> str:
    """A regex alternation of one word list of rag/data/words.toml, longest first."""
    return "|".join(map(re.escape, sorted(words(name), key=len, reverse=True)))


# Questions whose answer must be a length of time, a deadline or a frequency.
_ASKS_DURATION = re.compile(
    r"\bhow (?:long|soon|quickly|often|frequently)\b|\btime ?(?:scales?|frames?)\b"
    r"|\bhow many (?:minutes|hours|days|working days|weeks|months|years)\b|\bwithin how\b",
    re.IGNORECASE,
)
# Questions whose answer must be an amount: a dose, a sum, a quantity ("amount to" is a verb),
# a count of things in the world, an average or a share. "How many recommendations …" counts
# the reviews' own items (words.toml `review_items`), which the answer lists; "how much" of
# knowing ("how much do staff know / understand / realise") asks how well (words.toml
# `knowing`).
_ASKS_AMOUNT = re.compile(
    rf"\bhow much\b(?!(?:\s+[\w'’]+){{0,3}}?\s+(?:{_either('knowing')})\b)"
    r"|\bdos(?:e|es|age|ages|ing)\b|\bamounts?\b(?!\s+to\b)|\bquantit(?:y|ies)\b"
    rf"|\bhow many\b(?!\s+(?:of\s+the\s+)?(?:{_either('review_items')})\b)"
    r"|\baverage\b|\bpercentage\b|%|\bper ?cent\b|\bproportion\b|\bstatistics\b",
    re.IGNORECASE,
)
# Duration questions a rate also answers: "how often are home visits made?" -> "in 80% of …".
_ASKS_FREQUENCY = re.compile(r"\bhow (?:often|frequently)\b", re.IGNORECASE)


_DURATION_WORDS = rf"\d+|a|an|{CARDINAL}"
_OFTEN = r"daily|weekly|fortnightly|monthly|quarterly|annually|yearly|biannually"
# "3 months", "within 24 hours", "ten working days", "every two weeks", "annually"...
_DURATION = re.compile(
    rf"\b(?:{_DURATION_WORDS})[\s-]+(?:working[\s-]+|calendar[\s-]+)?"
    r"(?:minute|hour|day|week|fortnight|month|year)s?\b"
    rf"|\b(?:{_OFTEN})\b",
    re.IGNORECASE,
)


# "93%", "93 per cent": how often something happens, as a share of occasions.
_RATE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:%|per\s*cent\b|percent\b)", re.IGNORECASE)
# "in two of the seven cases", "4 out of 10 visits": how often, as a count of occasions.
_COUNT = rf"(?:\d+|{CARDINAL})"
_SHARE = re.compile(
    rf"\b{_COUNT}\s+(?:out\s+)?of\s+(?:the\s+|these\s+|those\s+|all\s+)?{_COUNT}\b", re.IGNORECASE
)
# "every 2 months", "annually": how often, which does not say how long or by when.
_EVERY = re.compile(r"\bevery\s+$", re.IGNORECASE)
_ADVERB = re.compile(_OFTEN)


def _states_time(text: str, frequency: bool) -> bool:
    for m in _DURATION.finditer(text):
        says_often = bool(_ADVERB.fullmatch(m.group(0).lower())) or bool(
            _EVERY.search(text[max(0, m.start() - 8) : m.start()])
        )
        if frequency or not says_often:
            return True
    return frequency and (_RATE.search(text) or _SHARE.search(text)) is not None


# A number that is not a year ("Level 2", "5 ml", "twice"), or a time or frequency. A number
# hyphened to a word ("Form-7") is part of a name, not an amount; nor is the end of a year
# span ("2021/22", "2019-20").
_AMOUNT = re.compile(
    r"(?<![A-Za-z]-)(?<!(?:19|20)\d\d[/\-–])\b(?!(?:19|20)\d\d\b)\d+(?:[.,]\d+)?\b"
    rf"|\b(?:{SEVERAL}|hundred|once|twice)\b",
    re.IGNORECASE,
)


# Who wrote or led a review: answered only by a person's name. "Who should chair the meeting?"
# asks for a role, which the reviews do give, so only authorship questions are read this way.
_ASKS_PERSON = re.compile(
    r"\bwho\s+(?:was|is|were|are)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:reviewer|author|writer)s?\b"
    r"|\bwho\s+(?:wrote|authored|conducted|undertook|led|carried\s+out)\s+(?:the|this|that)\s+"
    r"(?:[\w-]+\s+){0,5}?(?:review|report|scr|lcspr)\b"
    r"|\bname\s+of\s+the\s+(?:[\w-]+\s+){0,2}?(?:reviewer|author|writer)s?\b"
    r"|\b(?:reviewer|author)(?:'s|’s)\s+name\b",
    re.IGNORECASE,
)
# The name of a place or person in a case ("What was the name of the hostel they lived in?"),
# which reviews leave out. A programme's or system's name may be one acronym, so those are
# left to the topic (words.toml `named_things`).
_ASKS_NAME = re.compile(
    r"\bnames?\s+of\s+(?:the|her|his|their|that|this|a|an)\b"
    rf"(?!(?:\s+[\w-]+){{0,4}}?\s+(?:{_either('named_things')})\b)",
    re.IGNORECASE,
)
# An inspection grade: "What rating did the inspectorate give …?", "How was it judged at its
# inspection?". The inspectorates' names are data (rag/data/words.toml). "Rate" and "judgement"
# are left out: "the inspection and the rate of referrals", "professional judgement" ask about
# something else.
_ASKS_RATING = re.compile(
    rf"^(?=.*\b(?:{_either('inspection')})\b)(?=.*\b(?:rating|rated|grade|graded|grading|judged)\b)",
    re.IGNORECASE | re.DOTALL,
)
# A criminal outcome. "Sentence" alone is left out: "sum it up in one sentence" is not one.
_ASKS_VERDICT = re.compile(
    r"\b(?:convict(?:ed|ion|ions)?|sentenced|jail(?:ed)?|imprison(?:ed|ment)|prosecut\w*|acquitt\w*"
    r"|verdict|pleaded\s+guilty|found\s+guilty|criminal\s+charges?|charged\s+with)\b"
    r"|\b(?:prison|custodial|jail|criminal)\s+sentences?\b"
    r"|\bwhat\s+sentences?\s+(?:did|was|were|has|have|had)\b(?!\s+the\s+reviews?\b)"
    r"|\bsentences?\s+(?:were\s+|was\s+)?(?:handed|given|passed|imposed|received)\b",
    re.IGNORECASE,
)
# The punishment itself ("What prison sentence did he receive?"): a conviction alone does not
# say it.
_ASKS_SENTENCE = re.compile(
    r"\b(?:prison|custodial|jail)\s+sentences?\b|\bwhat\s+sentences?\b|\bsentenced\s+to\b"
    r"|\bhow\s+long\b[^?]*\b(?:prison|jail|custody|sentence)\b",
    re.IGNORECASE,
)
_STATES_SENTENCE = re.compile(
    r"\b(?:sentenced|imprison(?:ed|ment)|jailed|custodial|suspended|detention|community\s+order"
    r"|hospital\s+order)\b|\b(?:prison|jail)\s+(?:term|sentence)s?\b",
    re.IGNORECASE,
)
# How far a review's recommendations have got: a progress rating or status, or whether they
# are complete. Only a passage a review gives to its responses or progress says so (see
# rag.answer.gates.missing); a recommendation does not report its own progress.
_ASKS_PROGRESS = re.compile(
    r"\bprogress\s+(?:ratings?|status|updates?)\b|\b(?:rag|red|amber|green)\s+(?:rating|status)\b"
    r"|\brated\b(?:\s+[\w'’-]+){0,6}?\s+(?:as\s+)?(?:complete|completed|green|amber|red)\b"
    r"|\b(?:status|progress)\s+of\s+(?:the\s+)?(?:recommendation|action)s?\b"
    r"|\bbeen\s+(?:completed|closed|signed\s+off)\b",
    re.IGNORECASE,
)

# What an abbreviation stands for: answered only where a passage spells it out.
_ASKS_EXPANSION = re.compile(
    r"\bstands?\s+for\b|\bshort\s+for\b|\b(?:acronym|initials)\b|\bspel(?:t|led)\s+out\b",
    re.IGNORECASE,
)

# The parts of a named thing: "What are the four STAR messages?", "the stages of the ABC
# escalation procedure". Reviews often name such a thing without setting out its parts, and a
# passage that only names it does not answer. "What are the steps a GP should take?" names
# nothing and is left to the topic. The words for parts are data (words.toml `parts`).
_PARTS = rf"({_either('parts')})"
_NAMED = r"(?:\d+|(?i:two|three|four|five|six|seven|eight|nine|ten)|[A-Z][\w&-]*[A-Z][\w&-]*)"
_ASKS_PARTS = re.compile(
    rf"\b(?i:what\s+(?:are|were)\s+the)\s+(?:{_NAMED}\s+){{1,3}}(?:[\w-]+\s+)?(?i:{_PARTS})\b"
    rf"|\b(?i:{_PARTS})\s+(?i:of|in)\s+(?i:the\s+)?{_NAMED}\b"
)

_ASKS = {
    "duration": _ASKS_DURATION,
    "amount": _ASKS_AMOUNT,
    "frequency": _ASKS_FREQUENCY,
    "person": _ASKS_PERSON,
    "name": _ASKS_NAME,
    "rating": _ASKS_RATING,
    "verdict": _ASKS_VERDICT,
    "expansion": _ASKS_EXPANSION,
    "parts": _ASKS_PARTS,
    "progress": _ASKS_PROGRESS,
}


# A number asked inside what someone is obliged to report: "Shouldn't the plan be telling us
# how long it will take?", "Are staff expected to record how often they visit?" ask whether the
# report is due, which a passage calling for it answers without giving the number. The number
# asked before the obligation stays asked ("How often should staff record it?"), and so does
# one with no reporting verb ("Should it stay open, and for how long?"). Both word lists are
# data (rag/data/words.toml).
_REPORTED = re.compile(
    rf"\b(?:{_either('obligation')})(?:\s+to)?(?:\s+[\w'’]+){{0,6}}?\s+"
    rf"(?:{_either('reporting_verbs')})\b(.*)",
    re.IGNORECASE | re.DOTALL,
)
_NUMBERS = {"duration", "amount", "frequency"}


def _direct(question: str) -> str:
    """The question without what someone is obliged to report."""
    return " ".join(
        s[: m.start(1)] if (m := _REPORTED.search(s)) else s for s in sentences(question)
    )


def asked(question: str) -> tuple[str, ...]:
    """The kinds of fact the question asks for: duration, amount, frequency, person, name,
    rating, verdict, expansion (what an abbreviation stands for), parts (of a named thing),
    progress (how far recommendations have got; a passage's role, not its words, states it)."""
    direct = _direct(question)
    return tuple(
        kind
        for kind, pattern in _ASKS.items()
        if pattern.search(direct if kind in _NUMBERS else question)
    )


_CALENDAR = words("months") | words("days")
# Two capitalised words in a row, overlapping ("In Ruth Hale" holds "Ruth Hale").
_TITLE_PAIR = re.compile(r"(?=\b([A-Z][a-z]+)\s+([A-Z][a-z]+)\b)")
_ROLE = re.compile(r"\b(?:reviewers?|authors?)\b", re.IGNORECASE)


def names_person(text: str, common: Set[str]) -> bool:
    """Whether the text holds a person's or a place's name: two capitalised words the corpus
    never writes in lower case ("Ruth Hale"), not a body ("Northtown Safeguarding …"), a date,
    or a generic name ("the Family Support Unit")."""
    return any(
        all(w.lower() not in common and w.lower() not in _CALENDAR for w in m.groups())
        for m in _TITLE_PAIR.finditer(text)
    )


# What a name question describes, up to the end of its clause: "the name of the 16-year-old boy
# who was stabbed, in the … review" describes "the 16-year-old boy who was stabbed".
_NAME_OF = re.compile(r"\bnames?\s+of\s+([^,;:?!]*)", re.IGNORECASE)


def described(question: str) -> frozenset[str]:
    """The stems of the words a name question describes its person or place by."""
    m = _NAME_OF.search(question)
    skip = stopwords() | frame_words()
    found = [w.removesuffix("'s").removesuffix("’s") for w in WORD.findall(m.group(1))] if m else []
    return stemmed(w for w in found if len(w) > 2 and w.lower() not in skip)


def names_described(text: str, common: Set[str], about: Set[str]) -> bool:
    """Whether the text names a person or place and speaks of what the question described: a
    report's list of its reviewers names no one the question asked about."""
    return names_person(text, common) and (not about or bool(stemmed(WORD.findall(text)) & about))


def names_author(text: str, common: Set[str]) -> bool:
    """Whether the text names a person and speaks of a reviewer or author: it may say who wrote
    a review, however little its wording shares with the question."""
    return _ROLE.search(text) is not None and names_person(text, common)


_GRADE = r"(?:outstanding|good|requires\s+improvement|inadequate)"
_STATES_RATING = re.compile(
    rf"\b(?:rated|judged|graded|rating|grade|judge?ment)\b[^.]{{0,40}}\b{_GRADE}\b"
    rf"|\b{_GRADE}\b[^.]{{0,20}}\b(?:rating|grade|judge?ment)\b",
    re.IGNORECASE,
)
_STATES_VERDICT = re.compile(
    r"\b(?:convicted|conviction|sentenced|imprisoned|imprisonment|jailed|custodial|acquitted"
    r"|pleaded\s+guilty|found\s+guilty|prison|prosecuted|prosecution)\b",
    re.IGNORECASE,
)


def names_parts(text: str, question: str) -> bool:
    """Whether the text speaks of the parts the question asks for ("messages", "stages")."""
    m = _ASKS_PARTS.search(question)
    part = (m.group(1) or m.group(2)).lower() if m else ""
    # "criteria" -> "criteri" also finds "criterion"; "messages" -> "message".
    return bool(part) and re.search(rf"\b{part[:-1]}", text, re.IGNORECASE) is not None


_ABBREVIATION = re.compile(r"\b[A-Z]{2,8}\b")
_LINKS = words("initials_links")


def spells_out(text: str, question: str) -> bool:
    """Whether the text spells out an abbreviation of the question: "… Review Group (QRG)",
    or words whose initials make it ("Early Help Hub" for EHH)."""
    initials = "".join(w[0].upper() for w in re.findall(r"[\w&]+", text) if w.lower() not in _LINKS)
    return any(f"({a})" in text or a in initials for a in set(_ABBREVIATION.findall(question)))


# A numbered paragraph's own number ("4.2.2 The emergency department …") is not an amount; a
# dose that opens a sentence ("2.5 ml …") is not followed by a capital.
_PARAGRAPH_NUMBER = re.compile(rf"^\s*{NUMBERED}\s+(?=[A-Z])")


def _states_amount(text: str) -> bool:
    text = _PARAGRAPH_NUMBER.sub("", text, count=1)
    return bool(_AMOUNT.search(text) or _DURATION.search(text))


def fact_tests(
    kinds: Iterable[str], common: Set[str], question: str = ""
) -> dict[str, Callable[[str], bool]]:
    """For each kind of fact asked, a test of whether a text states it.

    `common` is the corpus's lower-case words, which tell a person's name from other words.
    """
    kinds = set(kinds)
    about = described(question) if "name" in kinds else frozenset()
    tests = {
        "duration": lambda t: _states_time(t, "frequency" in kinds),
        "amount": _states_amount,
        # Person questions ask who wrote or led a review, so the text must name a person as
        # its reviewer or author, not any capitalised pair.
        "person": lambda t: names_author(t, common),
        "name": lambda t: names_described(t, common, about),
        "rating": lambda t: _STATES_RATING.search(t) is not None,
        "verdict": lambda t: (
            (_STATES_SENTENCE if _ASKS_SENTENCE.search(question) else _STATES_VERDICT).search(t)
            is not None
        ),
        "expansion": lambda t: spells_out(t, question),
        "parts": lambda t: names_parts(t, question),
    }
    return {kind: test for kind, test in tests.items() if kind in kinds}
