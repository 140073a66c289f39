"""Spot personal details in a question, so the UI can warn before answering and never store it.

This is a learning tool over published reviews: a question should never need an identifier.
Detection is deliberately cautious (a false alarm costs one click; a miss stores a person's
details), but each pattern is anchored on structure so ordinary questions pass:

- NHS number: ten digits (spaced 3-3-4 or run together) whose modulus-11 check digit is valid;
- date of birth: a full day-month-year date, or any date after "DOB", "born" or "date of birth";
- UK postcode: outward and inward code, e.g. "SO14 7LU";
- phone number: a UK number (0 or +44 then 9-10 digits) or another +country number;
- email address;
- a person's full name: a common given name followed by a capitalised surname ("Jane
  Smith's"), or a title and a surname ("Mrs Okafor"). A name is never a reason to abstain:
  it is removed from what is searched, like any other detail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.core.words import common_caps, words

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_NHS = re.compile(r"(?<![\d+])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_WORD_DATE = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTHS})\.?,?\s+(\d{{4}})\b"
    rf"|\b({_MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b",
    re.IGNORECASE,
)
_DOB_CUE = re.compile(
    rf"\b(?:d\.?o\.?b\.?|date\s+of\s+birth|born(?:\s+on|\s+in)?|birthday)\s*[:\-]?\s*"
    rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})"
    rf"|(?:{_MONTHS})\s+\d{{4}}|\d{{4}}-\d{{1,2}}-\d{{1,2}})",
    re.IGNORECASE,
)
_POSTCODE = re.compile(
    r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPS-UW\d]?\s?\d[ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44\s?\(?0?\)?\s?|\(?0)(?:\d[\s\-)]?){8,9}\d(?!\d)"
    r"|(?<![\w+])\+(?!44)\d{1,3}(?:[\s-]?\d){6,13}(?!\d)"
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SURNAME = r"[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)*"
_TITLED = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+{_SURNAME}(?:['’]s)?")
# "the Arthur Smith review" names a review, which is published, not a person's detail.
_REVIEW_AFTER = re.compile(
    r"\s+(?:review|case|scr|lcspr|cspr|cpr|inquiry|report|serious case|practice review)\b",
    re.IGNORECASE,
)
# A lookahead, so "Is Ellie Hart" is read at every word: "Is Ellie" must not hide "Ellie Hart".
_FULL_NAME = re.compile(rf"\b(?=(([A-Z][a-z]+)\s+({_SURNAME})(?:['’]s)?))")

LABELS = {
    "nhs_number": "an NHS number",
    "date_of_birth": "a date of birth (or another full date)",
    "postcode": "a postcode",
    "phone": "a phone number",
    "email": "an email address",
    "name": "a person's name",
}


@dataclass(frozen=True)
class Finding:
    """One suspected personal detail: its kind and where it sits in the question."""

    kind: str
    start: int
    end: int

    @property
    def label(self) -> str:
        """A plain-English name for the kind of detail."""
        return LABELS[self.kind]


def nhs_number_valid(digits: str) -> bool:
    """True when a 10-digit string passes the NHS number modulus-11 check."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    # A remainder giving 10 means the number was never issued.
    return check != 10 and check == int(digits[9])


def _valid_day_month(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _dates(text: str) -> list[Finding]:
    found = [Finding("date_of_birth", m.start(), m.end()) for m in _DOB_CUE.finditer(text)]
    for m in _NUMERIC_DATE.finditer(text):
        if _valid_day_month(int(m.group(1)), int(m.group(2))):
            found.append(Finding("date_of_birth", m.start(), m.end()))
    for m in _ISO_DATE.finditer(text):
        if _valid_day_month(int(m.group(3)), int(m.group(2))):
            found.append(Finding("date_of_birth", m.start(), m.end()))
    for m in _WORD_DATE.finditer(text):
        day = m.group(1) or m.group(5)
        if 1 <= int(day) <= 31:
            found.append(Finding("date_of_birth", m.start(), m.end()))
    return found


def find_personal_details(text: str, reviews: Iterable[str] = ()) -> tuple[Finding, ...]:
    """Every suspected personal detail in `text`, in order, overlaps removed; `reviews` are
    review names and aliases the index holds, never a person's detail."""
    text = text or ""
    found: list[Finding] = []
    for m in _NHS.finditer(text):
        if nhs_number_valid("".join(m.groups())):
            found.append(Finding("nhs_number", m.start(), m.end()))
    found += _dates(text)
    found += [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    found += [Finding("postcode", m.start(), m.end()) for m in _POSTCODE.finditer(text)]
    found += [Finding("phone", m.start(), m.end()) for m in _PHONE.finditer(text)]
    found += _names(text, frozenset(r.lower() for r in reviews))
    # Earlier kinds win an overlap (a valid NHS number is not also a phone number); two
    # overlapping findings of one kind merge into one span.
    kept: list[Finding] = []
    for f in found:
        clash = next((k for k in kept if f.start < k.end and k.start < f.end), None)
        if clash is None:
            kept.append(f)
        elif clash.kind == f.kind:
            merged = Finding(f.kind, min(f.start, clash.start), max(f.end, clash.end))
            kept[kept.index(clash)] = merged
    return tuple(sorted(kept, key=lambda f: f.start))


def _names(text: str, reviews: frozenset[str]) -> list[Finding]:
    """A title and surname, or a common given name and a capitalised surname; not the name of
    a review (one the index holds, or one the question calls a review or case)."""
    given = words("given_names")
    # A common capitalised word ("Safeguarding", "Health") is not a surname.
    not_surnames = common_caps() | words("months") | words("days") | words("organisation_words")
    spans = [(m.start(), m.end()) for m in _TITLED.finditer(text)]
    for m in _FULL_NAME.finditer(text):
        surname = re.sub(r"['’]s$", "", m[3]).lower()
        if m[2].lower() in given and surname not in not_surnames:
            spans.append((m.start(1), m.end(1)))
    return [
        Finding("name", s, e)
        for s, e in spans
        if not _REVIEW_AFTER.match(text, e) and text[s:e].lower() not in reviews
    ]


def has_personal_details(text: str) -> bool:
    """True when `text` appears to contain a personal detail."""
    return bool(find_personal_details(text))


def describe(findings: tuple[Finding, ...]) -> str:
    """The kinds of detail found, as a phrase: 'an NHS number and a postcode'."""
    labels = list(dict.fromkeys(f.label for f in findings))
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


REDACTED = "[removed]"


def redact(text: str, findings: tuple[Finding, ...] | None = None) -> str:
    """`text` with every suspected personal detail replaced by '[removed]'."""
    findings = find_personal_details(text) if findings is None else findings
    for f in sorted(findings, key=lambda f: f.start, reverse=True):
        text = text[: f.start] + REDACTED + text[f.end :]
    return text


def without_names(question: str, reviews: Iterable[str] = ()) -> str:
    """The question with people's names removed: never searched, nor a reason to abstain."""
    names = tuple(f for f in find_personal_details(question, reviews) if f.kind == "name")
    return redact(question, names) if names else question
