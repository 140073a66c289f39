"""The 7-minute briefing builder, on the real model and a real Chroma index of the corpus."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from rag.answer.verify import contains, verify_quote
from rag.core.errors import InvalidQuestion
from rag.trainer.briefing import (
    NOTICE,
    POINTS,
    UnverifiedEdit,
    build,
    check,
    edit_item,
    remove_item,
    set_questions,
    topic_queries,
)
from rag.trainer.picking import INTRO, KEY
from rag.trainer.reflective import QUESTIONS_LABEL
from rag.trainer.themes import load_themes

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SALLY = "hampshire-baby-sally-response"
CHILD_P = "hampshire-child-p-response"
ABSENT = "cybersecurity of school networks"


@cache
def corpus_text(doc_id: str) -> str:
    return (CORPUS / f"{doc_id}.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def briefings(topic_search):
    """Briefings built once for the module, by (topic, reviews, agency)."""
    built = {}

    def get(topic: str, reviews: tuple[str, ...] = (), agency: str | None = None):
        key = (topic, reviews, agency)
        if key not in built:
            built[key] = build(topic_search, topic, reviews=reviews, agency=agency)
        return built[key]

    return get


def test_safe_sleep_cites_baby_sally_and_child_p(briefings):
    b = briefings("safe sleep")
    cited = {s.document for s in b.sources}
    assert {SALLY, CHILD_P} <= cited
    assert b.notice is None
    assert {"Baby Sally", "Child P"} <= set(b.reviews)
    # Both reviews are in the key learning, not only somewhere in the sources.
    assert {"Baby Sally", "Child P"} <= {p.label for p in b.points[2:5]}


@pytest.mark.parametrize(
    "topic, reviews, agency",
    [
        ("safe sleep", (), None),
        ("professional curiosity", (), None),
        ("information sharing", (), "health visitors"),
        ("young parents", (), None),
    ],
)
def test_every_quote_is_verbatim_in_its_source(briefings, pipeline, topic, reviews, agency):
    b = briefings(topic, reviews, agency)
    assert b.items
    for item in b.items:
        doc = item.quote.document
        assert verify_quote(item.quote, {doc: pipeline.document_text(doc)})
        assert contains(corpus_text(doc), item.text), item.text
        # The cited section is the passage the quote sits in.
        assert item.source.start <= item.quote.start < item.quote.end <= item.source.end
    check(b, pipeline.document_text)


def test_seven_points_in_order(briefings):
    b = briefings("safe sleep")
    assert [p.n for p in b.points] == list(range(1, 8))
    assert tuple(p.title for p in b.points) == POINTS
    assert b.points[0].heading == "1. Background"
    assert b.points[6].heading == "7. What to do"
    assert all(p.items or p.note for p in b.points)


def test_points_hold_the_right_kind_of_quote(briefings, pipeline):
    b = briefings("safe sleep")
    background, _, *key, _, todo = b.points
    assert {i.role for i in background.items} <= INTRO
    assert {i.role for i in todo.items} == {"response"}
    for point in key:
        # The review's own words first in every key point: a recommendation, else a finding.
        assert point.items[0].role in KEY
    for item in b.items:
        # Each quote is called what the span it sits in is, never what its document is.
        chunk = next(
            c
            for c in pipeline.passages()
            if c.document == item.quote.document and c.start <= item.quote.start < c.end
        )
        assert item.role == chunk.role_at(item.quote.start), item.text


def test_key_points_grouped_by_review(briefings):
    b = briefings("information sharing")
    labels = [p.label for p in b.points[2:5] if p.items]
    assert len(labels) == 3
    # Grouped: a review's points are next to each other, in order of relevance.
    assert labels == sorted(labels, key=b.reviews.index)
    assert len(set(labels)) >= 2, "key points should draw on more than one review"


def test_no_words_are_quoted_twice(briefings):
    for topic in ("safe sleep", "young parents", "information sharing"):
        items = briefings(topic).items
        spans = [(i.quote.document, i.quote.start, i.quote.end) for i in items]
        for n, (d, a, z) in enumerate(spans):
            for d2, a2, z2 in spans[n + 1 :]:
                assert d != d2 or z <= a2 or z2 <= a, (topic, spans[n])


def test_absent_topic_gives_the_too_little_material_notice(briefings):
    b = briefings(ABSENT)
    assert b.notice and b.notice.startswith(NOTICE)
    assert "nothing" in b.notice
    assert not b.items and not b.questions and not b.sources
    assert all(p.note for p in b.points)


def test_topic_in_one_review_only_gives_the_notice(briefings):
    b = briefings("safe sleep", ("Baby Sally", "Child Z"))
    assert b.notice and b.notice.startswith(NOTICE)
    assert "only one review (Baby Sally)" in b.notice
    assert {s.review for s in b.sources} == {"Baby Sally"}


def test_review_filter_restricts_every_quote(briefings):
    b = briefings("information sharing", ("Child P",))
    assert b.items
    assert {s.document for s in b.sources} == {CHILD_P}
    # One chosen review that has the topic is all that was asked for: no notice.
    assert b.notice is None


def test_reflective_questions_fit_and_are_grounded(briefings):
    b = briefings("safe sleep")
    assert 3 <= len(b.questions) <= 5
    key = {p.n: p.label for p in b.points[2:5] if p.items}
    for q in b.questions:
        assert q.endswith("?")
        assert "{" not in q and "}" not in q
        refs = [int(n) for n in re.findall(r"key point (\d)", q, flags=re.I)]
        for n in refs:
            assert n in key and key[n] in q
    assert any("safe sleep" in q for q in b.questions)
    assert "not quotes" in QUESTIONS_LABEL


def test_agency_focus_is_carried_into_the_briefing(briefings):
    b = briefings("information sharing", (), "health visitors")
    assert b.agency == "health visitors"
    assert any("our health visitors" in q for q in b.questions)


def test_topic_borrows_the_matching_theme_queries(topic_search):
    themes = load_themes()
    queries = topic_queries(topic_search, "safe sleep", themes)
    safe_sleep = next(t for t in themes if t.name == "safe sleep")
    assert queries[0] == "safe sleep"
    assert set(safe_sleep.queries) <= set(queries)
    assert topic_queries(topic_search, ABSENT, themes) == [ABSENT]


def test_remove_and_edit_keep_every_quote_verified(briefings, pipeline):
    b = briefings("safe sleep")
    first = b.items[0]
    fewer = remove_item(b, first.key)
    assert first.key not in {i.key for i in fewer.items}
    assert len(fewer.items) == len(b.items) - 1

    item = next(i for i in b.items if len(i.text.split()) > 12)
    shorter = " ".join(item.text.split()[2:10])
    edited = edit_item(b, item.key, shorter, pipeline.document_text)
    new = next(i for i in edited.items if i.source == item.source and i.text == shorter)
    assert verify_quote(new.quote, {new.quote.document: pipeline.document_text(new.quote.document)})
    assert item.quote.start < new.quote.start < new.quote.end < item.quote.end
    check(edited, pipeline.document_text)

    reworded = shorter.replace(shorter.split()[1], "definitely", 1)
    with pytest.raises(UnverifiedEdit):
        edit_item(b, item.key, reworded, pipeline.document_text)


def test_check_rejects_a_tampered_quote(briefings, pipeline):
    b = briefings("safe sleep")
    item = b.items[0]
    bad = replace(item, quote=replace(item.quote, text=item.quote.text + " Always."))
    tampered = replace(
        b, points=(replace(b.points[0], items=(bad, *b.points[0].items[1:])), *b.points[1:])
    )
    with pytest.raises(UnverifiedEdit):
        check(tampered, pipeline.document_text)


def test_questions_can_be_edited(briefings):
    b = set_questions(briefings("safe sleep"), ["What do we do now?", "  ", "And next?"])
    assert b.questions == ("What do we do now?", "And next?")


@pytest.mark.parametrize("topic", ["", "   ", "x" * 201])
def test_bad_topic_is_refused(topic_search, topic):
    with pytest.raises(InvalidQuestion):
        build(topic_search, topic)
