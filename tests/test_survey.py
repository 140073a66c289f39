"""Answers across reviews: a question several reviews address is counted and quoted by review.

Synthetic reviews written for this test (four address interpreting for parents, two do not),
indexed in a real Chroma in a temporary folder with the packaged model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.answer.verify import verify_quote
from rag.ui import view as ui
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

FICTIONAL = "This is a fictional document written for software testing; all names are invented."


def _review(partnership: str, child: str, background: str, finding: str, rec: str) -> str:
    return f"""# {partnership} Safeguarding Children Partnership

## Local Child Safeguarding Practice Review: {child}

{FICTIONAL}

### Background

{background}

### Findings

Finding 1: {finding}

### Recommendations

Recommendation 1: {rec}
"""


REVIEWS = {
    "ambergate-child-q": _review(
        "Ambergate",
        "Child Q",
        "Child Q lived with her mother, who spoke Tigrinya and little English, and her baby "
        "brother. The family had arrived in the area six months before the incident.",
        "Professionals relied on Child Q, aged eleven, to interpret for her mother at health "
        "appointments and at the child protection strategy meeting, so her mother's account "
        "was never heard directly and Child Q heard details no child should hear.",
        "Practitioners should always book a professional interpreter when a parent does not "
        "speak English well, and should never ask a child to interpret for their parents.",
    ),
    "bramley-baby-t": _review(
        "Bramley",
        "Baby T",
        "Baby T was born to parents who had recently moved from Romania. His father spoke "
        "some English; his mother spoke Romanian only.",
        "Safe sleep and feeding advice was given to Baby T's mother in English through her "
        "partner acting as interpreter, and nobody checked what she had understood. "
        "Telephone interpreting was available but was not used.",
        "Midwives and health visitors should use a qualified interpreter, not a partner or "
        "relative, for every conversation with a parent who has limited English.",
    ),
    "corran-child-v": _review(
        "Corran",
        "Child V",
        "Child V, aged four, lived with his mother and her new partner. His mother is Deaf "
        "and uses British Sign Language.",
        "Home visits were made without a British Sign Language interpreter, and written notes "
        "were used instead, so Child V's mother could not describe her worries about her "
        "partner's behaviour in her own language.",
        "Children's services should arrange a registered sign language interpreter for every "
        "meeting and home visit with a parent who is Deaf.",
    ),
    "dunmore-sibling-w": _review(
        "Dunmore",
        "Sibling W",
        "Sibling W, aged seven, lived with his grandparents, who speak Bengali at home.",
        "Interpreting was arranged late, and the same community interpreter who knew the "
        "family socially was used at every meeting, which the grandparents found "
        "uncomfortable and which limited what they felt able to say.",
        "Agencies should use independent interpreters who do not know the family, and book "
        "them in advance of each meeting.",
    ),
    "elmfield-child-x": _review(
        "Elmfield",
        "Child X",
        "Child X, aged two, swallowed a button battery from a television remote control.",
        "Parents had not been told about the danger of button batteries, and the emergency "
        "department did not recognise the symptoms at first.",
        "The Partnership should run a campaign on the dangers of button batteries for "
        "families with toddlers.",
    ),
    "fernley-child-y": _review(
        "Fernley",
        "Child Y",
        "Child Y, aged three, was bitten by the family's dog while visiting relatives.",
        "Professionals who visited the home did not ask about dogs in the household or about "
        "how the child was supervised around them.",
        "Home visit checklists should include questions about dogs and the supervision of "
        "young children around animals.",
    ),
}
ADDRESS = {"ambergate-child-q", "bramley-baby-t", "corran-child-v", "dunmore-sibling-w"}
QUESTION = "What have the reviews found about using interpreters for parents?"


@pytest.fixture(scope="module")
def survey_settings(tmp_path_factory, embedder):
    """An index of the synthetic reviews (no catalog: the names are read from the text)."""
    from rag.assistant import Assistant

    tmp = tmp_path_factory.mktemp("survey")
    corpus = tmp / "corpus"
    corpus.mkdir()
    for name, text in REVIEWS.items():
        (corpus / f"{name}.md").write_text(text, encoding="utf-8")
    settings = make_settings(
        tmp, corpus_dir=corpus, catalog_file="none.toml", survey_reviews=2, top_k=2
    )
    report = Assistant(settings, embedder=embedder).ingest()
    assert report.documents == len(REVIEWS) and not report.failures
    return settings


@pytest.fixture(scope="module")
def assistant(survey_settings, embedder):
    from rag.assistant import Assistant

    return Assistant(survey_settings, embedder=embedder)


def test_corpus_wide_question_counts_and_groups_the_reviews(assistant):
    answer = assistant.ask(QUESTION, answer_id="a1")
    assert not answer.abstained
    documents = [d for g in answer.groups for d in g.documents]
    assert set(documents) == ADDRESS
    assert len(documents) == len(set(documents)) == len(answer.groups)
    assert answer.text.startswith(f"{len(ADDRESS)} reviews address this.")
    # Only the reviews shown are quoted; the others are counted and held until asked for.
    assert answer.shown == 2 and len(answer.hidden) == len(ADDRESS) - 2
    assert all(g.citations and not g.held for g in answer.groups[:2])
    assert all(g.held and not g.citations for g in answer.hidden)
    # The reviews held back until asked for come best supported first.
    supports = [g.support for g in answer.hidden]
    assert supports == sorted(supports, reverse=True)
    shown = {c.quote.document for c in answer.citations}
    assert shown == {d for g in answer.groups[:2] for d in g.documents}
    data = answer.to_json()
    assert data["reviews"] == len(ADDRESS)
    assert [g["shown"] for g in data["groups"]] == [True, True, False, False]
    assert [g.get("held", False) for g in data["groups"]] == [False, False, True, True]

    every = assistant.all_reviews(answer)
    assert every.shown == 2 and every.citations == answer.citations
    assert [g.documents for g in every.groups] == [g.documents for g in answer.groups]
    for g in every.groups:
        assert g.citations and {c.quote.document for c in g.citations} == set(g.documents)
        for c in g.citations:
            assert verify_quote(
                c.quote, {c.quote.document: assistant.document_text(c.quote.document)}
            )
    assert [c.n for g in every.groups for c in g.citations] == list(
        range(1, 1 + sum(len(g.citations) for g in every.groups))
    )
    assert every.text == answer.text and assistant.all_reviews(every) is every


def test_a_held_review_whose_quotes_fail_verification_is_neither_shown_nor_counted(
    survey_settings, embedder, monkeypatch
):
    from rag.answer.sources import Sources
    from rag.assistant import Assistant

    held_back = Assistant(survey_settings, embedder=embedder)
    answer = held_back.ask(QUESTION)
    last = answer.hidden[-1].documents[0]
    real = Sources.verify

    def verify(self, store, quote):
        return quote.document != last and real(self, store, quote)

    monkeypatch.setattr(Sources, "verify", verify)
    every = held_back.all_reviews(answer)
    assert [g.documents[0] for g in every.groups] == [g.documents[0] for g in answer.groups[:-1]]
    assert every.text.startswith(f"{len(ADDRESS) - 1} reviews address this.")


def test_a_count_the_bounded_pool_may_have_cut_short_is_said_to_be_a_lower_bound(
    survey_settings, embedder
):
    from rag.assistant import Assistant

    # A pool of two passages from each ranking, both supporting: more may address it.
    small = survey_settings.model_copy(update={"survey_pool": 2})
    answer = Assistant(small, embedder=embedder).ask(QUESTION)
    assert len(answer.groups) >= 2
    assert answer.text.startswith(f"At least {len(answer.groups)} reviews address this.")


def test_a_follow_up_about_one_review_answers_from_that_review_alone(assistant):
    from rag.understand.followup import Exchange

    first = assistant.prepare(QUESTION)
    answer = assistant.respond(first, answer_id="a1")
    assert len(answer.groups) == len(ADDRESS)
    follow = assistant.prepare("What about Child V?", [Exchange(first.resolved, answer)])
    assert follow.resolved.followup
    again = assistant.respond(follow)
    assert not again.abstained and not again.groups
    assert {c.quote.document for c in again.citations} == {"corran-child-v"}


def test_preparing_a_turn_reads_no_document_metadata_from_the_index(
    assistant, survey_settings, embedder, monkeypatch
):
    """The review names a follow-up is read against come from the retriever's saved state: the
    inventory of every document took seconds of a cold `rag ask` at scale."""
    from rag.assistant import Assistant
    from rag.index.store import Store
    from rag.understand.followup import Exchange

    first = assistant.prepare(QUESTION)
    answer = assistant.respond(first)

    def refuse(*args, **kwargs):
        raise AssertionError("read every document's metadata")

    monkeypatch.setattr(Store, "documents", refuse)
    fresh = Assistant(survey_settings, embedder=embedder)  # as a new process: nothing cached
    follow = fresh.prepare("What about Child V?", [Exchange(first.resolved, answer)])
    assert follow.resolved.followup and "Child V" in follow.resolved.query


def test_a_question_naming_one_review_stays_a_single_review_answer(assistant):
    answer = assistant.ask("What did the Child V review recommend about interpreters?")
    assert not answer.abstained and not answer.groups
    assert {c.quote.document for c in answer.citations} == {"corran-child-v"}


def test_a_question_one_review_addresses_is_answered_as_before(assistant):
    answer = assistant.ask("What have the reviews said about button batteries?")
    assert not answer.abstained and not answer.groups
    assert {c.quote.document for c in answer.citations} == {"elmfield-child-x"}


def test_an_unsupported_question_abstains(assistant):
    answer = assistant.ask("What have the reviews found about the design of playground swings?")
    assert answer.abstained and not answer.groups and not answer.citations


def test_turning_surveys_off_gives_todays_answer(assistant, survey_settings, embedder):
    from rag.assistant import Assistant

    off = survey_settings.model_copy(update={"survey_reviews": 0})
    answer = Assistant(off, embedder=embedder).ask(QUESTION)
    assert not answer.groups and len({c.hit.chunk.id for c in answer.citations}) <= off.top_k


def test_an_answer_across_reviews_reads_the_index_once_for_each_need(
    survey_settings, embedder, monkeypatch
):
    """One dense search, one encode call and one read of documents for the answer and its wider
    pool, and the index pointer read once: each is a round trip to a Chroma server."""
    from rag.assistant import Assistant
    from rag.index.store import Store

    pipe = Assistant(survey_settings, embedder=embedder)
    pipe.ask("What have reviews said about dogs?")  # loads the retriever and the model
    calls: dict[str, list] = {"search": [], "documents_by_id": [], "active_generation": []}
    for name, seen in calls.items():
        real = getattr(Store, name)
        monkeypatch.setattr(
            Store, name, lambda self, *a, _r=real, _s=seen, **k: _s.append(a) or _r(self, *a, **k)
        )
    encodes = []
    real_embed = type(embedder).embed
    monkeypatch.setattr(
        type(embedder), "embed", lambda self, t, *a, **k: encodes.append(t) or real_embed(self, t)
    )
    answer = pipe.ask(QUESTION)
    assert len(answer.groups) == len(ADDRESS)
    assert len(calls["search"]) == 1 and len(encodes) == 1
    assert len(calls["documents_by_id"]) <= 2  # the answer's reviews, then the others'
    assert len(calls["active_generation"]) == 1
    for c in answer.citations:
        assert verify_quote(c.quote, {c.quote.document: pipe.document_text(c.quote.document)})


def test_an_answer_in_flight_keeps_reading_the_generation_it_started_on(tmp_path, embedder):
    from rag.answer.sources import Sources
    from rag.assistant import Assistant
    from rag.core.models import Quote

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    doc = corpus / "elmfield-child-x.md"
    doc.write_text(REVIEWS["elmfield-child-x"], encoding="utf-8")
    pipe = Assistant(make_settings(tmp_path, corpus_dir=corpus), embedder=embedder)
    pipe.ingest()
    old_gen = pipe.store.active_generation()
    sources = Sources(embedder.embed, 100)
    old = sources.on(pipe.store.pinned(old_gen))
    before = old.document("elmfield-child-x").text
    doc.write_text(before.replace("button battery", "magnet"), encoding="utf-8")
    pipe.ingest()
    new = sources.on(pipe.store.pinned(pipe.store.active_generation()))
    after = new.document("elmfield-child-x").text
    assert "button battery" in before and "button battery" not in after
    # The old generation's reader still reads (and verifies against) its own text.
    assert old.document("elmfield-child-x").text == before
    at = before.index("button battery")
    quote = Quote("elmfield-child-x", "button battery", at, at + len("button battery"))
    assert old.verify(quote) and not new.verify(quote)


def heading(group) -> str:
    return f"**{ui.md_escape(ui.group_heading(group))}**"


def headings(at: AppTest) -> list[str]:
    return [m.value for m in at.main.markdown if m.value.startswith("**") and "\\(" in m.value]


def test_the_chat_shows_review_groups_and_the_rest_on_request(survey_settings, monkeypatch):
    from tests.test_app import point_app_at

    point_app_at(monkeypatch, survey_settings)
    monkeypatch.setenv("RAG_CATALOG_FILE", survey_settings.catalog_file)
    monkeypatch.setenv("RAG_SURVEY_REVIEWS", "2")
    monkeypatch.setenv("RAG_TOP_K", "2")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.chat_input(key="question").set_value(QUESTION).run()
    assert not at.exception, [e.value for e in at.exception]
    answer = at.session_state["turns"][0]["answer"]
    assert len(answer.groups) == len(ADDRESS)
    shown, hidden = answer.groups[:2], answer.groups[2:]
    assert headings(at) == [heading(g) for g in shown]
    more = at.button(key="more_1")
    assert more.label == f"Show {len(hidden)} more reviews"
    more.click().run()
    assert not at.exception
    assert headings(at) == [heading(g) for g in answer.groups]
    assert at.session_state[f"survey_more_{answer.id}"] is True
    # Quoted once asked for, without asking the question again, and the control is gone.
    every = at.session_state["turns"][0]["answer"]
    assert every.id == answer.id and every.citations == answer.citations
    assert all(g.citations for g in every.groups)
    cards = [m.value for m in at.main.markdown if m.value.startswith("**[")]
    assert len(cards) == sum(len(g.citations) for g in every.groups)
    assert not [b for b in at.button if b.key == "more_1"]


def test_the_cli_quotes_the_reviews_held_back_only_with_all_reviews(survey_settings):
    import json
    import os
    import subprocess
    import sys

    env = os.environ | {
        "RAG_VECTORSTORE_DIR": str(survey_settings.vectorstore_dir),
        "RAG_CORPUS_DIR": str(survey_settings.corpus_dir),
        "RAG_CATALOG_FILE": survey_settings.catalog_file,
        "RAG_SURVEY_REVIEWS": "2",
        "RAG_TOP_K": "2",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("RAG_LLM", None)

    def ask(*flags):
        args = [sys.executable, "-m", "rag", "ask", QUESTION, *flags]
        done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    brief = json.loads(ask("--json"))
    assert [bool(g["citations"]) for g in brief["groups"]] == [True, True, False, False]
    every = json.loads(ask("--json", "--all-reviews"))
    assert all(g["citations"] and "held" not in g for g in every["groups"])
    assert [g["documents"] for g in every["groups"]] == [g["documents"] for g in brief["groups"]]
    text = ask("--all-reviews")
    assert "add --all-reviews" not in text and text.count('      "') == sum(
        len(g["citations"]) for g in every["groups"]
    )


def test_a_wide_pool_reads_the_text_of_only_the_candidates_that_may_support_it(
    assistant, survey_settings, monkeypatch
):
    from rag.answer import survey
    from rag.core.models import Filters
    from rag.index.store import Store

    retriever, n = assistant.retriever, survey_settings.survey_pool
    about = survey.by_topic(
        assistant.query(QUESTION, retriever.understand(QUESTION)), assistant.embed
    )
    wide = retriever.wide(about, Filters(), n)
    read: list[list[str]] = []
    real = Store.fetch
    monkeypatch.setattr(Store, "fetch", lambda self, ids: read.append(list(ids)) or real(self, ids))
    every = retriever.hits(about, Filters(), n, wide=wide)
    some = retriever.hits(about, Filters(), n, wide=wide, floor=survey_settings.survey_threshold)
    assert len(read[1]) < len(read[0])
    # The same reviews, passages and support: what is left unread could support nothing.
    best = [(h.chunk.id, s) for h, s in survey.best_by_review(every, survey_settings)]
    assert [(h.chunk.id, s) for h, s in survey.best_by_review(some, survey_settings)] == best
    assert len(best) == len(ADDRESS)
    # No candidate clears a floor of 0.99: the gate then reads names, so the whole pool is read.
    retriever.hits(about, Filters(), n, wide=wide, floor=0.99)
    assert len(read[2]) == len(read[0])
