"""Split a review document into chunks: one per recommendation or finding, plus its named parts.

Offsets always point into `Document.text`; a chunk's text is an exact slice, never rewritten.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rag.core import items, numbers
from rag.core.models import Chunk, Document
from rag.core.settings import Settings
from rag.core.text import is_contents, strip_span
from rag.ingest.roles import span_roles
from rag.ingest.splitting import split_section
from rag.ingest.tables import table_rows

SEP = " › "

_ITEM = items.pattern()
# After an item label: ':' or a dash, or '.' at the start of a paragraph, may introduce text on
# the same line, so a hard-wrapped prose line "Recommendation 3. The board agreed..." is not
# taken for a heading.
_AFTER_LABEL = re.compile(r"(?:\s*\([^)]{1,40}\))?\s*(?P<sep>[:.–—-])?\s*")
_SECTION_NUMBER = re.compile(rf"{numbers.SECTION}\s+")
# A Markdown setext or plain-text underline: the line above it is a heading.
_UNDERLINE = re.compile(r"\s*(?:={3,}|-{3,}|~{3,})\s*")
_GROUP = re.compile(r"(?:the\s+)?recommendations(?:\s+(?:for|to)\s+.+)?", re.I)
_STATEMENT = re.compile(
    r".+?\s(?:state[sd]?|respond(?:s|ed)?|(?:ha(?:ve|s)\s+)?provided\s+(?:the\s+following|a|an)\s"
    r"+(?:response|statement|update)).*",
    re.I,
)
_CONTINUED = re.compile(r"(?P<base>.+?)[\s(,–—-]+(?:continued|cont(?:'d|\.|d)?)\)?", re.I)
_MD = re.compile(r"\s{0,3}#{1,6}\s+")
_BULLET = re.compile(r"\s*(?:[-*•+]\s+)?")
_SUBITEM = re.compile(r"\s*(?:[-*•+]\s+)?\(?(?P<id>[a-z]{1,3}|\d{1,2})\)\s")
_BACKGROUND = r"^(?:the\s+)?(?:background|review|context|overview|methodology|case summary)\b"
_KINDS = [
    (kind, re.compile(rx, re.I))
    for kind, rx in [
        ("introduction", r"^introduction\b"),
        ("key_themes", r"\bthemes?\b"),
        ("key_learning", r"\blearning\b|\blessons\b"),
        ("good_practice", r"\bgood practice\b"),
        ("background", _BACKGROUND),
    ]
]


@dataclass
class _Head:
    label: str
    kind: str  # a Chunk kind, or "group" for a grouping of recommendations
    inline: int | None = None  # where recommendation text begins on the heading line itself
    line: int = 0
    start: int = 0
    end: int = 0
    rec: tuple[int, int] | None = None  # a table row's item cell
    context: str = ""  # a table row's other cells, with their column names


@dataclass
class _Section:
    start: int
    end: int
    path: list[str]
    kind: str
    rec: tuple[int, int] | None = None
    head_end: int | None = None  # end of the heading line, if the section has one
    context: str = ""


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        out.append((pos, pos + len(line.rstrip("\r\n"))))
        pos += len(line)
    return out


def _bare(raw: str) -> str:
    """The line without markdown heading marks or emphasis."""
    s = _MD.sub("", raw, count=1) if _MD.match(raw) else raw
    return re.sub(r"\*\*|__", "", s).strip()


def _generic_kind(label: str) -> str:
    return next((kind for kind, rx in _KINDS if rx.search(label)), "other")


def _title_like(raw: str, label: str) -> bool:
    """A short line that reads like a title rather than a sentence or list item."""
    core = re.sub(r"^\*\*(.*)\*\*$", r"\1", raw.strip())
    return (
        0 < len(label) <= 70
        and len(label.split()) <= 8
        and (label[0].isupper() or label[0].isdigit())
        and not label.endswith((".", ",", ";", ":", "?", "!"))
        and not re.match(r"\s*(?:[-*•+]\s|\(?[a-z0-9]{1,3}\)\s)", raw)
        and not re.search(r"\*|\]\(|https?:", core)
    )


def _item_head(raw: str, bare: str, para_start: bool) -> _Head | None:
    """A heading that opens a numbered item ("Finding 2", "R1. The partnership should ...")."""
    # A section number may precede the label: "3.1 Finding 1: ...".
    numbered = _SECTION_NUMBER.match(bare)
    m = _ITEM.match(bare, numbered.end() if numbered else 0)
    ref = items.read(m) if m else None
    if ref is None:
        return None
    after = _AFTER_LABEL.match(bare, m.end())
    rest = bare[after.end() :].strip()
    sep = after["sep"]
    if rest and (sep is None or (sep == "." and not para_start)):
        return None
    word = m["word"]
    name = f"{' '.join(word.split()).capitalize()} {m['num']}" if word else m.group(0)
    head = _Head(name, items.chunk_kind(ref.kind))
    # A heading's words after the label are its title; a line's long words are its text.
    long_line = len(rest.split()) > 8 and not _MD.match(raw)
    if rest and (rest.endswith((".", ";", "!", "?")) or long_line):
        at = raw.find(rest)
        head.inline = at if at >= 0 else None
    elif rest:
        head.label += f": {rest}"
    return head


def _classify(raw: str, standalone: bool, para_start: bool = True) -> _Head | None:
    bare = _bare(raw)
    label = bare.rstrip(":").strip()
    # Headings start with a capital: a wrapped prose line "recommendations for the" is not one.
    if not (label[:1].isupper() or label[:1].isdigit()):
        return None
    # An item may carry its whole text on its line, however long.
    if head := _item_head(raw, bare, para_start):
        return head
    if len(label) > 300:
        return None
    # "Response (Police):", "Progress rating: Green" open a part of the item above.
    if items.label_role(bare):
        return None
    if len(label) <= 120 and _GROUP.fullmatch(label):
        return _Head(label, "group")
    if not (standalone or _MD.match(raw)):
        return None
    if bare.endswith(":") and _STATEMENT.fullmatch(label):
        return _Head(label, "response")
    if m := _CONTINUED.fullmatch(label):
        label = m["base"].strip()
    if _MD.match(raw) or (not bare.endswith(":") and _title_like(raw, label)):
        return _Head(label, _generic_kind(label))
    return None


def _is_prose(block: str) -> bool:
    core = block.replace("**", "").strip().rstrip("\"'”’)")
    return core.endswith((".", "!", "?")) or len(core.split()) >= 20


def _headings(text: str, lines: list[tuple[int, int]]) -> list[_Head]:
    blank = [not text[s:e].strip() for s, e in lines]
    rows = {r.line: r for r in table_rows(text, lines)}
    heads = []
    for i, (s, e) in enumerate(lines):
        if blank[i]:
            continue
        if (row := rows.get(i)) is not None:
            # A table row is one item: its label from its first cell, its text the item cell.
            heads.append(_Head(row.label, "recommendation", None, i, s, e, row.item, row.context))
            continue
        if _UNDERLINE.fullmatch(text[s:e]):
            continue
        para_start = i == 0 or blank[i - 1]
        underlined = i + 1 < len(lines) and bool(_UNDERLINE.fullmatch(text[slice(*lines[i + 1])]))
        standalone = para_start and (i + 1 == len(lines) or blank[i + 1] or underlined)
        if underlined and not _item_head(text[s:e], _bare(text[s:e]), para_start):
            label = _bare(text[s:e]).rstrip(":").strip()
            if 0 < len(label) <= 160 and not items.label_role(label):
                heads.append(_Head(label, _generic_kind(label), None, i, s, e))
            continue
        if head := _classify(text[s:e], standalone, para_start):
            head.line, head.start, head.end = i, s, e
            if head.inline is not None:
                head.inline += s
            heads.append(head)
    # Title lines at the top (report name, partnership) are introduction, not sections: a plain
    # heading counts only after the first sentence of prose, unless it names a known part.
    strong = [
        h.start for h in heads if h.kind in ("recommendation", "finding", "group", "response")
    ]
    prose = [s for s, e in _blocks(text, lines, 0, len(lines)) if _is_prose(text[s:e])]
    title_end = min([*strong, *prose, len(text)])
    return [h for h in heads if h.start >= title_end or h.kind != "other"]


def _blocks(text: str, lines: list[tuple[int, int]], i0: int, i1: int) -> list[tuple[int, int]]:
    """Paragraphs (runs of non-blank lines) in lines[i0:i1], as trimmed offsets."""
    out, first = [], None
    for i in range(i0, i1 + 1):
        if i < i1 and text[lines[i][0] : lines[i][1]].strip():
            first = i if first is None else first
        elif first is not None:
            out.append(strip_span(text, lines[first][0], lines[i - 1][1]))
            first = None
    return out


def _is_bold(block: str) -> bool:
    rows = [r.strip() for r in block.splitlines() if r.strip()]
    lead = _BULLET.sub("", rows[0], count=1)
    return block.endswith("**") and (lead.startswith("**") or all(r.endswith("**") for r in rows))


def _ends_colon(block: str) -> bool:
    return block.replace("**", "").rstrip().endswith(":")


def _rec_span(text: str, blocks: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The recommendation text of a section body: its first paragraph and what belongs to it."""
    if not blocks:
        return None
    parts = [text[s:e] for s, e in blocks]
    bold = _is_bold(parts[0])
    last = 0
    for k in range(1, len(parts)):
        prev, cur = parts[last], parts[k]
        sub = bool(_SUBITEM.match(cur))
        lead_in = _ends_colon(cur) and k + 1 < len(parts) and bool(_SUBITEM.match(parts[k + 1]))
        if bold:
            keep = _is_bold(cur) or _ends_colon(prev) or sub
        else:
            # Lists, lead-ins ("SSCB to consider:") and lower-case continuations belong to the
            # recommendation; the first ordinary paragraph after it starts the response.
            keep = sub or lead_in or _ends_colon(prev) or cur[:1].islower()
        if not keep:
            break
        last = k
    start, end = blocks[0][0], blocks[last][1]
    start += len(_BULLET.match(text, start).group())
    start += 2 if text.startswith("**", start) else 0
    end -= 2 if text[start:end].endswith("**") else 0
    start, end = strip_span(text, start, end)
    return (start, end) if start < end else None


