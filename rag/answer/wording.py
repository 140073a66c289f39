"""How answers and abstentions are worded: review names in prose, the lead-in, the reasons."""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.verify import display
from rag.core.models import Answer, Citation, DocMeta

ABSTAIN_TEXT = (
    "No supporting passage was found in the corpus for this question, so there is nothing to "
    "quote. Try rephrasing it, or ask about the reviews the corpus holds."
)


def review_name(meta: DocMeta) -> str:
    """How a document is named in prose, e.g. 'the Child W review (Northmoor)'."""
    name = meta.review or meta.title
    kind = " briefing" if (meta.kind or "").lower() == "briefing" else " review"
    suffix = f" ({meta.partnership})" if meta.partnership else ""
    return f"the {name}{kind}{suffix}"


def abstain(
    question: str, answer_id: str | None, unknown: Sequence[str] = (), text: str = ABSTAIN_TEXT
) -> Answer:
    """An abstention; names the terms the corpus never mentions, when that is the reason."""
    if unknown:
        names = ", ".join(f"“{u}”" for u in unknown)
        text = (
            f"The reviews in the corpus never mention {names}, so no passage supports an answer "
            "and nothing is quoted. Try rephrasing, or ask about the reviews the corpus holds."
        )
    return Answer(question, text, True, (), answer_id)


def listed(items: Sequence[str], joiner: str = "and") -> str:
    """Items as prose: 'a', 'a and b', 'a, b and c' (repeats dropped)."""
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {joiner} " + items[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def not_in_review_text(
    named: Sequence[DocMeta], words: Sequence[str], others: Sequence[DocMeta]
) -> str:
    """Why a question about a review is not answered: the review never uses its words."""
    reviews = listed([review_name(m) for m in named])
    used = listed([f"“{w}”" for w in words], "or")
    names = list(dict.fromkeys(review_name(m) for m in others))
    verb = "uses" if len(names) == 1 else "use"
    return (
        f"{_capital(reviews)} never uses {used}, so nothing is quoted from it. "
        f"{_capital(listed(names))} {verb} {'it' if len(words) == 1 else 'some of them'}: ask "
        "without naming a review to see those passages."
    )


def render(citations: Sequence[Citation]) -> str:
    """The answer text: a lead-in naming the reviews quoted, then each quote with its number."""
    names: list[str] = []
    passages: list[str] = []
    for c in citations:
        if review_name(c.hit.meta) not in names:
            names.append(review_name(c.hit.meta))
        if c.hit.chunk.id not in passages:
            passages.append(c.hit.chunk.id)
    joined = listed(names)
    plural = "passage" if len(passages) == 1 else "passages"
    lead = f"{len(passages)} {plural} from {joined} address this, quoted word for word:"
    lines = [f'"{display(c.quote.text)}" [{c.n}]' for c in citations]
    return "\n\n".join([lead, *lines])
