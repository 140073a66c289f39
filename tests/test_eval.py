"""The evaluation harness: adversarial fixtures are always caught, the gate can fail."""

from __future__ import annotations

from evals.metrics import Gold, Outcome, ShownQuote, citation_checks, retrieval_metrics
from evals.run import aggregate, gate_failures
from rag.answer.verify import locate, verify_quote
from rag.core.models import Quote
from tests.conftest import CORPUS

DOCS = {p.stem: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.md")}
SALLY, P = "hampshire-baby-sally-response", "hampshire-child-p-response"
PHRASE = "reminded of the importance of adhering to safe sleep protocols"


def real_quote() -> Quote:
    s, e = locate(PHRASE, DOCS[SALLY])
    return Quote(SALLY, DOCS[SALLY][s:e], s, e)


def adversarial() -> list[Quote]:
    q = real_quote()
    return [
        Quote(SALLY, "All babies must sleep in a cot fitted with a monitor.", q.start, q.end),
        Quote(P, q.text, q.start, q.end),  # real quote, wrong document
        Quote(SALLY, q.text, len(DOCS[SALLY]) + 10, len(DOCS[SALLY]) + 10 + len(q.text)),
    ]


def test_verifier_catches_every_adversarial_fixture():
    assert verify_quote(real_quote(), DOCS)
    caught = [not verify_quote(q, DOCS) for q in adversarial()]
    assert caught == [True, True, True]


def test_metrics_count_adversarial_quotes_as_unfaithful():
    quotes = tuple(
        ShownQuote(i + 1, q.document, q.text, q.start, q.end, 1)
        for i, q in enumerate([real_quote(), *adversarial()])
    )
    out = Outcome(((SALLY, DOCS[SALLY]),), quotes, False, "lead", 1.0, 1)
    checks = citation_checks(out, DOCS, [Gold(SALLY, PHRASE)])
    assert checks["quotes"] == 4 and checks["faithful"] == 2  # out-of-range text is still real
    assert checks["offsets_ok"] == 1 and checks["misattributed"] == 1


def test_retrieval_metrics_rank_the_first_hit():
    gold = [Gold(SALLY, PHRASE)]
    out = Outcome(((P, DOCS[P]), (SALLY, DOCS[SALLY])), (), False, "", 1.0, 1)
    m = retrieval_metrics(out, gold)
    assert m["hit@1"] == 0 and m["hit@3"] == 1 and m["mrr@10"] == 0.5


def row(answerable, abstained, split="dev", hit3=1.0, faithful=1):
    r = {
        "answerable": answerable,
        "abstained": abstained,
        "split": split,
        "latency_ms": 1.0,
        "quotes": 1,
        "faithful": faithful,
        "offsets_ok": faithful,
        "citations_valid": 1,
        "misattributed": 0,
        "cited_docs": 1,
        "cited_docs_correct": 1,
        "gold_docs": 1,
        "gold_docs_cited": 1,
        "statements": 1,
        "statements_supported": 1,
    }
    if answerable:
        r |= {k: hit3 for k in ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10", "quote_hit@3")}
    return r


def test_gate_passes_good_rows_and_fails_bad_ones():
    good = [row(True, False)] * 20 + [row(False, True)] * 10
    assert gate_failures({"all": aggregate(good), "dev": aggregate(good)}) == []
    unfaithful = good + [row(True, False, faithful=0)]
    assert any(
        "fidelity" in f
        for f in gate_failures({"all": aggregate(unfaithful), "dev": aggregate(unfaithful)})
    )
    answers_everything = [row(True, False)] * 20 + [row(False, False)] * 10
    agg = aggregate(answers_everything)
    assert any("abstention" in f for f in gate_failures({"all": agg, "dev": agg}))


def test_llm_mode_figures_are_summed_over_questions():
    llm = {
        "llm_mode": "llm",
        "llm_fallback": False,
        "llm_sentences_total": 4,
        "llm_sentences_kept": 3,
        "llm_sentences_dropped": 1,
        "llm_sentences_flagged": 0,
        "llm_citations_total": 3,
        "llm_citations_supported": 2,
    }
    fallback = llm | {
        "llm_mode": "extractive",
        "llm_fallback": True,
        "llm_sentences_kept": 0,
        "llm_sentences_dropped": 4,
        "llm_citations_supported": 0,
    }
    agg = aggregate([row(True, False) | llm, row(True, False) | fallback])
    assert agg["llm_citation_recall"] == 3 / 8 and agg["llm_citation_precision"] == 2 / 6
    assert agg["llm_answers"] == 1 and agg["llm_fallback_share"] == 0.5
