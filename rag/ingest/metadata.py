"""Metadata read from a review document's own text, for a document without a catalog entry.

Reads the national repository cover sheet ("Title:", "LSCB:", "Author:", "Date of
publication:"), the title block before the body, and the opening pages. Every word table is in
rag/data/metadata.toml: the code knows layouts, not reviews, places or people.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

from rag.core.numbers import NUMBERED
from rag.core.text import LEADER
from rag.ingest import metadata_words as mw
from rag.ingest.metadata_words import canonical_type

__all__ = ["Inferred", "canonical_type", "infer_metadata"]

_HEAD = 6000  # the cover, title block and opening pages: all that is read for most fields
_EARLY = 3000  # the "first part" where a partnership or review name is looked for
_YEAR = re.compile(r"\b(?:199\d|20[0-3]\d)\b")
_SEPARATORS = re.compile(r"\s+[–—-]\s+|:\s+")
_PAGE = re.compile(r"^(?:page\s+)?\d+(?:\s+of\s+\d+)?$|\bpage\s+\d+\s+of\s+\d+$", re.I)
_NUMBERED = re.compile(rf"^{NUMBERED}\s")
_FIELD = re.compile(r"^([A-Za-z][A-Za-z ]{0,40}?)\s*:\s*(.+)$")
_BOLD_LABEL = re.compile(r"^\s*(?:[-*]\s+)?\*\*[^*\n]{1,40}:\s*\*\*")
_THEMATIC = re.compile(
    r"\bThematic\s+(?:Serious Case\s+|Learning\s+)?Review(?:\s*[–—:-]\s*|\s+(?:of|into|on)\s+)"
    r"([^\n.;()]{3,80})",
    re.I,
)
_THE_THEMATIC = re.compile(r"\bthe\s+((?:[A-Z][\w-]*\s+){1,4})thematic review\b")


@dataclass(frozen=True)
class Inferred:
    """What a review document's text says about itself; None where it says nothing clear."""

    title: str
    partnership: str | None = None
    partnership_full: str | None = None
    review: str | None = None
    review_type: str | None = None
    kind: str | None = None
    year: int | None = None
    author: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Line:
    text: str  # markup removed
    heading: bool  # a Markdown heading, a wholly bold line or an ALL-CAPS line
    block: int  # lines in its paragraph: a hard-wrapped paragraph is body, not a title
    bold_label: bool  # "**Status:** …": a field of some kind, never a title


def _clean(raw: str) -> str:
    text = re.sub(r"^\s*(?:#{1,6}\s+|>\s*)", "", raw)
    text = re.sub(r"\*\*|__|(?<!\w)[*_]|[*_](?!\w)", "", text)
    return " ".join(text.strip(" #|").split())


def _lines(text: str) -> list[_Line]:
    # A bold run broken over lines is one line, as it was in the source.
    text = re.sub(r"\*\*[^*]+?\*\*", lambda m: " ".join(m.group().split()), text[:_HEAD])
    out = []
    for block in re.split(r"\n\s*\n", text):
        rows = [r for r in block.splitlines() if r.strip()]
        for raw in rows:
            clean = _clean(raw)
            if not clean:
                continue
            raw, letters = raw.strip(), re.sub(r"[^A-Za-z]", "", clean)
            bold = raw.startswith("**") and raw.endswith("**")
            heading = raw.startswith("#") or bold or len(letters) > 3 and letters.isupper()
            out.append(_Line(clean, heading, len(rows), bool(_BOLD_LABEL.match(raw))))
    return out


def _junk(line: _Line) -> bool:
    """Disclaimers, markings, page furniture, contents and cover-sheet labels."""
    text, low = line.text, line.text.casefold()
    if not re.search(r"[A-Za-z]{2}", text) or _PAGE.search(text) or LEADER.search(text):
        return True
    upper = " ".join(re.sub(r"[–—-]", " ", text.upper()).split())
    data = mw.data()
    return (
        any(low.startswith(d) for d in data["disclaimers"])
        or any(upper.startswith(m) for m in data["markings"])
        or low.strip(": ") in data["contents"]
        or any(p in low for p in data["cover_phrases"])
    )


