"""Hybrid retrieval: dense, BM25 and structural rankings fused by rank, then read into Hits."""

from __future__ import annotations

from dataclasses import replace

from rag.core.models import Chunk, Filters, Hit
from rag.core.settings import Settings
from rag.index.store import Store
from rag.ingest.roles import own_roles
from rag.retrieve import state, structural
from rag.retrieve.base import Query, Ranking, first
from rag.retrieve.dense import DenseSearcher
from rag.retrieve.fusion import convex, prefer, rrf
from rag.retrieve.lexical import tokenize
from rag.retrieve.sentences import PoolSentences, Quotable, SentenceSearcher
from rag.understand import facts
from rag.understand.abbreviations import expand
from rag.understand.question import QueryInfo, mentions_all, names_used, parse, topic_words


def _own_text(c: Chunk) -> str:
    """The review's own words in a passage: its recommendation or finding, its learning, good
    practice or background; nothing of a response or a progress report."""
    if not c.roles:
        return c.rec_text
    own = own_roles()
    return " ".join(c.text[a - c.start : b - c.start] for a, b, r in c.roles if r in own)


def response_grade(chunk: Chunk, document_kind: str | None) -> int:
    """How much a passage answers "how was it responded to?": 2 when it holds an agency's
    response (mostly, or any of it in a response document), 1 for another passage of a
    response document, 0 otherwise."""
    said = sum(b - a for a, b, r in chunk.roles if r == "response")
    in_response = "response" in (document_kind or "").lower()
    if 2 * said > chunk.end - chunk.start or (in_response and said):
        return 2
    return int(in_response)