def _sections(text: str) -> list[_Section]:
    lines = _lines(text)
    heads = _headings(text, lines)
    out: list[_Section] = []
    first = heads[0].start if heads else len(text)
    s, e = strip_span(text, 0, first)
    if s < e:
        # With no headings at all the text is not an introduction to anything.
        out.append(
            _Section(s, e, *(["Introduction"], "introduction") if heads else (["Text"], "other"))
        )
    group: str | None = None
    parent: str | None = None  # the finding or learning point a recommendation belongs to
    for k, h in enumerate(heads):
        nxt = heads[k + 1].line if k + 1 < len(heads) else len(lines)
        start, end = strip_span(text, h.start, lines[nxt - 1][1])
        head_end = h.end if h.inline is None else h.inline
        if h.kind == "group":
            parent = None
            # A bare "Recommendations" only announces what follows; "... for X" scopes what follows.
            group = h.label if re.search(r"\s(?:for|to)\s", h.label) else None
            if strip_span(text, h.end, end)[0] < end:
                out.append(_Section(start, end, [h.label], "other", None, head_end))
            continue
        if h.kind in ("recommendation", "finding"):
            blocks = _blocks(text, lines, h.line + 1, nxt)
            if h.inline is not None:
                blocks.insert(0, strip_span(text, h.inline, h.end))
            # "Recommendations for X" scopes the recommendations after it, not findings; a
            # recommendation inside a finding or learning point is that item's part.
            if h.kind == "recommendation":
                group = group or parent
            else:
                group, parent = None, h.label
            path = [*filter(None, [group, h.label])]
            rec = h.rec if h.context or h.rec else _rec_span(text, blocks)
            out.append(_Section(start, end, path, h.kind, rec, head_end, h.context))
        else:
            group = parent = None
            out.append(_Section(start, end, [h.label], h.kind, None, head_end))
    return out


