"""Long sections cut into chunk-sized pieces by LangChain's recursive splitter, as exact
document spans (the splitter returns text; every offset here points into the document)."""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.core.settings import Settings
from rag.core.text import strip_span


def split_section(
    text: str, start: int, end: int, head_end: int | None, settings: Settings
) -> list[tuple[int, int]]:
    """Exact document spans of the recursive splitter's pieces of text[start:end]."""
    limit, origin = settings.chunk_size, start
    if head_end is not None:
        # Split the body in room that leaves space for the heading, so it is never left alone.
        origin = strip_span(text, head_end, end)[0]
        limit -= origin - start
        if limit < 2 * settings.chunk_overlap or origin >= end:
            limit, origin = settings.chunk_size, start
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=limit, chunk_overlap=settings.chunk_overlap, add_start_index=True
    )
    seg, cursor, out = text[origin:end], 0, []
    for piece in splitter.create_documents([seg]):
        part, at = piece.page_content, piece.metadata.get("start_index", -1)
        if at < 0 or seg[at : at + len(part)] != part:
            at = seg.find(part, cursor)
        if at < 0:
            continue
        cursor, at = at + 1, origin + at
        # A small piece left alone when its neighbour needed a finer split rejoins that neighbour.
        if out and out[-1][1] <= at and at + len(part) - out[-1][0] <= limit:
            out[-1] = (out[-1][0], at + len(part))
        else:
            out.append((at, at + len(part)))
    return [(start, out[0][1]), *out[1:]] if out else [(start, end)]
