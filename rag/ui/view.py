"""View models for the chat UI: everything app.py shows is computed here, as plain text.

Document and user text reaches Streamlit only through `md_escape`, so markdown and HTML in a
passage or question show literally; the only markup added is our own highlight and labels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.verify import display
from rag.core.models import Answer, Citation, Filters, ReviewGroup
from rag.core.resources import read_toml
from rag.index.inventory import CorpusInfo
from rag.llm.claims import SentenceCheck, split_sentences, strip_markers
from rag.llm.synthesis import FLAG, llm_counts
from rag.understand import privacy

# Written for the shipped corpus, so they live with the data (rag/data/examples.toml).
EXAMPLE_QUESTIONS: tuple[str, ...] = tuple(read_toml("examples.toml")["questions"])

NOTICE = (
    "This is a learning tool built from published safeguarding case reviews. It is not advice "
    "on a live case: follow your local procedures and talk to your safeguarding lead first."
)

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all of them
# keeps markdown, HTML, LaTeX ($) and Streamlit directives (:red[...]) inert.
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_HIGHLIGHT = ":orange-background[{}]"
_INDENT = re.compile(r"\n[ \t]+")
_TRAILING = re.compile(r"[ \t]{2,}(?=\n|$)")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")


def md_escape(text: str, line_start: bool = True) -> str:
    """`text` as markdown that renders literally: punctuation escaped, line indents dropped.

    `line_start=False` keeps leading spaces, for text that continues a line already begun.
    """
    text = _PUNCT.sub(r"\\\1", text or "")
    # An indented line would become a code block, and two trailing spaces a hard break.
    text = _INDENT.sub("\n", text)
    text = _TRAILING.sub(" ", text)
    return text.lstrip(" \t") if line_start else text


def _highlight(text: str) -> str:
    """Markdown highlighting `text`, one highlight per paragraph (markup cannot span them)."""
    parts = []
    for piece in _PARAGRAPH.split(text):
        core = " ".join(piece.split())
        parts.append(_HIGHLIGHT.format(md_escape(core)) if core else "")
    return "\n\n".join(parts)


def highlighted(text: str, start: int, end: int) -> str:
    """Markdown of `text` with the span [start, end) highlighted and everything else literal."""
    start, end = max(0, start), min(len(text), end)
    return (
        md_escape(text[:start])
        + _highlight(text[start:end])
        + md_escape(text[end:], line_start=False)
    )


@dataclass(frozen=True)
class Card:
    """What a citation card shows, as plain strings (escape before rendering as markdown)."""

    n: int
    review: str
    title: str
    partnership: str
    kind: str
    section: str
    page: int | None
    quote: str
    document: str

    @property
    def location(self) -> str:
        """Section path and page, e.g. 'Recommendations for GPs › Recommendation One · p. 3'."""
        return self.section + (f" · p. {self.page}" if self.page else "")

    @property
    def source(self) -> str:
        """Review, partnership and document kind on one line."""
        return " · ".join(x for x in (self.review, self.partnership, self.kind) if x)


def card(citation: Citation) -> Card:
    """The card for one citation; the quote is shown as `rag.answer.verify.display` words it."""
    meta = citation.hit.meta
    return Card(
        n=citation.n,
        review=meta.review or meta.title,
        title=meta.title,
        partnership=meta.partnership or "",
        kind=meta.kind or "",
        section=citation.hit.chunk.section,
        page=citation.page,
        quote=display(citation.quote.text),
        document=citation.quote.document,
    )


def lead_in(answer: Answer) -> str:
    """The answer's opening sentence, without the quotes that follow it.

    An LLM-written answer (mode "llm") is prose with citation markers: all of it is shown.
    """
    if answer.mode != "extractive":
        return answer.text
    return answer.text.split("\n\n", 1)[0]


def more_key(answer: Answer) -> str:
    """The session key that says the rest of an answer's reviews are shown, by answer id."""
    return f"survey_more_{answer.id}"


def more_label(answer: Answer) -> str:
    """The control that shows the reviews an answer across reviews holds back, e.g. 'Show 12
    more reviews'; '' when it holds none back."""
    n = len(answer.hidden)
    return f"Show {_n(n, 'more review')}" if n else ""


def visible_groups(answer: Answer, expanded: bool) -> tuple[ReviewGroup, ...]:
    """The review groups to show: the first ones, or all once the reader asked for the rest."""
    return answer.groups if expanded else answer.groups[: answer.shown]


def group_heading(group: ReviewGroup) -> str:
    """A review group's heading: the review and the documents quoted, as plain text."""
    return f"{group.review} ({', '.join(group.documents)})"


@dataclass(frozen=True)
class Written:
    """One sentence of a language model's answer, and whether it passed verification."""

    text: str
    verified: bool


def written_sentences(answer: Answer) -> list[Written]:
    """The sentences of an LLM answer; those flagged NOT VERIFIED are marked unverified."""
    return [Written(s, not s.startswith(FLAG)) for s in split_sentences(answer.text)]


DRAFT_LABEL = "Drafting – not yet checked"


def draft_sentences(checks: Sequence[SentenceCheck]) -> list[str]:
    """A streaming model's sentences so far that passed their first check, as plain draft text.

    Citation numbers and quotation marks are removed, so a draft never looks cited or quoted;
    only the final answer, checked as a whole, is shown as verified."""
    return [" ".join(strip_markers(c.text).replace('"', "").split()) for c in checks if c.kept]