def _subitem_pieces(text: str, sec: _Section) -> list[tuple[int, int, str]]:
    """Split a section at its (a), (b)... items; the section's lead text joins the first item."""
    bounds: list[tuple[int, str]] = []
    prev: tuple[str, int, bool] | None = None  # last non-blank line, its paragraph start, is-item
    blank, para = True, sec.start
    for s, e in _lines(text[: sec.end]):
        row = text[s:e]
        if s < sec.start or not row.strip():
            blank = True
            continue
        para, blank = (s if blank else para), False
        if m := _SUBITEM.match(row):
            # A lead-in such as "SSCB to consider:" belongs with the first item it introduces.
            lead = prev is not None and not prev[2] and _ends_colon(prev[0])
            bounds.append((prev[1] if lead else s, f"{m['id']})"))
        prev = (row, para, bool(m))
    if len(bounds) < 2:
        return []
    bounds[0] = (sec.start, bounds[0][1])
    ends = [b for b, _ in bounds[1:]] + [sec.end]
    return [(*strip_span(text, b, x), label) for (b, label), x in zip(bounds, ends, strict=True)]


def _clip(text: str, rec: tuple[int, int] | None, start: int, end: int):
    """The part of the recommendation span inside [start, end), or (None, None)."""
    if rec is None:
        return None, None
    rs, re_ = strip_span(text, max(rec[0], start), min(rec[1], end))
    rs += len(_BULLET.match(text, rs).group()) if rs == start else 0
    return (rs, re_) if rs < re_ else (None, None)


