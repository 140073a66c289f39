"""The verifier rejects anything that is not a verbatim span of the cited document."""

from __future__ import annotations

import pytest

from rag.answer.verify import contains, display, locate, normalise, verify_quote
from rag.core.models import Quote
from tests.conftest import CORPUS

DOCS = {p.stem: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.md")}
P = "hampshire-child-p-response"
SALLY = "hampshire-baby-sally-response"


def quote_of(doc_id: str, phrase: str) -> Quote:
    start, end = locate(phrase, DOCS[doc_id])
    return Quote(doc_id, DOCS[doc_id][start:end], start, end)


def test_real_quote_passes_and_round_trips_offsets():
    q = quote_of(P, "Development of a standardised referral form to midwifery services")
    assert verify_quote(q, DOCS)
    assert DOCS[P][q.start : q.end] == q.text


def test_quote_across_a_hard_line_wrap_is_found():
    # Child P wraps lines mid-sentence; the quote keeps the raw newline.
    q = quote_of(P, "in universal health services, to ensure mandatory reporting is understood")
    assert "\n" in q.text and verify_quote(q, DOCS)


def test_made_up_quote_is_rejected():
    fake = "GPs must visit every newborn at home within 48 hours of discharge."
    assert locate(fake, DOCS[P]) is None
    assert not verify_quote(Quote(P, fake, 0, len(fake)), DOCS)


def test_one_changed_word_is_rejected():
    q = quote_of(SALLY, "reminded of the importance of adhering to safe sleep protocols")
    altered = q.text.replace("importance", "significance")
    assert not verify_quote(Quote(SALLY, altered, q.start, q.end), DOCS)
    assert not contains(DOCS[SALLY], altered)


def test_real_quote_attributed_to_the_wrong_document_is_rejected():
    q = quote_of(SALLY, "reminded of the importance of adhering to safe sleep protocols")
    wrong = Quote(P, q.text, q.start, q.end)
    assert not verify_quote(wrong, DOCS)
    assert not contains(DOCS[P], q.text)


def test_out_of_range_and_unknown_document_are_rejected():
    q = quote_of(SALLY, "reminded of the importance of adhering to safe sleep protocols")
    n = len(DOCS[SALLY])
    assert not verify_quote(Quote(SALLY, q.text, n - 5, n + 40), DOCS)
    assert not verify_quote(Quote(SALLY, q.text, -3, q.end), DOCS)
    assert not verify_quote(Quote("no-such-review", q.text, q.start, q.end), DOCS)


def test_empty_or_markup_only_quote_is_rejected():
    text = "**\n\n**"
    docs = {"d": text}
    assert not verify_quote(Quote("d", text, 0, len(text)), docs)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("“Every Sleep Counts” – a toolkit", '"Every Sleep Counts" - a toolkit'),
        ("**Police Officers**  attending\n incidents", "Police Officers attending incidents"),
        ("<u>Fabricated and Induced Illness</u> (FII)", "Fabricated and Induced Illness (FII)"),
        ("ﬁnding", "finding"),
        ("snake_case stays, _emphasis_ goes", "snake_case stays, emphasis goes"),
    ],
)
def test_documented_normalisation(raw, expected):
    assert normalise(raw) == expected


def test_display_form_still_verifies():
    q = quote_of(
        "southampton-nai-thematic-response",
        "Police Officers attending incidents of domestic abuse where children are present",
    )
    shown = display(q.text)
    assert "*" not in shown and contains(DOCS[q.document], shown)