def _field(line: _Line) -> tuple[str, str] | None:
    """(field, value) of a cover-sheet line: "Label: value", "Label | value" or "Written by X"."""
    cells = [c.strip() for c in line.text.strip("|").split("|")]
    if len(cells) >= 2:
        label, value = cells[0], " ".join(c for c in cells[1:] if c)
    elif m := _FIELD.match(line.text):
        label, value = m.groups()
    elif line.text.casefold().startswith("written by "):
        label, value = "written by", line.text[11:]
    else:
        return None
    label = label.strip(" *").casefold()
    for name, labels in mw.data()["labels"].items():
        if label in labels and value.strip():
            return name, value.strip()
    return None


def _is_body(line: _Line) -> bool:
    words = len(line.text.split())
    sentence = line.text.endswith(".") and words >= 10
    return (words >= 20 or line.block >= 3 and words >= 8 or sentence) and not line.heading


def _front(lines: list[_Line]) -> list[_Line]:
    """The lines before the body starts: title block, cover sheet, contents."""
    out = []
    for line in lines:
        if _is_body(line) and not _junk(line) and not _field(line):
            break
        out.append(line)
    return out


def _partnerships(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, place, full name) of each "<Place> Safeguarding Children Partnership"."""
    data = mw.data()
    names = [*data["partnership_bodies"], *data["body_abbreviations"]]
    joiners, not_place = data["place_joiners"].split(), set(data["not_place"].split())
    # Up to five capitalised words (or joiners, "Brighton and Hove") right before the body name.
    words = re.compile(rf"(?:(?:[A-Z][\w'’.&-]*|{'|'.join(joiners)})[ \t]+){{1,5}}$")
    out = []
    for name in names:
        flags = 0 if name.isupper() else re.I
        body = r"\s+".join(map(re.escape, name.split()))
        for m in re.finditer(rf"(?<![\w-]){body}(?![\w])", text, flags):
            found = words.search(text, max(0, m.start() - 80), m.start())
            place = found.group().split() if found else []
            while place and (place[0].casefold() in not_place or place[0] in joiners):
                place.pop(0)
            # "Northmoor Local" before "Safeguarding Children Board": the place ends earlier.
            while place and (place[-1].casefold() in not_place or place[-1] in joiners):
                place.pop()
            if place:
                start = m.start() - len(" ".join(place)) - 1
                out.append((start, m.end(), " ".join(place), f"{' '.join(place)} {m.group()}"))
    return sorted(out, key=lambda p: (p[0], -p[1]))


def _partnership(field: str | None, text: str) -> tuple[str | None, str | None]:
    """(place, full name): the cover sheet's partnership, else the first one named early on."""
    places = _partnerships(field or "") or _partnerships(text[:_EARLY])
    if places:
        return _recase(places[0][2], text), _recase(places[0][3], text)
    return None, field


def _generic(text: str, only_partnership: bool = False) -> bool:
    """Whether a title line is only a partnership's name, type and kind words, and filler."""
    covered = [(a, b) for a, b, *_ in _partnerships(text)]
    if only_partnership and not covered:
        return False
    if not only_partnership:
        covered += [(a, b) for a, b, _ in mw.spans(text, "review_types") + mw.spans(text, "kinds")]
    for a, b in covered:
        text = text[:a] + " " * (b - a) + text[b:]
    rest = re.findall(r"[A-Za-z][\w'’-]*", text)
    return all(w.casefold() in mw.words("title_filler") for w in rest)


def _title(lines: list[_Line], front: list[_Line]) -> str | None:
    """The first heading-like line of the title block, with its continuation."""
    parts: list[str] = []
    for line in front:
        if _junk(line):
            continue
        usable = not (_field(line) or line.bold_label or _NUMBERED.match(line.text))
        usable = usable and len(line.text.split()) <= 20 and not _is_body(line)
        usable = usable and not line.text.endswith(":")
        if not (usable and (line.heading or line.block <= 2 and not line.text.endswith("."))):
            if parts:
                break
            continue
        if not parts and _generic(line.text, only_partnership=True):
            continue  # a letterhead: the partnership's name alone
        parts.append(line.text)
        last = parts[-1].split()[-1].casefold()
        if len(parts) > 1 or not (_generic(parts[0]) or last in mw.words("small_words")):
            break
    if not parts:
        headed = [x for x in lines if x.heading and not _junk(x) and not _NUMBERED.match(x.text)]
        return headed[0].text if headed else None
    return _join(parts)