def _chunk_id(doc_id: str, start: int, end: int, section: str, text: str) -> str:
    key = "\x1f".join([doc_id, str(start), str(end), section, text])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def chunk_document(doc: Document, settings: Settings) -> list[Chunk]:
    """Chunks of `doc`: one per recommendation or finding (split when long) and per named part."""
    text = doc.text
    chunks: list[Chunk] = []
    for sec in _sections(text):
        pieces = [(sec.start, sec.end, "")]
        if sec.end - sec.start > settings.chunk_size:
            whole_rec = sec.rec is not None and not text[sec.rec[1] : sec.end].strip("* \t\r\n")
            # Items are split apart only when nothing answers them jointly; otherwise a response
            # would be separated from the items it addresses.
            pieces = (_subitem_pieces(text, sec) if whole_rec else []) or pieces
        for p_start, p_end, item in pieces:
            spans = [(p_start, p_end)]
            if p_end - p_start > settings.chunk_size:
                head = sec.head_end if p_start == sec.start else None
                spans = split_section(text, p_start, p_end, head, settings)
            section = SEP.join([*sec.path, item] if item else sec.path)
            for start, end in spans:
                rec_start, rec_end = _clip(text, sec.rec, start, end)
                body = text[start:end]
                if is_contents(body):
                    # A contents page repeats the headings of the sections it lists; as a
                    # passage it would outrank them and quote nothing a reader needs.
                    continue
                chunks.append(
                    Chunk(
                        id=_chunk_id(doc.id, start, end, section, body),
                        document=doc.id,
                        text=body,
                        start=start,
                        end=end,
                        section=section,
                        kind=sec.kind,
                        page=doc.page_at(start),
                        rec_start=rec_start,
                        rec_end=rec_end,
                        context=sec.context,
                        roles=span_roles(
                            text,
                            start,
                            end,
                            sec.kind,
                            section,
                            None if rec_start is None else (rec_start, rec_end),
                        ),  # fmt: skip
                    )
                )
    return chunks
