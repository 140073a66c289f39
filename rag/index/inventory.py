"""What the index holds, for the "About this corpus" panel and the sidebar filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rag.core.models import DocMeta
from rag.index.store import Store


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document: its catalog metadata and how many chunks it was split into."""

    meta: DocMeta
    chunks: int
    # ISO date the document was first added; None for an index written before dates were kept.
    added: str | None = None


@dataclass(frozen=True)
class CorpusInfo:
    """Every indexed document, and the distinct values the sidebar can filter on."""

    documents: tuple[DocumentInfo, ...]

    @property
    def partnerships(self) -> tuple[str, ...]:
        """Distinct partnerships, sorted."""
        return _distinct(d.meta.partnership for d in self.documents)

    @property
    def reviews(self) -> tuple[str, ...]:
        """Distinct review names, sorted."""
        return reviews_of(d.meta for d in self.documents)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Distinct document kinds, sorted."""
        return _distinct(d.meta.kind for d in self.documents)

    @property
    def chunks(self) -> int:
        """Total chunks in the index."""
        return sum(d.chunks for d in self.documents)

    def review_summaries(self) -> tuple[str, ...]:
        """One line per review, e.g. 'Child A (Northtown, 2019)', for abstention messages."""
        seen: dict[str, str] = {}
        for d in self.documents:
            m = d.meta
            name = m.review or m.title
            if name in seen:
                continue
            detail = ", ".join(str(x) for x in (m.partnership, m.year) if x)
            seen[name] = f"{name} ({detail})" if detail else name
        return tuple(sorted(seen.values()))


def _distinct(values) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


def reviews_of(metas: Iterable[DocMeta]) -> tuple[str, ...]:
    """Distinct review names of these documents, sorted."""
    return _distinct(m.review for m in metas)


def describe(store: Store, counts: dict[str, int] | None = None) -> CorpusInfo:
    """Read every document's metadata and chunk count from the active index; `counts`, when
    the caller holds them already, saves reading every chunk's metadata (seconds at 100k)."""
    counts = store.chunk_counts() if counts is None else counts
    docs = store.documents()
    added = store.added_dates()
    ordered = sorted(
        docs.values(), key=lambda mh: (mh[0].partnership or "", mh[0].review or "", mh[0].title)
    )
    return CorpusInfo(
        tuple(DocumentInfo(meta, counts.get(meta.id, 0), added.get(meta.id)) for meta, _ in ordered)
    )