def _join(parts: list[str]) -> str:
    title = parts[0]
    for part in parts[1:]:
        prefix = next(
            (p for p in mw.data()["subject_prefixes"] if part.casefold().startswith(p)), ""
        )
        if prefix or title.split()[-1].casefold() in mw.words("small_words"):
            title = f"{title} {part[len(prefix) :].strip()}"
        else:
            title = f"{title} – {part}"
    return title


def _recase(text: str, doc: str) -> str:
    """An ALL-CAPS line in title case, keeping the acronyms the document's prose uses."""
    if not re.search(r"[A-Z]{2}", text) or re.search(r"[a-z]", text):
        return text
    mixed = [ln for ln in doc[:_HEAD].splitlines() if re.search(r"[a-z]", ln)]
    acronyms = set(re.findall(r"\b[A-Z]{2,}\d*\b", "\n".join(mixed)))
    words, out = text.split(" "), []
    for i, word in enumerate(words):
        core = word.strip("()[]:,;–-")
        after_subject = i and words[i - 1].casefold() in mw.words("subjects") and len(core) <= 3
        if core in acronyms or any(c.isdigit() for c in core) or after_subject:
            out.append(word)
        elif i and core.casefold() in mw.words("small_words"):
            out.append(word.lower())
        else:
            out.append(re.sub(r"[A-Za-z].*", lambda m: m.group().capitalize(), word, count=1))
    return " ".join(out)


@cache
def _subject_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    subjects = mw.data()["subjects"]
    one, many = ("|".join(map(re.escape, subjects[k])) for k in ("one", "many"))
    leads = "|".join(r"\s+".join(map(re.escape, w.split())) for w in subjects["name_leads"])
    code = r"[A-Z]\d?"
    return (
        re.compile(rf"\b({one})\s+([A-Z]{{1,3}}\d{{0,3}}|[A-Z][a-z]+)\b"),
        re.compile(rf"\b(?:{many})\s+{code}(?:\s*,\s*{code})*\s+and\s+{code}\b"),
        re.compile(rf"\b(?:{leads})\s+([A-Z][a-z]+)\b(?!\s+[A-Z])"),
    )


def _code_names(text: str) -> list[str]:
    """Review subjects such as "Child W", "Baby K", "Family S4", in order of appearance."""
    single, plural, _ = _subject_patterns()
    found = []
    for m in single.finditer(text):
        kind, name = m.groups()
        code = not name[1:].islower() or len(name) == 1
        # Some subjects are only ever named by a code: "Family Court" names no one.
        named = code or kind not in mw.data()["subjects"]["coded"]
        if named and name.casefold() not in mw.words("not_names"):
            found.append((m.start(), f"{kind} {name}"))
    found += [(m.start(), " ".join(m.group().split())) for m in plural.finditer(text)]
    return [name for _, name in sorted(found)]


def _review_in_title(title: str) -> str | None:
    codes = _code_names(title)
    if codes:
        return codes[0]
    if (m := _THEMATIC.search(title)) and not _generic(m.group(1)):
        return m.group().strip()
    parts = _SEPARATORS.split(title)
    # "<type or kind> – <name>" or "<name>: <type or kind>": the part that is not generic.
    if len(parts) < 2 or not any(_generic(p) for p in parts):
        return None
    for part in parts:
        words = part.split()
        first = words[0].strip("(") if words else ""
        named = first[:1].isupper() and first.casefold() not in mw.words("not_names")
        if 0 < len(words) <= 4 and named and not _generic(part) and not _partnerships(part):
            return part.strip()
    return None


def _review(title: str, fields: dict[str, str], text: str) -> str | None:
    """The review's name: from the title, then a cover field, then the opening pages."""
    found = _review_in_title(title)
    if found or "review" in fields and (found := _review_in_title(fields["review"])):
        return found
    early = text[:_EARLY]
    codes = Counter(_code_names(early))
    if codes:
        return codes.most_common(1)[0][0]  # the subject recurs; a sibling is named once
    if m := _THE_THEMATIC.search(early):
        return m.group().strip()
    for m in _subject_patterns()[2].finditer(early):
        name = m.group(1)
        if (
            name.casefold() not in mw.words("not_names")
            and len(re.findall(rf"\b{name}\b", text)) > 1
        ):
            return name
    return None