class Retriever:
    """Finds the passages most likely to answer a question, over one index generation."""

    def __init__(self, store: Store, settings: Settings, quotable: Quotable | None = None):
        """`quotable` gives a chunk's candidate quote sentences, whose stored vectors score the
        candidates by their best sentence (`sentence_weight`, `sentence_support`); None: not."""
        self.store = store
        self.settings = settings
        self.quotable = quotable
        # Loaded from the folder saved with the generation; built (and saved) only when absent.
        parts, self.built = state.obtain(store, settings)
        self.metas = parts.metas
        self.table = parts.table
        self.lexical = parts.lexical
        self.vocabulary = parts.vocabulary
        self._catalog_words = parts.catalog_words
        self.common_words = parts.common_words
        self.abbreviations = parts.abbreviations if settings.corpus_abbreviations else {}
        self.dense = DenseSearcher(store, self.table, settings)
        self.structural = structural.StructuralSearcher(parts.sections)
        self.size = len(self.table)

    def understand(self, question: str) -> QueryInfo:
        """What the question names: numbered sections, reviews, names the corpus never uses."""
        return parse(question, self.metas, self.vocabulary, self.lexical.uses_all)

    def distinctive_names(self, question: str) -> list[str]:
        """Names in the question that few passages use: where they are is news.

        A name many passages use (an agency, the partnership's place) says little about which
        passage answers; review and partnership names are left out.
        """
        names = names_used(question, self.vocabulary, self._catalog_words)
        most = max(1, int(self.size * self.settings.distinctive_share))
        return [w for w in names if 0 < self.lexical.chunks_using(w) <= most]

    def not_in_review(self, info: QueryInfo) -> tuple[list[str], list[str]]:
        """Topic words the named review never uses though other documents do, and those documents.

        "What did the Child W review recommend about fathers?" is not answered by its passages
        on something else, however similar their wording, when only another review speaks of
        fathers. Empty when the review uses any topic word, when no other document does either
        (a paraphrase in everyday words is left to the dense search), or when a section is
        named by number. A distinctive name decides alone.
        """
        if not info.documents or info.refs:
            return [], []
        names = self.distinctive_names(info.topic)
        if names:
            using = self.lexical.documents_using(" ".join(names))
            if using and not using & set(info.documents):
                return names, sorted(using)
        words = [w for w in topic_words(info.topic) if tokenize([w])[0]]
        if not words:
            return [], []
        using = self.lexical.documents_using(" ".join(words))
        if using & set(info.documents) or not using:
            return [], []
        return words, sorted(using)

    def allowed(self, filters: Filters, info: QueryInfo) -> frozenset[str] | None:
        """The documents a search may return: the filters', or the reviews the question names."""
        if not filters and info.documents:
            # A question that names a review is answered from that review.
            filters = Filters(documents=info.documents)
        if not filters:
            return None
        return frozenset(d for d, m in self.metas.items() if filters.allows(m))

    def rankings(
        self, query: Query, allowed: frozenset[str] | None, n: int | None = None
    ) -> dict[str, Ranking]:
        """Each searcher's ranking, by name, for the retrieval mode in the settings; `n`
        candidates from each (default: the settings' `candidates`)."""
        n, mode = n or self.settings.candidates, self.settings.retrieval
        out: dict[str, Ranking] = {}
        if mode != "bm25":
            out["dense"] = self.dense.search(query, n, allowed)
        if mode != "dense":
            # The long forms the corpus writes for the question's abbreviations are searched
            # by their words only: added to the embedded question they moved its support.
            spelled = replace(query, text=expand(query.text, self.abbreviations))
            out["lexical"] = self.lexical.search(spelled, n, allowed)
        if mode == "hybrid":
            # Every named section counts, however many the question names.
            out["structural"] = self.structural.search(query, self.size, allowed)
        return out

    def _fuse(self, rankings: dict[str, Ranking]) -> Ranking:
        dense, lexical = dict(rankings.get("dense", ())), dict(rankings.get("lexical", ()))
        mode = self.settings.retrieval
        if mode == "dense":
            return sorted(dense.items(), key=lambda kv: -kv[1])
        if mode == "bm25":
            return sorted(lexical.items(), key=lambda kv: -kv[1])
        if self.settings.fusion == "convex":
            return convex(dense, lexical, self.settings.convex_alpha)
        sentence = [c for c, _ in rankings.get("sentence", ())]
        return rrf(
            [list(dense), list(lexical), [c for c, _ in rankings["structural"]], sentence],
            k=self.settings.rrf_k,
            weights=[1.0, 1.0, self.settings.structural_weight, self.settings.sentence_weight],
        )

    def search(self, query: Query, k: int, allowed: frozenset[str] | None = None) -> Ranking:
        """The fused ranking of dense, BM25 and structural search, best first (at most `k`);
        `hits` also fuses the candidates' best sentences."""
        return self._fuse(self.rankings(query, allowed))[:k]

    def _ranks_sentences(self) -> bool:
        s = self.settings
        rrf_hybrid = s.retrieval == "hybrid" and s.fusion == "rrf"
        return rrf_hybrid and s.sentence_weight > 0 and self.quotable is not None

    def _preferred(self, info: QueryInfo, fused: Ranking, chunks: dict[str, Chunk]):
        """The candidates of the kind the question asks for, in fused order; [] for any kind.

        "How did X respond?" is best answered by the response, not by a briefing that repeats
        the same recommendation without it; "What was the police asked to do?" by the
        recommendation made to it, not by its own account of what it has done since.
        """
        if info.asks_response:
            # A passage that holds the response goes before one that is only near it.
            metas = self.metas
            grades = {
                cid: response_grade(chunks[cid], metas[chunks[cid].document].kind)
                for cid, _ in fused
                if cid in chunks
            }
            return [c for g in (2, 1) for c, _ in fused if grades.get(c) == g]
        if info.asks_recommendation:
            kinds = ("recommendation", "finding")
            return [cid for cid, _ in fused if cid in chunks and chunks[cid].kind in kinds]
        return []

    def wide(self, query: Query, filters: Filters, n: int) -> dict[str, Ranking]:
        """Each searcher's `n` best for the query under the filters (for `hits`, see there)."""
        return self.rankings(query, self.allowed(filters, query.info), n)

    def hits(
        self,
        query: Query,
        filters: Filters = Filters(),
        n: int | None = None,
        wide: dict[str, Ranking] | None = None,
        floor: float | None = None,
    ) -> list[Hit]:
        """Candidates fused from dense, lexical and structural rankings, read into Hits (`n`
        from each ranking; default: the settings' `candidates`).

        `wide`, rankings of this query's ranking vector and text made by `wide` with at least
        `n` candidates each, is cut to `n` instead of searching again: an answer across reviews
        searches once for its answer and its wider pool. With `floor`, a candidate whose cosine
        to the support vector is under it is left out unless it is among the first the
        abstention gate weighs or a named section (see `_worth_reading`).
        """
        info = query.info
        allowed = self.allowed(filters, info)
        if wide is None:
            rankings = self.rankings(query, allowed, n)
        else:
            rankings = first(wide, n or self.settings.candidates)
        # One read for every candidate's text and vector: the cosine to the question (or, with
        # a topic, to the topic alone) decides abstention and the passage margin.
        pool = list(dict.fromkeys(cid for r in rankings.values() for cid, _ in r))
        judge = query.vector if query.support is None else query.support
        if floor is not None and not self._ranks_sentences():
            pool = self._worth_reading(pool, judge, floor, rankings)
        fetched = self.store.fetch(pool)
        chunks = {cid: chunk for cid, (chunk, _) in fetched.items()}
        if self._ranks_sentences():
            sentences = PoolSentences(fetched, self.quotable, self.store.sentence_vectors)
            rankings["sentence"] = SentenceSearcher(sentences).search(query, len(chunks), allowed)
        fused = self._fuse(rankings)
        dense_scores = dict(rankings.get("dense", ())) if query.support is None else {}
        for cid, (_, v) in fetched.items():
            dense_scores.setdefault(cid, float(v @ judge))
        preferred = self._preferred(info, fused, chunks)
        fuses_ranks = self.settings.retrieval == "hybrid" and self.settings.fusion == "rrf"
        if preferred and fuses_ranks and self.settings.response_weight:
            fused = prefer(fused, preferred, self.settings.rrf_k, self.settings.response_weight)
        parts = self._parts(judge, fused, fetched)
        return self._as_hits(query, fused, chunks, dense_scores, rankings, parts)

    def _worth_reading(
        self, pool: list[str], judge, floor: float, rankings: dict[str, Ranking]
    ) -> list[str]:
        """The candidates of `pool` that may support a question with support threshold `floor`
        (rag.answer.gates.supported): those whose cosine clears it, the first 3 * top_k of the
        fusion, and named sections; the whole pool when none clears it (the gate then keeps
        passages that name what the question names, whatever their cosine).

        Their vectors alone are read first: for the pool of hundreds an answer across reviews
        weighs, reading every candidate's text and metadata was most of its cost (on a 37k-chunk
        index, 23 ms for 300 candidates against 8 ms for their vectors).
        """
        sims = self.store.similarities(judge, pool)
        if max(sims.values(), default=-1.0) < floor:
            return pool
        head = {cid for cid, _ in self._fuse(rankings)[: 3 * self.settings.top_k]}
        named = {cid for cid, _ in rankings.get("structural", ())}
        return [c for c in pool if c in head or c in named or sims.get(c, -1.0) >= floor]

    def _parts(self, judge, fused: Ranking, fetched) -> dict[str, float]:
        """The best part's cosine to `judge` of the first candidates, those the support gate
        weighs (rag.answer.gates.supported reads the first 3 * top_k); {} when off."""
        if not self.settings.sentence_support or self.quotable is None:
            return {}
        first = [cid for cid, _ in fused if cid in fetched][: 3 * self.settings.top_k]
        pool = {cid: fetched[cid] for cid in first}
        return PoolSentences(pool, self.quotable, self.store.sentence_vectors).best(judge)

    def _as_hits(self, query: Query, fused, chunks, dense_scores, rankings, parts) -> list[Hit]:
        info, mode = query.info, self.settings.retrieval
        named = {cid for cid, _ in rankings.get("structural", ())}
        lex_scores = dict(rankings.get("lexical", ()))
        words = topic_words(info.topic) if info.documents and not info.refs else []
        names = self.distinctive_names(query.text) if mode == "hybrid" else []
        # "Who was the lead reviewer?": a passage naming a person beside the word "reviewer"
        # may say, however little else of the question it shares.
        author = "person" in info.facts and mode == "hybrid"
        return [
            Hit(
                chunk=chunks[cid],
                meta=self.metas[chunks[cid].document],
                score=score,
                dense=dense_scores.get(cid),
                lexical=lex_scores.get(cid),
                named=cid in named,
                part=parts.get(cid),
                mentions=(bool(words) and mentions_all(words, _own_text(chunks[cid])))
                or (bool(names) and mentions_all(names, chunks[cid].text))
                or (author and facts.names_author(chunks[cid].text, self.common_words)),
            )
            for cid, score in fused
            # A chunk gone from the store since the rankings were made (an ingest switched
            # generations meanwhile) is left out.
            if cid in chunks
        ]