def draft_status(checks: Sequence[SentenceCheck]) -> str:
    """The draft's label and how far the model has got, in words."""
    failed = sum(not c.kept for c in checks)
    status = f"{DRAFT_LABEL}: {_n(len(checks), 'sentence')} written so far"
    if failed:
        status += f", {failed} already set aside because {'it' if failed == 1 else 'they'} "
        status += "did not check out"
    return status + ". The checked answer replaces this draft when it is ready."


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def check_summary(answer: Answer) -> str:
    """What checking a language model's answer found, in words; '' when no model was used."""
    c = llm_counts(answer)
    if c is None:
        return ""
    if answer.mode != "llm":
        failed = c["total"] - c["kept"]
        if not c["total"]:
            return (
                "A language model was asked, but its reply had no sentence to check, so the "
                "verified quotes are shown instead."
            )
        return (
            f"A language model wrote an answer, but {failed} of its {_n(c['total'], 'sentence')} "
            "did not check out against the passages, so the verified quotes are shown instead."
        )
    which = "the sentence" if c["shown"] == 1 else f"each of the {c['shown']} sentences"
    parts = [
        f"Written by a language model from the sources below; {which} shown was checked "
        "against the passage it cites."
    ]
    if c["dropped"]:
        parts.append(
            f"{_n(c['dropped'], 'sentence')} removed because "
            f"{'it' if c['dropped'] == 1 else 'they'} did not check out against the passage cited."
        )
    if c["flagged"]:
        parts.append(
            f"{_n(c['flagged'], 'sentence')} that did not check out "
            f"{'is' if c['flagged'] == 1 else 'are'} shown marked {FLAG.rstrip(':')}."
        )
    if withheld := c["kept"] - c["shown"]:
        parts.append(
            f"{_n(withheld, 'sentence')} that checked out left out with the rest of "
            "a reply that did not."
        )
    return " ".join(parts)


def passage_markdown(citation: Citation) -> str:
    """The whole retrieved passage with the quoted span highlighted."""
    chunk = citation.hit.chunk
    return highlighted(
        chunk.text, citation.quote.start - chunk.start, citation.quote.end - chunk.start
    )


@dataclass(frozen=True)
class ContextWindow:
    """A stretch of the source document around a quote, by document offsets."""

    start: int
    end: int
    length: int
    markdown: str

    @property
    def position(self) -> str:
        """Where the window sits in the document, for a caption."""
        pct = round(100 * self.start / self.length) if self.length else 0
        return f"characters {self.start:,}–{self.end:,} of {self.length:,} (from {pct}% in)"


def _snap_back(text: str, at: int, limit: int) -> int:
    """Move `at` back to the start of its paragraph, or line, if one is within `limit` chars."""
    for sep in ("\n\n", "\n"):
        found = text.rfind(sep, max(0, at - limit), at)
        if found >= 0:
            return found + len(sep)
    return at


def _snap_forward(text: str, at: int, limit: int) -> int:
    for sep in ("\n\n", "\n"):
        found = text.find(sep, at, at + limit)
        if found >= 0:
            return found
    return at


def context_window(
    doc_text: str, citation: Citation, before: int = 350, after: int = 1600
) -> ContextWindow:
    """The document around a quote, opening just before it so the quote is in view at once."""
    q = citation.quote
    start = max(0, q.start - before)
    if start > 0:
        start = _snap_back(doc_text, start, before // 2)
        start = min(start, q.start)
    end = min(len(doc_text), q.end + after)
    if end < len(doc_text):
        end = max(_snap_forward(doc_text, end, after // 2), q.end)
    body = highlighted(doc_text[start:end], q.start - start, q.end - start)
    opening = "…\n\n" if start > 0 else ""
    closing = "\n\n…" if end < len(doc_text) else ""
    return ContextWindow(start, end, len(doc_text), opening + body + closing)


def personal_details_warning(findings) -> str:
    """The warning shown before answering a question that holds personal details."""
    return (
        f"Your question appears to contain personal details ({privacy.describe(findings)}). "
        "This tool answers from published reviews and never needs identifiers: please ask "
        "again without them."
    )


def filter_summary(filters: Filters) -> str:
    """The active filters in words, or '' when none are set."""
    parts = [
        f"{label}: {', '.join(values)}"
        for label, values in (
            ("partnership", filters.partnerships),
            ("review", filters.reviews),
            ("kind", filters.kinds),
            ("document", filters.documents),
        )
        if values
    ]
    return "; ".join(parts)


def abstention_advice(answer: Answer, info: CorpusInfo | None, filters: Filters) -> list[str]:
    """What to tell the user after an abstention: rephrase, widen filters, or what is covered."""
    advice = []
    if "rephras" not in answer.text.lower():
        advice.append("Try rephrasing with the words a review would use, or name the review.")
    if filters:
        advice.append(f"Filters are narrowing the search ({filter_summary(filters)}).")
    if info and info.documents:
        advice.append("The corpus covers these reviews: " + "; ".join(info.review_summaries()))
    return advice


def file_problem(failure) -> str:
    """A file that could not be used, named as the user knows it: its file name, why, detail."""
    name = str(failure.path).replace("\\", "/").rsplit("/", 1)[-1]
    detail = f" ({failure.detail})" if failure.detail else ""
    return f"{name}: {failure.reason}{detail}"