def _year(fields_dates: list[str], front: list[_Line], text: str) -> int | None:
    """Publication year: a cover date, then a date in the title block, then the opening."""
    for value in fields_dates:
        if m := _YEAR.search(value):
            return int(m.group())
    for region in (" \n".join(x.text for x in front), text[:1500]):
        for m in _YEAR.finditer(region):
            before = region[max(0, m.start() - 40) : m.start()].casefold().split()
            if not set(w.strip("(,'’") for w in before[-4:]) & mw.words("citation_words"):
                return int(m.group())
    return None


def _author(value: str | None) -> str | None:
    """The author's or authors' names, without roles, ranks or parentheses."""
    if not value:
        return None
    names = []
    for person in re.split(r"\s+and\s+|\s*&\s*|;\s*", re.sub(r"\([^)]*\)", " ", value)):
        words = person.split(",")[0].split()
        while words and words[0].casefold().strip(".") in mw.words("drop_titles"):
            words.pop(0)
        if words and words[0][:1].isupper():
            names.append(" ".join(words))
    return " and ".join(names) or None


def _stem_title(stem: str) -> str:
    words = [w for w in re.split(r"[-_\s]+", stem) if w]
    caps = mw.words("stem_caps")
    return " ".join(w.upper() if w in caps or len(w) == 1 else w.capitalize() for w in words)


def _aliases(review: str | None, partnership: str | None, review_type: str | None) -> tuple:
    if not review:
        return ()
    if review_type == "Thematic review" or _THEMATIC.search(review):
        topic = _THEMATIC.search(review)
        theme = topic.group(1).strip() if topic else ""
        # A thematic review is also called by its theme's head noun: "the neglect review".
        head = theme.split()[-1] if theme else ""
        out = [review, "thematic review", *([theme] if theme else [])]
        out += [f"{head} review"] if len(head) > 3 else []
        out += [f"{partnership} thematic"] if partnership else []
    else:
        out = [review, f"{review} review", *([f"{partnership} {review}"] if partnership else [])]
        out += [f"{review_type} {review}"] if review_type else []
        name = re.sub(r"\s*\(.*?\)", "", review)
        last = name.split()[-1]
        # "Baby Ava" is also asked about as "Ava", "Sam (aged 15)" as "Sam"; an anonymising
        # code ("Family T7") names the case's people too ("Ms T7"), a bare letter ("W") does not.
        code = re.fullmatch(r"[A-Z]{1,3}\d{1,3}[A-Z]?", last) is not None
        out += [last] if (len(last) > 1 and last[1:].islower()) or code else []
    # "the Greyford review": a partnership's name with "review" names its reviews.
    out += [f"{partnership} review"] if partnership else []
    seen: dict[str, str] = {}
    return tuple(seen.setdefault(a.casefold(), a) for a in out if a.casefold() not in seen)


def infer_metadata(text: str, stem: str) -> Inferred:
    """Metadata read from a review document's own text; `stem` (the file name) is a fallback."""
    lines = _lines(text or "")
    front = _front(lines)
    fields: dict[str, str] = {}
    dates = []
    for line in front + lines[len(front) : len(front) + 40]:
        if found := _field(line):
            fields.setdefault(*found)
            dates += [found[1]] if found[0] == "date" else []
    read = _recase(fields.get("title") or _title(lines, front) or "", text)
    place, full = _partnership(fields.get("partnership"), text)
    front_text = "\n".join(x.text for x in front)
    stem_words = " ".join(re.split(r"[-_]+", stem))
    title = read or _stem_title(stem)
    sources = [read, fields.get("review_type", ""), fields.get("review", ""), front_text]
    types = (mw.first(s, "review_types") for s in [*sources, text[:_EARLY]])
    review_type = next((t for t in types if t), None) or mw.first(stem_words, "stem_types")
    kind = (
        mw.first(read, "kinds")
        or mw.first(front_text, "kinds")
        or mw.first(stem_words, "stem_kinds")
    )
    if not kind and review_type:
        kind = mw.data()["defaults"]["kind"]
    review = _review(read, fields, text)
    return Inferred(
        title=title,
        partnership=place,
        partnership_full=full,
        review=review,
        review_type=review_type,
        kind=kind,
        year=_year(dates, front, text),
        author=_author(fields.get("author")),
        aliases=_aliases(review, place, review_type),
    )
